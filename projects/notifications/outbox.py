"""Writing notifications: the domain calls these inside the transaction of the change that
raised the event, so the messages exist exactly when the change does.

Each writer makes one Notification row per subscribed channel and recipient (e-mail per
member who wants it, each active team webhook that hears the event) and enqueues the
delivery job on commit. The rows' unique key (event key, channel, recipient) makes a second
run of the same code path write nothing more. No writer raises: a failure is logged and
rolled back to its savepoint, and the change that raised the event goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.models import (
    Event,
    GenerationTask,
    Membership,
    Notification,
    ProjectMember,
    Review,
    TeamWebhook,
)
from projects.notifications.messages import Message, budget_message, task_message
from projects.notifications.preferences import email_wanted
from projects.queue import enqueue_on_commit

logger = logging.getLogger("projects.notifications")
DELIVER_JOB = "projects.tasks.notifications_deliver"
Status = GenerationTask.Status
FAILED_ENDINGS = frozenset({Status.FAILED, Status.EXPIRED})
REVIEWERS = (Membership.Role.REVIEWER, Membership.Role.ADMIN)


def never_raises[**P](write: Callable[P, Any]) -> Callable[P, None]:
    """Run `write` in a savepoint; log and swallow whatever it raises (a notification is
    never worth failing, or delaying, the change that raised it)."""

    @functools.wraps(write)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            with transaction.atomic():
                write(*args, **kwargs)
        except Exception:
            logger.exception("Could not record the %s notifications", write.__name__)

    return wrapper


def _rows(
    *,
    event: str,
    key: str,
    team_id: object,
    message: Message,
    user_ids: Iterable[object],
) -> None:
    """Write the rows of one event: e-mail to each of `user_ids` who wants it and has an
    address, and each of the team's active webhooks hearing `event`; enqueue delivery."""
    now = timezone.now()
    common = dict(
        event=event,
        event_key=key,
        team_id=team_id,
        subject=message.subject,
        body=message.body,
        link=message.link,
        next_try_at=now,
    )
    wanted = email_wanted(user_ids=user_ids, event=event)
    users = get_user_model().objects.filter(pk__in=wanted, is_active=True).exclude(email="")
    rows = [
        Notification(
            channel=Notification.Channel.EMAIL, recipient=f"user:{user.pk}", user=user, **common
        )
        for user in users
    ]
    for hook in TeamWebhook.objects.filter(team_id=team_id, active=True):
        if event in hook.events:
            rows.append(
                Notification(
                    channel=Notification.Channel.WEBHOOK,
                    recipient=f"webhook:{hook.pk}",
                    webhook=hook,
                    **common,
                )
            )
    if rows:
        # A second run of the same event conflicts on notification_once and adds nothing.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        enqueue_on_commit(DELIVER_JOB, key)


def _reviewer_ids(task: GenerationTask) -> list[object]:
    """The team's reviewers and admins who see the task's project (a restricted project:
    its listed members and the admins), but not its maker unless they may approve it."""
    project = task.project
    rows = Membership.objects.filter(team_id=project.team_id, role__in=REVIEWERS)
    if project.restricted:
        listed = ProjectMember.objects.filter(project=project).values("user_id")
        rows = rows.filter(Q(role=Membership.Role.ADMIN) | Q(user_id__in=listed))
    if not project.team.allow_self_review and task.created_by_id:
        rows = rows.exclude(user_id=task.created_by_id)
    return list(rows.values_list("user_id", flat=True))


@never_raises
def task_ended(*, task_id: object) -> None:
    """A task ended (generation/lifecycle.py `finish`, in its transaction): "ready" to its
    maker and "awaits review" to the reviewers when it succeeded, "failed" to its maker when
    it failed or expired (a cancel was the maker's own or an admin's doing: no message)."""
    task = GenerationTask.objects.select_related("project__team", "created_by").get(pk=task_id)
    maker = [task.created_by_id] if task.created_by_id else []
    team_id = task.project.team_id
    if task.status == Status.SUCCEEDED:
        for event, users in (
            (Event.VIDEO_READY, maker),
            (Event.REVIEW_WAITING, _reviewer_ids(task)),
        ):
            _rows(
                event=event,
                key=f"task:{task.pk}:{event}",
                team_id=team_id,
                message=task_message(task, event),
                user_ids=users,
            )
    elif task.status in FAILED_ENDINGS:
        event = Event.VIDEO_FAILED
        _rows(
            event=event,
            key=f"task:{task.pk}:{event}",
            team_id=team_id,
            message=task_message(task, event),
            user_ids=maker,
        )


@never_raises
def review_decided(*, review_id: int) -> None:
    """A reviewer decided (services/reviews.py, in its transaction): "approved" or
    "rejected" to the video's maker, with the reviewer's name and comment."""
    review = Review.objects.select_related("task__project__team", "task__created_by", "reviewer")
    review = review.get(pk=review_id)
    task = review.task
    event = (
        Event.VIDEO_APPROVED
        if review.decision == Review.Decision.APPROVED
        else Event.VIDEO_REJECTED
    )
    _rows(
        event=event,
        key=f"review:{review.pk}:{event}",
        team_id=task.project.team_id,
        message=task_message(
            task, event, reviewer=review.reviewer.get_username(), comment=review.comment
        ),
        user_ids=[task.created_by_id] if task.created_by_id else [],
    )


@never_raises
def budget_crossed(
    *,
    event: str,
    team_id: object,
    budget_id: object,
    period_start: str,
    name: str,
    used: str,
    limit: str,
    period: str,
) -> None:
    """A budget reached 80 % (BUDGET_80) or its limit (BUDGET_EXHAUSTED) in the period that
    began at `period_start` (a date, ISO): to the team's admins, once per budget, level and
    period (the event key names all three)."""
    admins = Membership.objects.filter(team_id=team_id, role=Membership.Role.ADMIN)
    _rows(
        event=event,
        key=f"budget:{budget_id}:{period_start}:{event}",
        team_id=team_id,
        message=budget_message(
            event=event, team_id=team_id, name=name, used=used, limit=limit, period=period
        ),
        user_ids=admins.values_list("user_id", flat=True),
    )
