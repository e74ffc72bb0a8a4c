"""Forms: input validation for the pages. No side effects; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.exceptions import InvalidRequest
from projects.models import Team
from projects.providers.capabilities import ModelCapabilities, ProviderCapabilities
from projects.providers.registry import configured_provider_names, get_capabilities
from projects.services.generation import GenerationParams, generation_params_check

RATIO_LABELS = {
    "16:9": "16:9 landscape",
    "4:3": "4:3",
    "1:1": "1:1 square",
    "3:4": "3:4",
    "9:16": "9:16 portrait",
    "21:9": "21:9 cinema",
    "adaptive": "Adaptive (model decides)",
}


class ProjectForm(forms.Form):
    """A new project: its team (one the user belongs to), name and description."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].widget = forms.HiddenInput()
            self.fields["team"].initial = teams.first().pk


class GenerationForm(forms.Form):
    """A generation request. The choices shown follow the chosen gateway and model; every
    limit is checked by the same capability table the CLI and the worker use, so the error
    names the limit and its doc."""

    provider = forms.CharField(widget=forms.Select)
    model = forms.CharField(widget=forms.Select)
    prompt = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "[subject] + [action] + [setting] + [camera / style]"}
        ),
        max_length=4000,
    )
    ratio = forms.CharField(widget=forms.Select)
    resolution = forms.CharField(widget=forms.Select)
    duration = forms.IntegerField(widget=forms.Select)
    generate_audio = forms.BooleanField(required=False, label="Generate audio")
    watermark = forms.BooleanField(required=False, label="Watermark")
    seed = forms.IntegerField(required=False, help_text="Same seed, similar result. Blank: random.")

    def __init__(self, data: Any = None, *, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        source = data if data is not None else (initial or {})
        self.caps, self.model_caps = self.choose(source.get("provider"), source.get("model"))
        self._configure()

    @staticmethod
    def choose(
        provider: str | None, model: str | None
    ) -> tuple[ProviderCapabilities, ModelCapabilities]:
        """The capability tables for a (possibly missing or unknown) provider and model."""
        names = configured_provider_names()
        if provider not in names:
            provider = names[0] if names else None
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
            (name, get_capabilities(name).label) for name in configured_provider_names()
        ]
        fields["model"].widget.choices = [(m.id, f"{m.label} ({m.id})") for m in caps.models]
        fields["ratio"].widget.choices = [(r, RATIO_LABELS.get(r, r)) for r in model.ratios]
        fields["resolution"].widget.choices = [(r, r) for r in model.resolutions]
        durations = [(d, f"{d} s") for d in model.durations]
        if model.auto_duration:
            durations.append((-1, "Auto (model decides)"))
        fields["duration"].widget.choices = durations
        fields["duration"].help_text = f"{model.id}: {model.describe_durations()}."
        if not self.is_bound:
            self.initial = {
                "provider": caps.name,
                "model": model.id,
                "ratio": "16:9" if "16:9" in model.ratios else model.default_ratio,
                "resolution": model.default_resolution,
                "duration": model.default_duration,
                "generate_audio": model.default_audio and model.audio,
                "watermark": False,
                **{k: v for k, v in self.initial.items() if v not in (None, "")},
            }
        if not model.seed:
            fields["seed"].widget.attrs["disabled"] = True
            fields["seed"].help_text = f"{caps.label} does not take a seed for this model."
        if not model.audio:
            fields["generate_audio"].widget.attrs["disabled"] = True
        if not model.watermark:
            fields["watermark"].widget.attrs["disabled"] = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            generation_params_check(self.params())
        except InvalidRequest as exc:
            for field, message in exc.errors.items():
                self.add_error(field if field in self.fields else None, message)
        return data

    def pricing_choices(self) -> dict[str, Any]:
        """The choices that set the price, as shown (unbound) or sent (bound), each replaced by
        the model's default when missing or not offered: provider, model, resolution,
        duration (seconds, -1 = auto) and generate_audio. For the live estimate."""
        model = self.model_caps
        resolution = self["resolution"].value()
        if resolution not in model.resolutions:
            resolution = model.default_resolution
        try:
            duration = int(self["duration"].value())
        except (TypeError, ValueError):
            duration = model.default_duration
        if duration not in model.durations and not (duration == -1 and model.auto_duration):
            duration = model.default_duration
        audio = self["generate_audio"].value() in (True, "on", "true", "True", "1")
        return {
            "provider": self.caps.name,
            "model": model.id,
            "resolution": resolution,
            "duration": duration,
            "generate_audio": audio and model.audio,
        }

    def params(self) -> GenerationParams:
        """The validated choices as GenerationParams (call after is_valid())."""
        data = self.cleaned_data
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
        )
