"""The Ark create body's rules, shared by the Ark dialect and AceData's (which forwards the
native Ark body): per-model limits, `content[]` items and roles, and the generation
parameters, checked as strictly as docs/upstream-research.md §1.2-§1.6 describe them.

This is the simulator's own reading of the docs, kept apart from the adapters' capability
tables on purpose: an adapter that drifts from the contract gets the gateway's 400 here.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from projects.upstream_sim import probe
from projects.upstream_sim.dialects.ark_models import ModelRules
from projects.upstream_sim.dialects.base import BadRequest
from projects.upstream_sim.engine import SimEngine

IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
MEDIA_TYPES = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
REFERENCE_ROLES = {"video_url": "reference_video", "audio_url": "reference_audio"}
# Reference videos: 2-15 s each, 15 s in all (§1.6; ComfyUI accepts from 1.8 s, so do we).
VIDEO_SECONDS = (1.8, 15.0)
VIDEO_TOTAL_SECONDS = 15.0


@dataclass
class Content:
    """A checked `content[]`: the prompt, the media items and the scenario they make."""

    text: str = ""
    media: list[dict[str, str]] = field(default_factory=list)  # {"kind", "role", "url"}
    mode: str = "text"  # text | first_frame | first_last | reference | draft_task
    draft_task_id: str = ""  # mode draft_task: the draft to render the final from
    video_seconds: float = 0.0  # the reference videos' total length, once fetched

    @property
    def urls(self) -> list[str]:
        return [item["url"] for item in self.media]


def drop_nulls(body: Any) -> Any:
    """`body` without its null fields: the real API reads a JSON null as an absent field, and
    the official SDKs send every parameter left unset as null (research §9). Applies to the
    top level and to each `content[]` item and its media object; anything else is kept."""
    if not isinstance(body, dict):
        return body
    body = {key: value for key, value in body.items() if value is not None}
    if isinstance(body.get("content"), list):
        body["content"] = [_item_without_nulls(item) for item in body["content"]]
    return body


def _item_without_nulls(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {
        key: {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
        for key, value in item.items()
        if value is not None
    }


def parse_content(
    content: Any, rules: ModelRules, *, types: tuple[str, ...] = ("text", *MEDIA_TYPES)
) -> Content:
    """Check `content[]` item by item (§1.4) and work out its scenario: text only, first
    frame, first + last frame, multimodal reference (mutually exclusive), or, where `types`
    has it, a final rendered from a draft (one `draft_task` item alone). `types` are the item
    types the gateway accepts. Raises BadRequest with param `content`."""
    if not isinstance(content, list) or not content:
        raise BadRequest("content", "The parameter `content` must be a non-empty array.")
    result = Content()
    unroled = 0
    for item in content:
        kind = item.get("type") if isinstance(item, dict) else None
        if not isinstance(kind, str) or kind not in types:
            raise BadRequest(
                "content", f"Each content item needs a type, one of: {', '.join(types)}."
            )
        if kind == "draft_task":
            result.draft_task_id = _draft_task_id(item, content)
            result.mode = "draft_task"
            return result
        if kind == "text":
            _exact_keys(item, {"type", "text"})
            if result.text or not isinstance(item["text"], str) or not item["text"].strip():
                raise BadRequest("content", "Give exactly one non-empty text item.")
            result.text = item["text"]
            continue
        _exact_keys(item, {"type", kind, "role"}, required={"type", kind})
        media = item[kind]
        if not (
            isinstance(media, dict) and set(media) == {"url"} and isinstance(media["url"], str)
        ):
            raise BadRequest("content", f"`{kind}` must be an object with a url string.")
        role = item.get("role")
        if kind == "image_url":
            if role is None:
                unroled += 1
            elif role not in IMAGE_ROLES:
                raise BadRequest("content", f"Role `{role}` is not valid for image_url.")
        elif role != REFERENCE_ROLES[kind]:
            raise BadRequest("content", f"`{kind}` items need the role {REFERENCE_ROLES[kind]}.")
        result.media.append({"kind": MEDIA_TYPES[kind], "role": role or "", "url": media["url"]})
    if not result.text and not result.media:
        raise BadRequest("content", "The content has neither text nor media.")
    _check_scenario(result, rules, unroled)
    for item in result.media:
        _check_url(item, rules)
    return result


def _draft_task_id(item: dict, content: list) -> str:
    # §1.4: {"type": "draft_task", "draft_task": {"id": "cgt-..."}}; the final takes its
    # prompt and images from the draft, so the item stands alone.
    _exact_keys(item, {"type", "draft_task"})
    draft = item["draft_task"]
    if not (isinstance(draft, dict) and set(draft) == {"id"} and isinstance(draft["id"], str)):
        raise BadRequest("content", "`draft_task` must be an object with an id string.")
    if len(content) != 1:
        raise BadRequest("content", "A draft_task item must be the only content item.")
    return draft["id"]


def _exact_keys(item: dict, allowed: set[str], required: set[str] | None = None) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise BadRequest("content", f"Unknown content field `{unknown[0]}`.")
    missing = sorted((required or allowed) - set(item))
    if missing:
        raise BadRequest("content", f"A content item lacks `{missing[0]}`.")


def _check_scenario(content: Content, rules: ModelRules, unroled: int) -> None:
    images = [m for m in content.media if m["kind"] == "image"]
    if unroled:
        if len(images) == 1 and len(content.media) == 1:
            images[0]["role"] = "first_frame"  # one image without a role is a first frame
        else:
            raise BadRequest(
                "content",
                "The parameter `content` specified in the request is not valid: role must "
                "be specified for image contents.",
            )
    roles = Counter(m["role"] for m in content.media)
    frames = roles["first_frame"] + roles["last_frame"]
    references = roles["reference_image"] + roles["reference_video"] + roles["reference_audio"]
    if roles["first_frame"] > 1 or roles["last_frame"] > 1:
        raise BadRequest("content", "At most one first_frame and one last_frame image.")
    if roles["last_frame"] and not roles["first_frame"]:
        raise BadRequest("content", "A last_frame image needs a first_frame image.")
    if frames and references:
        raise BadRequest(
            "content",
            "First-frame, first+last-frame and reference scenarios are mutually exclusive.",
        )
    if not content.media:
        content.mode = "text"
        if not rules.text_to_video:
            raise BadRequest("content", f"{rules.id} needs an image; it has no text-to-video.")
    elif roles["last_frame"]:
        content.mode = "first_last"
        if not rules.first_last:
            raise BadRequest("content", f"{rules.id} does not support first+last frame.")
    elif roles["first_frame"]:
        content.mode = "first_frame"
        if not rules.first_frame:
            raise BadRequest("content", f"{rules.id} does not support a first frame.")
    else:
        content.mode = "reference"
        _check_reference_counts(roles, rules)
    if not content.text and content.mode == "text":
        raise BadRequest("content", "A text item is required.")


def _check_reference_counts(roles: Counter, rules: ModelRules) -> None:
    for role, limit in (
        ("reference_image", rules.max_ref_images),
        ("reference_video", rules.max_ref_videos),
        ("reference_audio", rules.max_ref_audios),
    ):
        if roles[role] > limit:
            raise BadRequest(
                "content", f"{rules.id} takes at most {limit} {role} items; got {roles[role]}."
            )
    total = roles["reference_image"] + roles["reference_video"] + roles["reference_audio"]
    if total > rules.max_refs:
        raise BadRequest("content", f"{rules.id} takes at most {rules.max_refs} references.")
    if roles["reference_audio"] and total == roles["reference_audio"]:
        raise BadRequest("content", "Reference audio needs at least one image or video too.")


def _check_url(item: dict[str, str], rules: ModelRules) -> None:
    url = item["url"]
    if url.startswith("data:"):
        if item["kind"] == "video":
            raise BadRequest("content", "reference_video must be provided as a web url.")
        header, _, payload = url.partition(",")
        if not header.startswith(f"data:{item['kind']}/") or ";base64" not in header:
            raise BadRequest("content", f"A data URL must be data:{item['kind']}/...;base64,...")
        try:
            base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("content", "The data URL is not valid base64.") from exc
    elif url.startswith("asset://"):
        if not rules.portraits:
            raise BadRequest("content", f"{rules.id} does not accept asset:// references.")
    elif not url.startswith(("https://", "http://")):
        raise BadRequest("content", f"Unsupported media URL scheme in {url[:40]!r}.")


def fetch_media(engine: SimEngine, content: Content) -> None:
    """Download every web and asset:// reference like the gateway does; BadRequest if one
    cannot be fetched. data: URLs carry their bytes and are not fetched. A web reference video
    must be a video of 1.8-15 s, 15 s in all (§1.6); their total goes to
    `content.video_seconds` (billed, §1.14). asset:// videos are not downloaded: their length
    is unknown here and counts 0."""
    for item in content.media:
        url = item["url"]
        if url.startswith("data:"):
            continue
        ok, detail, data = engine.fetch_media_bytes(url, keep=item["kind"] == "video")
        if not ok:
            raise BadRequest(
                "content", f"The media URL could not be downloaded ({detail}): {url[:80]}"
            )
        if item["kind"] == "video" and data:
            content.video_seconds += _video_seconds(data, url)
    if content.video_seconds > VIDEO_TOTAL_SECONDS:
        raise BadRequest(
            "content",
            f"The reference videos last {content.video_seconds:.1f} s in all; at most "
            f"{VIDEO_TOTAL_SECONDS:.0f} s.",
        )


def _video_seconds(data: bytes, url: str) -> float:
    seconds = probe.video_seconds(data)
    if seconds is None:
        raise BadRequest("content", f"The reference video is not a readable video: {url[:80]}")
    low, high = VIDEO_SECONDS
    if not low <= seconds <= high:
        raise BadRequest(
            "content",
            f"A reference video must last {low}-{high:.0f} s; {url[:80]} lasts {seconds:.1f} s.",
        )
    return seconds


def check_duration(rules: ModelRules, duration: Any, *, param: str = "duration") -> int:
    """`duration` (default 5) as an int within the model's range, or BadRequest."""
    if duration is None:
        return 5
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not rules.has_duration(duration)
    ):
        auto = " or -1" if rules.auto_duration else ""
        raise BadRequest(
            param,
            f"The parameter `{param}` must be an integer from {rules.min_duration} to "
            f"{rules.max_duration}{auto} for {rules.id}.",
        )
    return duration


