"""Creating generation tasks and sending them upstream.

`generation_task_create` is the single entry for the form, the CLI and anything else: it
validates against the gateway's capability table, writes the task in one transaction and
enqueues the submit job on commit. `generation_task_submit` is that job: it claims the task,
calls the gateway once, and records the outcome; a lost answer is never resubmitted blindly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from projects.exceptions import InvalidRequest
from projects.models import GenerationTask, Project
from projects.models.ledger import usd
from projects.providers.base import (
    GenerationRequest,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
)
from projects.providers.capabilities import check_request
from projects.providers.registry import (
    UnknownProvider,
    configured_provider_names,
    get_capabilities,
    get_provider,
)
from projects.queue import enqueue_on_commit
from projects.services.billing import generation_task_hold
from projects.services.task_state import task_event_add, task_finish, task_transition

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status

SUBMIT_JOB = "projects.tasks.generation_task_submit"
SUBMIT_WATCHDOG = timedelta(seconds=60)  # a pending task not claimed by then is re-enqueued
SUBMIT_LEASE = timedelta(seconds=120)  # longer than any HTTP timeout of a create call
MAX_SUBMIT_ATTEMPTS = 8
DEADLINE = timedelta(hours=49)  # Ark's default execution_expires_after (48 h) plus a margin


@dataclass(frozen=True)
class GenerationParams:
    """The user's choices, as the form and the CLI collect them. `duration` in seconds
    (-1 = auto), `seed` None when not given."""

    provider: str
    model: str
    prompt: str
    ratio: str
    resolution: str
    duration: int
    generate_audio: bool = True
    watermark: bool = False
    seed: int | None = None


def generation_params_check(params: GenerationParams) -> GenerationRequest:
    """The GenerationRequest for `params`, or InvalidRequest naming every broken limit."""
    if params.provider not in configured_provider_names():
        offered = ", ".join(configured_provider_names()) or "none (no gateway key is set)"
        raise InvalidRequest(
            {"provider": f"{params.provider!r} is not available here; configured: {offered}."}
        )
    request = GenerationRequest(
        model=params.model,
        prompt=params.prompt.strip(),
        ratio=params.ratio,
        resolution=params.resolution,
        duration=params.duration,
        generate_audio=params.generate_audio,
        watermark=params.watermark,
        seed=params.seed,
    )
    errors = check_request(get_capabilities(params.provider), request)
    if errors:
        raise InvalidRequest(errors)
    return request


def expected_render_seconds(*, duration: int, resolution: str) -> float:
    """A rough render time in seconds, for progress bars and the first poll: about 120 s for
    a 5 s 720p clip (upstream-research.md §5), scaling with length and pixel count."""
    seconds = 10 if duration == -1 else duration
    factor = {"480p": 0.7, "720p": 1.0, "1080p": 1.5}.get(resolution, 1.0)
    return round(30 + 18 * seconds * factor, 1)


def generation_task_create(
    *, project: Project, user: AbstractBaseUser, params: GenerationParams
) -> GenerationTask:
    """Validate `params`, store a pending task, hold its worst-case cost, and enqueue its
    submission after commit.

    The task row and the credit hold are written in one transaction (services/billing.py).
    Raises InvalidRequest, NoPrice, InsufficientCredits or BudgetExceeded: then nothing is
    stored, held or enqueued. The caller must already have checked the user's access to
    `project` (projects/access.py).
    """
    request = generation_params_check(params)
    now = timezone.now()
    with transaction.atomic():
        task = GenerationTask.objects.create(
            project=project,
            created_by=user,
            provider=params.provider,
            model=request.model,
            prompt=request.prompt,
            ratio=request.ratio,
            resolution=request.resolution,
            duration=request.duration,
            generate_audio=request.generate_audio,
            watermark=request.watermark,
            seed=request.seed,
            status=Status.PENDING,
            next_poll_at=now + SUBMIT_WATCHDOG,
            expected_render_s=expected_render_seconds(
                duration=request.duration, resolution=request.resolution
            ),
        )
        hold = generation_task_hold(task=task)
        task_event_add(
            task_id=task.pk,
            kind="created",
            message=f"Created by {user.get_username()}; held {usd(-hold.amount_micro)}.",
            provider=params.provider,
            model=request.model,
            held_micro=-hold.amount_micro,
        )
        enqueue_on_commit(SUBMIT_JOB, str(task.pk))
    return task


def callback_url_for(task: GenerationTask) -> str:
    """The absolute URL a gateway calls back on, with the task's secret in it."""
    path = reverse(
        "projects:generation_callback",
        kwargs={"task_id": task.pk, "token": task.callback_token},
    )
    return f"{settings.SITE_URL}{path}"


