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
    from projects.providers.base import GenerationRequest

ROLES = ("first_frame", "last_frame", "reference_image", "reference_video", "reference_audio")
ROLE_KIND = {
    "first_frame": "image",
    "last_frame": "image",
    "reference_image": "image",
    "reference_video": "video",
    "reference_audio": "audio",
}
SEEDANCE_2_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")


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
            return f"A {ref.kind} cannot be used as {ref.role}."
        if ref.url.startswith("asset://") and not model.portraits:
            return f"{model.id} rejects asset:// portrait references; use a plain file {where}."
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
    return ""