def check_frames(rules: ModelRules, frames: Any, *, param: str = "frames") -> int:
    """Seconds of output for `frames` (25+4n in [29, 289], §1.3), or BadRequest."""
    if not rules.frames:
        raise BadRequest(param, f"{rules.id} does not support `frames`.")
    if (
        isinstance(frames, bool)
        or not isinstance(frames, int)
        or not 29 <= frames <= 289
        or (frames - 25) % 4
    ):
        raise BadRequest(param, "`frames` must be 25+4n within [29, 289].")
    return max(1, round((frames - 1) / 24))


def check_resolution(rules: ModelRules, resolution: Any, mode: str, *, param: str) -> str:
    resolution = rules.default_resolution if resolution is None else resolution
    if resolution not in rules.resolutions:
        raise BadRequest(
            param,
            f"The parameter `{param}` must be one of {', '.join(rules.resolutions)} "
            f"for {rules.id}.",
        )
    if mode == "reference" and rules.ref_resolutions and resolution not in rules.ref_resolutions:
        allowed = ", ".join(rules.ref_resolutions)
        raise BadRequest(param, f"{rules.id} renders reference-image tasks at {allowed}.")
    return resolution


def check_ratio(rules: ModelRules, ratio: Any, mode: str, *, param: str) -> str:
    if ratio is None:
        return "16:9" if mode == "text" else "adaptive"
    if ratio not in rules.ratios:
        raise BadRequest(
            param, f"The parameter `{param}` must be one of {', '.join(rules.ratios)}."
        )
    return ratio


