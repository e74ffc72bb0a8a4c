"""Permission-checked fetches: the only way views, commands and services get team objects.

A user who is not in the object's team gets Http404 (the object's existence is not revealed);
a member whose role is too low gets PermissionDenied (403). Roles are cumulative:
member < reviewer < admin. Superusers are treated as admins of every team.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from projects.models import GenerationTask, Membership, Project, Team

ROLE_RANK = {Membership.Role.MEMBER: 1, Membership.Role.REVIEWER: 2, Membership.Role.ADMIN: 3}

User = AbstractBaseUser | AnonymousUser


def team_role(user: User, team: Team) -> str | None:
    """The user's role in `team` ('member' | 'reviewer' | 'admin') or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Membership.Role.ADMIN
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def _check_role(user: User, team: Team, min_role: str) -> str:
    role = team_role(user, team)
    if role is None:
        raise Http404("No such object.")
    if ROLE_RANK[role] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"This needs the {min_role} role in {team.name}.")
    return role


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise Http404("No such object.") from None


def access_team(user: User, team_id: object, *, min_role: str = "member") -> Team:
    """The team with `team_id` if `user` holds at least `min_role` in it."""
    team = Team.objects.filter(pk=_uuid(team_id)).first()
    if team is None:
        raise Http404("No such team.")
    _check_role(user, team, min_role)
    return team


def access_project(user: User, project_id: object, *, min_role: str = "member") -> Project:
    """The project with `project_id` if `user` holds at least `min_role` in its team."""
    project = Project.objects.select_related("team").filter(pk=_uuid(project_id)).first()
    if project is None:
        raise Http404("No such project.")
    _check_role(user, project.team, min_role)
    return project


def access_project_by_slug(user: User, slug: str, *, min_role: str = "member") -> Project:
    """The project called `slug` among the user's teams (the CLI names projects by slug).

    Raises Http404 when none, PermissionDenied when several teams have that slug (ambiguous)
    or the role is too low.
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    projects = Project.objects.select_related("team").filter(slug=slug)
    if not user.is_superuser:
        projects = projects.filter(team__memberships__user=user)
    found = list(projects[:2])
    if not found:
        raise Http404(f"No project {slug!r} in your teams.")
    if len(found) > 1:
        raise PermissionDenied(f"Several of your teams have a project {slug!r}; use its id.")
    _check_role(user, found[0].team, min_role)
    return found[0]


def access_generation_task(
    user: User, task_id: object, *, min_role: str = "member"
) -> GenerationTask:
    """The generation task with `task_id` if `user` holds at least `min_role` in its team."""
    task = (
        GenerationTask.objects.select_related("project__team", "created_by")
        .filter(pk=_uuid(task_id))
        .first()
    )
    if task is None:
        raise Http404("No such generation.")
    _check_role(user, task.project.team, min_role)
    return task


def access_team_spend(user: User, team_id: object) -> Team:
    """The team with `team_id` if `user` may see its whole spend: its admins and Django staff.
    Others in the team get PermissionDenied, everyone else Http404."""
    if user.is_authenticated and user.is_staff:
        team = Team.objects.filter(pk=_uuid(team_id)).first()
        if team is None:
            raise Http404("No such team.")
        return team
    return access_team(user, team_id, min_role=Membership.Role.ADMIN)
