"""Teams, their members' roles, and projects."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Team(models.Model):
    """A group of people who share projects, reference media, budget and reviews."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    # Four eyes by default: a reviewer may not approve a video they generated themselves.
    allow_self_review = models.BooleanField(
        default=False, help_text="Reviewers may approve videos they generated themselves."
    )
    # Own work only by default: a member cancels, deletes or renames what they made; admins all.
    members_manage_all = models.BooleanField(
        default=False,
        help_text="Every member may cancel or delete any generation and rename or delete any "
        "asset, not only their own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a team. Roles are cumulative: admin > reviewer > member."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        REVIEWER = "reviewer", "Reviewer"
        ADMIN = "admin", "Admin"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user"),
            models.CheckConstraint(
                condition=Q(role__in=["member", "reviewer", "admin"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Project(models.Model):
    """A body of work inside a team: its generations and reference media."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    description = models.TextField(blank=True)
    # Restricted: only its listed members (ProjectMember) and the team's admins see it.
    restricted = models.BooleanField(
        default=False, help_text="Only listed members and team admins can see this project."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="project_unique_team_slug"),
        ]

    def __str__(self) -> str:
        return self.name
