"""Creating generation tasks and sending them upstream.

`generation_task_create` is the single entry for the form, the CLI and anything else: it
validates against the gateway's capability table, writes the task in one transaction and
enqueues the submit job on commit. `generation_task_submit` is that job: it claims the task,
calls the gateway once, and records the outcome; a lost answer is never resubmitted blindly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from projects.audit import audit_record
from projects.crashpoints import crashpoint
from projects.exceptions import InvalidRequest
from projects.media import MediaInvalid
from projects.models import ApiKey, Asset, GenerationReference, GenerationTask, Project
from projects.models.ledger import usd
from projects.money.billing import generation_task_hold
from projects.money.pricing import input_video_seconds
from projects.providers.base import (
    GenerationRequest,
    MediaReference,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
)
from projects.providers.capabilities import ROLES
from projects.providers.registry import (
    UnknownProvider,
    configured_provider_names,
    get_capabilities,
    get_provider,
    uses_callbacks,
)
from projects.providers.request_check import check_request
from projects.queue import enqueue_on_commit
from projects.services.assets import (
    ProbedUpload,
    asset_files_delete,
    asset_store_files,
    upload_probed,
)
from projects.services.gateway_status import gateway_call
from projects.services.poll_schedule import next_poll_time
from projects.services.task_state import task_event_add, task_finish, task_transition
from projects.storage import signed_url

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status

SUBMIT_JOB = "projects.tasks.generation_task_submit"
SUBMIT_WATCHDOG = timedelta(seconds=60)  # a pending task not claimed by then is re-enqueued
MAX_SUBMIT_ATTEMPTS = 8
RECONCILE_FIRST = 30.0  # upstream seconds before a lost submit is first looked for: lists lag
DEADLINE = timedelta(hours=49)  # Ark's default execution_expires_after (48 h) plus a margin


# Which Asset field holds a gateway's portrait ids: an asset with one is sent to that gateway as
# asset://<id> (AllToken video guide, "Portrait 를 입력으로 사용"). The ids live in that
# gateway's account, so no other gateway can resolve them.
PORTRAIT_ID_FIELDS = {"alltoken": "alltoken_asset_id"}


@dataclass(frozen=True)
class ReferenceInput:
    """One reference file the user chose, in Seedance `role` (first_frame, last_frame,
    reference_image, reference_video, reference_audio): either `asset`, from the project's
    library (access-checked by the caller), or `upload`, a new file (a Django UploadedFile, or a
    local path from the CLI) that joins the library only if the generation is accepted."""

    role: str
    asset: Asset | None = None
    upload: UploadedFile | Path | None = None


@dataclass(frozen=True)
class GenerationParams:
    """The user's choices, as the form and the CLI collect them. `duration` in seconds
    (-1 = auto), `seed` None when not given, `references` in the order the prompt names them
    ([Image 1], [Video 1], ...), `service_tier` Ark's "default" or "flex" (where offered)."""

    provider: str
    model: str
    prompt: str
    ratio: str
    resolution: str
    duration: int
    generate_audio: bool = True
    watermark: bool = False
    seed: int | None = None
    references: tuple[ReferenceInput, ...] = ()
    service_tier: str = "default"
    # The cost the form showed, in micro-USD: the hold must equal it (PriceChanged otherwise).
    # None (the CLI, scripts): whatever the quote says.
    shown_cost_micro: int | None = None


def generation_params_check(
    params: GenerationParams,
    *,
    project: Project | None = None,
    uploads: Sequence[ProbedUpload | None] = (),
) -> GenerationRequest:
    """The GenerationRequest for `params`, or InvalidRequest naming every broken limit.

    `uploads[i]` is the probed file of `params.references[i]` when that reference is an upload
    (see `generation_task_create`); library assets must belong to `project`. References are
    checked for roles, counts, exclusive modes, portraits and the gateway's MediaLimits; their
    links are only made when the task is sent (`request_for_task`).
    """
    if params.provider not in configured_provider_names():
        offered = ", ".join(configured_provider_names()) or "none (no gateway key is set)"
        raise InvalidRequest(
            {"provider": f"{params.provider!r} is not available here; configured: {offered}."}
        )
    references = []
    for index, ref in enumerate(params.references):
        if ref.role not in ROLES:
            raise InvalidRequest(
                {"references": f"{ref.role!r} is not a reference role; use {', '.join(ROLES)}."}
            )
        probed = uploads[index] if index < len(uploads) else None
        if probed is not None:
            references.append(_upload_reference(probed, role=ref.role))
        elif ref.asset is not None:
            _check_library_asset(ref.asset, project)
            references.append(
                media_reference(ref.asset, role=ref.role, provider=params.provider, url="")
            )
        else:
            raise InvalidRequest({ref.role: f"Choose a file for {ref.role}."})
    request = GenerationRequest(
        model=params.model,
        prompt=params.prompt.strip(),
        ratio=params.ratio,
        resolution=params.resolution,
        duration=params.duration,
        generate_audio=params.generate_audio,
        watermark=params.watermark,
        seed=params.seed,
        references=tuple(references),
        service_tier=params.service_tier,
    )
    errors = check_request(get_capabilities(params.provider), request)
    if errors:
        raise InvalidRequest(errors)
    return request


