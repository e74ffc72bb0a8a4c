"""Sending a pending task upstream, once: the django-q2 submit job.

`generation_task_submit` claims the task, calls the gateway once, and records the outcome; a
lost answer is never resubmitted blindly (it becomes submit_unknown and is reconciled,
services/sweep.py). Tasks are created, and this job enqueued, by services/generation.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from projects.crashpoints import crashpoint
from projects.generation import lifecycle
from projects.models import GenerationTask
from projects.providers.base import (
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
)
from projects.providers.registry import UnknownProvider, get_provider
from projects.services.gateway_status import gateway_call
from projects.services.poll_schedule import next_poll_time
from projects.services.upstream_request import request_for_task, upstream_deadline
from projects.worker_config import worker_config

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status

SUBMIT_JOB = "projects.tasks.generation_task_submit"
MAX_SUBMIT_ATTEMPTS = 8
RECONCILE_FIRST = 30.0  # upstream seconds before a lost submit is first looked for: lists lag


def generation_task_submit(*, task_id: str) -> None:
    """Send a pending task to its gateway, once (the django-q2 submit job).

    Idempotent: only the delivery that moves the task from pending to submitting calls the
    gateway. Outcomes: queued (upstream id saved), pending again after a transient error
    (the sweep retries it), failed after a refusal (message shown), or submit_unknown when
    the request went out but the answer was lost (reconciled, never resubmitted blindly).
    """
    now = timezone.now()
    claimed = lifecycle.transition(
        task_id=task_id,
        from_statuses=[Status.PENDING],
        to_status=Status.SUBMITTING,
        next_poll_at=now + timedelta(seconds=worker_config().submit_lease_s),
        submit_attempts=F("submit_attempts") + 1,
        submitted_at=now,  # when the create went out; reconciliation searches from here
    )
    if not claimed:
        logger.info("task=%s submit skipped: not pending", task_id, extra={"task": str(task_id)})
        return
    task = GenerationTask.objects.get(pk=task_id)
    try:
        provider = get_provider(task.provider)
        request = request_for_task(task)
        wait = provider.create_wait_seconds(request)
        if wait:
            # A create answered only when the video is done (AceData without a callback):
            # the lease must outlast it, or the sweep would call the submit lost meanwhile.
            lifecycle.reschedule(
                task_id,
                statuses=[Status.SUBMITTING],
                next_poll_at=timezone.now()
                + timedelta(seconds=wait + worker_config().submit_lease_s),
            )
        crashpoint("before_submit")
        with gateway_call(task.provider):
            result = provider.submit(request)
    except (ImproperlyConfigured, UnknownProvider) as exc:
        lifecycle.finish(
            task_id=task_id,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code="not_configured",
            error_message=str(exc),
        )
        return
    except ProviderOutcomeUnknown as exc:
        if lifecycle.transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.SUBMIT_UNKNOWN,
            next_poll_at=reconcile_first_time(),
            error_message=exc.message,
        ):
            lifecycle.event_add(
                task_id=task_id,
                kind="submit_unknown",
                message=f"{exc.message} The task may exist upstream; it will be reconciled, "
                "not sent again.",
            )
        return
    except ProviderTransientError as exc:
        _submit_retry_later(task, exc)
        return
    except ProviderRejectedError as exc:
        lifecycle.finish(
            task_id=task_id,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code=exc.code or exc.kind,
            error_message=exc.message,
        )
        return
    crashpoint("after_submit")
    with transaction.atomic():
        moved = lifecycle.transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.RUNNING if result.status == "running" else Status.QUEUED,
            upstream_task_id=result.upstream_id,
            upstream_status=result.raw_status,
            vendor_cost=result.vendor_cost[:64],
            deadline_at=now + upstream_deadline(task),
            next_poll_at=next_poll_time(task=task, now=now),
            error_message="",
        )
        if moved:
            lifecycle.event_add(
                task_id=task_id,
                kind="submitted",
                message=f"Accepted by {task.provider} as {result.upstream_id}.",
                upstream_task_id=result.upstream_id,
                status=result.raw_status,
                vendor_cost=result.vendor_cost,  # e.g. seedance2.ink creditsCharged; "" if none
            )


def reconcile_first_time() -> datetime:
    """When a submit whose outcome is unknown is first reconciled: RECONCILE_FIRST upstream
    seconds from now (SEEDANCE_UPSTREAM_TIME_SCALE makes that 0.15 s against the tests' fast
    simulator)."""
    return timezone.now() + timedelta(seconds=RECONCILE_FIRST * worker_config().upstream_time_scale)


def _submit_retry_later(task: GenerationTask, exc: ProviderTransientError) -> None:
    attempts = task.submit_attempts
    if attempts >= MAX_SUBMIT_ATTEMPTS:
        lifecycle.finish(
            task_id=task.pk,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code=exc.code or "unavailable",
            error_message=f"{exc.message} Gave up after {attempts} attempts.",
        )
        return
    delay = max(exc.retry_after or 0.0, min(300.0, 5.0 * 2 ** (attempts - 1)))
    if lifecycle.transition(
        task_id=task.pk,
        from_statuses=[Status.SUBMITTING],
        to_status=Status.PENDING,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    ):
        lifecycle.event_add(
            task_id=task.pk,
            kind="submit_retry",
            message=f"{exc.message} Trying again in {delay:.0f} s.",
            attempt=attempts,
            retry_after=exc.retry_after,
        )
