"""Status changes of a generation task: each one a conditional UPDATE, with its event.

Every transition names the statuses it may start from, so a job delivered twice, or two
workers racing, apply it at most once: the loser's UPDATE matches no row. Terminal
transitions go through `task_finish`, the one place where a task's money is settled or
released (projects/money/ledger.py) in the same transaction as its status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects.models import ApiTask, GenerationTask, TaskEvent
from projects.money.billing import generation_task_settle
from projects.queue import enqueue_on_commit

logger = logging.getLogger("projects.tasks")

Status = GenerationTask.Status
API_CALLBACK_JOB = "projects.api.callbacks.api_callback_deliver"


def task_event_add(*, task_id: object, kind: str, message: str = "", **data: Any) -> TaskEvent:
    """Append a line to the task's event log (and the structured log). The task's page shows
    the log, so its `version` is bumped too."""
    logger.info(
        "task=%s event=%s %s", task_id, kind, message, extra={"task": str(task_id), "event": kind}
    )
    event = TaskEvent.objects.create(task_id=task_id, kind=kind, message=message[:2000], data=data)
    GenerationTask.objects.filter(pk=task_id).touch()
    return event


def task_transition(
    *, task_id: object, from_statuses: Iterable[str], to_status: str, **fields: Any
) -> bool:
    """Move the task to `to_status` (setting `fields`) if it is in one of `from_statuses`.
    Returns whether this call made the change."""
    updated = GenerationTask.objects.filter(pk=task_id, status__in=list(from_statuses)).update(
        status=to_status, **fields
    )
    return updated == 1


def task_finish(
    *,
    task_id: object,
    status: str,
    from_statuses: Iterable[str] = GenerationTask.ACTIVE,
    error_code: str = "",
    error_message: str = "",
    event_message: str = "",
    **fields: Any,
) -> bool:
    """End the task in terminal `status` if it is still in one of `from_statuses`.

    In one transaction: the status change, the ledger settle (succeeded) or release (any other
    ending), and the event. Returns whether this call ended the task; False means someone else
    already did and nothing was changed.
    """
    if status not in GenerationTask.TERMINAL:
        raise ValueError(f"{status} is not terminal")
    if status == Status.SUCCEEDED:
        # Every finished video goes to review, in the same UPDATE that marks it succeeded.
        fields.setdefault("review_state", GenerationTask.ReviewState.AWAITING)
    with transaction.atomic():
        changed = task_transition(
            task_id=task_id,
            from_statuses=from_statuses,
            to_status=status,
            finished_at=timezone.now(),
            next_poll_at=None,
            lease_until=None,
            error_code=error_code[:120],
            error_message=error_message,
            **fields,
        )
        if not changed:
            return False
        settled = generation_task_settle(
            task_id=task_id, succeeded=status == GenerationTask.Status.SUCCEEDED
        )
        if settled:
            task_event_add(task_id=task_id, kind="settled", message=settled)
        task_event_add(
            task_id=task_id,
            kind=status,
            message=event_message or error_message or status,
            code=error_code,
        )
        # An API client that gave a callback_url hears of the ending once it is committed
        # (projects/api/callbacks.py; named by its dotted path, the queue's way, so services
        # do not import the API that calls them).
        if (
            ApiTask.objects.filter(task_id=task_id, callback_delivered_at__isnull=True)
            .exclude(callback_url="")
            .exists()
        ):
            enqueue_on_commit(API_CALLBACK_JOB, str(task_id))
    return True
