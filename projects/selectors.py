"""Reads for pages: what a user sees, in as few queries as the page needs.

Lists of projects and tasks go through projects/access.py's `projects_visible_to`, so a
restricted project never shows in a list its access check would refuse.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import cached_property

from projects.access import projects_visible_to, roles_at_least
from projects.models import (
    Asset,
    AuditEvent,
    CreditEntry,
    GenerationReference,
    GenerationTask,
    Membership,
    Project,
    ProjectMember,
    Review,
    TaskEvent,
    Team,
)

ReviewState = GenerationTask.ReviewState
# Tiles per gallery page and videos per review-queue page (each loads a player: fewer).
GALLERY_PAGE_SIZE = 24
REVIEW_PAGE_SIZE = 10


def team_list_for_user(user: AbstractBaseUser, *, min_role: str = "member") -> QuerySet[Team]:
    """Teams where `user` holds at least `min_role` (all teams for a superuser)."""
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=roles_at_least(min_role)
    ).distinct()


def nav_teams(*, user: AbstractBaseUser, limit: int = 5) -> dict:
    """What the top bar needs, in one query: `reviews` (the user reviews in some team, or is
    a superuser) and `admin_teams` (up to `limit` teams they administer, by name)."""
    if user.is_superuser:
        return {"reviews": True, "admin_teams": list(Team.objects.order_by("name")[:limit])}
    memberships = (
        Membership.objects.filter(user=user, role__in=roles_at_least("reviewer"))
        .select_related("team")
        .order_by("team__name")
    )
    memberships = list(memberships)
    return {
        "reviews": bool(memberships),
        "admin_teams": [m.team for m in memberships if m.role == "admin"][:limit],
    }


# Generations not deleted (services/deletion.py), for aggregates over a project's tasks.
_kept = Q(generation_tasks__deleted_at__isnull=True)


def project_list_for_user(user: AbstractBaseUser) -> QuerySet[Project]:
    """The projects the user sees, by team then newest, with generation counts."""
    return (
        projects_visible_to(user)
        .select_related("team")
        .annotate(
            generation_count=Count("generation_tasks", distinct=True, filter=_kept),
            last_generation_at=Max("generation_tasks__created_at", filter=_kept),
        )
        .order_by("team__name", "-created_at")
    )


class _CountedPaginator(Paginator):
    """A Paginator told its count (already known from another query): no COUNT query."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def page_of(items: QuerySet, *, number: object, per_page: int, count: int | None = None) -> Page:
    """Page `number` (1-based; anything invalid gives the first, past the end the last) of
    `items`, `per_page` at a time: the page's rows in one query, plus a COUNT query unless
    the caller knows `count`."""
    if count is None:
        return Paginator(items, per_page).get_page(number)
    return _CountedPaginator(items, per_page, count=count).get_page(number)


FAILED = frozenset({"failed", "expired"})  # ended without a video; a cancel is no failure
REVIEW_FILTERS = frozenset({ReviewState.AWAITING, ReviewState.APPROVED, ReviewState.REJECTED})
DECIDED = frozenset({ReviewState.APPROVED, ReviewState.REJECTED})
Kind = CreditEntry.Kind
# What a gallery tile shows (templates/projects/gallery_tile.html, views/tiles.py).
TILE_FIELDS = (
    "id",
    "status",
    "review_state",
    "prompt",
    "duration",
    "resolution",
    "video_duration_s",
    "cover",
    "created_at",
    "created_by__username",
    "variation_batch_id",
)


# What a review-queue item shows and what the review rules read (views/tiles.py,
# services/reviews.py: review_permission_error).
REVIEW_ITEM_FIELDS = (
    "id",
    "status",
    "review_state",
    "prompt",
    "model",
    "resolution",
    "video",
    "cover",
    "video_duration_s",
    "created_at",
    "finished_at",
    "project_id",
    "created_by_id",
    "project__name",
    "project__team__name",
    "project__team__allow_self_review",
    "created_by__username",
)


def _statuses_for(status: str) -> frozenset[str] | None:
    """The statuses a gallery status filter stands for ('active', 'failed' = failed or
    expired, or a single status such as 'cancelled'); None for no filter."""
    if status == "active":
        return GenerationTask.ACTIVE
    if status == "failed":
        return FAILED
    if status in GenerationTask.Status.values:
        return frozenset({status})
    return None


def generation_task_list(*, project: Project, status: str = "", review: str = "") -> QuerySet:
    """The project's generations for the gallery, newest first, optionally one status group
    (see `_statuses_for`) and one review state ('awaiting', 'approved', 'rejected'), as
    dicts of TILE_FIELDS. Show it a page at a time (`page_of`, GALLERY_PAGE_SIZE) and add
    the page's money and reviews with `gallery_rows_complete`.

    Dicts, not model instances, and no per-row subqueries: building 24 instances with their
    creators, or compiling four correlated subqueries, cost more than the rest of the page
    (bench/pages.py)."""
    tasks = project.generation_tasks.filter(deleted_at__isnull=True)
    statuses = _statuses_for(status)
    if statuses is not None:
        tasks = tasks.filter(status__in=sorted(statuses))
    if review in REVIEW_FILTERS:
        tasks = tasks.filter(review_state=review)
    return tasks.order_by("-created_at", "-id").values(*TILE_FIELDS)


