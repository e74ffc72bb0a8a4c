"""Capability schema: what each gateway and model accepts, as data.

Every limit carries the doc it comes from (`source`), so a refusal can say e.g.
"seedance-1.5-pro accepts 5 or 10 seconds (seedance2.ink API reference)". The tables are
filled in by each adapter module; the check against them is
`projects.providers.request_check.check_request`, which the form, the CLI and the services all
call before anything is sent or held. This module imports nothing of the providers, so
`base.py` may depend on it and the validator on both, one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("first_frame", "last_frame", "reference_image", "reference_video", "reference_audio")
ROLE_KIND = {
    "first_frame": "image",
    "last_frame": "image",
    "reference_image": "image",
    "reference_video": "video",
    "reference_audio": "audio",
}
SEEDANCE_2_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
MB = 1024 * 1024
# Ark's create-body limits shared by every model that takes the field (upstream-research §1.3):
DRAFT_RESOLUTION = "480p"  # "draft: 1.5 pro only; 480p only; no last frame; no flex"
FRAMES_MIN, FRAMES_MAX, FRAMES_STEP = 29, 289, 4  # `frames`: 25+4n within [29, 289]
DEFAULT_EXPIRES_AFTER = 172_800  # `execution_expires_after` default, seconds (48 h)
ARK_EXPIRES_AFTER = (3_600, 259_200)  # its range, seconds: 1 h to 72 h


def frames_seconds(frames: int) -> float:
    """How long a `frames` request lasts in seconds at Seedance's 24 fps: (frames - 1) / 24
    (a clip of d seconds has 24 d + 1 frames, §1.14), e.g. 121 frames = 5.0 s."""
    return (frames - 1) / 24


@dataclass(frozen=True)
class MediaLimits:
    """What a gateway accepts in each reference file it fetches, and in all of them together.

    Units: pixels, width/height ratios, seconds, bytes, frames per second; ranges are
    inclusive, `*_max_bytes` exclusive ("< 30 MB"). Formats are `projects.media` names (jpeg,
    png, mp4, mov, wav, mp3, ...). `video_pixels` is width×height for 480p/720p output;
    `video_max_pixels_at` raises the upper bound for other output resolutions. `label` says
    whose limits these are in messages ("Ark"), `source` where they are documented.
    """

    label: str
    source: str
    image_formats: tuple[str, ...]
    image_side_px: tuple[int, int]
    image_ratio: tuple[float, float]
    image_max_bytes: int
    video_formats: tuple[str, ...]
    video_seconds: tuple[float, float]
    video_total_seconds: float
    video_max_bytes: int
    video_fps: tuple[float, float]
    video_side_px: tuple[int, int]
    video_ratio: tuple[float, float]
    video_pixels: tuple[int, int]
    audio_formats: tuple[str, ...]
    audio_seconds: tuple[float, float]
    audio_total_seconds: float
    audio_max_bytes: int
    video_max_pixels_at: tuple[tuple[str, int], ...] = ()

    def _larger_frames(self) -> str:
        larger = ", ".join(f"{pixels:,} at {res}" for res, pixels in self.video_max_pixels_at)
        return f" ({larger})" if larger else ""

    def summary(self) -> str:
        """One line for forms: 'images 300-6000 px a side, W/H 0.4-2.5, under 30 MB; ...'."""
        return (
            f"images {'/'.join(self.image_formats)}, {self.image_side_px[0]}-"
            f"{self.image_side_px[1]} px a side, W/H {self.image_ratio[0]}-{self.image_ratio[1]}, "
            f"under {round(self.image_max_bytes / MB)} MB; video {'/'.join(self.video_formats)}, "
            f"{self.video_seconds[0]:g}-{self.video_seconds[1]:g} s each "
            f"({self.video_total_seconds:g} s in all), {self.video_fps[0]:g}-"
            f"{self.video_fps[1]:g} fps, {self.video_pixels[0]:,}-{self.video_pixels[1]:,} "
            f"pixels a frame{self._larger_frames()}, up to "
            f"{round(self.video_max_bytes / MB)} MB; audio "
            f"{'/'.join(self.audio_formats)}, {self.audio_seconds[0]:g}-"
            f"{self.audio_seconds[1]:g} s each ({self.audio_total_seconds:g} s in all), up to "
            f"{round(self.audio_max_bytes / MB)} MB"
        )


# Ark's input limits for Seedance 2.x (upstream-research.md §1.6, from the official doc and its
# mirrors): images jpeg/png/webp/bmp/tiff/gif, sides 300-6000 px, W/H 0.4-2.5, < 30 MB; video
# mp4/mov, 2-15 s each and 15 s in all, <= 50 MB, 24-60 fps, 409,600-927,408 px (480p/720p
# output; 2,073,600 at 1080p); audio wav/mp3, 2-15 s each and 15 s in all, <= 15 MB.
ARK_MEDIA_LIMITS = MediaLimits(
    label="Ark",
    source="Seedance's input limits, Ark API reference",  # upstream-research §1.6
    image_formats=("jpeg", "png", "webp", "bmp", "tiff", "gif"),
    image_side_px=(300, 6000),
    image_ratio=(0.4, 2.5),
    image_max_bytes=30 * MB,
    video_formats=("mp4", "mov"),
    video_seconds=(2, 15),
    video_total_seconds=15,
    video_max_bytes=50 * MB + 1,
    video_fps=(24, 60),
    video_side_px=(300, 6000),
    video_ratio=(0.4, 2.5),
    video_pixels=(409_600, 927_408),
    video_max_pixels_at=(("1080p", 2_073_600),),
    audio_formats=("wav", "mp3"),
    audio_seconds=(2, 15),
    audio_total_seconds=15,
    audio_max_bytes=15 * MB + 1,
)


@dataclass(frozen=True)
class ModelCapabilities:
    """What one model accepts through one gateway. Durations in seconds."""

    id: str
    label: str
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[str, ...]
    default_resolution: str
    ratios: tuple[str, ...]
    default_ratio: str
    auto_duration: bool = False  # accepts duration -1 (the model chooses; billed on actual)
    audio: bool = True  # accepts generate_audio
    default_audio: bool = True
    seed: bool = False
    watermark: bool = True
    roles: frozenset[str] = frozenset()  # reference roles accepted; empty = text only
    max_images: int = 0  # reference_image count
    max_videos: int = 0
    max_audios: int = 0
    max_references: int | None = None  # all references together
    min_references: int = 0
    first_last_exclusive: bool = True  # first/last frame can't mix with reference_* roles
    audio_needs_visual: bool = True  # audio can't be the only reference
    portraits: bool = False  # accepts asset://<id> references
    # The gateway infers the mode from the files it is given (seedance2.ink: one image is a
    # first frame, two are first and last frames, anything else is reference mode), so one or
    # two reference images on their own cannot be sent as references.
    mode_from_files: bool = False
    last_frame_output: bool = False  # return_last_frame
    max_prompt_chars: int = 2000
    # Resolutions allowed when reference_image/video/audio files are given; None = the same as
    # `resolutions` (Ark 1.0 lite i2v has no 1080p in reference-image mode).
    reference_resolutions: tuple[str, ...] | None = None
    source: str = ""
    media_limits: MediaLimits | None = None  # per-file limits on references; None = unchecked
    # Which output pixel table the model renders by (projects/providers/output_sizes.py):
    # token prices are per pixel, so the hold needs the frame size.
    size_table: str = "seedance-2"
    # Ark's `service_tier` values the model takes: "default" (online) and, where documented,
    # "flex" (offline, cheaper, slower). 2.0 / 2.0 fast take no flex (upstream-research §1.3).
    service_tiers: tuple[str, ...] = ("default",)
    # The gateway bills reference video by its length and must be told it (TokenHub's
    # `video_durations`): a video whose length is unknown cannot be sent.
    needs_video_seconds: bool = False
    # Ark's draft mode (§1.3, §1.4, §9): `draft: true` renders a cheap 480p preview and a
    # `draft_task` content item renders the final from it. Seedance 1.5 pro only.
    draft: bool = False
    # `frames` (25+4n in [29, 289]) in place of `duration`: not on 2.0, 2.0 fast or 1.5 pro
    # (§1.3), so the 1.0 models.
    frames: bool = False
    # `camera_fixed`: not on 2.0 / 2.0 fast (§1.3, §9), nor with reference images (§1.3).
    camera_fixed: bool = False

    @property
    def max_duration(self) -> int:
        return max(self.durations)

    def describe_durations(self) -> str:
        """'4 to 15 seconds', '5 or 10 seconds' (+ ', or auto')."""
        values = sorted(self.durations)
        if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
            text = f"{values[0]} to {values[-1]} seconds"
        elif len(values) == 1:
            text = f"{values[0]} seconds"
        else:
            text = ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]} seconds"
        return text + (", or auto" if self.auto_duration else "")


@dataclass(frozen=True)
class ProviderCapabilities:
    """What one gateway offers. `cancel` is never | queued | queued_or_running."""

    name: str
    label: str
    models: tuple[ModelCapabilities, ...]
    cancel: str = "never"
    callbacks: bool = False
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    # Parameter flags the gateway reads out of the prompt text (AceData: --rs, --dur, ...),
    # without the dashes. The adapter appends them itself, so a prompt holding one is refused.
    prompt_flags: tuple[str, ...] = ()
    # The `execution_expires_after` range in seconds the gateway takes (Ark, BytePlus and
    # AceData: ARK_EXPIRES_AFTER, §1.3); None: it has no such field.
    expires_after: tuple[int, int] | None = None

    def model(self, model_id: str) -> ModelCapabilities | None:
        return next((m for m in self.models if m.id == model_id), None)

    @property
    def default_model(self) -> ModelCapabilities:
        return self.models[0]
