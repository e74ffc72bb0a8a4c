"""Storyboards (issue 15): an ordered list of shots, each with its chosen take, assembled
into one cut that goes through review like a generation."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Storyboard(models.Model):
    """A project's plan for one film. Every shot is generated with the storyboard's gateway,
    model, ratio, resolution and audio choice, so the takes share a shape and the cut can be
    a remux (projects/cut.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="storyboards"
    )
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="storyboards"
    )
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    ratio = models.CharField(max_length=16, default="16:9")
    resolution = models.CharField(max_length=16, default="720p")
    generate_audio = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["project", "-updated_at"], name="storyboard_recent")]

    def __str__(self) -> str:
        return self.title


class Shot(models.Model):
    """One shot: `position` (0-based order in its storyboard), its prompt and `duration` in
    seconds, and `take`, the generation chosen for the cut (one of `generations`, the tries
    submitted for it; null until one is). With `chain_from_previous` the previous shot's
    chosen take's last frame becomes this shot's first frame, resolved at submit time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="shots")
    position = models.PositiveSmallIntegerField()
    prompt = models.TextField()
    duration = models.PositiveSmallIntegerField(help_text="Seconds.")
    chain_from_previous = models.BooleanField(default=False)
    take = models.ForeignKey(
        "projects.GenerationTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    generations = models.ManyToManyField(
        "projects.GenerationTask", blank=True, related_name="shots"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["storyboard", "position"]
        constraints = [
            models.UniqueConstraint(fields=["storyboard", "position"], name="shot_unique_position"),
            models.CheckConstraint(condition=Q(duration__gte=1), name="shot_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"Shot {self.position + 1}: {self.prompt[:40]}"


class ShotReference(models.Model):
    """A reference file a shot is generated with, as GenerationReference is for a task: an
    asset of the project in a Seedance role, in prompt order."""

    shot = models.ForeignKey(Shot, on_delete=models.CASCADE, related_name="references")
    asset = models.ForeignKey("projects.Asset", on_delete=models.RESTRICT, related_name="+")
    role = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["shot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["shot", "position"], name="shotref_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.position}: {self.asset_id}"


class Cut(models.Model):
    """One assembly of a storyboard's chosen takes into an MP4 in storage (`file`, its
    `sha256`, `duration_s` in seconds), made by a worker job (status queued -> assembling ->
    done | failed, `progress` 0-100), then reviewed: pending -> approved | rejected by a
    reviewer (projects/services/cuts.py). `take_ids` records the takes, in order."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ASSEMBLING = "assembling", "Assembling"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class ReviewState(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="cuts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    take_ids = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    # Which run of the job owns it (each claim adds one) and when it last showed life: a run
    # silent for services/cuts.py CUT_STALE (its worker died) is taken over by the next.
    attempt = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    file = models.FileField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    reencoded = models.BooleanField(null=True, blank=True)
    review_state = models.CharField(
        max_length=12, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_comment = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "assembling", "done", "failed"]),
                name="cut_status_valid",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="cut_progress_range"),
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(file="") & ~Q(sha256="")),
                name="cut_done_has_file",
            ),
            # Only a finished cut is decided on.
            models.CheckConstraint(
                condition=Q(review_state="pending") | Q(status="done"),
                name="cut_review_needs_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Cut of {self.storyboard}"
