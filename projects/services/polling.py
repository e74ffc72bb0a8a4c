"""Following tasks to their end: the due-task sweep, one poll, and applying what came back.

Polling is a database lease (docs/ARCHITECTURE.md): every non-terminal task has a
`next_poll_at`; the sweep claims due rows by pushing `next_poll_at` one lease ahead (with
`select_for_update(skip_locked=True)` where the database has it), handles them on a bounded
thread pool, and each handler sets the real next time. A worker that dies mid-poll leaves the
row to come due again when its lease runs out; two sweeps never take the same row. The
database going away for a while (locked, restarting, unreachable) does not end a sweep: it
waits, claims again, and a step cut off half-way is redone when its task comes due.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from projects.logs import with_log_context
from projects.models import GenerationTask
from projects.providers.base import (
    ProviderError,
    ProviderRejectedError,
    ProviderTransientError,
    TaskSnapshot,
    UpstreamStatus,
)
from projects.providers.registry import batch_size, get_provider
from projects.queue import enqueue, enqueue_on_commit
from projects.services.gateway_status import gateway_call
from projects.services.outputs import generation_task_store_outputs, store_pickup
from projects.services.poll_schedule import next_poll_time
from projects.services.submit import SUBMIT_JOB, reconcile_first_time
from projects.services.task_state import task_event_add, task_finish, task_transition
from projects.services.upstream_errors import failure_message
from projects.services.upstream_request import request_for_task, upstream_deadline

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status

STORE_JOB = "projects.tasks.generation_task_store_outputs"
SWEPT = [
    Status.PENDING,
    Status.SUBMITTING,
    Status.SUBMIT_UNKNOWN,
    Status.QUEUED,
    Status.RUNNING,
    Status.DOWNLOADING,
]
CLAIM_PER_SLOT = 25  # due tasks claimed per free thread: batches need many at once
UNKNOWN_RECHECK = timedelta(minutes=5)
MAX_NOT_FOUND = 3
# Our tasks sent this long before a lost create still count as its twins when reconciling;
# wider than any gateway's search window around the send time (Ark: 5 s before).
KNOWN_WINDOW = timedelta(minutes=10)


def poll_lease() -> timedelta:
    """How long a claimed task stays away from other sweeps (SEEDANCE_POLL_LEASE)."""
    return timedelta(seconds=settings.SEEDANCE_POLL_LEASE)


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
            GenerationTask.objects.filter(pk__in=ids).update(next_poll_at=now + poll_lease())
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
    concurrency = concurrency or settings.SEEDANCE_POLL_CONCURRENCY
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
        GenerationTask.objects.filter(pk=task_id, status=Status.PENDING).update(
            next_poll_at=timezone.now() + timedelta(seconds=60)
        )
        enqueue(SUBMIT_JOB, task_id)
    elif task.status == Status.SUBMITTING:
        # The worker that claimed the submit died or hung past its lease: the request may or
        # may not have reached the gateway.
        if task_transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.SUBMIT_UNKNOWN,
            next_poll_at=reconcile_first_time(),
        ):
            task_event_add(
                task_id=task_id,
                kind="submit_unknown",
                message="The submit attempt did not finish; reconciling.",
            )
    elif task.status == Status.SUBMIT_UNKNOWN:
        generation_task_reconcile(task=task)
    elif task.status == Status.DOWNLOADING:
        GenerationTask.objects.filter(pk=task_id, status=Status.DOWNLOADING).update(
            next_poll_at=timezone.now() + store_pickup()
        )
        enqueue(STORE_JOB, task_id)
    else:
        generation_task_refresh(task=task, store_inline=store_inline)


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
        task_event_add(task_id=task.pk, kind="reconcile_error", message=exc.message)
        return
    if found:
        try:
            with transaction.atomic():
                if task_transition(
                    task_id=task.pk,
                    from_statuses=[Status.SUBMIT_UNKNOWN],
                    to_status=Status.QUEUED,
                    upstream_task_id=found,
                    next_poll_at=now,
                    error_message="",
                    deadline_at=sent_at + upstream_deadline(task),
                ):
                    task_event_add(
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
    settle_after = timedelta(seconds=settings.SEEDANCE_RECONCILE_AFTER)
    if found == "" and now - sent_at >= settle_after:
        with transaction.atomic():
            if task_transition(
                task_id=task.pk,
                from_statuses=[Status.SUBMIT_UNKNOWN],
                to_status=Status.PENDING,
                next_poll_at=now + timedelta(seconds=60),
                error_message="",
            ):
                task_event_add(
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
        task_event_add(task_id=task.pk, kind="needs_admin", message=message)
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
    GenerationTask.objects.filter(pk=task.pk, status=Status.SUBMIT_UNKNOWN).update(
        next_poll_at=timezone.now() + max(delay, timedelta(seconds=0.2))
    )


def generation_task_refresh(*, task: GenerationTask, store_inline: bool = False) -> None:
    """Ask the gateway about a queued or running task once and apply the answer
    (`store_inline`: see generation_task_poll)."""
    GenerationTask.objects.filter(pk=task.pk).update(poll_count=F("poll_count") + 1)
    try:
        with gateway_call(task.provider):
            snapshot = get_provider(task.provider).fetch(task.upstream_task_id)
    except ProviderTransientError as exc:
        _poll_failed(task, exc, retry_after=exc.retry_after)
        return
    except ProviderRejectedError as exc:
        if exc.kind == "not_found" and task.consecutive_errors + 1 >= MAX_NOT_FOUND:
            task_finish(
                task_id=task.pk,
                status=Status.FAILED,
                error_code="not_found",
                error_message=f"{task.provider} no longer knows this task ({exc.message}).",
            )
            return
        _poll_failed(task, exc)
        return
    except ProviderError as exc:
        _poll_failed(task, exc)
        return
    generation_task_apply_snapshot(task=task, snapshot=snapshot, store_inline=store_inline)


def generation_tasks_refresh_batch(*, provider: str, task_ids: list[str]) -> None:
    """Ask the gateway about several queued or running tasks in one request (`fetch_many`)
    and apply each answer; a task the answer leaves out is asked about on its own."""
    tasks = list(
        GenerationTask.objects.filter(pk__in=task_ids, status__in=[Status.QUEUED, Status.RUNNING])
    )
    if not tasks:
        return
    GenerationTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
        poll_count=F("poll_count") + 1
    )
    try:
        with gateway_call(provider):
            snapshots = get_provider(provider).fetch_many([t.upstream_task_id for t in tasks])
    except ProviderTransientError as exc:
        for task in tasks:
            _poll_failed(task, exc, retry_after=exc.retry_after)
        return
    except ProviderError as exc:
        for task in tasks:
            _poll_failed(task, exc)
        return
    for task in tasks:
        snapshot = snapshots.get(task.upstream_task_id)
        if snapshot is None:
            generation_task_refresh(task=task)
        else:
            generation_task_apply_snapshot(task=task, snapshot=snapshot)


def _poll_failed(
    task: GenerationTask, exc: ProviderError, retry_after: float | None = None
) -> None:
    errors = task.consecutive_errors + 1
    if task.deadline_at and timezone.now() > task.deadline_at:
        task_finish(
            task_id=task.pk,
            status=Status.EXPIRED,
            error_code="deadline",
            error_message="The gateway did not report an end before the deadline.",
        )
        return
    now = timezone.now()
    next_at = next_poll_time(task=task, now=now, errors=errors, retry_after=retry_after)
    delay = (next_at - now).total_seconds()
    GenerationTask.objects.filter(pk=task.pk, status=task.status).update(
        consecutive_errors=errors, next_poll_at=next_at
    )
    if errors == 1 or errors % 10 == 0:
        task_event_add(
            task_id=task.pk,
            kind="poll_error",
            message=f"{exc.message} Asking again in {delay:.0f} s.",
            errors=errors,
        )


def generation_task_apply_snapshot(
    *, task: GenerationTask, snapshot: TaskSnapshot, store_inline: bool = False
) -> None:
    """Record what the gateway said about a queued or running task.

    queued/running: status and next poll; succeeded: remember the output links and hand over
    to the storing job; failed/expired/cancelled: end the task (nothing charged); an unknown
    status word: logged once, the task stays where it is.
    """
    now = timezone.now()
    status = snapshot.status
    common = {"upstream_status": snapshot.raw_status[:40], "consecutive_errors": 0}
    if status in (UpstreamStatus.QUEUED, UpstreamStatus.RUNNING, UpstreamStatus.UNKNOWN):
        target = task.status
        fields = dict(common)
        if status == UpstreamStatus.RUNNING:
            target = Status.RUNNING
            if task.started_at is None:
                fields["started_at"] = now
        elif status == UpstreamStatus.UNKNOWN and task.upstream_status != snapshot.raw_status:
            task_event_add(
                task_id=task.pk,
                kind="unknown_status",
                message=f"The gateway said {snapshot.raw_status!r}; still waiting.",
            )
        fields["next_poll_at"] = next_poll_time(task=task, now=now)
        # Only the job that moves the row out of the status it read writes the event: two
        # polls of one queued task (a callback's and the sweep's) both see "running".
        if target != task.status and task_transition(
            task_id=task.pk, from_statuses=[task.status], to_status=target, **fields
        ):
            task_event_add(task_id=task.pk, kind="running", message="Rendering started.")
        else:
            task_transition(
                task_id=task.pk,
                from_statuses=[Status.QUEUED, Status.RUNNING],
                to_status=target,
                **fields,
            )
        return
    if status == UpstreamStatus.SUCCEEDED:
        if not snapshot.video_url:
            _poll_failed(task, ProviderError("The gateway reported success without a video link."))
            return
        with transaction.atomic():
            if task_transition(
                task_id=task.pk,
                from_statuses=[Status.QUEUED, Status.RUNNING],
                to_status=Status.DOWNLOADING,
                output_url=snapshot.video_url,
                cover_url=snapshot.cover_url,
                last_frame_url=snapshot.last_frame_url,
                usage=snapshot.usage,
                upstream_duration_s=snapshot.duration_s,
                vendor_cost=(snapshot.vendor_cost or task.vendor_cost)[:64],
                upstream_finished_at=now,
                started_at=task.started_at or now,
                next_poll_at=now + store_pickup(),
                lease_until=None,  # a callback's claim; the store job takes its own
                **common,
            ):
                task_event_add(
                    task_id=task.pk,
                    kind="rendered",
                    message="The gateway finished; saving the video.",
                    usage=snapshot.usage,
                )
                if store_inline:
                    transaction.on_commit(
                        with_log_context(generation_task_store_outputs, task_id=str(task.pk))
                    )
                else:
                    enqueue_on_commit(STORE_JOB, str(task.pk))
        return
    ending = {
        UpstreamStatus.FAILED: Status.FAILED,
        UpstreamStatus.EXPIRED: Status.EXPIRED,
        UpstreamStatus.CANCELLED: Status.CANCELLED,
    }[status]
    task_finish(
        task_id=task.pk,
        status=ending,
        from_statuses=[Status.QUEUED, Status.RUNNING],
        error_code=snapshot.error_code,
        error_message=failure_message(
            status=status,
            code=snapshot.error_code,
            message=snapshot.error_message,
            provider_label=task.provider,
        ),
        upstream_status=snapshot.raw_status[:40],
        upstream_finished_at=now,
    )
