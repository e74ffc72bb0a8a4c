"""Forms: input validation for the pages. No side effects; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from projects.models import Membership, Review, Team


# Reference roles with at most one file (a picker and a file input each) and with several.
class StudioForm(forms.Form):
    """The app's forms: a checkbox's label reads as a sentence ("Generate audio"), without the
    colon Django puts after every label."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.label_suffix = ""


class ProjectForm(StudioForm):
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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django docs, "Uploading multiple files"); cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        # An empty file reaches the probe, which names it ("“x.png” is empty (0 bytes).").
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class AssetUploadForm(StudioForm):
    """One or more files for the library (the page's script sends one per request, so each
    gets its own progress bar)."""

    files = MultipleFileField(label="Files")

    def clean_files(self) -> list:
        files = self.cleaned_data["files"]
        if not files:
            raise forms.ValidationError("Choose at least one file.")
        if len(files) > 20:
            raise forms.ValidationError("Upload at most 20 files at a time.")
        return files


class AssetForm(StudioForm):
    """Rename an asset; set its AllToken portrait asset id (from the AllToken Portrait guide's
    flow: verify, CreateAsset, then use the id as asset://<id>)."""

    name = forms.CharField(max_length=200)
    alltoken_asset_id = forms.CharField(
        max_length=128,
        required=False,
        label="AllToken portrait asset id",
        help_text="When set, AllToken receives this file as asset://<id> (needed for real "
        "faces); other gateways get the file itself.",
    )


class ReviewForm(StudioForm):
    """A reviewer's decision on a video: approve or reject, with a comment (required to
    reject; the service says so)."""

    decision = forms.ChoiceField(choices=Review.Decision.choices)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Comment for the team"}),
        required=False,
        max_length=4000,
    )


class TeamMemberForm(StudioForm):
    """Add someone to a team, or change their role, by username."""

    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.Role.choices)


class TeamMemberRemoveForm(StudioForm):
    username = forms.CharField(max_length=150)


class TeamSettingsForm(StudioForm):
    allow_self_review = forms.BooleanField(
        required=False, label="Reviewers may approve videos they generated themselves"
    )
    members_manage_all = forms.BooleanField(
        required=False,
        label="Every member may cancel or delete anyone's generations and rename or delete "
        "anyone's files (otherwise only their maker or an admin)",
    )


class ProjectAccessForm(StudioForm):
    """Whether a project is restricted, and which team members are listed on it."""

    restricted = forms.BooleanField(
        required=False, label="Restricted: only listed members and team admins see it"
    )
    members = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )
