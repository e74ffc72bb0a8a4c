"""Generation tasks (one per video asked of a gateway) and their event log."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from projects.worker_config import worker_config


def new_callback_token() -> str:
    """A per-task secret carried in the callback URL (43 url-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class GenerationTask(models.Model):
    """One video generation, from submit to stored output.

    Life (docs/ARCHITECTURE.md "A generation task's life")::

        pending -> submitting -> queued -> running -> downloading -> succeeded
        any non-terminal -> failed | cancelled | expired
        submitting with a lost answer -> submit_unknown -> reconciled, never resubmitted blindly

    Transitions happen only in projects/services/; each is a conditional UPDATE so a job delivered
    twice cannot apply it twice. Units: `duration` and `*_s` fields in seconds (`duration` -1 means
    the model chooses), `video_size_bytes` in bytes, `video_width`/`video_height` in pixels.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUBMITTING = "submitting", "Submitting"
        SUBMIT_UNKNOWN = "submit_unknown", "Submit unconfirmed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Rendering"
        DOWNLOADING = "downloading", "Saving"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class ReviewState(models.TextChoices):
        NONE = "none", "Not for review"
        AWAITING = "awaiting", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED})
    ACTIVE = frozenset(set(Status) - TERMINAL)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="generation_tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generation_tasks"
    )

    # What was asked (the structured request; each adapter maps it onto its gateway's fields).
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    prompt = models.TextField()
    ratio = models.CharField(max_length=16)
    resolution = models.CharField(max_length=16)
    duration = models.IntegerField(help_text="Requested seconds; -1 lets the model choose.")
    generate_audio = models.BooleanField(default=True)
    watermark = models.BooleanField(default=False)
    seed = models.BigIntegerField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)
    input_video_seconds = models.FloatField(default=0.0)
    # Ark's `service_tier`: "default" (online) or "flex" (offline, priced apart), §1.3.
    service_tier = models.CharField(max_length=8, default="default")
    # Ark's further create fields (upstream-research §1.3, §1.4, §9), where the model takes
    # them: a draft is a cheap 480p preview; a final is rendered from one (`draft_source`),
    # taking its prompt, references, ratio, duration, seed, audio and camera_fixed.
    draft = models.BooleanField(default=False)
    draft_source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="finals"
    )
    frames = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Frames asked for in place of a duration (25+4n)."
    )
    camera_fixed = models.BooleanField(null=True, blank=True)
    execution_expires_after = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds the gateway may take; empty: its default."
    )

    # Where it is.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    upstream_task_id = models.CharField(max_length=128, blank=True, db_index=True)
    upstream_status = models.CharField(max_length=40, blank=True)
    callback_token = models.CharField(max_length=64, default=new_callback_token, editable=False)
    submit_attempts = models.PositiveIntegerField(default=0)
    poll_count = models.PositiveIntegerField(default=0)
    consecutive_errors = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Queued/running: until when a callback's poll job holds the task (services/callbacks.py);
    # downloading: until when a store job does (services/outputs.py).
    lease_until = models.DateTimeField(null=True, blank=True)
    expected_render_s = models.FloatField(default=120.0)
    # Set when a member deletes the generation (services/deletion.py): its files are gone and
    # pages no longer show it, while the row stays for the ledger entries that name it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change a page shows (generation/lifecycle.py does it, and save()): cached
    # pages are keyed by it (projects/page_cache.py).
    version = models.PositiveIntegerField(default=1, editable=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    upstream_finished_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)

    error_code = models.CharField(max_length=120, blank=True)
    error_message = models.TextField(blank=True)

    # What came back.
    output_url = models.TextField(blank=True)
    cover_url = models.TextField(blank=True)
    last_frame_url = models.TextField(blank=True)
    usage = models.JSONField(default=dict, blank=True)
    upstream_duration_s = models.FloatField(null=True, blank=True)
    # Money (the ledger is the record; these explain it): the gateway's own figure as written
    # (seedance2.ink creditsCharged), the output seconds we billed, and how the gateway's
    # figures differ from our charge (empty when they agree or there are none).
    vendor_cost = models.CharField(max_length=64, blank=True)
    billed_output_s = models.PositiveIntegerField(null=True, blank=True)
    cost_note = models.TextField(blank=True)
    video = models.FileField(max_length=500, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)
    video_size_bytes = models.BigIntegerField(null=True, blank=True)
    video_duration_s = models.FloatField(null=True, blank=True)
    video_width = models.PositiveIntegerField(null=True, blank=True)
    video_height = models.PositiveIntegerField(null=True, blank=True)
    cover = models.FileField(max_length=500, blank=True)
    last_frame = models.FileField(max_length=500, blank=True)

    # Review: every succeeded video awaits a reviewer (set in the same UPDATE that marks it
    # succeeded, lifecycle.finish); the decisions themselves are Review rows.
    review_state = models.CharField(
        max_length=16, choices=ReviewState.choices, default=ReviewState.NONE
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    revised_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="revisions"
    )
    # The API key it was submitted with (projects/api/), if any: a key's budget sums its tasks.
    api_key = models.ForeignKey(
        "projects.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    # The variation batch it is one take of (projects/models/variations.py), if any.
    variation_batch = models.ForeignKey(
        "projects.VariationBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="takes",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="task_project_recent"),
            # Covers the gallery's filter counts (GROUP BY status, review_state of the tasks
            # not deleted) and its cache key (the sum of versions) without reading the rows:
            # selectors.generation_status_counts, selectors.project_tasks_version.
            models.Index(
                fields=["project", "status", "review_state", "deleted_at", "version"],
                name="task_project_states",
            ),
            models.Index(fields=["status", "next_poll_at"], name="task_status_due"),
            models.Index(fields=["review_state", "finished_at"], name="task_review_queue"),
            # The render estimator's history (services/render_estimate.py): recent finished
            # tasks of one gateway, model and resolution.
            models.Index(
                fields=["provider", "model", "resolution", "status", "finished_at"],
                name="task_estimate_history",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "submitting",
                        "submit_unknown",
                        "queued",
                        "running",
                        "downloading",
                        "succeeded",
                        "failed",
                        "cancelled",
                        "expired",
                    ]
                ),
                name="task_status_valid",
            ),
            models.UniqueConstraint(
                fields=["provider", "upstream_task_id"],
                condition=~Q(upstream_task_id=""),
                name="task_unique_upstream_id",
            ),
            # A deleted generation's files are gone; its sha256 stays on record.
            models.CheckConstraint(
                condition=~Q(status="succeeded")
                | (~Q(video="") & ~Q(video_sha256=""))
                | (Q(deleted_at__isnull=False) & ~Q(video_sha256="")),
                name="task_succeeded_has_stored_video",
            ),
            # A final rendered from a draft is not itself a draft (§9).
            models.CheckConstraint(
                condition=Q(draft=False) | Q(draft_source__isnull=True),
                name="task_draft_not_final",
            ),
            # Only a succeeded video is reviewed, and every succeeded video is in review.
            models.CheckConstraint(
                condition=Q(
                    status="succeeded", review_state__in=["awaiting", "approved", "rejected"]
                )
                | (~Q(status="succeeded") & Q(review_state="none")),
                name="task_review_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} · {self.prompt[:40]}"

    def save(self, *args, **kwargs) -> None:
        """Saving a task that exists bumps its `version`, as an UPDATE does."""
        if self._state.adding:
            return super().save(*args, **kwargs)
        self.version = F("version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        self.refresh_from_db(fields=["version"])

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def expected_wait_s(self) -> float:
        """The expected render time in real seconds: `expected_render_s` is in the gateway's
        seconds, which a fast simulator shortens (SEEDANCE_UPSTREAM_TIME_SCALE)."""
        return self.expected_render_s * worker_config().upstream_time_scale


class TaskEvent(models.Model):
    """An append-only line in a task's history: what happened, when, with the raw details."""

    task = models.ForeignKey(GenerationTask, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="event_task_time")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"
