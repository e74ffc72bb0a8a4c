"""The due-task sweep: claim due tasks, run their jobs on a bounded thread pool, and the job
that does what one due task needs by its status.

Polling is a database lease (docs/ARCHITECTURE.md): every non-terminal task has a
`next_poll_at`; the sweep claims due rows by pushing `next_poll_at` one lease ahead (with
`select_for_update(skip_locked=True)` where the database has it), handles them on a bounded
thread pool, and each handler sets the real next time. A worker that dies mid-poll leaves the
row to come due again when its lease runs out; two sweeps never take the same row. The
database going away for a while (locked, restarting, unreachable) does not end a sweep: it
waits, claims again, and a step cut off half-way is redone when its task comes due.
Reconciling a lost submit is services/reconcile.py; asking the gateway, services/refresh.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from projects.generation import lifecycle
from projects.logs import with_log_context
from projects.models import GenerationTask
from projects.providers.registry import batch_size
from projects.queue import enqueue
from projects.services.outputs import store_pickup
from projects.services.reconcile import generation_task_reconcile
from projects.services.refresh import (
    STORE_JOB,
    generation_task_refresh,
    generation_tasks_refresh_batch,
)
from projects.services.submit import SUBMIT_JOB, reconcile_first_time
from projects.worker_config import worker_config

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status


SWEPT = [
    Status.PENDING,
    Status.SUBMITTING,
    Status.SUBMIT_UNKNOWN,
    Status.QUEUED,
    Status.RUNNING,
    Status.DOWNLOADING,
]


CLAIM_PER_SLOT = 25  # due tasks claimed per free thread: batches need many at once


def poll_lease() -> timedelta:
    """How long a claimed task stays away from other sweeps (SEEDANCE_POLL_LEASE)."""
    return timedelta(seconds=worker_config().poll_lease_s)


def generation_tasks_claim_due(*, limit: int, only: list[str] | None = None) -> list[str]:
    """Claim up to `limit` due tasks for this worker (among `only` ids when given); returns
    their ids, oldest due first."""
    now = timezone.now()
    with transaction.atomic():
        due = GenerationTask.objects.filter(status__in=SWEPT, next_poll_at__lte=now).order_by(
            "next_poll_at"
        )
        if only is not None:
            due = due.filter(pk__in=only)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = [str(pk) for pk in due.values_list("pk", flat=True)[:limit]]
        if ids:
            lifecycle.reschedule(task_ids=ids, next_poll_at=now + poll_lease())
    return ids


def generation_tasks_sweep(
    *,
    max_seconds: float,
    concurrency: int | None = None,
    until_idle: bool = False,
    only: list[str] | None = None,
) -> int:
    """Handle due tasks for up to `max_seconds` (the scheduled worker job); returns how many.

    `concurrency` threads work at once (SEEDANCE_POLL_CONCURRENCY); 1 runs inline on this
    thread. Due tasks of a gateway that answers for many at once share one request
    (`poll_jobs`). With `until_idle` it returns as soon as nothing is due; `only` limits it to
    those task ids (the `generate --wait` command drives its own task).
    """
    concurrency = concurrency or worker_config().poll_concurrency
    deadline = time.monotonic() + max_seconds
    handled = 0
    if concurrency == 1:
        while time.monotonic() < deadline:
            ids = _claim_or_wait(limit=CLAIM_PER_SLOT, only=only)
            for job in _jobs_or_none(ids):
                _run_job(job)
            handled += len(ids)
            if not ids:
                if until_idle:
                    break
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return handled
    inflight: set[Future] = set()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="poll") as pool:
        while time.monotonic() < deadline:
            free = concurrency - len(inflight)
            ids = _claim_or_wait(limit=free * CLAIM_PER_SLOT, only=only) if free > 0 else []
            inflight |= {pool.submit(_in_thread, job) for job in _jobs_or_none(ids)}
            handled += len(ids)
            if not inflight and not ids and until_idle:
                break
            if inflight:
                _done, pending = wait(inflight, timeout=0.25, return_when=FIRST_COMPLETED)
                inflight = set(pending)
            else:
                time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        wait(inflight)
    return handled


def poll_jobs(task_ids: list[str]) -> list[Callable[[], None]]:
    """The work for claimed tasks: one status request per batch of queued/running tasks of a
    gateway with `fetch_many` (up to its batch size), one job per task otherwise."""
    rows = GenerationTask.objects.filter(pk__in=task_ids).values_list("pk", "status", "provider")
    batches: dict[str, list[str]] = {}
    jobs: list[Callable[[], None]] = []
    for pk, status, provider in rows:
        if status in (Status.QUEUED, Status.RUNNING) and batch_size(provider) > 1:
            batches.setdefault(provider, []).append(str(pk))
        else:
            jobs.append(with_log_context(generation_task_poll, task_id=str(pk)))
    for provider, ids in batches.items():
        size = batch_size(provider)
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            jobs.append(
                with_log_context(generation_tasks_refresh_batch, provider=provider, task_ids=chunk)
            )
    return jobs


DB_RETRY_S = 0.5  # real seconds between tries while the database is unavailable


def _claim_or_wait(*, limit: int, only: list[str] | None) -> list[str]:
    # The database down or locked for a while must not end the sweep (nor break its chain,
    # services/sweeper.py, whose own bookkeeping needs the database too): wait and try again.
    try:
        return generation_tasks_claim_due(limit=limit, only=only)
    except DatabaseError as exc:
        if connection.in_atomic_block:  # a caller's transaction (tests): not ours to drop
            raise
        logger.warning("sweep: database unavailable (%s); trying again", exc)
        connection.close()  # a broken connection is reopened on the next query
        time.sleep(DB_RETRY_S)
        return []


def _jobs_or_none(task_ids: list[str]) -> list[Callable[[], None]]:
    # Claimed but not handled (database gone again): they come due when the lease ends.
    try:
        return poll_jobs(task_ids)
    except DatabaseError as exc:
        if connection.in_atomic_block:
            raise
        logger.warning("sweep: database unavailable (%s); tasks come due again", exc)
        connection.close()
        return []


def _run_job(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:
        # Each step is a conditional update, so a half-done one is redone, not doubled.
        logger.exception("poll job %s crashed; its tasks come due again when the lease ends", job)
        if connection.in_atomic_block:
            raise
        connection.close()


def _in_thread(job: Callable[[], None]) -> None:
    try:
        job()
    except Exception:
        logger.exception("poll job %s crashed; its tasks come due again when the lease ends", job)
    finally:
        close_old_connections()
        connection.close()


def generation_task_poll(*, task_id: str, store_inline: bool = False) -> None:
    """Do what a due task needs, by its status: submit it (pending), declare a dead submit
    attempt unknown (submitting), reconcile (submit_unknown), ask the gateway (queued,
    running), or restart its output copy (downloading). With `store_inline` (a single-task
    job, e.g. after a callback) a finished render's outputs are stored in this same job
    instead of a queued one: one hop less between the gateway finishing and the video."""
    task = GenerationTask.objects.filter(pk=task_id).first()
    if task is None or task.is_terminal:
        return
    if task.status == Status.PENDING:
        lifecycle.reschedule(
            task_id, statuses=[Status.PENDING], next_poll_at=timezone.now() + timedelta(seconds=60)
        )
        enqueue(SUBMIT_JOB, task_id)
    elif task.status == Status.SUBMITTING:
        # The worker that claimed the submit died or hung past its lease: the request may or
        # may not have reached the gateway.
        if lifecycle.transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.SUBMIT_UNKNOWN,
            next_poll_at=reconcile_first_time(),
        ):
            lifecycle.event_add(
                task_id=task_id,
                kind="submit_unknown",
                message="The submit attempt did not finish; reconciling.",
            )
    elif task.status == Status.SUBMIT_UNKNOWN:
        generation_task_reconcile(task=task)
    elif task.status == Status.DOWNLOADING:
        lifecycle.reschedule(
            task_id, statuses=[Status.DOWNLOADING], next_poll_at=timezone.now() + store_pickup()
        )
        enqueue(STORE_JOB, task_id)
    else:
        generation_task_refresh(task=task, store_inline=store_inline)
