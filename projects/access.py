"""Permission-checked fetches: the only way views, commands and services get team objects.

A user who is not in the object's team gets Http404 (the object's existence is not revealed);
a member whose role is too low gets PermissionDenied (403). Roles are cumulative:
member < reviewer < admin. Superusers are treated as admins of every team.

A restricted project (`Project.restricted`) is seen only by its listed members
(`ProjectMember`) and the team's admins: to anyone else in the team it does not exist (404),
and the querysets below leave it out of every list.

Every view declares the role it needs with `@min_role(...)`; the URL-enumeration test
(tests/test_url_access.py) reads that declaration and checks each view refuses below it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404

from projects.exceptions import ApplicationError
from projects.models import (
    Asset,
    Cut,
    GenerationTask,
    Membership,
    Project,
    ProjectMember,
    Shot,
    Storyboard,
    Team,
    TeamWebhook,
    VariationBatch,
)

MEMBER = Membership.Role.MEMBER
REVIEWER = Membership.Role.REVIEWER
ADMIN = Membership.Role.ADMIN
ROLE_RANK = {MEMBER: 1, REVIEWER: 2, ADMIN: 3}

User = AbstractBaseUser | AnonymousUser
View = TypeVar("View", bound=Callable)


def min_role(role: str) -> Callable[[View], View]:
    """Declare the team role a view needs (`view.min_role`). The view still fetches its
    objects through the access_* functions below with the same `min_role`; the declaration is
    what the URL-enumeration test checks the refusal against."""
    if role not in ROLE_RANK:
        raise ValueError(f"Unknown role {role!r}")

    def mark(view: View) -> View:
        view.min_role = role
        return view

    return mark


def roles_at_least(role: str) -> list[str]:
    """The roles that include `role`: 'reviewer' -> ['reviewer', 'admin']."""
    return [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]


def team_role(user: User, team: Team) -> str | None:
    """The user's role in `team` ('member' | 'reviewer' | 'admin') or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def may_change(user: User, *, owner_id: object, team: Team, role: str | None = None) -> bool:
    """Whether `user` may cancel or delete a generation, or rename or delete an asset, that
    the user with id `owner_id` made: its maker, a team admin, Django staff (admin actions),
    or any member when the team's admins allow it (`Team.members_manage_all`). `role` is the
    user's role in `team` when the caller has it (access_*'s `viewer_role`), else looked up.
    The caller has already checked that the user may see the object."""
    if not user.is_authenticated:
        return False
    if user.is_staff or (owner_id is not None and owner_id == user.pk):
        return True
    role = role or team_role(user, team)
    return role == ADMIN or (role is not None and team.members_manage_all)


def check_may_change(
    user: User, *, owner_id: object, team: Team, role: str | None, action: str
) -> None:
    """`may_change`, refused with ApplicationError: 'Only the member who made it or a team
    admin can <action> it.'"""
    if not may_change(user, owner_id=owner_id, team=team, role=role):
        raise ApplicationError(f"Only the member who made it or a team admin can {action} it.")


def _with_viewer_role(rows: QuerySet, user: User, team_field: str) -> QuerySet:
    """`rows` in the teams where the user has a role, annotated with `viewer_role` (that
    role), so fetching an object and the role is one query: a join on the user's one
    membership of the team at `team_field`. Rows of other teams are left out, which the
    callers answer with 404 as they would a missing role. A superuser's rows are all kept."""
    if not user.is_authenticated or user.is_superuser:
        return rows
    memberships = f"{team_field}__memberships"
    return rows.filter(**{f"{memberships}__user": user}).annotate(
        viewer_role=F(f"{memberships}__role")
    )


