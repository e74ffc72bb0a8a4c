"""Reads for pages: what a user sees, in as few queries as the page needs."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Q, QuerySet

from projects.models import GenerationTask, Membership, Project, TaskEvent, Team
from projects.spend import with_money


def team_list_for_user(user: AbstractBaseUser, *, min_role: str = "member") -> QuerySet[Team]:
    """Teams where `user` holds at least `min_role` (all teams for a superuser)."""
    if user.is_superuser:
        return Team.objects.all()
    roles = {
        "member": ["member", "reviewer", "admin"],
        "reviewer": ["reviewer", "admin"],
        "admin": ["admin"],
    }[min_role]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def project_list_for_user(user: AbstractBaseUser) -> QuerySet[Project]:
    """The user's projects, newest activity first, with generation counts."""
    projects = Project.objects.select_related("team")
    if not user.is_superuser:
        projects = projects.filter(team__memberships__user=user)
    return projects.annotate(
        generation_count=Count("generation_tasks", distinct=True),
        last_generation_at=Max("generation_tasks__created_at"),
    ).order_by("team__name", "-created_at")


def generation_task_list(
    *, project: Project, status: str = "", limit: int = 200
) -> QuerySet[GenerationTask]:
    """The project's generations for the gallery, newest first, optionally one status group:
    'active', 'succeeded', 'failed' (failed, cancelled, expired) or a single status; each
    with `held_micro` and `charged_micro` (projects/spend.py)."""
    tasks = project.generation_tasks.select_related("created_by").defer(
        "usage", "options", "output_url", "cover_url", "last_frame_url"
    )
    if status == "active":
        tasks = tasks.filter(status__in=GenerationTask.ACTIVE)
    elif status == "failed":
        tasks = tasks.filter(status__in=["failed", "cancelled", "expired"])
    elif status in GenerationTask.Status.values:
        tasks = tasks.filter(status=status)
    return with_money(tasks).order_by("-created_at")[:limit]


def generation_status_counts(*, project: Project) -> dict[str, int]:
    """{'all', 'active', 'succeeded', 'failed'} counts for the gallery filters, one query."""
    failed = ["failed", "cancelled", "expired"]
    return project.generation_tasks.aggregate(
        all=Count("pk"),
        active=Count("pk", filter=Q(status__in=GenerationTask.ACTIVE)),
        succeeded=Count("pk", filter=Q(status="succeeded")),
        failed=Count("pk", filter=Q(status__in=failed)),
    )


def task_event_list(*, task: GenerationTask) -> QuerySet[TaskEvent]:
    """The task's history, oldest first."""
    return task.events.order_by("created_at", "id")


def membership_role(*, user: AbstractBaseUser, team: Team) -> str | None:
    return Membership.objects.filter(user=user, team=team).values_list("role", flat=True).first()