def media_reference(asset: Asset, *, role: str, provider: str, url: str) -> MediaReference:
    """The MediaReference for a library asset in `role`: asset://<portrait id> when `provider`
    resolves the asset's portrait id, else `url` (an expiring link; '' while only checking)."""
    portrait = getattr(asset, PORTRAIT_ID_FIELDS.get(provider, ""), "") or ""
    return MediaReference(
        kind=asset.kind,
        role=role,
        url=f"asset://{portrait}" if portrait else url,
        duration_s=asset.duration_s,
        name=asset.name,
        format=asset.container,
        width=asset.width,
        height=asset.height,
        fps=asset.fps,
        size_bytes=asset.size_bytes,
    )


def _upload_reference(probed: ProbedUpload, *, role: str) -> MediaReference:
    info = probed.info
    return MediaReference(
        kind=info.kind,
        role=role,
        url="",
        duration_s=info.duration_s,
        name=probed.name,
        format=info.format,
        width=info.width,
        height=info.height,
        fps=info.fps,
        size_bytes=probed.size_bytes,
    )


def _check_library_asset(asset: Asset, project: Project | None) -> None:
    if project is not None and asset.project_id != project.pk:
        raise InvalidRequest({"references": f"“{asset.name}” is not in this project's library."})
    if asset.deleted_at is not None:
        raise InvalidRequest({"references": f"“{asset.name}” was deleted from the library."})


def expected_render_seconds(*, duration: int, resolution: str) -> float:
    """A rough render time in seconds, for progress bars and the first poll: about 120 s for
    a 5 s 720p clip (upstream-research.md §5), scaling with length and pixel count."""
    seconds = 10 if duration == -1 else duration
    factor = {"480p": 0.7, "720p": 1.0, "1080p": 1.5}.get(resolution, 1.0)
    return round(30 + 18 * seconds * factor, 1)


def generation_task_create(
    *,
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    revised_from: GenerationTask | None = None,
    api_key: ApiKey | None = None,
    also_write: Callable[[GenerationTask], object] | None = None,
) -> GenerationTask:
    """Validate `params`, store a pending task, hold its worst-case cost, and enqueue its
    submission after commit.

    `api_key`: the key an API request came with (projects/api/): recorded on the task, and
    its budget is checked with the others. `also_write(task)` runs in the task's
    transaction after the hold (the API's own row), so it commits or rolls back with it.

    Uploaded references are probed first and checked with everything else; only an accepted
    request stores them (as new library assets) and writes the task, its references and its
    credit hold (money/billing.py), in one transaction, with the submit's audit row.
    Raises InvalidRequest, NoPrice, PriceChanged (the hold would differ from
    `params.shown_cost_micro`), InsufficientCredits or BudgetExceeded: nothing stored, held or
    enqueued, no scratch file left. The caller must already have checked the user's
    access to `project` (projects/access.py). `revised_from` links a revision to the rejected
    video it redoes (services/reviews.py::generation_revise).
    """
    with ExitStack() as scratch:
        uploads = [
            _probe_reference(scratch, ref) if ref.upload is not None else None
            for ref in params.references
        ]
        request = generation_params_check(params, project=project, uploads=uploads)
        new_assets: dict[int, Asset] = {}
        try:
            for index, probed in enumerate(uploads):
                if probed is not None:
                    new_assets[index] = asset_store_files(project=project, user=user, probed=probed)
            return _task_write(
                project, user, params, request, new_assets, revised_from, api_key, also_write
            )
        except BaseException:
            for asset in new_assets.values():
                asset_files_delete(asset)
            raise


def _probe_reference(scratch: ExitStack, ref: ReferenceInput) -> ProbedUpload:
    try:
        return scratch.enter_context(upload_probed(ref.upload))
    except MediaInvalid as exc:
        raise InvalidRequest({ref.role: exc.message}) from exc