def gallery_rows_complete(rows: list[dict]) -> list[dict]:
    """`rows` (a page of generation_task_list) with `held_micro`, `charged_micro` (micro-USD,
    0 if none), the last review's `review_comment`, `reviewer_name` ('' if none): 2 queries."""
    ids = [row["id"] for row in rows]
    entries = (
        CreditEntry.objects.filter(task_id__in=ids, kind__in=[Kind.HOLD, Kind.CHARGE])
        .order_by()
        .values_list("task_id", "kind", "amount_micro")
    )
    amounts: dict[tuple, int] = {(task_id, kind): -amount for task_id, kind, amount in entries}
    decided = [row["id"] for row in rows if row["review_state"] in DECIDED]
    latest: dict[object, tuple[str, str]] = {}
    if decided:
        reviews = (
            Review.objects.filter(task_id__in=decided)
            .order_by("task_id", "-created_at", "-id")
            .values_list("task_id", "comment", "reviewer__username")
        )
        for task_id, comment, reviewer in reviews:
            latest.setdefault(task_id, (comment, reviewer))
    for row in rows:
        row["held_micro"] = amounts.get((row["id"], Kind.HOLD), 0)
        row["charged_micro"] = amounts.get((row["id"], Kind.CHARGE), 0)
        row["review_comment"], row["reviewer_name"] = latest.get(row["id"], ("", ""))
    return rows


def generation_status_counts(*, project: Project, status: str = "", review: str = "") -> dict:
    """Counts for the gallery filters in one small GROUP BY query: 'all', 'active',
    'succeeded', 'failed', 'cancelled', the review states 'awaiting', 'approved', 'rejected', and
    'matching': how many the filters `status` and `review` leave (generation_task_list's)."""
    rows = (
        project.generation_tasks.filter(deleted_at__isnull=True)
        .order_by()
        .values_list("status", "review_state")
        .annotate(n=Count("pk"))
    )
    statuses = _statuses_for(status)
    counts = dict.fromkeys(
        (
            "all",
            "active",
            "succeeded",
            "failed",
            "cancelled",
            "awaiting",
            "approved",
            "rejected",
            "matching",
        ),
        0,
    )
    for task_status, review_state, n in rows:
        counts["all"] += n
        if task_status in GenerationTask.ACTIVE:
            counts["active"] += n
        elif task_status == "succeeded":
            counts["succeeded"] += n
        elif task_status in FAILED:
            counts["failed"] += n
        elif task_status == "cancelled":
            counts["cancelled"] += n
        if review_state in REVIEW_FILTERS:
            counts[review_state] += n
        if (statuses is None or task_status in statuses) and (
            review not in REVIEW_FILTERS or review_state == review
        ):
            counts["matching"] += n
    return counts


def tasks_version(tasks: QuerySet[GenerationTask]) -> tuple[int, int]:
    """(how many, the sum of their versions) for `tasks`, a page cache key
    (projects/page_cache.py). Pass every task the page could show, deleted ones included:
    then every change to one of them (a version bump, a new task) makes the sum grow, and
    no two states share a key (rows are never removed: a deleted generation keeps its row,
    which its ledger entries protect). One aggregate query, read from the index
    `task_project_states` when filtered by project."""
    row = tasks.order_by().aggregate(n=Count("*"), v=Sum("version"))
    return row["n"], row["v"] or 0


def review_queue_list(*, project_ids: list) -> QuerySet[GenerationTask]:
    """Videos awaiting review in the projects `project_ids` (read from
    access.access_review_queue's projects first: filtering on ids is cheaper to build and run
    than nesting access's visibility subqueries in every statement), oldest finished first,
    with project, team and creator loaded (only the fields the queue and the review rules
    use); shown a page at a time (`page_of`, REVIEW_PAGE_SIZE)."""
    return (
        GenerationTask.objects.filter(
            project_id__in=project_ids, review_state=ReviewState.AWAITING, deleted_at__isnull=True
        )
        .select_related("project__team", "created_by")
        .only(*REVIEW_ITEM_FIELDS)
        .order_by("finished_at", "created_at", "id")
    )


def generation_task_whole(*, task: GenerationTask) -> GenerationTask:
    """`task` (already through access.access_generation_task, perhaps with few fields) with
    every field, its project, team and creator, and the same `viewer_role`: one query."""
    whole = GenerationTask.objects.select_related("project__team", "created_by").get(pk=task.pk)
    whole.viewer_role = task.viewer_role
    return whole


