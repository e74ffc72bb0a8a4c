"""A submit whose answer was lost (submit_unknown): ask the gateway which task that create
made, adopt it, send again when it shows none, or wait for an admin when it cannot tell."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from projects.generation import lifecycle
from projects.models import GenerationTask
from projects.providers.base import ProviderError
from projects.providers.registry import get_provider
from projects.queue import enqueue_on_commit
from projects.services.gateway_status import gateway_call
from projects.services.submit import SUBMIT_JOB
from projects.services.upstream_request import request_for_task, upstream_deadline
from projects.worker_config import worker_config

Status = GenerationTask.Status

UNKNOWN_RECHECK = timedelta(minutes=5)


# Our tasks sent this long before a lost create still count as its twins when reconciling;
# wider than any gateway's search window around the send time (Ark: 5 s before).
KNOWN_WINDOW = timedelta(minutes=10)


def generation_task_reconcile(*, task: GenerationTask) -> None:
    """A submit whose answer was lost: ask the gateway which task that create made, if it can
    tell (`VideoProvider.reconcile`: Ark lists tasks by time and model; AceData cannot be
    searched without the id, so there a callback naming the task or an admin settles it).
    Found: adopt its id and follow it. Shown to be absent (only trusted after
    SEEDANCE_RECONCILE_AFTER seconds, lists lag): send again. Cannot tell: the task waits for
    an admin (Django admin: adopt an id, resend, or fail and release), looked at again later.
    """
    now = timezone.now()
    sent_at = task.submitted_at or task.created_at
    try:
        with gateway_call(task.provider):
            found = get_provider(task.provider).reconcile(
                request_for_task(task), sent_at=sent_at.timestamp(), known=_followed_near(task)
            )
    except ProviderError as exc:
        _reschedule_unknown(task, timedelta(seconds=30))
        lifecycle.event_add(task_id=task.pk, kind="reconcile_error", message=exc.message)
        return
    if found:
        try:
            with transaction.atomic():
                if lifecycle.transition(
                    task_id=task.pk,
                    from_statuses=[Status.SUBMIT_UNKNOWN],
                    to_status=Status.QUEUED,
                    upstream_task_id=found,
                    next_poll_at=now,
                    error_message="",
                    deadline_at=sent_at + upstream_deadline(task),
                ):
                    lifecycle.event_add(
                        task_id=task.pk,
                        kind="reconciled",
                        upstream_task_id=found,
                        message=f"Found the task the lost submit created: {found}.",
                    )
        except IntegrityError:
            # Another of our tasks took that upstream id meanwhile (unique per gateway): it is
            # not this one's, and which is cannot be told.
            _ask_admin(
                task,
                f"{task.provider} lists {found} for this lost submit, but another "
                "task follows it; an admin must check and adopt its id, resend, or fail it.",
            )
        return
    settle_after = timedelta(seconds=worker_config().reconcile_after_s)
    if found == "" and now - sent_at >= settle_after:
        with transaction.atomic():
            if lifecycle.transition(
                task_id=task.pk,
                from_statuses=[Status.SUBMIT_UNKNOWN],
                to_status=Status.PENDING,
                next_poll_at=now + timedelta(seconds=60),
                error_message="",
            ):
                lifecycle.event_add(
                    task_id=task.pk,
                    kind="reconciled",
                    message="The gateway shows the lost submit created nothing; sending it again.",
                )
                enqueue_on_commit(SUBMIT_JOB, str(task.pk))
        return
    if found == "":
        _reschedule_unknown(task, sent_at + settle_after - now)
        return
    _ask_admin(
        task,
        f"{task.provider} cannot say whether the lost submit created a task; an admin must "
        "check and adopt its id, resend, or fail it.",
    )


def _ask_admin(task: GenerationTask, message: str) -> None:
    if not task.events.filter(kind="needs_admin").exists():
        lifecycle.event_add(task_id=task.pk, kind="needs_admin", message=message)
    _reschedule_unknown(task, UNKNOWN_RECHECK)


def _followed_near(task: GenerationTask) -> frozenset[str]:
    """Upstream ids our other tasks of the gateway follow, sent from KNOWN_WINDOW before this
    one's lost create on: never its task, whatever the gateway's list suggests (a twin of the
    same shape sent at the same time looks just like it)."""
    sent_at = task.submitted_at or task.created_at
    ids = (
        GenerationTask.objects.filter(
            provider=task.provider, submitted_at__gte=sent_at - KNOWN_WINDOW
        )
        .exclude(pk=task.pk)
        .exclude(upstream_task_id="")
        .values_list("upstream_task_id", flat=True)
    )
    return frozenset(ids)


def _reschedule_unknown(task: GenerationTask, delay: timedelta) -> None:
    lifecycle.reschedule(
        task.pk,
        statuses=[Status.SUBMIT_UNKNOWN],
        next_poll_at=timezone.now() + max(delay, timedelta(seconds=0.2)),
    )