def _task_write(
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    request: GenerationRequest,
    new_assets: dict[int, Asset],
    revised_from: GenerationTask | None,
    api_key: ApiKey | None = None,
    also_write: Callable[[GenerationTask], object] | None = None,
) -> GenerationTask:
    now = timezone.now()
    assets = [new_assets.get(i) or ref.asset for i, ref in enumerate(params.references)]
    with transaction.atomic():
        for asset in new_assets.values():
            asset.save(force_insert=True)
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
            revised_from=revised_from,
            api_key=api_key,
            status=Status.PENDING,
            next_poll_at=now + SUBMIT_WATCHDOG,
            expected_render_s=expected_render_seconds(
                duration=request.duration, resolution=request.resolution
            ),
            service_tier=request.service_tier,
            # Billed as input seconds beside the output's (TokenHub guide; Ark's tokens). The
            # form's estimate sums the same way (pricing.input_video_seconds).
            input_video_seconds=input_video_seconds(
                [r.duration_s for r in request.references if r.kind == "video"]
            ),
        )
        if revised_from is not None:
            # Its page lists the revisions made from it.
            GenerationTask.objects.filter(pk=revised_from.pk).touch()
        pairs = list(zip(params.references, assets, strict=True))
        GenerationReference.objects.bulk_create(
            GenerationReference(task=task, asset=asset, role=ref.role, position=position)
            for position, (ref, asset) in enumerate(pairs)
        )
        hold = generation_task_hold(task=task, shown_micro=params.shown_cost_micro)
        if also_write is not None:
            also_write(task)
        task_event_add(
            task_id=task.pk,
            kind="created",
            message=f"Created by {user.get_username()}; held {usd(-hold.amount_micro)}.",
            provider=params.provider,
            model=request.model,
            held_micro=-hold.amount_micro,
            references=[f"{ref.role}:{asset.pk}" for ref, asset in pairs],
        )
        audit_record(
            actor=user,
            action="generation.submitted",
            team=project.team,
            target=task,
            details={
                "project": project.name,
                "provider": params.provider,
                "model": request.model,
                "duration": request.duration,
                "resolution": request.resolution,
                "revised_from": str(revised_from.pk) if revised_from else None,
            },
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
    """Rebuild the structured request from a stored task, with a fresh absolute link for each
    reference that lives SEEDANCE_REFERENCE_LINK_TTL seconds (presigned on S3, signed by
    Django on local storage, under SITE_URL), or asset://<id> for a portrait the gateway
    resolves. Asks for the last frame where the model returns one."""
    caps = get_capabilities(task.provider)
    model = caps.model(task.model)
    references = tuple(
        media_reference(
            ref.asset,
            role=ref.role,
            provider=task.provider,
            url=signed_url(
                ref.asset.file.name, ttl=settings.SEEDANCE_REFERENCE_LINK_TTL, absolute=True
            ),
        )
        for ref in task.references.select_related("asset").order_by("position")
    )
    return GenerationRequest(
        model=task.model,
        prompt=task.prompt,
        ratio=task.ratio,
        resolution=task.resolution,
        duration=task.duration,
        generate_audio=task.generate_audio,
        watermark=task.watermark,
        seed=task.seed,
        references=references,
        callback_url=callback_url_for(task) if uses_callbacks(task.provider) else None,
        return_last_frame=bool(model and model.last_frame_output),
        client_ref=str(task.pk),
        service_tier=task.service_tier,
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
        next_poll_at=now + timedelta(seconds=settings.SEEDANCE_SUBMIT_LEASE),
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
            GenerationTask.objects.filter(pk=task_id, status=Status.SUBMITTING).update(
                next_poll_at=timezone.now()
                + timedelta(seconds=wait + settings.SEEDANCE_SUBMIT_LEASE)
            )
        crashpoint("before_submit")
        with gateway_call(task.provider):
            result = provider.submit(request)
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
            next_poll_at=reconcile_first_time(),
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
    crashpoint("after_submit")
    with transaction.atomic():
        moved = task_transition(
            task_id=task_id,
            from_statuses=[Status.SUBMITTING],
            to_status=Status.RUNNING if result.status == "running" else Status.QUEUED,
            upstream_task_id=result.upstream_id,
            upstream_status=result.raw_status,
            vendor_cost=result.vendor_cost[:64],
            deadline_at=now + DEADLINE,
            next_poll_at=next_poll_time(task=task, now=now),
            error_message="",
        )
        if moved:
            task_event_add(
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
    return timezone.now() + timedelta(
        seconds=RECONCILE_FIRST * settings.SEEDANCE_UPSTREAM_TIME_SCALE
    )


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
