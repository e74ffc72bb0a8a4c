"""Draft first, then the final: Ark's draft mode as a step of its own (upstream-research
§1.3, §1.4, §9).

A draft is a generation made with `draft: true` (services/generation.py, `GenerationParams.draft`):
Seedance 1.5 pro renders a cheap 480p preview of the request, with no last frame, on the
default tier. Once it has succeeded, `generation_final_from_draft` makes the final: a new
generation whose request is one `{"type": "draft_task", "draft_task": {"id": <the draft's
upstream id>}}` content item. Ark takes the prompt, the references, the ratio, the duration,
the seed, the audio choice and camera_fixed from the draft, so the final inherits them here
too (and shows them); what it chooses itself is the resolution, the service tier, the
watermark and how long the gateway may take. Both are billed like any generation: the hold
is the token formula's worst case at the task's own resolution (the draft's is 480p), the
charge the gateway's `usage.completion_tokens` (§1.14), under the model's existing price
rules (projects/migrations/0011_price_units.py: 1.5 pro per resolution and audio choice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from projects.exceptions import InvalidRequest, NoPrice
from projects.models import GenerationTask
from projects.money.pricing import quote
from projects.providers.registry import get_capabilities
from projects.services.generation import GenerationParams, generation_task_create

# §1.8: "Task id retained 7 days": past that Ark no longer knows the draft a final names.
DRAFT_KEPT = timedelta(days=7)


@dataclass(frozen=True)
class FinalChoices:
    """What a final rendered from a draft chooses itself (the rest is the draft's):
    `resolution` (480p, 720p, 1080p where the model renders it), `service_tier` default or
    flex, `watermark`, `execution_expires_after` seconds (None: 48 h), and `shown_cost_micro`,
    the estimate the page showed (the hold must equal it; None: whatever the quote says)."""

    resolution: str
    service_tier: str = "default"
    watermark: bool = False
    execution_expires_after: int | None = None
    shown_cost_micro: int | None = None


def draft_final_refusal(*, draft: GenerationTask) -> str:
    """Why a final cannot be rendered from `draft` now, in a sentence; '' when it can."""
    label = get_capabilities(draft.provider).label
    if not draft.draft:
        return "Only a draft can be rendered final; this generation is not one."
    if draft.deleted_at is not None:
        return "This draft was deleted."
    if draft.status != GenerationTask.Status.SUCCEEDED:
        if draft.is_terminal:
            return "This draft ended without a video; generate a new draft."
        return "The draft has not finished yet; render the final once it has."
    if not draft.upstream_task_id:
        return f"{label} gave this draft no task id to render a final from."
    if timezone.now() - (draft.submitted_at or draft.created_at) > DRAFT_KEPT:
        return (
            f"{label} keeps a task for 7 days (upstream-research §1.8) and this draft is "
            "older: make a new draft."
        )
    return ""


def final_duration(draft: GenerationTask) -> int:
    """The final's length in seconds: the draft's, which Ark reuses (§1.4); for a draft whose
    length the model chose (-1) the length it rendered, rounded to whole seconds."""
    if draft.duration != -1:
        return draft.duration
    rendered = draft.upstream_duration_s or draft.video_duration_s
    return round(rendered) if rendered else -1


def generation_final_from_draft(
    *, draft: GenerationTask, user: AbstractBaseUser, choices: FinalChoices
) -> GenerationTask:
    """Create the final generation of a succeeded `draft` (see the module docstring), through
    `generation_task_create`: checked against the gateway's tables, held, linked to its draft
    (`draft_source`), and enqueued. The caller must already have checked `user`'s access to
    the draft (projects/access.py). Raises InvalidRequest (the draft cannot be rendered final,
    or a choice breaks a limit), NoPrice, PriceChanged, InsufficientCredits or
    BudgetExceeded: nothing stored or held.
    """
    refusal = draft_final_refusal(draft=draft)
    if refusal:
        raise InvalidRequest({"draft": refusal})
    params = GenerationParams(
        provider=draft.provider,
        model=draft.model,
        prompt=draft.prompt,
        ratio=draft.ratio,
        resolution=choices.resolution,
        duration=final_duration(draft),
        generate_audio=draft.generate_audio,
        watermark=choices.watermark,
        seed=draft.seed,
        service_tier=choices.service_tier,
        camera_fixed=draft.camera_fixed,
        execution_expires_after=choices.execution_expires_after,
        shown_cost_micro=choices.shown_cost_micro,
    )
    return generation_task_create(
        project=draft.project, user=user, params=params, draft_source=draft
    )


def draft_finals(*, draft: GenerationTask) -> list[GenerationTask]:
    """The finals rendered from `draft` and not deleted, oldest first (for its page)."""
    return list(
        GenerationTask.objects.filter(draft_source=draft.pk, deleted_at__isnull=True)
        .only("pk", "status", "resolution", "created_at")
        .order_by("created_at")
    )


def final_quotes(*, draft: GenerationTask) -> list[tuple[str, int | None]]:
    """For each resolution the model renders, what its final would hold at most (micro-USD,
    on the default tier; `pricing.quote`, the function the hold uses), or None where it has
    no price: the choices 'Render final' offers."""
    model = get_capabilities(draft.provider).model(draft.model)
    if model is None:
        return []
    options = []
    for resolution in model.resolutions:
        try:
            price = quote(
                provider=draft.provider,
                model=draft.model,
                resolution=resolution,
                generate_audio=draft.generate_audio,
                duration=final_duration(draft),
                ratio=draft.ratio,
            )
        except NoPrice:
            options.append((resolution, None))
        else:
            options.append((resolution, price.amount_micro))
    return options
