"""What an admin does with a stuck task (Django admin actions call these).

Every action here is written to the audit trail (`task.<action>` with the admin as actor)
in the transaction that makes its change, besides the task's own history. What counts as
stuck is `selectors.generation_tasks_stuck`; cancelling upstream is services/cancel.py.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from projects.audit import audit_record
from projects.exceptions import InvalidStateTransition
from projects.generation import lifecycle
from projects.models import GenerationTask
from projects.queue import enqueue_on_commit
from projects.services.submit import SUBMIT_JOB

Status = GenerationTask.Status


def _audit(task: GenerationTask, actor: AbstractBaseUser, action: str, **details: object) -> None:
    audit_record(
        actor=actor,
        action=f"task.{action}",
        team=task.project.team,
        target=task,
        details={"status": task.status, "provider": task.provider, "via": "admin", **details},
    )


def generation_task_poll_now(*, task: GenerationTask, actor: AbstractBaseUser) -> bool:
    """Make an active task due at once (the sweep picks it up within a second): a pending
    task is sent, a submit_unknown one reconciled, a queued or running one asked about, a
    downloading one copied again. Returns False when the task already ended."""
    with transaction.atomic():
        changed = lifecycle.reschedule(
            task.pk, statuses=GenerationTask.ACTIVE, next_poll_at=timezone.now(), lease_until=None
        )
        if changed:
            lifecycle.event_add(
                task_id=task.pk, kind="admin", message=f"{actor} asked for a check now."
            )
            _audit(task, actor, "poll_now")
    return bool(changed)


def generation_task_reconcile_now(*, task: GenerationTask, actor: AbstractBaseUser) -> str:
    """Reconcile a submit_unknown task at once, in this request (one gateway call, bounded by
    SEEDANCE_HTTP_TIMEOUT), and say what came of it. Raises InvalidStateTransition unless the
    task's submit is unconfirmed."""
    from projects.services.reconcile import generation_task_reconcile

    task.refresh_from_db()
    if task.status != Status.SUBMIT_UNKNOWN:
        raise InvalidStateTransition(
            f"Only a task whose submit is unconfirmed can be reconciled (this one is "
            f"{task.get_status_display().lower()})."
        )
    generation_task_reconcile(task=task)
    after = GenerationTask.objects.get(pk=task.pk)
    latest = after.events.order_by("-created_at", "-id").first()
    if after.status == Status.QUEUED:
        outcome = f"found upstream as {after.upstream_task_id}; following it"
    elif after.status == Status.PENDING:
        outcome = "the gateway shows nothing was created; sending it again"
    elif latest is not None and latest.kind == "reconcile_error":
        outcome = f"the gateway did not answer ({latest.message}); asked again later"
    elif latest is not None and latest.kind == "needs_admin":
        outcome = (
            "the gateway cannot say whether it was created; check there, then adopt its id, "
            "resend or fail the task"
        )
    else:
        outcome = "the gateway lists nothing yet (its list lags); asked again shortly"
    with transaction.atomic():
        lifecycle.event_add(
            task_id=task.pk, kind="admin", message=f"{actor} reconciled: {outcome}."
        )
        _audit(task, actor, "reconciled", outcome=outcome, now=after.status)
    return outcome


def generation_task_resubmit(*, task: GenerationTask, actor: AbstractBaseUser) -> None:
    """Send a submit_unknown task again. Only for an admin who checked at the gateway that
    the lost request created nothing: otherwise the gateway bills twice."""
    with transaction.atomic():
        if not lifecycle.transition(
            task_id=task.pk,
            from_statuses=[Status.SUBMIT_UNKNOWN],
            to_status=Status.PENDING,
            next_poll_at=timezone.now(),
        ):
            raise InvalidStateTransition("Only a task whose submit is unconfirmed can be resent.")
        lifecycle.event_add(
            task_id=task.pk,
            kind="admin",
            message=f"{actor} confirmed nothing was created upstream; resending.",
        )
        _audit(task, actor, "resubmitted")
        enqueue_on_commit(SUBMIT_JOB, str(task.pk))


def generation_task_adopt_upstream(
    *, task: GenerationTask, upstream_task_id: str, actor: AbstractBaseUser
) -> None:
    """Attach the upstream task an admin found for a submit_unknown task; polling resumes."""
    upstream_task_id = upstream_task_id.strip()
    if not upstream_task_id:
        raise InvalidStateTransition("Enter the gateway's task id first.")
    with transaction.atomic():
        if not lifecycle.transition(
            task_id=task.pk,
            from_statuses=[Status.SUBMIT_UNKNOWN],
            to_status=Status.QUEUED,
            upstream_task_id=upstream_task_id,
            submitted_at=task.submitted_at or timezone.now(),
            next_poll_at=timezone.now(),
        ):
            raise InvalidStateTransition("Only a task whose submit is unconfirmed can adopt an id.")
        lifecycle.event_add(
            task_id=task.pk,
            kind="admin",
            message=f"{actor} attached upstream task {upstream_task_id}.",
        )
        _audit(task, actor, "adopted_upstream", upstream_task_id=upstream_task_id)


def generation_task_fail(
    *, task: GenerationTask, actor: AbstractBaseUser, reason: str = ""
) -> bool:
    """End an active task as failed (its hold is released, nothing charged). Returns False
    when it had already ended."""
    with transaction.atomic():
        ended = lifecycle.finish(
            task_id=task.pk,
            status=Status.FAILED,
            error_code="admin",
            error_message=reason or f"Stopped by an administrator ({actor}).",
        )
        if ended:
            _audit(task, actor, "failed")
    return ended