def review_list(*, task: GenerationTask) -> QuerySet[Review]:
    """The task's review decisions, newest first, with their reviewers' usernames (only what
    the detail page shows)."""
    return (
        task.reviews.select_related("reviewer")
        .only("id", "task_id", "decision", "comment", "created_at", "reviewer__username")
        .order_by("-created_at", "-id")
    )


def revision_list(*, task: GenerationTask) -> QuerySet[GenerationTask]:
    """The generations made by revising `task`, oldest first (id, prompt and status)."""
    return (
        task.revisions.filter(deleted_at__isnull=True)
        .only("id", "prompt", "status")
        .order_by("created_at", "id")
    )


def task_event_list(*, task: GenerationTask) -> QuerySet[TaskEvent]:
    """The task's history, oldest first (time and message: the raw `data` stays unread)."""
    return task.events.only("id", "task_id", "created_at", "kind", "message").order_by(
        "created_at", "id"
    )


def team_member_list(*, team: Team) -> list[Membership]:
    """The team's memberships, admins first, then by username."""
    order = {"admin": 0, "reviewer": 1, "member": 2}
    memberships = team.memberships.select_related("user")
    return sorted(memberships, key=lambda m: (order.get(m.role, 9), m.user.get_username()))


def team_projects_with_members(*, team: Team) -> QuerySet[Project]:
    """The team's projects with their listed members (for the team page)."""
    return team.projects.prefetch_related(
        Prefetch("members", queryset=ProjectMember.objects.select_related("user"))
    ).order_by("name")


def audit_event_list(*, team: Team) -> QuerySet[AuditEvent]:
    """The team's audit trail, newest first."""
    return AuditEvent.objects.filter(team=team).order_by("-created_at", "-id")


def asset_list(*, project: Project, kind: str = "") -> QuerySet[Asset]:
    """The project's library (assets not deleted), newest first, optionally of one kind, each
    with `use_count`: how many generations use it."""
    assets = project.assets.filter(deleted_at__isnull=True)
    if kind:
        assets = assets.filter(kind=kind)
    return assets.annotate(use_count=Count("references__task", distinct=True)).order_by(
        "-created_at"
    )


def reference_list(*, task: GenerationTask) -> QuerySet[GenerationReference]:
    """The task's reference files in request order, with what the page shows of their
    assets."""
    return (
        task.references.select_related("asset")
        .only(
            "id",
            "task_id",
            "role",
            "position",
            "asset__id",
            "asset__name",
            "asset__poster",
            "asset__duration_s",
            "asset__deleted_at",
            "asset__kind",
        )
        .order_by("position")
    )


def asset_generation_list(*, asset: Asset, limit: int = 50) -> QuerySet[GenerationTask]:
    """The generations that use `asset`, newest first."""
    return (
        GenerationTask.objects.filter(references__asset=asset, deleted_at__isnull=True)
        .distinct()
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


# A task is stuck when it has gone this far past what it should take (Django admin's "stuck"
# filter): renders take about expected_render_s (1-7 min, upstream-research §5), queues a
# few minutes more; a pending task is sent within seconds; nobody polling it for long means
# no sweep runs.
STUCK_FACTOR = 3.0
STUCK_MARGIN = timedelta(minutes=15)
STUCK_UNSENT_AFTER = timedelta(minutes=10)
STUCK_UNPOLLED_AFTER = timedelta(minutes=10)


def generation_tasks_stuck(*, now: datetime | None = None) -> QuerySet[GenerationTask]:
    """Active tasks that need an admin's look: submit unconfirmed (submit_unknown); pending
    or submitting for over STUCK_UNSENT_AFTER; past STUCK_FACTOR times their expected render
    time plus STUCK_MARGIN since they were created; past their deadline; or due for a poll
    for over STUCK_UNPOLLED_AFTER (no sweep is running)."""
    now = now or timezone.now()
    active = GenerationTask.objects.filter(status__in=GenerationTask.ACTIVE)
    plainly = active.filter(
        Q(status=GenerationTask.Status.SUBMIT_UNKNOWN)
        | Q(status__in=["pending", "submitting"], created_at__lt=now - STUCK_UNSENT_AFTER)
        | Q(deadline_at__lt=now)
        | Q(next_poll_at__lt=now - STUCK_UNPOLLED_AFTER)
    ).values_list("pk", flat=True)
    # Long renders: the expected time is per task, so the old candidates are checked here.
    candidates = active.filter(created_at__lt=now - STUCK_MARGIN).values_list(
        "pk", "created_at", "expected_render_s"
    )
    late = [
        pk
        for pk, created_at, expected in candidates
        if created_at + timedelta(seconds=expected * STUCK_FACTOR) + STUCK_MARGIN < now
    ]
    return GenerationTask.objects.filter(pk__in=[*plainly, *late])