def check_seed(seed: Any, *, param: str = "seed") -> int:
    if seed is None:
        return -1
    if isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed <= 2**32 - 1:
        raise BadRequest(param, f"The parameter `{param}` must be an integer in [-1, 4294967295].")
    return seed


def check_common(body: dict[str, Any], rules: ModelRules) -> None:
    """The task-level fields both dialects share: callback_url, return_last_frame,
    service_tier, execution_expires_after (§1.3)."""
    callback = body.get("callback_url")
    if callback is not None and (
        not isinstance(callback, str) or not callback.startswith(("http://", "https://"))
    ):
        raise BadRequest("callback_url", "The parameter `callback_url` must be an http(s) URL.")
    if "return_last_frame" in body and not isinstance(body["return_last_frame"], bool):
        raise BadRequest("return_last_frame", "`return_last_frame` must be a boolean.")
    tier = body.get("service_tier", "default")
    if tier not in ("default", "flex"):
        raise BadRequest("service_tier", "The parameter `service_tier` must be default or flex.")
    if tier == "flex" and not rules.flex:
        raise BadRequest("service_tier", f"{rules.id} does not support the flex service tier.")
    expires = body.get("execution_expires_after")
    if expires is not None and (
        isinstance(expires, bool) or not isinstance(expires, int) or not 3600 <= expires <= 259200
    ):
        raise BadRequest(
            "execution_expires_after",
            "The parameter `execution_expires_after` must be an integer in [3600, 259200].",
        )


def check_bool(body: dict[str, Any], key: str) -> bool | None:
    if key not in body:
        return None
    if not isinstance(body[key], bool):
        raise BadRequest(key, f"The parameter `{key}` must be a boolean.")
    return body[key]
