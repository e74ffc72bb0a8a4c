"""A generation task's life: the one writer of its status, its scheduling fields and its page
version (docs/ARCHITECTURE.md, "A generation task's life").

    pending -> submitting -> queued -> running -> downloading -> succeeded
    submitting -> submit_unknown -> queued | pending (reconciled, or sent again)
    submitting -> pending (a transient error: sent again later)
    any of those -> failed | cancelled | expired

Every write is one conditional UPDATE naming the statuses it may start from, so a job
delivered twice, or two workers racing, apply it at most once: the loser's UPDATE matches no
row and the function returns False. A move the table does not have raises IllegalTransition
before anything is written. Writes that change what a page shows bump `version` (the page
cache's key, projects/page_cache.py) here, explicitly; writes of the scheduling fields alone
(`reschedule`) do not, as no page shows them. Terminal moves go through `finish`, which settles
or releases the task's money (projects/money/billing.py) in the same transaction.

Nothing else writes a GenerationTask row after it is created (tests/test_lifecycle.py reads
the source to keep it so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from projects.exceptions import InvalidStateTransition
from projects.models import ApiTask, GenerationTask, TaskEvent
from projects.money.billing import generation_task_settle
from projects.notifications import outbox
from projects.queue import enqueue_on_commit

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status
_ENDINGS = frozenset({Status.FAILED, Status.CANCELLED, Status.EXPIRED})

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.SUBMITTING}) | _ENDINGS,
    Status.SUBMITTING: frozenset(
        {Status.QUEUED, Status.RUNNING, Status.SUBMIT_UNKNOWN, Status.PENDING}
    )
    | _ENDINGS,
    Status.SUBMIT_UNKNOWN: frozenset({Status.QUEUED, Status.PENDING}) | _ENDINGS,
    Status.QUEUED: frozenset({Status.RUNNING, Status.DOWNLOADING}) | _ENDINGS,
    Status.RUNNING: frozenset({Status.DOWNLOADING}) | _ENDINGS,
    Status.DOWNLOADING: frozenset({Status.SUCCEEDED}) | _ENDINGS,
    Status.SUCCEEDED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.EXPIRED: frozenset(),
}
# Fields only the worker reads (when to look at a task next, who holds it): no page shows
# them, so writing them alone does not change the page version.
SCHEDULING_FIELDS = frozenset({"next_poll_at", "lease_until", "poll_count", "consecutive_errors"})
BUMP = {"version": F("version") + 1}
API_CALLBACK_JOB = "projects.api.callbacks.api_callback_deliver"


class IllegalTransition(InvalidStateTransition):
    """A status move the table (TRANSITIONS) does not have: a bug in the caller."""


def check_moves(from_statuses: Iterable[str], to_status: str) -> list[str]:
    """`from_statuses` as a list, each checked against TRANSITIONS. Raises IllegalTransition
    naming the first move the table lacks."""
    sources = list(from_statuses)
    for source in sources:
        if to_status not in TRANSITIONS[source]:
            raise IllegalTransition(f"A task cannot go from {source} to {to_status}.")
    return sources


def _rows(
    task_id: object = None, *, task_ids: Iterable[object] | None = None, where: Q | None = None
) -> QuerySet[GenerationTask]:
    rows = GenerationTask.objects.all()
    if task_ids is not None:
        rows = rows.filter(pk__in=list(task_ids))
    elif task_id is not None:
        rows = rows.filter(pk=task_id)
    else:
        raise ValueError("Name the task (task_id) or tasks (task_ids).")
    return rows.filter(where) if where is not None else rows


def transition(
    *, task_id: object, from_statuses: Iterable[str], to_status: str, **fields: Any
) -> bool:
    """Move the task to `to_status`, setting `fields`, if it is in one of `from_statuses`;
    returns whether this call made the change. Bumps the page version. Raises
    IllegalTransition for a move the table lacks. A terminal `to_status` must go through
    `finish` (its money)."""
    if to_status in GenerationTask.TERMINAL:
        raise IllegalTransition(f"End a task with finish(), not transition() to {to_status}.")
    sources = check_moves(from_statuses, to_status)
    if "status" in fields or "version" in fields:
        raise ValueError("status and version are set here, not passed in.")
    updated = _rows(task_id, where=Q(status__in=sources)).update(status=to_status, **fields, **BUMP)
    return updated == 1


def finish(
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
    already did and nothing was changed. Raises IllegalTransition (a status that is not an
    ending, or a move the table lacks).
    """
    if status not in GenerationTask.TERMINAL:
        raise IllegalTransition(f"{status} is not an ending.")
    sources = check_moves(from_statuses, status)
    if status == Status.SUCCEEDED:
        # Every finished video goes to review, in the same UPDATE that marks it succeeded.
        fields.setdefault("review_state", GenerationTask.ReviewState.AWAITING)
    with transaction.atomic():
        changed = _rows(task_id, where=Q(status__in=sources)).update(
            status=status,
            finished_at=timezone.now(),
            next_poll_at=None,
            lease_until=None,
            error_code=error_code[:120],
            error_message=error_message,
            **fields,
            **BUMP,
        )
        if changed != 1:
            return False
        settled = generation_task_settle(task_id=task_id, succeeded=status == Status.SUCCEEDED)
        if settled.fields:
            record(task_id, **settled.fields)
        if settled.message:
            event_add(task_id=task_id, kind="settled", message=settled.message)
        event_add(
            task_id=task_id,
            kind=status,
            message=event_message or error_message or status,
            code=error_code,
        )
        # The maker, the reviewers and the team's webhooks hear of the ending once it is
        # committed (rows written here, sent by a job on commit; never raises).
        outbox.task_ended(task_id=task_id)
        # An API client that gave a callback_url hears of the ending once it is committed
        # (projects/api/callbacks.py; named by its dotted path, the queue's way, so the life of
        # a task does not import the API that starts it).
        if (
            ApiTask.objects.filter(task_id=task_id, callback_delivered_at__isnull=True)
            .exclude(callback_url="")
            .exists()
        ):
            enqueue_on_commit(API_CALLBACK_JOB, str(task_id))
    return True


