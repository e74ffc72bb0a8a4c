"""What an admin does with a stuck task (Django admin actions call these)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from projects.exceptions import InvalidStateTransition
from projects.models import GenerationTask
from projects.queue import enqueue_on_commit
from projects.services.generation import SUBMIT_JOB
from projects.services.task_state import task_event_add, task_finish, task_transition

Status = GenerationTask.Status


def generation_task_poll_now(*, task: GenerationTask, actor: AbstractBaseUser) -> bool:
    """Make an active task due at once (the sweep picks it up within a second)."""
    changed = GenerationTask.objects.filter(pk=task.pk, status__in=GenerationTask.ACTIVE).update(
        next_poll_at=timezone.now(), lease_until=None
    )
    if changed:
        task_event_add(task_id=task.pk, kind="admin", message=f"{actor} asked for a check now.")
    return bool(changed)


def generation_task_resubmit(*, task: GenerationTask, actor: AbstractBaseUser) -> None:
    """Send a submit_unknown task again. Only for an admin who checked at the gateway that
    the lost request created nothing: otherwise the gateway bills twice."""
    with transaction.atomic():
        if not task_transition(
            task_id=task.pk,
            from_statuses=[Status.SUBMIT_UNKNOWN],
            to_status=Status.PENDING,
            next_poll_at=timezone.now(),
        ):
            raise InvalidStateTransition("Only a task whose submit is unconfirmed can be resent.")
        task_event_add(
            task_id=task.pk,
            kind="admin",
            message=f"{actor} confirmed nothing was created upstream; resending.",
        )
        enqueue_on_commit(SUBMIT_JOB, str(task.pk))


def generation_task_adopt_upstream(
    *, task: GenerationTask, upstream_task_id: str, actor: AbstractBaseUser
) -> None:
    """Attach the upstream task an admin found for a submit_unknown task; polling resumes."""
    upstream_task_id = upstream_task_id.strip()
    if not upstream_task_id:
        raise InvalidStateTransition("Enter the gateway's task id first.")
    with transaction.atomic():
        if not task_transition(
            task_id=task.pk,
            from_statuses=[Status.SUBMIT_UNKNOWN],
            to_status=Status.QUEUED,
            upstream_task_id=upstream_task_id,
            submitted_at=task.submitted_at or timezone.now(),
            next_poll_at=timezone.now(),
        ):
            raise InvalidStateTransition("Only a task whose submit is unconfirmed can adopt an id.")
        task_event_add(
            task_id=task.pk,
            kind="admin",
            message=f"{actor} attached upstream task {upstream_task_id}.",
        )


def generation_task_fail(
    *, task: GenerationTask, actor: AbstractBaseUser, reason: str = ""
) -> bool:
    """End an active task as failed (its hold is released, nothing charged)."""
    return task_finish(
        task_id=task.pk,
        status=Status.FAILED,
        error_code="admin",
        error_message=reason or f"Stopped by an administrator ({actor}).",
    )
