"""Creating generation tasks: the one entry for the form, the CLI and anything else.

`generation_task_create` validates against the gateway's capability table, writes the task in
one transaction (with the steps of services/task_rows.py) and enqueues the submit job
(services/submit.py) on commit. What is sent
upstream for a stored task is built by services/upstream_request.py; finals rendered from a
draft come through services/drafts.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from projects.exceptions import InvalidRequest
from projects.media import MediaInvalid
from projects.models import ApiKey, Asset, GenerationTask, Project
from projects.money.billing import generation_task_hold
from projects.providers.base import GenerationRequest, MediaReference
from projects.providers.capabilities import ROLES, frames_seconds
from projects.providers.registry import configured_provider_names, get_capabilities
from projects.providers.request_check import check_request
from projects.services.assets import (
    ProbedUpload,
    asset_files_delete,
    asset_store_files,
    upload_probed,
)
from projects.services.task_rows import (
    task_build,
    task_created_record,
    task_price_checked,
    task_rows_insert,
)
from projects.services.upstream_request import media_reference


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
    ([Image 1], [Video 1], ...), `service_tier` Ark's "default" or "flex" (where offered).

    Ark's further fields, where the model takes them (upstream-research §1.3): `draft` a 480p
    preview to render a final from later (services/drafts.py); `frames` (25+4n in [29, 289])
    in place of `duration`; `camera_fixed` True, or None to leave it out (the API's default,
    false); `execution_expires_after` seconds (3600-259200), None for 48 h."""

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
    draft: bool = False
    frames: int | None = None
    camera_fixed: bool | None = None
    execution_expires_after: int | None = None

    @property
    def seconds(self) -> int:
        """The requested length in whole seconds: `duration`, or a frame count's length
        rounded up (121 frames: 5 s; 29 frames: 2 s)."""
        if self.frames is not None:
            return max(1, math.ceil(frames_seconds(self.frames)))
        return self.duration


def generation_params_check(
    params: GenerationParams,
    *,
    project: Project | None = None,
    uploads: Sequence[ProbedUpload | None] = (),
    draft_task_id: str = "",
) -> GenerationRequest:
    """The GenerationRequest for `params`, or InvalidRequest naming every broken limit.

    `uploads[i]` is the probed file of `params.references[i]` when that reference is an upload
    (see `generation_task_create`); library assets must belong to `project`. References are
    checked for roles, counts, exclusive modes, portraits and the gateway's MediaLimits; their
    links are only made when the task is sent (`request_for_task`). `draft_task_id` is the
    upstream id of the draft a final is rendered from (services/drafts.py).
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
        duration=params.seconds,
        generate_audio=params.generate_audio,
        watermark=params.watermark,
        seed=params.seed,
        references=tuple(references),
        service_tier=params.service_tier,
        draft=params.draft,
        draft_task_id=draft_task_id,
        frames=params.frames,
        camera_fixed=params.camera_fixed,
        execution_expires_after=params.execution_expires_after,
    )
    errors = check_request(get_capabilities(params.provider), request)
    if errors:
        raise InvalidRequest(errors)
    return request


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


def generation_task_create(
    *,
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    revised_from: GenerationTask | None = None,
    draft_source: GenerationTask | None = None,
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
    video it redoes (services/reviews.py::generation_revise); `draft_source` is the succeeded
    draft a final is rendered from (services/drafts.py::generation_final_from_draft).
    """
    draft_task_id = draft_source.upstream_task_id if draft_source is not None else ""
    with generation_request_prepared(
        project=project, user=user, params=params, draft_task_id=draft_task_id
    ) as (request, new_assets):
        now = timezone.now()
        task = task_build(
            project=project,
            user=user,
            params=params,
            request=request,
            now=now,
            revised_from=revised_from,
            draft_source=draft_source,
            api_key=api_key,
        )
        price = task_price_checked(task, params=params, at=now)
        with transaction.atomic():
            for asset in new_assets.values():
                asset.save(force_insert=True)
            task_rows_insert(task=task, params=params, new_assets=new_assets)
            hold = generation_task_hold(task=task, price=price)
            if also_write is not None:
                also_write(task)
            task_created_record(task=task, user=user, params=params, held_micro=-hold.amount_micro)
        return task


@contextmanager
def generation_request_prepared(
    *, project: Project, user: AbstractBaseUser, params: GenerationParams, draft_task_id: str = ""
) -> Iterator[tuple[GenerationRequest, dict[int, Asset]]]:
    """Probe `params`' uploads, check the whole request (`generation_params_check`) and store
    the uploads' files as new, unsaved library assets; yields (the GenerationRequest, {index
    in params.references: new Asset}). The caller saves those assets in the transaction that
    writes the task(s); if its block raises, the stored files are deleted again. Scratch files
    are gone on exit. Raises InvalidRequest before anything is stored."""
    with ExitStack() as scratch:
        uploads = [
            _probe_reference(scratch, ref) if ref.upload is not None else None
            for ref in params.references
        ]
        request = generation_params_check(
            params, project=project, uploads=uploads, draft_task_id=draft_task_id
        )
        new_assets: dict[int, Asset] = {}
        try:
            for index, probed in enumerate(uploads):
                if probed is not None:
                    new_assets[index] = asset_store_files(project=project, user=user, probed=probed)
            yield request, new_assets
        except BaseException:
            for asset in new_assets.values():
                asset_files_delete(asset)
            raise


def _probe_reference(scratch: ExitStack, ref: ReferenceInput) -> ProbedUpload:
    try:
        return scratch.enter_context(upload_probed(ref.upload))
    except MediaInvalid as exc:
        raise InvalidRequest({ref.role: exc.message}) from exc
