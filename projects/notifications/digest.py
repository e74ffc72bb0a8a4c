"""The daily digest for busy reviewers: one e-mail listing the videos awaiting their review,
for members who chose it over one e-mail per video (preferences.review_digest_save).

Run by the daily `notifications-review-digest` schedule (manage.py setup_schedules). Each
member's digest is a Notification row keyed by the day, so a second run that day sends
nothing more; a member with nothing awaiting gets no e-mail.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from projects.access import REVIEWER, tasks_visible_to
from projects.models import Event, GenerationTask, Notification, NotificationPreference
from projects.notifications.messages import page_url
from projects.queue import enqueue_on_commit
from projects.redaction import redact

LISTED = 20  # videos named in one digest; the rest are counted
DELIVER_JOB = "projects.tasks.notifications_deliver"


def review_digest_write(*, day: str | None = None) -> int:
    """Write today's (or `day`'s, an ISO date) digest rows and enqueue their delivery;
    returns how many members get one."""
    day = day or timezone.localdate().isoformat()
    key = f"digest:{day}:{Event.REVIEW_WAITING}"
    chose = NotificationPreference.objects.filter(
        event=Event.REVIEW_WAITING, email=True, digest=True
    ).values("user_id")
    users = get_user_model().objects.filter(pk__in=chose, is_active=True).exclude(email="")
    rows = []
    for user in users:
        waiting = (
            tasks_visible_to(user, min_role=REVIEWER)
            .filter(
                status=GenerationTask.Status.SUCCEEDED,
                review_state=GenerationTask.ReviewState.AWAITING,
            )
            .exclude(created_by=user)
            .select_related("project")
            .order_by("finished_at")
        )
        count = waiting.count()
        if not count:
            continue
        lines = [
            f"- {task.project.name}: {' '.join(task.prompt.split())[:80]} "
            f"{page_url('projects:generation_detail', task_id=task.pk)}"
            for task in waiting[:LISTED]
        ]
        if count > LISTED:
            lines.append(f"... and {count - LISTED} more.")
        queue = page_url("projects:review_queue")
        rows.append(
            Notification(
                event=Event.REVIEW_WAITING,
                event_key=key,
                channel=Notification.Channel.EMAIL,
                recipient=f"user:{user.pk}",
                user=user,
                subject=f"{count} video{'s' if count != 1 else ''} await your review",
                body=redact("\n".join(["Waiting for your review:", *lines, "", queue])),
                link=queue,
                next_try_at=timezone.now(),
            )
        )
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        enqueue_on_commit(DELIVER_JOB, key)
    return len(rows)
