"""Teams, memberships and projects: creating them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from projects.exceptions import ApplicationError
from projects.models import Membership, Project, Team


def team_create(*, name: str, slug: str | None = None) -> Team:
    """A new team; `slug` defaults to the slugified name. Raises ApplicationError if taken."""
    slug = slug or slugify(name)[:60] or "team"
    try:
        with transaction.atomic():
            return Team.objects.create(name=name, slug=slug)
    except IntegrityError:
        raise ApplicationError(f"A team with the address {slug!r} exists already.") from None


def membership_set(*, team: Team, user: AbstractBaseUser, role: str) -> Membership:
    """Give `user` `role` in `team` (creating or changing the membership)."""
    if role not in Membership.Role.values:
        raise ApplicationError(f"Unknown role {role!r}.")
    membership, _ = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    return membership


def project_create(
    *, team: Team, user: AbstractBaseUser, name: str, slug: str = "", description: str = ""
) -> Project:
    """A new project in `team`. `slug` defaults to the slugified name and must be unique in
    the team. Raises ApplicationError when the slug is taken. The caller has checked that
    `user` is a member of `team`."""
    name = name.strip()
    if not name:
        raise ApplicationError("A project needs a name.")
    slug = slug or slugify(name)[:60]
    if not slug:
        raise ApplicationError("The name needs at least one letter or digit.")
    try:
        with transaction.atomic():
            return Project.objects.create(
                team=team, name=name, slug=slug, description=description, created_by=user
            )
    except IntegrityError:
        raise ApplicationError(
            f"{team.name} already has a project with the address {slug!r}; pick another name."
        ) from None
