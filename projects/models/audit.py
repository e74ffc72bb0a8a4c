"""The audit trail: who did what to which object, and when. Append-only."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One recorded action (projects/projects/audit.py writes these; nothing edits them).

    `action` is a dotted name: `generation.submitted`, `generation.cancelled`,
    `video.approved`, `video.rejected`, `member.added`, ..., and for Django admin edits
    `<model>.added|changed|deleted` (e.g. `budget.changed`, `pricerule.changed`).
    `team` is None for site-wide objects (price rules); those show in Django admin only.
    `actor_name` and `target_repr` keep the names readable after the rows they name are gone.
    `details` holds the specifics (comment, changed fields as {field: [old, new]}); secrets
    are never put there.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    team = models.ForeignKey(
        "projects.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60, db_index=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"], name="audit_team_recent")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target_repr}"

    def save(self, *args, **kwargs) -> None:
        # Append-only: an audit row that could be rewritten proves nothing.
        if not self._state.adding:
            raise ValueError("Audit events are append-only; they cannot be changed.")
        super().save(*args, **kwargs)
