"""API keys for the team API (projects/api/) and what an API request adds to its task.

An `ApiKey` belongs to one member of one team and may act in some of that team's projects,
with the member's role and never more. The key itself is shown once, when it is made; only
its prefix (to find it) and its SHA-512 hash are stored, by djangorestframework-api-key's
`AbstractAPIKey` and `KeyGenerator` (its `Sha512ApiKeyHasher`: a fast hash is right for 40
random characters, where a password hasher would cost every request ~100 ms for nothing).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

# 8 characters of prefix (looked up, shown in lists) + 40 of secret: 62**40 ~ 2**238.
KEY_GENERATOR = KeyGenerator(prefix_length=8, secret_key_length=40)


class ApiKeyManager(BaseAPIKeyManager):
    """The library's manager (`create_key`, `get_from_key`) with our key generator. Its
    `assign_key` would also make the primary key "<prefix>.<hash>"; ours is a UUID, because
    key ids go into URLs (revoke) and audit rows, where a hash of the key has no business."""

    key_generator = KEY_GENERATOR

    def assign_key(self, obj: AbstractAPIKey) -> str:
        key, prefix, hashed_key = self.key_generator.generate()
        obj.prefix = prefix
        obj.hashed_key = hashed_key
        return key


class ApiKey(AbstractAPIKey):
    """A member's key for the team API. Inherited: `prefix`, `hashed_key`, `created`, `name`,
    `revoked` (cannot be undone), `expiry_date` (None = never; the page always sets one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="api_keys")
    projects = models.ManyToManyField("projects.Project", related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        abstract = False
        ordering = ["-created"]
        indexes = [models.Index(fields=["team", "-created"], name="apikey_team_recent")]

    def __str__(self) -> str:
        return self.name


class ApiTask(models.Model):
    """What an API create asked beyond the generation itself: the `model` id the client
    sent (its answers echo it; the task's own `model` is the gateway's id), `callback_url`
    (POSTed the task body when the task ends, signed with `callback_secret`, the hex of
    HMAC-SHA256(the API key, the task id), which the client derives from its key), and the
    delivery's progress. Written only when there is something to keep: a callback, or a
    model id other than the gateway's (projects/api/gateways.py)."""

    task = models.OneToOneField(
        "projects.GenerationTask",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="api_request",
    )
    model = models.CharField(max_length=100)
    return_last_frame = models.BooleanField(default=False)
    callback_url = models.TextField(blank=True)
    callback_secret = models.CharField(max_length=64, blank=True, editable=False)
    callback_attempts = models.PositiveIntegerField(default=0)
    callback_delivered_at = models.DateTimeField(null=True, blank=True)
    callback_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"API request for {self.task_id}"
