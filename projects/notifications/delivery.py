"""The worker's side of notifications: send the rows that are due, once each.

A row is claimed by a conditional UPDATE that moves its `next_try_at` LEASE_S ahead, so two
jobs (django-q2 delivers at least once; the minutely sweep may meet the on-commit job) never
send it together. A sent row is `sent`. A failed send counts an attempt, keeps the error and
is tried again after 30 s x 2^(attempts - 1) (30 s, 1, 2, 4, 8 min), at most MAX_ATTEMPTS
times, then it is `failed`; a webhook whose host became private fails at once. Nothing here
touches a generation task: a notification that cannot be sent costs the task nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F
from django.utils import timezone

from projects.models import Notification
from projects.notifications.webhooks import WebhookSendError, WebhookURLError, webhook_send
from projects.providers.outbound import BlockedURL
from projects.queue import enqueue_on_commit

logger = logging.getLogger("projects.notifications")
MAX_ATTEMPTS = 6
BACKOFF_S = 30
LEASE_S = 60  # longer than a webhook's whole POST (webhooks.TIMEOUT)
BATCH = 200  # rows a due sweep sends at most per run
State = Notification.State


class Undeliverable(Exception):
    """A row that can never be sent (the member has no address now, the webhook was turned
    off): failed at once, not tried again. `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: BACKOFF_S x 2^(attempts - 1) seconds."""
    return timedelta(seconds=BACKOFF_S * 2 ** max(0, attempts - 1))


def notifications_deliver(*, event_key: str) -> dict[str, int]:
    """Send the due rows of one event (the on-commit job). Returns {'sent': n, 'failed': n}
    (failed counts tries that failed, whether or not they will be tried again)."""
    ids = Notification.objects.filter(event_key=event_key).values_list("pk", flat=True)
    return _deliver_ids(list(ids))


def notifications_deliver_due(*, limit: int = BATCH) -> dict[str, int]:
    """Send up to `limit` pending rows whose next try is due (the minutely schedule: retries
    and rows whose job was lost). Returns {'sent': n, 'failed': n}."""
    ids = (
        Notification.objects.filter(state=State.PENDING, next_try_at__lte=timezone.now())
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:limit]
    )
    return _deliver_ids(list(ids))


def notifications_retry_now(*, notification_ids: list[int]) -> int:
    """Make the unsent rows among `notification_ids` pending and due now, and enqueue their
    delivery (an operator's "Send now"); returns how many rows that was."""
    rows = Notification.objects.filter(pk__in=notification_ids).exclude(state=State.SENT)
    keys = set(rows.values_list("event_key", flat=True))
    count = rows.update(state=State.PENDING, next_try_at=timezone.now())
    for key in sorted(keys):
        enqueue_on_commit("projects.tasks.notifications_deliver", key)
    return count


def _deliver_ids(ids: list[int]) -> dict[str, int]:
    counts = {"sent": 0, "failed": 0}
    for pk in ids:
        outcome = notification_send(notification_id=pk)
        if outcome in counts:
            counts[outcome] += 1
    return counts


def _claim(pk: int) -> bool:
    now = timezone.now()
    return (
        Notification.objects.filter(pk=pk, state=State.PENDING, next_try_at__lte=now).update(
            next_try_at=now + timedelta(seconds=LEASE_S)
        )
        == 1
    )


def notification_send(*, notification_id: int) -> str:
    """Send one row if it is pending, due and not claimed by another job. Returns 'sent',
    'failed' (this try failed) or 'skipped'. Never raises for a failed send."""
    if not _claim(notification_id):
        return "skipped"
    row = Notification.objects.select_related("user", "webhook").get(pk=notification_id)
    final = False
    try:
        _send(row)
    except (BlockedURL, WebhookURLError, Undeliverable) as exc:
        error, final = exc.message, True
    except WebhookSendError as exc:
        error = str(exc)
    except Exception as exc:  # a mail server down, a library's own error: try again later
        logger.warning("notification=%s send failed", row.pk, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    else:
        Notification.objects.filter(pk=row.pk).update(
            state=State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        return "sent"
    attempts = row.attempts + 1
    final = final or attempts >= MAX_ATTEMPTS
    Notification.objects.filter(pk=row.pk).update(
        attempts=attempts,
        last_error=error[:300],
        state=State.FAILED if final else State.PENDING,
        next_try_at=timezone.now() + retry_delay(attempts),
    )
    logger.warning(
        "notification=%s %s to %s failed (attempt %s%s): %s",
        row.pk,
        row.event,
        row.recipient,
        attempts,
        ", giving up" if final else "",
        error,
    )
    return "failed"


def _send(row: Notification) -> None:
    if row.channel == Notification.Channel.EMAIL:
        if not row.user.email or not row.user.is_active:
            raise Undeliverable("The member has no e-mail address now.")
        EmailMessage(
            subject=row.subject,
            body=row.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.user.email],
        ).send()
        return
    hook = row.webhook
    if not hook.active:
        raise Undeliverable("The webhook was turned off before the message was sent.")
    payload = {
        "id": row.pk,
        "event": row.event,
        "subject": row.subject,
        "text": row.body,
        "link": row.link,
        "team": str(row.team_id) if row.team_id else None,
        "sent_at": timezone.now().isoformat(),
    }
    webhook_send(
        url=hook.url, secret=hook.secret, payload=payload, title=row.subject, text=row.body
    )
