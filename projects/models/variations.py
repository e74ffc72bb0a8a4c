"""Variation batches: one request generated N times with different seeds, and the take the
team picked (services/variations.py)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

VARIATIONS_MIN = 2
VARIATIONS_MAX = 8


class VariationBatch(models.Model):
    """N takes of one request (each a GenerationTask with `variation_batch` set to this row,
    its own seed and its own credit hold), created all together or not at all, and `pick`,
    the take a member chose on the compare page (None until then). Review shows the pick
    first. `count` is the number of takes asked for (2-8)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="variation_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="variation_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    count = models.PositiveSmallIntegerField()
    pick = models.ForeignKey(
        "projects.GenerationTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="picked_in",
    )
    picked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(count__gte=VARIATIONS_MIN, count__lte=VARIATIONS_MAX),
                name="variation_batch_count_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} variations · {self.created_at:%Y-%m-%d %H:%M}"
