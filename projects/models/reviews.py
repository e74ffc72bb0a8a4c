"""Review decisions on finished videos: one row per approve or reject, never edited."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Review(models.Model):
    """A reviewer's decision on a succeeded generation, with their comment.

    The task's current `review_state` is the latest decision; these rows are its history
    (projects/services/reviews.py writes both in one transaction).
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    task = models.ForeignKey(
        "projects.GenerationTask", on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["approved", "rejected"]), name="review_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer}"
