"""Forms of the storyboard pages (issue 15). Validation only; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.forms import StudioForm
from projects.providers.registry import configured_provider_names, get_capabilities

RESOLUTIONS = [("480p", "480p"), ("720p", "720p"), ("1080p", "1080p")]
RATIOS = [(r, r) for r in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")]


class StoryboardForm(StudioForm):
    """A new storyboard: a title and the choices every shot is generated with."""

    title = forms.CharField(max_length=200)
    provider = forms.ChoiceField(choices=())
    model = forms.CharField(max_length=100)
    ratio = forms.ChoiceField(choices=RATIOS, initial="16:9")
    resolution = forms.ChoiceField(choices=RESOLUTIONS, initial="720p")
    generate_audio = forms.BooleanField(required=False, initial=True, label="Generate audio")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = configured_provider_names()
        self.fields["provider"].choices = [(n, get_capabilities(n).label) for n in names]
        if names:
            self.fields["provider"].initial = names[0]
            models = get_capabilities(names[0]).models
            self.fields["model"].initial = models[0].id if models else ""


class ShotForm(StudioForm):
    """A shot's plan: prompt, seconds, whether it starts from the previous shot's last frame."""

    prompt = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    duration = forms.IntegerField(min_value=1, max_value=60, initial=5, label="Seconds")
    chain_from_previous = forms.BooleanField(
        required=False, label="Start from the previous shot's last frame"
    )


class TakeForm(StudioForm):
    """The generation to use as a shot's take (checked against its tries by the service)."""

    task = forms.UUIDField()


class OrderForm(StudioForm):
    """The shots' ids in their new order, comma-separated (SortableJS's toArray)."""

    order = forms.CharField(max_length=60 * 37)

    def clean_order(self) -> list[str]:
        return [part for part in self.cleaned_data["order"].split(",") if part]


class CutReviewForm(StudioForm):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    comment = forms.CharField(max_length=4000, required=False, widget=forms.Textarea)
