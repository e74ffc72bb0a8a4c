"""The generation form: a request as people choose it, its choices following the chosen gateway
and model (the same capability tables the CLI, the API and the worker check)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from projects.exceptions import InvalidRequest
from projects.forms import MultipleFileField, MultipleFileInput, StudioForm
from projects.models import Asset, Project
from projects.models.variations import VARIATIONS_MAX, VARIATIONS_MIN
from projects.money.pricing import input_video_seconds
from projects.option_fields import add_option_fields, option_params, option_pricing
from projects.providers.capabilities import ROLE_KIND, ModelCapabilities, ProviderCapabilities
from projects.providers.registry import configured_provider_names, get_capabilities
from projects.selectors import asset_list
from projects.services.gateway_status import key_refused_message, offered_providers
from projects.services.generation import GenerationParams, ReferenceInput

# Reference roles with at most one file (a picker and a file input each) and with several.
SINGLE_ROLES = ("first_frame", "last_frame")
MULTI_ROLES = ("reference_image", "reference_video", "reference_audio")
ACCEPT = {"image": "image/*", "video": "video/mp4,video/quicktime,.m4v", "audio": "audio/*"}

TIER_LABELS = {"default": "Default (online)", "flex": "Flex (offline, cheaper)"}
RATIO_LABELS = {
    "16:9": "16:9 landscape",
    "4:3": "4:3",
    "1:1": "1:1 square",
    "3:4": "3:4",
    "9:16": "9:16 portrait",
    "21:9": "21:9 cinema",
    "adaptive": "Adaptive (model decides)",
}


class GenerationForm(StudioForm):
    """A generation request. The choices shown follow the chosen gateway and model; every
    limit is checked by the same capability table the CLI and the worker use, so the error
    names the limit and its doc."""

    provider = forms.CharField(widget=forms.Select)
    model = forms.CharField(widget=forms.Select)
    # No maxlength on the box: a browser would cut a pasted prompt without a word. The model's
    # own limit shows in a live counter (data-limit) and is checked with the capability table.
    prompt = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "[subject] + [action] + [setting] + [camera / style]"}
        ),
        validators=[MaxLengthValidator(20_000)],
    )
    ratio = forms.CharField(widget=forms.Select)
    resolution = forms.CharField(widget=forms.Select)
    duration = forms.IntegerField(widget=forms.Select)
    generate_audio = forms.BooleanField(required=False, label="Generate audio")
    watermark = forms.BooleanField(required=False, label="Watermark")
    seed = forms.IntegerField(required=False, help_text="Same seed, similar result. Blank: random.")
    service_tier = forms.CharField(
        widget=forms.Select,
        required=False,
        label="Service tier",
        help_text="Flex (offline) renders when the gateway has capacity, at its own price.",
    )
    # The reference video seconds of files chosen for upload, as the browser reads them
    # (static/js/app.js), so the estimate counts them before the server has the files.
    upload_video_seconds = forms.FloatField(required=False, widget=forms.HiddenInput)
    upload_files = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The cost the estimate showed (micro-USD): the submit is held at exactly this, or refused
    # with the new figure and nothing held (money/billing.py PriceChanged).
    shown_cost_micro = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # "Generate N": takes of the same request with distinct seeds (services/variations.py).
    variations = forms.TypedChoiceField(
        coerce=int,
        empty_value=1,
        required=False,
        choices=[(1, "1")] + [(n, f"{n} takes") for n in range(VARIATIONS_MIN, VARIATIONS_MAX + 1)],
        label="Takes",
        help_text="The same request several times with different seeds, held as one; "
        "compare them side by side and pick one.",
    )
    # Set when revising a rejected video (services/reviews.py::generation_revise).
    revised_from = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        project: Project,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        source = data if data is not None else (initial or {})
        self.caps, self.model_caps = self.choose(source.get("provider"), source.get("model"))
        self.project = project
        self.fields["prompt"].widget.attrs["data-limit"] = self.model_caps.max_prompt_chars
        self._configure()
        add_option_fields(self)  # draft, frames, camera_fixed, flex expiry where taken
        self._configure_references()

    @staticmethod
    def initial_from(query: Any) -> dict[str, Any]:
        """Initial values from a GET QueryDict (htmx re-render, links such as ?first_frame=)."""
        return {key: query.getlist(key) if key in MULTI_ROLES else query.get(key) for key in query}

    @staticmethod
    def choose(
        provider: str | None, model: str | None
    ) -> tuple[ProviderCapabilities, ModelCapabilities]:
        """The capability tables for a (possibly missing or unknown) provider and model; a
        missing provider is SEEDANCE_DEFAULT_PROVIDER when configured, else the first one."""
        names = offered_providers(configured_provider_names())
        if provider not in names and provider not in configured_provider_names():
            default = settings.SEEDANCE_DEFAULT_PROVIDER
            provider = default if default in names else (names[0] if names else None)
        if provider is None:
            raise InvalidRequest(
                {"provider": "No gateway is configured: set an API key such as TOKENHUB_API_KEY."}
            )
        caps = get_capabilities(provider)
        return caps, caps.model(model or "") or caps.default_model

    def _configure(self) -> None:
        caps, model = self.caps, self.model_caps
        fields = self.fields
        fields["provider"].widget.choices = [
            (name, get_capabilities(name).label)
            for name in offered_providers(configured_provider_names())
        ]
        fields["model"].widget.choices = [(m.id, f"{m.label} ({m.id})") for m in caps.models]
        fields["ratio"].widget.choices = [(r, RATIO_LABELS.get(r, r)) for r in model.ratios]
        fields["resolution"].widget.choices = [(r, r) for r in model.resolutions]
        durations = [(d, f"{d} s") for d in model.durations]
        if model.auto_duration:
            durations.append((-1, "Auto (model decides)"))
        fields["duration"].widget.choices = durations
        fields["duration"].help_text = f"{model.id}: {model.describe_durations()}."
        fields["service_tier"].widget.choices = [
            (tier, TIER_LABELS.get(tier, tier)) for tier in model.service_tiers
        ]
        if not self.is_bound:
            self.initial = {
                "provider": caps.name,
                "model": model.id,
                "ratio": "16:9" if "16:9" in model.ratios else model.default_ratio,
                "resolution": model.default_resolution,
                "duration": model.default_duration,
                "generate_audio": model.default_audio and model.audio,
                "watermark": False,
                "service_tier": model.service_tiers[0],
                **{k: v for k, v in self.initial.items() if v not in (None, "")},
            }
        if not model.seed:
            fields["seed"].widget.attrs["disabled"] = True
            fields["seed"].help_text = f"{caps.label} does not take a seed for this model."
        if not model.audio:
            fields["generate_audio"].widget.attrs["disabled"] = True
        if not model.watermark:
            fields["watermark"].widget.attrs["disabled"] = True

    def _configure_references(self) -> None:
        # The project's library, by kind, for the pickers; a chosen id must be one of these.
        self.library: dict[str, list[Asset]] = {"image": [], "video": [], "audio": []}
        for asset in asset_list(project=self.project):
            self.library[asset.kind].append(asset)
        self._assets = {str(a.pk): a for assets in self.library.values() for a in assets}
        roles = self.model_caps.roles
        for role in SINGLE_ROLES + MULTI_ROLES:
            kind = ROLE_KIND[role]
            choices = [(str(a.pk), a.name) for a in self.library[kind]]
            label = role.replace("_", " ").capitalize()
            if role in SINGLE_ROLES:
                self.fields[role] = forms.ChoiceField(
                    choices=[("", "None")] + choices, required=False, label=label
                )
                self.fields[f"{role}_file"] = forms.FileField(
                    required=False,
                    allow_empty_file=True,
                    label=f"or upload {'an' if kind == 'image' else 'a'} {kind}",
                    widget=forms.ClearableFileInput(attrs={"accept": ACCEPT[kind]}),
                )
            else:
                self.fields[role] = forms.MultipleChoiceField(
                    choices=choices, required=False, label=label
                )
                self.fields[f"{role}_files"] = MultipleFileField(
                    required=False,
                    label=f"or upload {kind} files",
                    widget=MultipleFileInput(attrs={"accept": ACCEPT[kind]}),
                )
        self.reference_roles = [r for r in SINGLE_ROLES + MULTI_ROLES if r in roles]

    def reference_blocks(self) -> list[dict[str, Any]]:
        """What the template needs per reference role the model accepts: the picker's field and
        its assets (with whether each is chosen), the upload field, and a one-line rule."""
        model = self.model_caps
        rules = {
            "first_frame": "The video starts on this image.",
            "last_frame": "The video ends on this image; needs a first frame.",
            "reference_image": f"Style, character or product images, up to {model.max_images}.",
            "reference_video": f"Motion and camera clips, up to {model.max_videos}.",
            "reference_audio": f"Rhythm or music, up to {model.max_audios}; not on its own.",
        }
        blocks = []
        for role in self.reference_roles:
            field = self[role]
            value = field.value() or ([] if role in MULTI_ROLES else "")
            chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}
            kind = ROLE_KIND[role]
            blocks.append(
                {
                    "role": role,
                    "label": field.label,
                    "kind": kind,
                    "multi": role in MULTI_ROLES,
                    "field": field,
                    "file_field": self[f"{role}_files" if role in MULTI_ROLES else f"{role}_file"],
                    "assets": [(a, str(a.pk) in chosen) for a in self.library[kind]],
                    "none_chosen": not (chosen - {""}),
                    "rule": rules[role],
                }
            )
        return blocks

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if refused := key_refused_message(self.caps.name):
            self.add_error("provider", refused)
        for role in SINGLE_ROLES:
            if data.get(role) and data.get(f"{role}_file"):
                self.add_error(
                    f"{role}_file", f"Pick a {role.replace('_', ' ')} or upload one, not both."
                )
        return data

    def pricing_choices(self) -> dict[str, Any]:
        """The choices that set the price, as shown (unbound) or sent (bound), each replaced by
        the model's default when missing or not offered: provider, model, resolution, ratio,
        duration (seconds, -1 = auto), generate_audio, service_tier, input_video_seconds
        (the library videos picked, plus the browser's reading of videos chosen for upload),
        has_references (library files picked, or files chosen for upload: `upload_files`) and
        frames (a frame count in place of the duration, or None); a draft is priced at 480p
        on the default tier (option_fields.option_pricing). For the live estimate:
        `billing.generation_estimate` prices them with the function the hold uses."""
        model = self.model_caps
        resolution = self["resolution"].value()
        if resolution not in model.resolutions:
            resolution = model.default_resolution
        ratio = self["ratio"].value()
        if ratio not in model.ratios:
            ratio = "16:9" if "16:9" in model.ratios else model.default_ratio
        try:
            duration = int(self["duration"].value())
        except (TypeError, ValueError):
            duration = model.default_duration
        if duration not in model.durations and not (duration == -1 and model.auto_duration):
            duration = model.default_duration
        tier = self["service_tier"].value()
        if tier not in model.service_tiers:
            tier = model.service_tiers[0]
        audio = self["generate_audio"].value() in (True, "on", "true", "True", "1")
        picked = self._picked_assets()
        videos = [asset.duration_s for role, asset in picked if role == "reference_video"]
        uploads = self._number(self["upload_video_seconds"].value())
        if uploads:
            videos.append(uploads)
        choices = {
            "provider": self.caps.name,
            "model": model.id,
            "resolution": resolution,
            "ratio": ratio,
            "duration": duration,
            "generate_audio": audio and model.audio,
            "service_tier": tier,
            "input_video_seconds": input_video_seconds(videos),
            "has_references": bool(picked)
            or bool(uploads)
            or self._number(self["upload_files"].value()) > 0
            or self._has_uploads(),
        }
        return option_pricing(self, choices)

    def _picked_assets(self) -> list[tuple[str, Asset]]:
        """(role, asset) for every library asset picked in a role the model takes."""
        picked = []
        for role in self.reference_roles:
            value = self[role].value() or []
            for pk in [value] if isinstance(value, str) else value:
                asset = self._assets.get(str(pk))
                if asset is not None and ROLE_KIND[role] == asset.kind:
                    picked.append((role, asset))
        return picked

    def _has_uploads(self) -> bool:
        names = [f"{r}_files" if r in MULTI_ROLES else f"{r}_file" for r in self.reference_roles]
        return any(self.files.get(name) for name in names) if self.files else False

    def variation_count(self) -> int:
        """How many takes the form asks for (1 for a single generation, 2-8 for a variation
        batch), read from what was sent or shown; anything else counts as 1."""
        try:
            count = int(self["variations"].value() or 1)
        except (TypeError, ValueError):
            return 1
        return count if VARIATIONS_MIN <= count <= VARIATIONS_MAX else 1

    @staticmethod
    def _number(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return 0.0
        return number if 0 < number < 3600 else 0.0

    def params(self) -> GenerationParams:
        """The validated choices as GenerationParams (call after is_valid()). References come
        in role order (first frame, last frame, images, videos, audio), library picks before
        uploads within a role."""
        data = self.cleaned_data
        references: list[ReferenceInput] = []
        for role in SINGLE_ROLES + MULTI_ROLES:
            picked = data.get(role) or []
            picked = [picked] if isinstance(picked, str) else picked
            references += [ReferenceInput(role=role, asset=self._assets[pk]) for pk in picked]
            uploads = data.get(f"{role}_file" if role in SINGLE_ROLES else f"{role}_files")
            uploads = [uploads] if uploads and not isinstance(uploads, list) else uploads or []
            references += [ReferenceInput(role=role, upload=upload) for upload in uploads]
        return GenerationParams(
            provider=data["provider"],
            model=data["model"],
            prompt=data["prompt"],
            ratio=data["ratio"],
            resolution=data["resolution"],
            duration=data["duration"],
            generate_audio=bool(data.get("generate_audio")),
            watermark=bool(data.get("watermark")),
            seed=data.get("seed"),
            references=tuple(references),
            service_tier=data.get("service_tier") or self.model_caps.service_tiers[0],
            shown_cost_micro=data.get("shown_cost_micro"),
            **option_params(self),
        )
