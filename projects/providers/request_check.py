"""The check of a generation request against a gateway's capability tables.

`check_request` answers every limit a request breaks, with the doc each limit comes from; the
form, the CLI and the services call it before anything is sent or a credit held. It depends on
the schema (`capabilities.py`) and on the request types (`base.py`); neither imports it.
"""

from __future__ import annotations

import re
from collections import Counter

from projects.providers.base import GenerationRequest, MediaReference
from projects.providers.capabilities import (
    MB,
    ROLE_KIND,
    MediaLimits,
    ModelCapabilities,
    ProviderCapabilities,
)
from projects.providers.option_check import check_options


def check_request(caps: ProviderCapabilities, request: GenerationRequest) -> dict[str, str]:
    """Every limit the request breaks, as {field: message}; empty when it is acceptable.

    Fields: model, prompt, ratio, resolution, duration, generate_audio, watermark, seed,
    service_tier, references, and Ark's draft, frames, camera_fixed and
    execution_expires_after (option_check.py). Each message names the limit and the doc it
    comes from.
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
    if request.frames is not None:
        pass  # a frame count stands for the duration (option_check.py checks it)
    elif request.duration == -1:
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
    if request.service_tier not in model.service_tiers:
        errors["service_tier"] = (
            f"{model.id} takes the service tier {' or '.join(model.service_tiers)}, not "
            f"{request.service_tier!r} {where}."
        )
    reference_error = _check_references(model, request, where, gateway=caps.label)
    if reference_error:
        errors["references"] = reference_error
    for field, message in check_options(caps, model, request).items():
        errors.setdefault(field, message)
    return errors


def prompt_flag_in(prompt: str, flags: tuple[str, ...]) -> str:
    """The first `--flag` of `flags` written as a word in `prompt` (e.g. '--rs'), else ''."""
    names = "|".join(re.escape(f) for f in sorted(flags, key=len, reverse=True))
    match = re.search(rf"(?<!\S)--({names})(?=\s|=|$)", prompt, flags=re.IGNORECASE)
    return match.group(0) if match else ""


def _check_references(
    model: ModelCapabilities, request: GenerationRequest, where: str, *, gateway: str
) -> str:
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
    if model.needs_video_seconds:
        unknown = [r for r in refs if r.kind == "video" and not (r.duration_s or 0) > 0]
        if unknown:
            name = f"“{unknown[0].name}”" if unknown[0].name else "A reference video"
            return (
                f"{name} has no known length, and this gateway bills reference video by its "
                f"seconds, which we must send it {where}. Upload the file again to probe it."
            )
    if model.media_limits is not None:
        problems = check_media_limits(
            model.media_limits, refs, resolution=request.resolution, gateway=gateway
        )
        if problems:
            return " ".join(problems)
    return ""


def check_media_limits(
    limits: MediaLimits,
    refs: tuple[MediaReference, ...] | list,
    *,
    resolution: str,
    gateway: str = "",
) -> list[str]:
    """Every way `refs` break `limits`, one message each, naming the file, the limit and by
    how much (e.g. "Image “big.png” is 7000 px wide, 1000 px too wide; TokenHub accepts
    300-6000 px (Seedance's input limits, Ark API reference)."). `gateway` names who accepts
    (the gateway in use; `limits.label` by default). References sent as asset:// ids live at the
    gateway and are not checked; facts a reference lacks (None) are not checked."""
    problems: list[str] = []
    who, src = gateway or limits.label, f"({limits.source})"
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
            problems += _check_pixels(ref, what, limits, resolution, who, src)
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


def _check_pixels(ref, what, limits: MediaLimits, resolution: str, who, src) -> list[str]:
    if not ref.width or not ref.height:
        return []
    low, high = limits.video_pixels
    high = dict(limits.video_max_pixels_at).get(resolution, high)
    pixels = ref.width * ref.height
    if low <= pixels <= high:
        return []
    how = f"{pixels - high:,} too many" if pixels > high else f"{low - pixels:,} too few"
    return [
        f"{what} has {pixels:,} pixels ({ref.width}×{ref.height}), {how}; {who} "
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
