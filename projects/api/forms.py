"""The API keys page's form: validation only (projects/api/keys.py makes the key)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from projects.access import projects_visible_to
from projects.api.keys import NAME_MAX

LIFETIMES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class ProjectChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.team.name} / {obj.name}"


class ApiKeyForm(forms.Form):
    """A new key: its name, its projects (those the member sees; all of one team), how long
    it lives, and an optional monthly budget of its own (USD)."""

    name = forms.CharField(max_length=NAME_MAX, help_text="What it is for: “n8n render flow”.")
    projects = ProjectChoice(queryset=None, help_text="Projects of one team the key works in.")
    lifetime_days = forms.TypedChoiceField(
        label="Expires in", choices=LIFETIMES, coerce=int, initial="90"
    )
    budget_usd = forms.DecimalField(
        label="Monthly budget (USD)",
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        help_text="Optional: what this key may spend a month, beside the team's budgets.",
    )

    def __init__(self, *args, user: AbstractBaseUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = (
            projects_visible_to(user).select_related("team").order_by("team__name", "name")
        )
