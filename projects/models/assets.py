"""Reference media a team uploads: images, video clips and audio."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Asset(models.Model):
    """One uploaded reference file, probed on upload.

    Units: `size_bytes` in bytes, `width`/`height` in pixels, `duration_s` in seconds.
    The stored file lives under the team's key prefix (projects/storage.py) and is never public.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="assets")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=200)
    file = models.FileField(max_length=500)
    poster = models.FileField(max_length=500, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    container = models.CharField(max_length=40, blank=True)
    codec = models.CharField(max_length=40, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    # An AllToken Portrait library id; when set the asset is sent as asset://<id>.
    alltoken_asset_id = models.CharField(max_length=120, blank=True)
    # The generation whose last frame this asset is ("use last frame as first frame").
    source_task = models.ForeignKey(
        "projects.GenerationTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="derived_assets",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Deleted from the library while generations still use it: hidden, its file kept until
    # the last of them is deleted (services/assets.py: asset_delete, assets_purge_released).
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="asset_project_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["image", "video", "audio"]), name="asset_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class GenerationReference(models.Model):
    """One reference file a generation was asked with: which asset, in which Seedance role,
    and its place in the request (`position`, from 0; prompts name references by order, e.g.
    [Image 1]). An asset in use cannot be deleted (RESTRICT) until its generations are."""

    class Role(models.TextChoices):
        FIRST_FRAME = "first_frame", "First frame"
        LAST_FRAME = "last_frame", "Last frame"
        REFERENCE_IMAGE = "reference_image", "Reference image"
        REFERENCE_VIDEO = "reference_video", "Reference video"
        REFERENCE_AUDIO = "reference_audio", "Reference audio"

    task = models.ForeignKey(
        "projects.GenerationTask", on_delete=models.CASCADE, related_name="references"
    )
    asset = models.ForeignKey(Asset, on_delete=models.RESTRICT, related_name="references")
    role = models.CharField(max_length=20, choices=Role.choices)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["task", "position"]
        constraints = [
            models.UniqueConstraint(fields=["task", "position"], name="reference_unique_position"),
            models.CheckConstraint(
                condition=Q(
                    role__in=[
                        "first_frame",
                        "last_frame",
                        "reference_image",
                        "reference_video",
                        "reference_audio",
                    ]
                ),
                name="reference_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.position}: {self.asset_id}"
