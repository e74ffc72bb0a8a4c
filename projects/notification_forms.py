"""Forms of the notification pages: a member's e-mail choices, a team webhook. They only
validate; projects/notifications/ does the rest."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.forms import StudioForm
from projects.models import Event

# Events a team webhook may hear: the same as members'.
EVENT_CHOICES = Event.choices
DIGEST = "review_waiting_digest"


class NotificationChoicesForm(StudioForm):
    """One checkbox per event: e-mail me about it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for event, label in EVENT_CHOICES:
            self.fields[event] = forms.BooleanField(required=False, label=label)
            self.fields[event].label_suffix = ""
        self.fields[DIGEST] = forms.BooleanField(
            required=False,
            label="Videos awaiting my review: one e-mail a day listing them, not one per video",
        )
        self.fields[DIGEST].label_suffix = ""


class TeamWebhookForm(StudioForm):
    """A team webhook's name, URL, events and whether it is active (the service checks the
    URL: its kind and that its host is public)."""

    name = forms.CharField(max_length=80)
    url = forms.CharField(
        max_length=1000,
        label="URL",
        help_text="slack://…, feishu://…, dingtalk://…, workflow://… (Microsoft Teams), or "
        "jsons://host/path for a generic signed JSON webhook.",
    )
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    active = forms.BooleanField(required=False, initial=True)
