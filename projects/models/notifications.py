"""Notifications: each member's choices, the team's webhooks, and the outbox of messages.

An event ("a video is ready", "a budget is 80 % used" ...) writes one `Notification` row per
channel and recipient in the transaction of the change that caused it; a worker job sends
the rows once that transaction commits (projects/notifications/). The unique constraint on
(event key, channel, recipient) is what makes an event send one message per channel even
when the code path that raised it runs twice.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Event(models.TextChoices):
    """What a member or a team can hear about."""

    VIDEO_READY = "video_ready", "My video is ready"
    VIDEO_FAILED = "video_failed", "My video failed"
    REVIEW_WAITING = "review_waiting", "A video awaits my review"
    VIDEO_APPROVED = "video_approved", "My video was approved"
    VIDEO_REJECTED = "video_rejected", "My video was rejected"
    BUDGET_80 = "budget_80", "A budget is 80 % used"
    BUDGET_EXHAUSTED = "budget_exhausted", "A budget is used up"


class NotificationPreference(models.Model):
    """A member's e-mail choice for one event, where it differs from the default
    (projects/notifications/preferences.py DEFAULTS). No row: the default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    event = models.CharField(max_length=32, choices=Event.choices)
    email = models.BooleanField()
    # For REVIEW_WAITING only: one e-mail a day listing what awaits, instead of one per video.
    digest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notification_pref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.event}: {'on' if self.email else 'off'}"


class TeamWebhook(models.Model):
    """A team's chat or webhook endpoint: an Apprise URL (slack://, feishu://, dingtalk://,
    workflow:// for Microsoft Teams) or a generic signed JSON webhook (json:// or jsons://).

    `url` may hold the endpoint's own token (Slack's, DingTalk's): it is shown to team admins
    only. `secret` signs the generic JSON body (X-Seedance-Signature); it is shown once, when
    the webhook is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=80)
    url = models.CharField(max_length=1000)
    events = models.JSONField(default=list, help_text="Event names this webhook hears.")
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"


class Notification(models.Model):
    """One message to send: an event for one recipient on one channel (the outbox).

    `recipient` is 'user:<pk>' (e-mail) or 'webhook:<uuid>'. Sending claims the row by moving
    `next_try_at` forward (a lease); a failure counts `attempts`, keeps `last_error` and sets
    `next_try_at` with backoff; after the last attempt the row is `failed`."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    event = models.CharField(max_length=32, choices=Event.choices)
    # Names the occurrence: 'task:<uuid>:video_ready', 'budget:<pk>:2026-12-01:80' ...
    event_key = models.CharField(max_length=160)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    webhook = models.ForeignKey(
        TeamWebhook, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    team = models.ForeignKey(
        "projects.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["event_key"], name="notification_event_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "channel", "recipient"], name="notification_once"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed"]), name="notification_state"
            ),
            models.CheckConstraint(
                condition=Q(channel="email", user__isnull=False)
                | Q(channel="webhook", webhook__isnull=False),
                name="notification_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.recipient} ({self.state})"
