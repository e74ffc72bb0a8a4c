"""The generation form's fields for Ark's further create options, each only where the chosen
model takes it (ModelCapabilities, upstream-research §1.3, §9): "Draft first" (a 480p
preview, Seedance 1.5 pro), a frame count in place of the duration (Seedance 1.0), a fixed
camera, and how long a flex task may wait. Also the small form on a draft's page that
renders its final (services/drafts.py). Forms only validate; the services decide.
"""

from __future__ import annotations

from typing import Any

from django import forms

from projects.providers.capabilities import (
    ARK_EXPIRES_AFTER,
    DEFAULT_EXPIRES_AFTER,
    DRAFT_RESOLUTION,
    FRAMES_MAX,
    FRAMES_MIN,
    ModelCapabilities,
    ProviderCapabilities,
)
from projects.services.drafts import FinalChoices

TRUE_WORDS = (True, "on", "true", "True", "1")
HOUR = 3600
DEFAULT_EXPIRES_HOURS = DEFAULT_EXPIRES_AFTER // HOUR  # 48
OPTION_FIELDS = ("draft", "frames", "camera_fixed", "expires_after_hours")


def add_option_fields(form: forms.Form) -> None:
    """Add to a GenerationForm (after its choices are set) the option fields its model takes,
    and narrow a draft's choices: 480p only, the default tier only (§1.3)."""
    caps: ProviderCapabilities = form.caps
    model: ModelCapabilities = form.model_caps
    fields = form.fields
    if model.draft:
        fields["draft"] = forms.BooleanField(
            required=False,
            label="Draft first",
            help_text=f"A cheap {DRAFT_RESOLUTION} preview; render the final from its page.",
        )
    if model.frames:
        fields["frames"] = forms.IntegerField(
            required=False,
            min_value=FRAMES_MIN,
            max_value=FRAMES_MAX,
            label="Frames",
            help_text=f"In place of the duration: 25 + a multiple of 4, {FRAMES_MIN}-"
            f"{FRAMES_MAX} (24 fps; 121 = 5 s). Blank: the duration.",
        )
    if model.camera_fixed:
        fields["camera_fixed"] = forms.BooleanField(required=False, label="Fixed camera")
    if caps.expires_after is not None and "flex" in model.service_tiers:
        low, high = caps.expires_after
        fields["expires_after_hours"] = forms.IntegerField(
            required=False,
            min_value=low // HOUR,
            max_value=high // HOUR,
            label="Flex: give up after (hours)",
            help_text=f"{low // HOUR}-{high // HOUR} h; blank: {DEFAULT_EXPIRES_HOURS} h. "
            "A flex task still waiting then ends expired, and costs nothing.",
        )
    if is_draft(form):
        fields["resolution"].widget.choices = [(DRAFT_RESOLUTION, DRAFT_RESOLUTION)]
        fields["resolution"].help_text = f"A draft renders at {DRAFT_RESOLUTION} only."
        fields["service_tier"].widget.choices = [("default", "Default (online)")]
        fields.pop("expires_after_hours", None)  # no flex for a draft


def is_draft(form: forms.Form) -> bool:
    """Whether the form (bound, or its initial values) asks for a draft its model takes."""
    if "draft" not in form.fields:
        return False
    value = form.data.get("draft") if form.is_bound else form.initial.get("draft")
    return value in TRUE_WORDS


def option_pricing(form: forms.Form, choices: dict[str, Any]) -> dict[str, Any]:
    """`choices` (GenerationForm.pricing_choices) as a draft or a frame count changes them:
    a draft is priced at 480p on the default tier, a frame count by its frames."""
    if is_draft(form):
        choices = {**choices, "resolution": DRAFT_RESOLUTION, "service_tier": "default"}
    frames = form["frames"].value() if "frames" in form.fields else None
    try:
        frames = int(frames) if frames not in (None, "") else None
    except (TypeError, ValueError):
        frames = None
    if frames is not None and not FRAMES_MIN <= frames <= FRAMES_MAX:
        frames = None
    return {**choices, "frames": frames}


def option_params(form: forms.Form) -> dict[str, Any]:
    """GenerationParams keywords from the cleaned option fields: draft, frames, camera_fixed
    (True or None: left out), execution_expires_after (seconds, flex only; None: 48 h)."""
    data = form.cleaned_data
    hours = data.get("expires_after_hours")
    flex = data.get("service_tier") == "flex"
    return {
        "draft": bool(data.get("draft")),
        "frames": data.get("frames"),
        "camera_fixed": True if data.get("camera_fixed") else None,
        "execution_expires_after": hours * HOUR if hours and flex else None,
    }


class FinalFromDraftForm(forms.Form):
    """'Render final' on a succeeded draft's page: what the final chooses itself (the rest is
    the draft's, services/drafts.py): resolution, service tier, watermark, and for flex how
    many hours it may wait."""

    resolution = forms.ChoiceField()
    service_tier = forms.ChoiceField(required=False)
    watermark = forms.BooleanField(required=False, label="Watermark")
    expires_after_hours = forms.IntegerField(
        required=False,
        min_value=ARK_EXPIRES_AFTER[0] // HOUR,
        max_value=ARK_EXPIRES_AFTER[1] // HOUR,
        label="Flex: give up after (hours)",
    )

    def __init__(self, *args: Any, model: ModelCapabilities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resolution"].choices = [(r, r) for r in model.resolutions]
        self.fields["resolution"].initial = model.default_resolution
        self.fields["service_tier"].choices = [
            (tier, {"default": "Default (online)", "flex": "Flex (offline, cheaper)"}[tier])
            for tier in model.service_tiers
        ]

    def choices(self) -> FinalChoices:
        """The validated choices (call after is_valid())."""
        data = self.cleaned_data
        tier = data.get("service_tier") or "default"
        hours = data.get("expires_after_hours")
        return FinalChoices(
            resolution=data["resolution"],
            service_tier=tier,
            watermark=bool(data.get("watermark")),
            execution_expires_after=hours * HOUR if hours and tier == "flex" else None,
        )