def reschedule(
    task_id: object = None,
    *,
    task_ids: Iterable[object] | None = None,
    statuses: Iterable[str] | None = None,
    where: Q | None = None,
    **fields: Any,
) -> int:
    """Set scheduling fields (SCHEDULING_FIELDS: next_poll_at, lease_until, poll_count,
    consecutive_errors) of the task, or tasks, still in one of `statuses` (any status when
    None) and matching `where`; returns how many rows changed. No page shows these, so the
    version stays. Raises ValueError for any other field."""
    others = fields.keys() - SCHEDULING_FIELDS
    if others:
        raise ValueError(f"reschedule() writes scheduling fields only, not {sorted(others)}.")
    rows = _rows(task_id, task_ids=task_ids, where=where)
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.update(**fields)


def record(
    task_id: object = None,
    *,
    task_ids: Iterable[object] | None = None,
    statuses: Iterable[str] | None = None,
    where: Q | None = None,
    **fields: Any,
) -> int:
    """Write fields a page shows (output links, billed seconds, a cost note, the review
    decision, deletion ...) on the task, or tasks, still in one of `statuses` (any when None);
    bumps the page version; returns how many rows changed. Status moves go through
    `transition` / `finish`, raising ValueError here."""
    if "status" in fields or "version" in fields:
        raise ValueError("record() does not move a task: use transition() or finish().")
    rows = _rows(task_id, task_ids=task_ids, where=where)
    if statuses is not None:
        rows = rows.filter(status__in=list(statuses))
    return rows.update(**fields, **BUMP)


def touch(
    task_id: object = None, *, task_ids: Iterable[object] | None = None, where: Q | None = None
) -> int:
    """Bump the page version of the task(s) alone: something shown with them changed
    elsewhere (a history line, a revision made from them, a deleted original). `where` alone
    (task_ids=[] and a filter) touches every task it matches."""
    if task_id is None and task_ids is None and where is not None:
        return GenerationTask.objects.filter(where).update(**BUMP)
    return _rows(task_id, task_ids=task_ids, where=where).update(**BUMP)


def event_add(*, task_id: object, kind: str, message: str = "", **data: Any) -> TaskEvent:
    """Append a line to the task's history (and the structured log); its page shows the
    history, so the version is bumped too."""
    logger.info(
        "task=%s event=%s %s", task_id, kind, message, extra={"task": str(task_id), "event": kind}
    )
    event = TaskEvent.objects.create(task_id=task_id, kind=kind, message=message[:2000], data=data)
    touch(task_id)
    return event
