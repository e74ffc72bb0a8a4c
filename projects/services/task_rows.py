"""Writing a new generation task, in steps a caller composes inside its own transaction:
`task_build` (the unsaved row), `task_price_checked` (its price, before the transaction),
`task_rows_insert` (the row and its references), then, after the hold, `task_created_record`
(history line, audit row, submit job on commit). services/generation.py composes them for one
task, services/variations.py for the takes of a batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser

from projects.audit import audit_record
from projects.generation import lifecycle
from projects.models import (
    ApiKey,
    Asset,
    GenerationReference,
    GenerationTask,
    Project,
    VariationBatch,
)
from projects.models.ledger import usd
from projects.money.billing import generation_price_check, generation_task_quote
from projects.money.pricing import Quote, input_video_seconds
from projects.providers.base import GenerationRequest
from projects.queue import enqueue_on_commit
from projects.services.submit import SUBMIT_JOB

if TYPE_CHECKING:
    from projects.services.generation import GenerationParams

Status = GenerationTask.Status
SUBMIT_WATCHDOG = timedelta(seconds=60)  # a pending task not claimed by then is re-enqueued


def expected_render_seconds(*, duration: int, resolution: str) -> float:
    """A rough render time in seconds, for progress bars and the first poll: about 120 s for
    a 5 s 720p clip (upstream-research.md §5), scaling with length and pixel count."""
    seconds = 10 if duration == -1 else duration
    factor = {"480p": 0.7, "720p": 1.0, "1080p": 1.5}.get(resolution, 1.0)
    return round(30 + 18 * seconds * factor, 1)


def task_build(
    *,
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    request: GenerationRequest,
    now: datetime,
    revised_from: GenerationTask | None = None,
    draft_source: GenerationTask | None = None,
    api_key: ApiKey | None = None,
    variation_batch: VariationBatch | None = None,
) -> GenerationTask:
    """A pending task for `request`, not yet saved (`task_rows_insert` saves it)."""
    return GenerationTask(
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
        variation_batch=variation_batch,
        status=Status.PENDING,
        next_poll_at=now + SUBMIT_WATCHDOG,
        expected_render_s=expected_render_seconds(
            duration=request.duration, resolution=request.resolution
        ),
        service_tier=request.service_tier,
        draft=request.draft,
        draft_source=draft_source,
        frames=request.frames,
        camera_fixed=request.camera_fixed,
        execution_expires_after=request.execution_expires_after,
        # Billed as input seconds beside the output's (TokenHub guide; Ark's tokens). The
        # form's estimate sums the same way (pricing.input_video_seconds).
        input_video_seconds=input_video_seconds(
            [r.duration_s for r in request.references if r.kind == "video"]
        ),
    )


def task_price_checked(task: GenerationTask, *, params: GenerationParams, at: datetime) -> Quote:
    """The worst-case price of the unsaved `task` (one take's, for a batch), refused with
    PriceChanged unless it is `params.shown_cost_micro` (when given); NoPrice when there is
    none. Priced before the transaction: the price rule's read need not wait for, nor hold,
    the account lock (on SQLite the write lock). A refusal here writes nothing."""
    price = generation_task_quote(task, has_references=bool(params.references), at=at)
    generation_price_check(price, shown_micro=params.shown_cost_micro)
    return price


def task_rows_insert(
    *, task: GenerationTask, params: GenerationParams, new_assets: dict[int, Asset]
) -> None:
    """Save the `task_build` task and its reference rows (`new_assets` already saved, see
    `generation_request_prepared`). Must run inside the caller's transaction, which then
    holds its credit (money/billing.py) and calls `task_created_record`."""
    task.save(force_insert=True)
    # Their pages list the revisions, and the finals, made from them.
    linked = [pk for pk in (task.revised_from_id, task.draft_source_id) if pk is not None]
    if linked:
        lifecycle.touch(task_ids=linked)
    assets = [new_assets.get(i) or ref.asset for i, ref in enumerate(params.references)]
    GenerationReference.objects.bulk_create(
        GenerationReference(task=task, asset=asset, role=ref.role, position=position)
        for position, (ref, asset) in enumerate(zip(params.references, assets, strict=True))
    )


def task_created_record(
    *, task: GenerationTask, user: AbstractBaseUser, params: GenerationParams, held_micro: int
) -> None:
    """The created task's history line ("held $X"), its submit audit row, and its submit job
    enqueued on commit. Call in the transaction that inserted and held it."""
    draft_source = task.draft_source
    revised_from = task.revised_from
    where = ""
    if task.draft:
        where = " as a 480p draft"
    elif draft_source is not None:
        where = f" as the final of draft {draft_source.pk}"
    elif task.variation_batch_id is not None:
        where = f" as a take of variation batch {task.variation_batch_id} (seed {task.seed})"
    lifecycle.event_add(
        task_id=task.pk,
        kind="created",
        message=f"Created by {user.get_username()}{where}; held {usd(held_micro)}.",
        provider=params.provider,
        model=task.model,
        held_micro=held_micro,
        references=[f"{r.role}:{r.asset_id}" for r in task.references.order_by("position")],
    )
    audit_record(
        actor=user,
        action="generation.submitted",
        team=task.project.team,
        target=task,
        details={
            "project": task.project.name,
            "provider": params.provider,
            "model": task.model,
            "duration": task.duration,
            "resolution": task.resolution,
            "revised_from": str(revised_from.pk) if revised_from else None,
            "draft": task.draft,
            "draft_source": str(draft_source.pk) if draft_source else None,
            "variation_batch": (str(task.variation_batch_id) if task.variation_batch_id else None),
        },
    )
    enqueue_on_commit(SUBMIT_JOB, str(task.pk))
