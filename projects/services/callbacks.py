"""Gateway callbacks: a hint that a task changed, never trusted on its own.

The view has already checked the per-task secret in the URL. Here the body only has to name
the task's upstream id; the task is then made due at once and re-fetched from the gateway, so
a forged or replayed body can change nothing the gateway does not confirm.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from projects.exceptions import ApplicationError
from projects.models import GenerationTask
from projects.providers.base import ProviderError
from projects.providers.registry import get_provider
from projects.queue import enqueue
from projects.services.task_state import task_event_add

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
        upstream_id = get_provider(task.provider).parse_callback(body)
    except ProviderError as exc:
        logger.warning("task=%s unreadable callback: %s", task_id, exc.message)
        raise ApplicationError("Unreadable callback body.") from exc
    if task.upstream_task_id and upstream_id != task.upstream_task_id:
        task_event_add(
            task_id=task_id,
            kind="callback_ignored",
            message="A callback named another upstream task; ignored.",
            upstream_task_id=upstream_id[:128],
        )
        return "ignored"
    made_due = GenerationTask.objects.filter(
        pk=task_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(next_poll_at=timezone.now())
    if made_due:
        enqueue(POLL_JOB, task_id)
        return "refreshing"
    return "noted"
