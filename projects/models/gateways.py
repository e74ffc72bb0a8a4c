"""What this site last saw of each upstream gateway (for /healthz and the admin)."""

from django.db import models


class GatewayStatus(models.Model):
    """One row per gateway (`provider`, a key of settings.SEEDANCE_PROVIDERS): when a call to
    it last succeeded, when one last failed and how (`last_error_kind`: auth, quota,
    rate_limited, unavailable, outcome_unknown, validation, moderation, not_found, conflict),
    and since when it refuses our API key (`key_refused_since`, cleared by the next success).

    Written by projects/services/gateway_status.py, throttled: not a write per poll.
    """

    provider = models.CharField(max_length=32, primary_key=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_kind = models.CharField(max_length=40, blank=True)
    last_error_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status of the last failed call, if any."
    )
    last_error_message = models.CharField(max_length=300, blank=True)
    key_refused_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "gateway status"
        verbose_name_plural = "gateway statuses"
        ordering = ["provider"]

    def __str__(self) -> str:
        return self.provider
