"""Asking the gateway about queued and running tasks (one by one, or many in one request where
the gateway can) and applying its answer: the next poll, the output links and the store job,
or the task's ending."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects.generation import lifecycle
from projects.logs import with_log_context
from projects.models import GenerationTask
from projects.providers.base import (
    ProviderError,
    ProviderRejectedError,
    ProviderTransientError,
    TaskSnapshot,
    UpstreamStatus,
)
from projects.providers.registry import get_provider
from projects.queue import enqueue_on_commit
from projects.services.gateway_status import gateway_call
from projects.services.outputs import generation_task_store_outputs, store_pickup
from projects.services.poll_schedule import ask_gap, next_poll_time
from projects.services.upstream_errors import failure_message
from projects.worker_config import worker_config

Status = GenerationTask.Status
STORE_JOB = "projects.tasks.generation_task_store_outputs"

MAX_NOT_FOUND = 3


def generation_task_refresh(*, task: GenerationTask, store_inline: bool = False) -> None:
    """Ask the gateway about a queued or running task once and apply the answer
    (`store_inline`: see generation_task_poll)."""
    lifecycle.reschedule(task.pk, poll_count=F("poll_count") + 1)
    try:
        with gateway_call(task.provider):
            snapshot = get_provider(task.provider).fetch(task.upstream_task_id)
    except ProviderTransientError as exc:
        _poll_failed(task, exc, retry_after=exc.retry_after)
        return
    except ProviderRejectedError as exc:
        if exc.kind == "not_found" and task.consecutive_errors + 1 >= MAX_NOT_FOUND:
            lifecycle.finish(
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
    lifecycle.reschedule(task_ids=[t.pk for t in tasks], poll_count=F("poll_count") + 1)
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
        lifecycle.finish(
            task_id=task.pk,
            status=Status.EXPIRED,
            error_code="deadline",
            error_message="The gateway did not report an end before the deadline.",
        )
        return
    now = timezone.now()
    next_at = next_poll_time(task=task, now=now, errors=errors, retry_after=retry_after)
    delay = (next_at - now).total_seconds()
    lifecycle.reschedule(
        task.pk, statuses=[task.status], consecutive_errors=errors, next_poll_at=next_at
    )
    if errors == 1 or errors % 10 == 0:
        lifecycle.event_add(
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
            lifecycle.event_add(
                task_id=task.pk,
                kind="unknown_status",
                message=f"The gateway said {snapshot.raw_status!r}; still waiting.",
            )
        fields["next_poll_at"] = next_poll_time(task=task, now=now)
        # Only the job that moves the row out of the status it read writes the event: two
        # polls of one queued task (a callback's and the sweep's) both see "running".
        if target != task.status and lifecycle.transition(
            task_id=task.pk, from_statuses=[task.status], to_status=target, **fields
        ):
            lifecycle.event_add(task_id=task.pk, kind="running", message="Rendering started.")
        else:
            # Still where it was (or another job moved it on meanwhile): a task never goes
            # back from running to queued, whatever a gateway's lagging answer says.
            lifecycle.record(task.pk, statuses=[Status.QUEUED, Status.RUNNING], **fields)
        return
    if status == UpstreamStatus.SUCCEEDED:
        if not snapshot.video_url:
            _poll_failed(task, ProviderError("The gateway reported success without a video link."))
            return
        with transaction.atomic():
            if lifecycle.transition(
                task_id=task.pk,
                from_statuses=[Status.QUEUED, Status.RUNNING],
                to_status=Status.DOWNLOADING,
                output_url=snapshot.video_url,
                cover_url=snapshot.cover_url,
                last_frame_url=snapshot.last_frame_url,
                usage=snapshot.usage,
                upstream_duration_s=snapshot.duration_s,
                vendor_cost=(snapshot.vendor_cost or task.vendor_cost)[:64],
                upstream_finished_at=_finished_moment(task, now),
                started_at=task.started_at or now,
                next_poll_at=now + store_pickup(),
                lease_until=None,  # a callback's claim; the store job takes its own
                **common,
            ):
                lifecycle.event_add(
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
    lifecycle.finish(
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


def _finished_moment(task: GenerationTask, now: datetime) -> datetime:
    """When the gateway most likely finished a render that an ask at `now` saw finished: half
    way back to the ask before (poll_schedule.ask_gap; `now` itself for a gateway that calls
    back). The render estimator learns from it (services/render_estimate.py)."""
    scale = worker_config().upstream_time_scale
    sent = task.submitted_at or task.created_at
    age = max(0.0, (now - sent).total_seconds() / scale)
    return now - timedelta(seconds=0.5 * ask_gap(task=task, age=age) * scale)
