"""Capability tables: what each gateway and model accepts, and the check against them.

Every limit carries the doc it comes from (`source`), so a refusal can say e.g.
"seedance-1.5-pro accepts 5 or 10 seconds (seedance2.ink API reference)". The tables are data,
filled in by each adapter module; the form, the CLI and the services all validate through
`check_request` before anything is sent or held.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from projects.providers.base import GenerationRequest, MediaReference

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

    def summary(self) -> str:
        """One line for forms: 'images 300-6000 px a side, W/H 0.4-2.5, under 30 MB; ...'."""
        return (
            f"images {'/'.join(self.image_formats)}, {self.image_side_px[0]}-"
            f"{self.image_side_px[1]} px a side, W/H {self.image_ratio[0]}-{self.image_ratio[1]}, "
            f"under {round(self.image_max_bytes / MB)} MB; video {'/'.join(self.video_formats)}, "
            f"{self.video_seconds[0]:g}-{self.video_seconds[1]:g} s each "
            f"({self.video_total_seconds:g} s in all), {self.video_fps[0]:g}-"
            f"{self.video_fps[1]:g} fps, up to {round(self.video_max_bytes / MB)} MB; audio "
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
    source="upstream-research §1.6",
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

    def model(self, model_id: str) -> ModelCapabilities | None:
        return next((m for m in self.models if m.id == model_id), None)

    @property
    def default_model(self) -> ModelCapabilities:
        return self.models[0]


def check_request(caps: ProviderCapabilities, request: GenerationRequest) -> dict[str, str]:
    """Every limit the request breaks, as {field: message}; empty when it is acceptable.

    Fields: model, prompt, ratio, resolution, duration, generate_audio, watermark, seed,
    references. Each message names the limit and the doc it comes from.
    """
    model = caps.model(request.model)
    if model is None:
        offered = ", ".join(m.id for m in caps.models)
        return {"model": f"{caps.label} offers {offered}; not {request.model!r} ({caps.source})."}
    where = f"({model.source or caps.source})"
    errors: dict[str, str] = {}
    prompt = request.prompt.strip()
    if not prompt:
        errors["prompt"] = "Write a prompt describing the video."
    elif len(prompt) > model.max_prompt_chars:
        errors["prompt"] = (
            f"The prompt is {len(prompt)} characters; {model.id} takes at most "
            f"{model.max_prompt_chars}."
        )
    elif caps.prompt_flags and (flag := prompt_flag_in(request.prompt, caps.prompt_flags)):
        errors["prompt"] = (
            f"Remove {flag!r} from the prompt: {caps.label} reads such flags as parameters, "
            f"and sets them from the form's fields itself ({caps.source})."
        )
    if request.ratio not in model.ratios:
        errors["ratio"] = f"{model.id} accepts the ratios {', '.join(model.ratios)} {where}."
    if request.resolution not in model.resolutions:
        errors["resolution"] = f"{model.id} accepts {' or '.join(model.resolutions)} {where}."
    if request.duration == -1:
        if not model.auto_duration:
            errors["duration"] = (
                f"{model.id} has no auto duration; it accepts {model.describe_durations()} {where}."
            )
    elif request.duration not in model.durations:
        errors["duration"] = f"{model.id} accepts {model.describe_durations()} {where}."
    if request.generate_audio and not model.audio:
        errors["generate_audio"] = f"{model.id} cannot generate audio {where}."
    if request.watermark and not model.watermark:
        errors["watermark"] = f"{caps.label} has no watermark option {where}."
    if request.seed is not None:
        if not model.seed:
            errors["seed"] = f"{caps.label} does not accept a seed for {model.id} {where}."
        elif not -1 <= request.seed <= 2**32 - 1:
            errors["seed"] = "A seed is a whole number from -1 to 4294967295."
    reference_error = _check_references(model, request, where)
    if reference_error:
        errors["references"] = reference_error
    return errors


def prompt_flag_in(prompt: str, flags: tuple[str, ...]) -> str:
    """The first `--flag` of `flags` written as a word in `prompt` (e.g. '--rs'), else ''."""
    names = "|".join(re.escape(f) for f in sorted(flags, key=len, reverse=True))
    match = re.search(rf"(?<!\S)--({names})(?=\s|=|$)", prompt, flags=re.IGNORECASE)
    return match.group(0) if match else ""


def _check_references(model: ModelCapabilities, request: GenerationRequest, where: str) -> str:
    refs = request.references
    if not refs:
        if model.min_references:
            return f"{model.id} needs at least {model.min_references} reference file {where}."
        return ""
    roles = Counter(ref.role for ref in refs)
    for role in roles:
        if role not in model.roles:
            accepted = ", ".join(sorted(model.roles)) or "none"
            return f"{model.id} does not take a {role} reference (it takes: {accepted}) {where}."
    for ref in refs:
        if ROLE_KIND.get(ref.role) != ref.kind:
            nouns = {"image": "an image", "video": "a video", "audio": "an audio file"}
            noun = nouns.get(ref.kind, "a file")
            what = f"“{ref.name}” is {noun}" if ref.name else f"This is {noun}"
            return f"{what}; {ref.role} needs {nouns.get(ROLE_KIND.get(ref.role, ''), 'a file')}."
        if ref.url.startswith("asset://") and not model.portraits:
            what = f"“{ref.name}” is a portrait ({ref.url}): " if ref.name else ""
            return (
                f"{what}{model.id} rejects asset:// portrait references; choose a model that "
                f"takes them, or clear the asset's portrait id to send the file itself {where}."
            )
    for role in ("first_frame", "last_frame"):
        if roles[role] > 1:
            return f"At most one {role} image {where}."
    if roles["last_frame"] and not roles["first_frame"]:
        return "A last frame needs a first frame too."
    if model.first_last_exclusive and (roles["first_frame"] or roles["last_frame"]):
        if any(roles[r] for r in ("reference_image", "reference_video", "reference_audio")):
            return (
                "First/last-frame and reference modes are mutually exclusive: use either "
                f"frames or reference_* files {where}."
            )
    if (
        model.mode_from_files
        and roles["reference_image"] in (1, 2)
        and len(refs) == roles["reference_image"]
    ):
        return (
            f"{model.id} reads one image as a first frame and two as first and last frames "
            f"{where}; add a third image, a video or an audio file to use images as references."
        )
    limits = (
        ("reference_image", model.max_images, "reference images"),
        ("reference_video", model.max_videos, "reference videos"),
        ("reference_audio", model.max_audios, "reference audio files"),
    )
    for role, limit, noun in limits:
        if roles[role] > limit:
            return f"{model.id} takes at most {limit} {noun}; {roles[role]} given {where}."
    if model.max_references is not None and len(refs) > model.max_references:
        return (
            f"{model.id} takes at most {model.max_references} reference files; "
            f"{len(refs)} given {where}."
        )
    if len(refs) < model.min_references:
        return f"{model.id} needs at least {model.min_references} reference file {where}."
    if (
        roles["reference_image"] + roles["reference_video"] + roles["reference_audio"]
        and model.reference_resolutions is not None
        and request.resolution not in model.reference_resolutions
    ):
        return (
            f"With reference files {model.id} renders only "
            f"{' or '.join(model.reference_resolutions)} {where}."
        )
    if (
        model.audio_needs_visual
        and roles["reference_audio"]
        and len(refs) == roles["reference_audio"]
    ):
        return f"Reference audio cannot be the only reference; add an image or a video {where}."
    if model.media_limits is not None:
        problems = check_media_limits(model.media_limits, refs, resolution=request.resolution)
        if problems:
            return " ".join(problems)
    return ""


def check_media_limits(
    limits: MediaLimits, refs: tuple[MediaReference, ...] | list, *, resolution: str
) -> list[str]:
    """Every way `refs` break `limits`, one message each, naming the file, the limit and by
    how much (e.g. "Image “big.png” is 7000 px wide, 1000 px too wide; Ark accepts
    300-6000 px (upstream-research §1.6)."). References sent as asset:// ids live at the
    gateway and are not checked; facts a reference lacks (None) are not checked."""
    problems: list[str] = []
    who, src = limits.label, f"({limits.source})"
    totals = {"video": 0.0, "audio": 0.0}
    for ref in refs:
        if ref.url.startswith("asset://"):
            continue
        what = f"{ref.kind.capitalize()} “{ref.name}”" if ref.name else f"The {ref.role} file"
        formats = {
            "image": limits.image_formats,
            "video": limits.video_formats,
            "audio": limits.audio_formats,
        }[ref.kind]
        if ref.format and ref.format not in formats:
            problems.append(
                f"{what} is {ref.format.upper()}; {who} accepts "
                f"{', '.join(f.upper() for f in formats)} {ref.kind} {src}."
            )
            continue
        if ref.kind == "image":
            problems += _check_picture(
                ref, what, limits.image_side_px, limits.image_ratio, who, src
            )
            problems += _check_bytes(ref, what, limits.image_max_bytes, who, src)
        elif ref.kind == "video":
            problems += _check_picture(
                ref, what, limits.video_side_px, limits.video_ratio, who, src
            )
            problems += _check_pixels(ref, what, limits, resolution, src)
            problems += _check_seconds(ref, what, limits.video_seconds, who, src)
            problems += _check_fps(ref, what, limits.video_fps, who, src)
            problems += _check_bytes(ref, what, limits.video_max_bytes, who, src)
        else:
            problems += _check_seconds(ref, what, limits.audio_seconds, who, src)
            problems += _check_bytes(ref, what, limits.audio_max_bytes, who, src)
        if ref.kind in totals and ref.duration_s:
            totals[ref.kind] += ref.duration_s
    for kind, ceiling in (
        ("video", limits.video_total_seconds),
        ("audio", limits.audio_total_seconds),
    ):
        if totals[kind] > ceiling + 0.05:
            problems.append(
                f"The reference {kind} files add up to {totals[kind]:.1f} s, "
                f"{totals[kind] - ceiling:.1f} s too long; {who} accepts at most {ceiling:g} s "
                f"of {kind} in all {src}."
            )
    return problems


def _check_picture(ref, what, sides, ratios, who, src) -> list[str]:
    if not ref.width or not ref.height:
        return []
    problems = []
    low, high = sides
    for value, noun, big, small in (
        (ref.width, "wide", "too wide", "too narrow"),
        (ref.height, "high", "too high", "too low"),
    ):
        if value > high:
            problems.append(
                f"{what} is {value} px {noun}, {value - high} px {big}; {who} accepts "
                f"{low}-{high} px {src}."
            )
        elif value < low:
            problems.append(
                f"{what} is {value} px {noun}, {low - value} px {small}; {who} accepts "
                f"{low}-{high} px {src}."
            )
    ratio = ref.width / ref.height
    low_r, high_r = ratios
    if ratio > high_r or ratio < low_r:
        how = f"{ratio - high_r:.2f} above" if ratio > high_r else f"{low_r - ratio:.2f} below"
        problems.append(
            f"{what} is {ref.width}×{ref.height} px, a width/height ratio of {ratio:.2f}, "
            f"{how} the range; {who} accepts {low_r}-{high_r} {src}."
        )
    return problems


def _check_pixels(ref, what, limits: MediaLimits, resolution: str, src: str) -> list[str]:
    if not ref.width or not ref.height:
        return []
    low, high = limits.video_pixels
    high = dict(limits.video_max_pixels_at).get(resolution, high)
    pixels = ref.width * ref.height
    if low <= pixels <= high:
        return []
    how = f"{pixels - high:,} too many" if pixels > high else f"{low - pixels:,} too few"
    return [
        f"{what} has {pixels:,} pixels ({ref.width}×{ref.height}), {how}; {limits.label} "
        f"accepts {low:,}-{high:,} pixels per frame for {resolution} output {src}."
    ]


def _check_seconds(ref, what, seconds, who, src) -> list[str]:
    if ref.duration_s is None:
        return []
    low, high = seconds
    if ref.duration_s > high:
        how = f"{ref.duration_s - high:.1f} s too long"
    elif ref.duration_s < low:
        how = f"{low - ref.duration_s:.1f} s too short"
    else:
        return []
    return [
        f"{what} is {ref.duration_s:.1f} s long, {how}; {who} accepts {low:g}-{high:g} s {src}."
    ]


def _check_fps(ref, what, rates, who, src) -> list[str]:
    if not ref.fps:
        return []
    low, high = rates
    if low - 0.01 <= ref.fps <= high + 0.01:
        return []
    how = f"{ref.fps - high:g} fps too many" if ref.fps > high else f"{low - ref.fps:g} fps too few"
    return [f"{what} runs at {ref.fps:g} fps, {how}; {who} accepts {low:g}-{high:g} fps {src}."]


def _check_bytes(ref, what, ceiling, who, src) -> list[str]:
    if ref.size_bytes is None or ref.size_bytes < ceiling:
        return []
    limit_mb = round(ceiling / MB)
    over = (ref.size_bytes - ceiling + 1) / MB
    return [
        f"{what} is {ref.size_bytes / MB:.1f} MB, {over:.1f} MB too large; {who} accepts "
        f"files under {limit_mb} MB {src}."
    ]


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
