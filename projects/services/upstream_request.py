"""What is sent upstream for a stored task: its structured request (fresh reference links,
the callback URL where one is sent, Ark's draft and option fields) and how long the gateway
may take over it.

`request_for_task` is called when a task is submitted and when a lost submit is reconciled
(services/submit.py, services/sweep.py); `media_reference` also when a request is checked
before anything is stored (services/generation.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from projects.models import Asset, GenerationTask
from projects.providers.base import GenerationRequest, MediaReference
from projects.providers.capabilities import DEFAULT_EXPIRES_AFTER
from projects.providers.registry import get_capabilities, uses_callbacks
from projects.storage import signed_url

# Which Asset field holds a gateway's portrait ids: an asset with one is sent to that gateway as
# asset://<id> (AllToken video guide, "Portrait 를 입력으로 사용"). The ids live in that
# gateway's account, so no other gateway can resolve them.
PORTRAIT_ID_FIELDS = {"alltoken": "alltoken_asset_id"}
# Past its `execution_expires_after` a task is expired upstream (§1.3, §1.9); we wait this
# much longer before calling it expired ourselves (clocks, a last poll).
DEADLINE_MARGIN = timedelta(hours=1)


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
    resolves. Asks for the last frame where the model returns one, except on a draft (which
    has none, §1.3); a final names its draft's upstream id (`draft_task_id`, §1.4). A callback
    URL only where callbacks are sent (projects/callback_reach.py)."""
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
    source = task.draft_source
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
        return_last_frame=bool(model and model.last_frame_output) and not task.draft,
        client_ref=str(task.pk),
        service_tier=task.service_tier,
        draft=task.draft,
        draft_task_id=source.upstream_task_id if source is not None else "",
        frames=task.frames,
        camera_fixed=task.camera_fixed,
        execution_expires_after=task.execution_expires_after,
    )


def upstream_deadline(task: GenerationTask) -> timedelta:
    """How long after its submit a task may still end upstream: its `execution_expires_after`
    (the gateway's 48 h default when unset, §1.3) plus DEADLINE_MARGIN. Real time: a
    gateway's clock is never scaled (unlike the poll schedule's)."""
    return timedelta(seconds=task.execution_expires_after or DEFAULT_EXPIRES_AFTER) + (
        DEADLINE_MARGIN
    )
