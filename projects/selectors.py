"""Reads for pages: what a user sees, in as few queries as the page needs.

Lists of projects and tasks go through projects/access.py's `projects_visible_to`, so a
restricted project never shows in a list its access check would refuse.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery

from projects.access import projects_visible_to, roles_at_least
from projects.models import (
    Asset,
    AuditEvent,
    GenerationReference,
    GenerationTask,
    Membership,
    Project,
    ProjectMember,
    Review,
    TaskEvent,
    Team,
)
from projects.spend import with_money

ReviewState = GenerationTask.ReviewState


def team_list_for_user(user: AbstractBaseUser, *, min_role: str = "member") -> QuerySet[Team]:
    """Teams where `user` holds at least `min_role` (all teams for a superuser)."""
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=roles_at_least(min_role)
    ).distinct()


def project_list_for_user(user: AbstractBaseUser) -> QuerySet[Project]:
    """The projects the user sees, by team then newest, with generation counts."""
    return (
        projects_visible_to(user)
        .select_related("team")
        .annotate(
            generation_count=Count("generation_tasks", distinct=True),
            last_generation_at=Max("generation_tasks__created_at"),
        )
        .order_by("team__name", "-created_at")
    )


def _with_last_review(tasks: QuerySet[GenerationTask]) -> QuerySet[GenerationTask]:
    """Annotate each task with its latest decision's comment and reviewer name."""
    latest = Review.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-id")
    return tasks.annotate(
        review_comment=Subquery(latest.values("comment")[:1]),
        reviewer_name=Subquery(latest.values("reviewer__username")[:1]),
    )


def generation_task_list(
    *, project: Project, status: str = "", review: str = "", limit: int = 200
) -> QuerySet[GenerationTask]:
    """The project's generations for the gallery, newest first, optionally one status group
    ('active', 'succeeded', 'failed' = failed, cancelled, expired, or a single status) and
    one review state ('awaiting', 'approved', 'rejected'); each with `held_micro` and
    `charged_micro` (projects/spend.py)."""
    tasks = project.generation_tasks.select_related("created_by").defer(
        "usage", "options", "output_url", "cover_url", "last_frame_url"
    )
    if status == "active":
        tasks = tasks.filter(status__in=GenerationTask.ACTIVE)
    elif status == "failed":
        tasks = tasks.filter(status__in=["failed", "cancelled", "expired"])
    elif status in GenerationTask.Status.values:
        tasks = tasks.filter(status=status)
    if review in (ReviewState.AWAITING, ReviewState.APPROVED, ReviewState.REJECTED):
        tasks = tasks.filter(review_state=review)
    return with_money(_with_last_review(tasks)).order_by("-created_at")[:limit]


def generation_status_counts(*, project: Project) -> dict[str, int]:
    """Counts for the gallery filters, one query: 'all', 'active', 'succeeded', 'failed' and
    the review states 'awaiting', 'approved', 'rejected'."""
    failed = ["failed", "cancelled", "expired"]
    return project.generation_tasks.aggregate(
        all=Count("pk"),
        active=Count("pk", filter=Q(status__in=GenerationTask.ACTIVE)),
        succeeded=Count("pk", filter=Q(status="succeeded")),
        failed=Count("pk", filter=Q(status__in=failed)),
        awaiting=Count("pk", filter=Q(review_state=ReviewState.AWAITING)),
        approved=Count("pk", filter=Q(review_state=ReviewState.APPROVED)),
        rejected=Count("pk", filter=Q(review_state=ReviewState.REJECTED)),
    )


def review_queue_list(*, projects: QuerySet[Project], limit: int = 100) -> QuerySet[GenerationTask]:
    """Videos awaiting review in `projects` (access.access_review_queue), oldest finished
    first, with project and creator loaded."""
    return (
        GenerationTask.objects.filter(
            project__in=projects.values("pk"), review_state=ReviewState.AWAITING
        )
        .select_related("project__team", "created_by")
        .defer("usage", "options", "output_url", "cover_url", "last_frame_url")
        .order_by("finished_at", "created_at")[:limit]
    )


def review_list(*, task: GenerationTask) -> QuerySet[Review]:
    """The task's review decisions, newest first."""
    return task.reviews.select_related("reviewer").order_by("-created_at", "-id")


def task_event_list(*, task: GenerationTask) -> QuerySet[TaskEvent]:
    """The task's history, oldest first."""
    return task.events.order_by("created_at", "id")


def membership_role(*, user: AbstractBaseUser, team: Team) -> str | None:
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()


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
    """The task's reference files in request order, with their assets."""
    return task.references.select_related("asset").order_by("position")


def asset_generation_list(*, asset: Asset, limit: int = 50) -> QuerySet[GenerationTask]:
    """The generations that use `asset`, newest first."""
    return (
        GenerationTask.objects.filter(references__asset=asset)
        .distinct()
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )
