"""Gateway callbacks: a hint that a task changed, never trusted on its own.

The view has already checked the per-task secret in the URL. Here the body only has to name
the task's upstream id; the task is then made due at once and re-fetched from the gateway, so
a forged or replayed body can change nothing the gateway does not confirm.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.exceptions import ApplicationError
from projects.generation import lifecycle
from projects.models import GenerationTask
from projects.providers.base import ProviderError, UpstreamStatus
from projects.providers.registry import UnknownProvider, get_provider
from projects.queue import enqueue
from projects.services.sweep import poll_lease

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status
POLL_JOB = "projects.tasks.generation_task_poll"


def generation_task_callback(*, task_id: str, body: bytes) -> str:
    """Handle one authenticated callback body for the task; returns a short outcome word.

    Raises ApplicationError when the body cannot be read at all (the gateway gets a 400).
    """
    task = GenerationTask.objects.get(pk=task_id)
    if task.is_terminal:
        return "already-final"
    try:
        provider = get_provider(task.provider)
    except (ImproperlyConfigured, UnknownProvider):
        # The gateway was switched off here since the task was sent: nothing can confirm
        # the callback, and the gateway should not keep retrying it.
        logger.warning(
            "task=%s callback for unconfigured provider %s",
            task_id,
            task.provider,
            extra={"task": str(task_id)},
        )
        return "ignored"
    try:
        upstream_id = provider.parse_callback(body)
    except ProviderError as exc:
        logger.warning(
            "task=%s unreadable callback: %s", task_id, exc.message, extra={"task": str(task_id)}
        )
        raise ApplicationError("Unreadable callback body.") from exc
    if task.status == Status.SUBMIT_UNKNOWN and upstream_id:
        return _adopt_from_callback(task, upstream_id)
    if task.upstream_task_id and upstream_id != task.upstream_task_id:
        lifecycle.event_add(
            task_id=task_id,
            kind="callback_ignored",
            message="A callback named another upstream task; ignored.",
            upstream_task_id=upstream_id[:128],
        )
        return "ignored"
    status = provider.callback_status(body)
    if status in (UpstreamStatus.QUEUED, UpstreamStatus.RUNNING):
        # Not an ending: nothing to confirm, store or settle, so no request to the gateway.
        # The ending's own callback (or the fallback poll) brings the task forward. A task
        # the gateway started shows it at once (its page's stage, progress and Cancel button);
        # no money moves on it, and the URL's per-task secret vouches for the sender.
        if status == UpstreamStatus.RUNNING and task.status == Status.QUEUED:
            if lifecycle.transition(
                task_id=task_id,
                from_statuses=[Status.QUEUED],
                to_status=Status.RUNNING,
                started_at=task.started_at or timezone.now(),
                upstream_status="running",
            ):
                lifecycle.event_add(task_id=task_id, kind="running", message="Rendering started.")
        return "noted"
    # Claim the task for one poll job (as the sweep claims due rows) so the sweep does not ask
    # the gateway about it a second time meanwhile; if the job is lost the lease runs out.
    # `lease_until` stays set after that job (the poll only resets `next_poll_at`), so replayed
    # or repeated endings within one lease queue no further jobs: the regular polls still
    # follow the task, and a real ending is seen at the next of them.
    now = timezone.now()
    claimed = lifecycle.reschedule(
        task_id,
        statuses=[Status.QUEUED, Status.RUNNING],
        where=Q(lease_until__isnull=True) | Q(lease_until__lte=now),
        next_poll_at=now + poll_lease(),
        lease_until=now + poll_lease(),
    )
    if claimed:
        enqueue(POLL_JOB, task_id)
        return "refreshing"
    return "noted"


def _adopt_from_callback(task: GenerationTask, upstream_id: str) -> str:
    # Only the gateway we sent this task's secret URL to can call it, so the id it names is the
    # task our lost create made; still, confirm it exists before adopting it.
    try:
        get_provider(task.provider).fetch(upstream_id)
    except ProviderError as exc:
        logger.info(
            "task=%s callback names %s, not confirmed: %s",
            task.pk,
            upstream_id,
            exc.message,
            extra={"task": str(task.pk)},
        )
        return "unconfirmed"
    with transaction.atomic():
        if lifecycle.transition(
            task_id=task.pk,
            from_statuses=[Status.SUBMIT_UNKNOWN],
            to_status=Status.QUEUED,
            upstream_task_id=upstream_id[:128],
            next_poll_at=timezone.now(),
            error_message="",
        ):
            lifecycle.event_add(
                task_id=task.pk,
                kind="reconciled",
                upstream_task_id=upstream_id,
                message=f"The gateway's callback named the lost submit's task {upstream_id}.",
            )
            transaction.on_commit(lambda: enqueue(POLL_JOB, str(task.pk)))
            return "reconciled"
    return "noted"
