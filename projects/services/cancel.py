"""Cancelling a generation, where its gateway allows it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured

from projects.access import check_may_change
from projects.audit import audit_record
from projects.exceptions import InvalidStateTransition
from projects.generation import lifecycle
from projects.models import GenerationTask
from projects.providers.base import CancelNotSupported, ProviderError, UpstreamStatus
from projects.providers.registry import UnknownProvider, get_capabilities, get_provider
from projects.services.gateway_status import gateway_call

Status = GenerationTask.Status


def cancel_offered(task: GenerationTask) -> bool:
    """Whether a Cancel button makes sense now: the task is not sent yet, or its gateway can
    cancel a task in its current state (`capabilities().cancel`: never on TokenHub or
    AllToken, only queued ones on Ark). A gateway may still refuse a task it started since
    our last look; the refusal says so."""
    if task.status == Status.PENDING:
        return True
    if task.status not in (Status.QUEUED, Status.RUNNING):
        return False
    try:
        allowed = get_capabilities(task.provider).cancel
    except (UnknownProvider, ImproperlyConfigured):
        return False
    return allowed == "queued_or_running" or (allowed == "queued" and task.status == Status.QUEUED)


def generation_task_cancel(*, task: GenerationTask, user: AbstractBaseUser) -> str:
    """Cancel `task` and return what happened, in a sentence.

    A task not yet sent is cancelled here. A queued or running one is cancelled upstream when
    the gateway allows it (`capabilities().cancel`: never | queued | queued_or_running) and
    ends cancelled with nothing charged. Raises InvalidStateTransition with the reason when
    it cannot be cancelled, ApplicationError when `user` may not (access.may_change: its maker,
    a team admin, or any member where the team allows it). `task` may carry the user's role
    as `viewer_role` (access_generation_task); it is looked up otherwise.
    """
    check_may_change(
        user,
        owner_id=task.created_by_id,
        team=task.project.team,
        role=getattr(task, "viewer_role", None),
        action="cancel",
    )
    who = user.get_username()
    if task.is_terminal:
        raise InvalidStateTransition(
            f"This generation already ended ({task.get_status_display()})."
        )
    if task.status == Status.PENDING:
        if lifecycle.finish(
            task_id=task.pk,
            status=Status.CANCELLED,
            from_statuses=[Status.PENDING],
            event_message=f"Cancelled by {who} before it was sent.",
        ):
            _audit_cancel(task, user, sent=False)
            return "Cancelled before it was sent to the gateway. Nothing was charged."
        raise InvalidStateTransition("It was being sent just now; try again in a moment.")
    caps = get_capabilities(task.provider)
    if task.status not in (Status.QUEUED, Status.RUNNING):
        raise InvalidStateTransition(
            f"A generation cannot be cancelled while {task.get_status_display().lower()}."
        )
    if caps.cancel == "never":
        raise InvalidStateTransition(
            f"{caps.label} has no cancel operation ({caps.source}); the render will finish."
        )
    if caps.cancel == "queued" and task.status != Status.QUEUED:
        raise InvalidStateTransition(
            f"{caps.label} can only cancel queued tasks ({caps.source}); this one is already "
            "rendering and will finish."
        )
    try:
        with gateway_call(task.provider):
            snapshot = get_provider(task.provider).cancel(task.upstream_task_id)
    except CancelNotSupported as exc:
        lifecycle.event_add(task_id=task.pk, kind="cancel_refused", message=exc.message)
        raise InvalidStateTransition(f"{caps.label} refused the cancel: {exc.message}") from exc
    except ProviderError as exc:
        lifecycle.event_add(task_id=task.pk, kind="cancel_refused", message=exc.message)
        raise InvalidStateTransition(f"The cancel did not go through: {exc.message}") from exc
    if snapshot is not None and snapshot.status not in (
        UpstreamStatus.CANCELLED,
        UpstreamStatus.UNKNOWN,
    ):
        raise InvalidStateTransition(
            f"{caps.label} answered {snapshot.raw_status!r}; the task was not cancelled."
        )
    if lifecycle.finish(
        task_id=task.pk,
        status=Status.CANCELLED,
        from_statuses=[Status.QUEUED, Status.RUNNING],
        event_message=f"Cancelled by {who}.",
        upstream_status="cancelled",
    ):
        _audit_cancel(task, user, sent=True)
    return f"Cancelled at {caps.label}. Nothing was charged."


def _audit_cancel(task: GenerationTask, user: AbstractBaseUser, *, sent: bool) -> None:
    audit_record(
        actor=user,
        action="generation.cancelled",
        team=task.project.team,
        target=task,
        details={"project": task.project.name, "sent_upstream": sent},
    )
