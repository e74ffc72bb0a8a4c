"""Reads for variation batches (services/variations.py): a batch's takes for the compare
page, and the review queue's order with each batch's pick first."""

from __future__ import annotations

from django.db.models import BooleanField, Case, F, QuerySet, When

from projects.models import GenerationTask, VariationBatch

# What the compare page shows per take.
TAKE_FIELDS = (
    "id",
    "status",
    "review_state",
    "seed",
    "video",
    "cover",
    "video_duration_s",
    "error_message",
    "created_at",
    "variation_batch_id",
    "deleted_at",
)


def variation_take_list(*, batch: VariationBatch) -> QuerySet[GenerationTask]:
    """The batch's takes that are not deleted, in the order they were made (only the fields
    the compare page shows)."""
    return (
        batch.takes.filter(deleted_at__isnull=True).only(*TAKE_FIELDS).order_by("created_at", "id")
    )


def picked_first(tasks: QuerySet[GenerationTask]) -> QuerySet[GenerationTask]:
    """`tasks` annotated with `picked` (the take its variation batch picked), picked takes
    first, then in their previous order: what review sees first is the pick (issue 15)."""
    return tasks.annotate(
        picked=Case(
            When(variation_batch__pick_id=F("id"), then=True),
            default=False,
            output_field=BooleanField(),
        )
    ).order_by("-picked", *tasks.query.order_by)
