"""Teams, memberships and projects: creating them, and what a team admin manages (members
and roles, review settings, who sees a restricted project), audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from projects.audit import audit_record
from projects.exceptions import ApplicationError
from projects.models import Membership, Project, ProjectMember, Team


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


LAST_ADMIN = "A team needs at least one admin; make someone else admin first."


NOT_ADDABLE = (
    "No user called {username!r} can be added. Check the spelling, or ask a site admin to "
    "create the account."
)


def _no_admin_left(team: Team, *, without: AbstractBaseUser) -> bool:
    return not team.memberships.filter(role=Membership.Role.ADMIN).exclude(user=without).exists()


def team_member_set(*, team: Team, username: str, role: str, actor: AbstractBaseUser) -> Membership:
    """Add the user called `username` to `team` with `role`, or change their role (a team
    admin's action; audited as member.added or member.role_changed).

    Raises ApplicationError: unknown role, the team's last admin stepping down, or a user that
    cannot be added, with one message whether the name is unknown, the account inactive or a
    site operator's (staff): a team admin learns no more about other accounts than that.
    """
    if role not in Membership.Role.values:
        raise ApplicationError(f"Unknown role {role!r}.")
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None or not user.is_active or user.is_staff or user.is_superuser:
        raise ApplicationError(NOT_ADDABLE.format(username=username.strip()[:150]))
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(team=team, user=user).first()
        if current is not None and current.role == role:
            return current
        if (
            current is not None
            and current.role == Membership.Role.ADMIN
            and _no_admin_left(team, without=user)
        ):
            raise ApplicationError(LAST_ADMIN)
        membership = membership_set(team=team, user=user, role=role)
        audit_record(
            actor=actor,
            action="member.role_changed" if current else "member.added",
            team=team,
            target=membership,
            details={
                "user": user.get_username(),
                "role": [current.role, role] if current else role,
            },
        )
    return membership


def team_member_remove(*, team: Team, username: str, actor: AbstractBaseUser) -> None:
    """Take the user called `username` out of `team`, and off its projects' member lists
    (audited as member.removed). Raises ApplicationError: not a member, or the last admin."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("user")
            .filter(team=team, user__username=username.strip())
            .first()
        )
        if membership is None:
            raise ApplicationError(f"{username.strip()!r} is not in {team.name}.")
        if membership.role == Membership.Role.ADMIN and _no_admin_left(
            team, without=membership.user
        ):
            raise ApplicationError(LAST_ADMIN)
        ProjectMember.objects.filter(project__team=team, user=membership.user).delete()
        membership.delete()
        audit_record(
            actor=actor,
            action="member.removed",
            team=team,
            target=team,
            details={"user": membership.user.get_username(), "role": membership.role},
        )


def team_settings_update(
    *, team: Team, allow_self_review: bool, members_manage_all: bool, actor: AbstractBaseUser
) -> Team:
    """Change the team's rules: whether reviewers approve their own videos, and whether every
    member may cancel, delete and rename others' work (access.may_change). Audited as
    team.settings_changed with each changed setting's [before, after]."""
    wanted = {"allow_self_review": allow_self_review, "members_manage_all": members_manage_all}
    with transaction.atomic():
        before = Team.objects.select_for_update().get(pk=team.pk)
        changed = {
            name: [getattr(before, name), value]
            for name, value in wanted.items()
            if getattr(before, name) != value
        }
        if changed:
            Team.objects.filter(pk=team.pk).update(**wanted)
            audit_record(
                actor=actor,
                action="team.settings_changed",
                team=team,
                target=team,
                details=changed,
            )
    for name, value in wanted.items():
        setattr(team, name, value)
    return team


def project_access_set(
    *,
    project: Project,
    restricted: bool,
    members: Iterable[AbstractBaseUser],
    actor: AbstractBaseUser,
) -> Project:
    """Set whether `project` is restricted and who is listed on it (a team admin's action;
    audited as project.access_changed). Listed people must be members of its team.

    Raises ApplicationError when someone listed is not in the team.
    """
    wanted = {user.pk: user for user in members}
    in_team = set(
        Membership.objects.filter(team=project.team, user_id__in=wanted).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [user.get_username() for pk, user in wanted.items() if pk not in in_team]
    if outsiders:
        raise ApplicationError(f"Not in {project.team.name}: {', '.join(sorted(outsiders))}.")
    with transaction.atomic():
        before = Project.objects.select_for_update().get(pk=project.pk)
        listed = set(
            ProjectMember.objects.filter(project=project).values_list("user_id", flat=True)
        )
        added, removed = set(wanted) - listed, listed - set(wanted)
        ProjectMember.objects.filter(project=project, user_id__in=removed).delete()
        ProjectMember.objects.bulk_create(
            [ProjectMember(project=project, user_id=pk) for pk in added]
        )
        if before.restricted != restricted:
            Project.objects.filter(pk=project.pk).update(restricted=restricted)
        if added or removed or before.restricted != restricted:
            names = dict(
                get_user_model()
                .objects.filter(pk__in=added | removed)
                .values_list("pk", "username")
            )
            audit_record(
                actor=actor,
                action="project.access_changed",
                team=project.team,
                target=project,
                details={
                    "restricted": [before.restricted, restricted],
                    "added": sorted(names[pk] for pk in added),
                    "removed": sorted(names[pk] for pk in removed),
                },
            )
    project.restricted = restricted
    return project