def request_for_task(task: GenerationTask) -> GenerationRequest:
    """Rebuild the structured request from a stored task."""
    caps = get_capabilities(task.provider)
    return GenerationRequest(
        model=task.model,
        prompt=task.prompt,
        ratio=task.ratio,
        resolution=task.resolution,
        duration=task.duration,
        generate_audio=task.generate_audio,
        watermark=task.watermark,
        seed=task.seed,
        callback_url=callback_url_for(task) if caps.callbacks else None,
        client_ref=str(task.pk),
    )


def generation_task_submit(*, task_id: str) -> None:
    """Send a pending task to its gateway, once (the django-q2 submit job).

    Idempotent: only the delivery that moves the task from pending to submitting calls the
    gateway. Outcomes: queued (upstream id saved), pending again after a transient error
    (the sweep retries it), failed after a refusal (message shown), or submit_unknown when
    the request went out but the answer was lost (reconciled, never resubmitted blindly).
    """
    now = timezone.now()
    claimed = GenerationTask.objects.filter(pk=task_id, status=Status.PENDING).update(
        status=Status.SUBMITTING,
        next_poll_at=now + SUBMIT_LEASE,
        submit_attempts=F("submit_attempts") + 1,
        submitted_at=now,  # when the create went out; reconciliation searches from here
    )
    if not claimed:
        logger.info("task=%s submit skipped: not pending", task_id)
        return
    task = GenerationTask.objects.get(pk=task_id)
    try:
        provider = get_provider(task.provider)
        result = provider.submit(request_for_task(task))
    except (ImproperlyConfigured, UnknownProvider) as exc:
        task_finish(
            task_id=task_id,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code="not_configured",
            error_message=str(exc),
        )
        return
    except ProviderOutcomeUnknown as exc:
        if task_transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.SUBMIT_UNKNOWN,
            next_poll_at=timezone.now() + timedelta(seconds=30),
            error_message=exc.message,
        ):
            task_event_add(
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
        task_finish(
            task_id=task_id,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code=exc.code or exc.kind,
            error_message=exc.message,
        )
        return
    with transaction.atomic():
        moved = task_transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.RUNNING if result.status == "running" else Status.QUEUED,
            upstream_task_id=result.upstream_id,
            upstream_status=result.raw_status,
            vendor_cost=result.vendor_cost[:64],
            deadline_at=now + DEADLINE,
            next_poll_at=timezone.now() + first_poll_delay(task),
            error_message="",
        )
        if moved:
            task_event_add(
                task_id=task_id,
                kind="submitted",
                message=f"Accepted by {task.provider} as {result.upstream_id}.",
                upstream_task_id=result.upstream_id,
                status=result.raw_status,
            )


def first_poll_delay(task: GenerationTask) -> timedelta:
    return timedelta(seconds=settings.SEEDANCE_POLL_FIRST)


def _submit_retry_later(task: GenerationTask, exc: ProviderTransientError) -> None:
    attempts = task.submit_attempts
    if attempts >= MAX_SUBMIT_ATTEMPTS:
        task_finish(
            task_id=task.pk,
            status=Status.FAILED,
            from_statuses=[Status.SUBMITTING],
            error_code=exc.code or "unavailable",
            error_message=f"{exc.message} Gave up after {attempts} attempts.",
        )
        return
    delay = max(exc.retry_after or 0.0, min(300.0, 5.0 * 2 ** (attempts - 1)))
    if task_transition(
        task_id=task.pk,
        from_statuses=[Status.SUBMITTING],
        to_status=Status.PENDING,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    ):
        task_event_add(
            task_id=task.pk,
            kind="submit_retry",
            message=f"{exc.message} Trying again in {delay:.0f} s.",
            attempt=attempts,
            retry_after=exc.retry_after,
        )