def _viewer_role(user: User, obj: object) -> str | None:
    """The role `_with_viewer_role` found (admin for a superuser, None for anonymous)."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    return obj.viewer_role


def team_roles(user: User, teams: Iterable[Team]) -> dict[object, str]:
    """{team id: the user's role} for those of `teams` where the user has one, in one query
    (pages that list objects of several teams ask this once, not per object)."""
    team_ids = {team.pk for team in teams}
    if not user.is_authenticated or not team_ids:
        return {}
    if user.is_superuser:
        return dict.fromkeys(team_ids, ADMIN)
    rows = Membership.objects.filter(user=user, team_id__in=team_ids).values_list("team_id", "role")
    return dict(rows)


def _check_role(user: User, team: Team, role_needed: str, *, role: str | None = None) -> str:
    """The user's role in `team` (looked up unless the caller passes the one it has), refused
    with 404 when none and 403 when below `role_needed`."""
    role = role or team_role(user, team)
    if role is None:
        raise Http404("No such object.")
    if ROLE_RANK[role] < ROLE_RANK[role_needed]:
        # No names here: the message may be shown, and refusals reveal nothing.
        raise PermissionDenied(f"This needs the {role_needed} role in this team.")
    return role


def _check_project_visible(user: User, project: Project, role: str) -> None:
    if project.restricted and role != ADMIN:
        if not ProjectMember.objects.filter(project=project, user=user).exists():
            raise Http404("No such object.")


def _one(rows: QuerySet, pk: object) -> Model | None:
    """The row of `rows` with primary key `pk`, or None. (A `get`: `first()` would sort by
    the model's ordering for nothing, which costs more to build than the lookup.)"""
    try:
        return rows.get(pk=_uuid(pk))
    except rows.model.DoesNotExist:
        return None


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise Http404("No such object.") from None


def access_team(user: User, team_id: object, *, min_role: str = MEMBER) -> Team:
    """The team with `team_id` if `user` holds at least `min_role` in it."""
    team = _one(Team.objects.all(), team_id)
    if team is None:
        raise Http404("No such team.")
    _check_role(user, team, min_role)
    return team


def access_team_webhook(user: User, team_id: object, webhook_id: object) -> TeamWebhook:
    """The webhook `webhook_id` of team `team_id` if `user` is an admin of that team (404 for
    another team's webhook, as for its other objects)."""
    team = access_team(user, team_id, min_role=ADMIN)
    hook = _one(TeamWebhook.objects.filter(team=team), webhook_id)
    if hook is None:
        raise Http404("No such webhook.")
    hook.team = team
    return hook


def access_project(user: User, project_id: object, *, min_role: str = MEMBER) -> Project:
    """The project with `project_id` if `user` holds at least `min_role` in its team and,
    when it is restricted, is listed on it or a team admin; its `viewer_role` is the user's
    role in its team."""
    projects = _with_viewer_role(Project.objects.select_related("team"), user, "team")
    project = _one(projects, project_id)
    if project is None:
        raise Http404("No such project.")
    role = project.viewer_role = _viewer_role(user, project)
    if role is None:
        raise Http404("No such project.")
    _check_project_visible(user, project, role)
    _check_role(user, project.team, min_role, role=role)
    return project


def access_project_by_slug(user: User, slug: str, *, min_role: str = MEMBER) -> Project:
    """The project called `slug` among the projects the user sees (the CLI names projects by
    slug).

    Raises Http404 when none, PermissionDenied when several teams have that slug (ambiguous)
    or the role is too low.
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    found = list(projects_visible_to(user).select_related("team").filter(slug=slug)[:2])
    if not found:
        raise Http404(f"No project {slug!r} in your teams.")
    if len(found) > 1:
        raise PermissionDenied(f"Several of your teams have a project {slug!r}; use its id.")
    _check_role(user, found[0].team, min_role)
    return found[0]


def access_generation_task(
    user: User, task_id: object, *, min_role: str = MEMBER, fields: Iterable[str] = ()
) -> GenerationTask:
    """The generation task with `task_id` if `user` may see its project (access_project's
    rules) and holds at least `min_role` in its team; its `viewer_role` is the user's role
    in that team. A deleted generation is not found (Http404) for anyone.

    The task comes with its project, team and creator, every field loaded; or, given
    `fields` ("status", "project__name", ...), with only those and what the check reads (a
    page that may need little of the wide row): any other field is read when first used."""
    tasks = GenerationTask.objects.filter(deleted_at__isnull=True)
    if fields:
        tasks = tasks.select_related("project__team").only(
            *fields, "project__restricted", "project__team__id"
        )
    else:
        tasks = tasks.select_related("project__team", "created_by")
    task = _one(_with_viewer_role(tasks, user, "project__team"), task_id)
    if task is None:
        # Its own team learns why the link is dead; anyone else, that there is nothing.
        deleted = GenerationTask.objects.filter(deleted_at__isnull=False).only("pk")
        if user.is_authenticated and _one(
            _with_viewer_role(deleted, user, "project__team"), task_id
        ):
            raise Http404("This generation was deleted by its maker or a team admin.")
        raise Http404("No such generation.")
    role = task.viewer_role = _viewer_role(user, task)
    if role is None:
        raise Http404("No such generation.")
    _check_project_visible(user, task.project, role)
    _check_role(user, task.project.team, min_role, role=role)
    return task


def access_variation_batch(
    user: User, batch_id: object, *, min_role: str = MEMBER
) -> VariationBatch:
    """The variation batch with `batch_id` (with its project and team) on access_project's
    rules: Http404 outside its team or restricted project, PermissionDenied below
    `min_role`; its `viewer_role` is the user's role in the team."""
    batches = VariationBatch.objects.select_related("project__team")
    batch = _one(_with_viewer_role(batches, user, "project__team"), batch_id)
    role = _viewer_role(user, batch) if batch is not None else None
    if role is None:
        raise Http404("No such variation batch.")
    batch.viewer_role = role
    _check_project_visible(user, batch.project, role)
    _check_role(user, batch.project.team, min_role, role=role)
    return batch


def access_team_spend(user: User, team_id: object) -> Team:
    """The team with `team_id` if `user` may see its whole spend: its admins and Django staff.
    Others in the team get PermissionDenied, everyone else Http404."""
    if user.is_authenticated and user.is_staff:
        team = _one(Team.objects.all(), team_id)
        if team is None:
            raise Http404("No such team.")
        return team
    return access_team(user, team_id, min_role=Membership.Role.ADMIN)


def access_review_task(user: User, task_id: object) -> GenerationTask:
    """The generation task with `task_id` for a reviewer's decision: 404 as in
    access_generation_task, 403 below the reviewer role. Whether this reviewer may decide on
    this video (their own, its state) is the review service's rule."""
    return access_generation_task(user, task_id, min_role=REVIEWER)


def access_review_queue(user: User) -> list[tuple[uuid.UUID, bool]]:
    """The projects whose videos `user` reviews, as (project id, its team's
    `allow_self_review`) pairs sorted by id; PermissionDenied when they review none (a
    reviewer or admin role in at least one team is needed). One query when there are some,
    two when there are none."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in first.")
    scope = list(
        projects_visible_to(user, min_role=REVIEWER)
        .order_by("pk")
        .values_list("pk", "team__allow_self_review")
    )
    if not (
        scope
        or user.is_superuser
        or Membership.objects.filter(user=user, role__in=roles_at_least(REVIEWER)).exists()
    ):
        raise PermissionDenied("Reviewing needs the reviewer role in a team.")
    return scope


def projects_visible_to(user: User, *, min_role: str = MEMBER) -> QuerySet[Project]:
    """Every project `user` may see with at least `min_role` in its team: the selectors list
    projects and tasks through this, so lists and access checks agree. Restricted projects
    count only where the user is listed or a team admin."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    mine = Membership.objects.filter(user=user)
    teams_with_role = mine.filter(role__in=roles_at_least(min_role)).values("team_id")
    admin_teams = mine.filter(role=ADMIN).values("team_id")
    listed_on = ProjectMember.objects.filter(user=user).values("project_id")
    return Project.objects.filter(
        Q(team_id__in=teams_with_role)
        & (Q(restricted=False) | Q(team_id__in=admin_teams) | Q(pk__in=listed_on))
    )


def tasks_visible_to(user: User, *, min_role: str = MEMBER) -> QuerySet[GenerationTask]:
    """Every generation task in the projects `user` may see with at least `min_role`."""
    return GenerationTask.objects.filter(
        project__in=projects_visible_to(user, min_role=min_role).values("pk"),
        deleted_at__isnull=True,
    )


def access_asset(
    user: User, asset_id: object, *, min_role: str = MEMBER, include_deleted: bool = False
) -> Asset:
    """The library asset with `asset_id` if `user` holds at least `min_role` in its team.
    Assets removed from the library (kept only for their generations) are 404 unless
    `include_deleted`. Its `viewer_role` is the user's role in its team."""
    assets = Asset.objects.select_related("project__team", "team")
    if not include_deleted:
        assets = assets.filter(deleted_at__isnull=True)
    asset = _one(assets, asset_id)
    if asset is None:
        raise Http404("No such asset.")
    role = asset.viewer_role = team_role(user, asset.team)
    if role is None:
        raise Http404("No such asset.")
    _check_project_visible(user, asset.project, role)
    _check_role(user, asset.team, min_role, role=role)
    return asset


def access_storyboard(user: User, storyboard_id: object, *, min_role: str = MEMBER) -> Storyboard:
    """The storyboard with `storyboard_id` under access_project's rules for its project (404
    when the user may not see it, 403 below `min_role`); its project is access-checked and
    carries `viewer_role`."""
    board = _one(Storyboard.objects.all(), storyboard_id)
    if board is None:
        raise Http404("No such storyboard.")
    board.project = access_project(user, board.project_id, min_role=min_role)
    return board


def access_shot(user: User, shot_id: object, *, min_role: str = MEMBER) -> Shot:
    """The shot with `shot_id`, its storyboard checked as access_storyboard does."""
    shot = _one(Shot.objects.all(), shot_id)
    if shot is None:
        raise Http404("No such shot.")
    shot.storyboard = access_storyboard(user, shot.storyboard_id, min_role=min_role)
    return shot


def access_cut(user: User, cut_id: object, *, min_role: str = MEMBER) -> Cut:
    """The cut with `cut_id`, its storyboard checked as access_storyboard does."""
    cut = _one(Cut.objects.all(), cut_id)
    if cut is None:
        raise Http404("No such cut.")
    cut.storyboard = access_storyboard(user, cut.storyboard_id, min_role=min_role)
    return cut
