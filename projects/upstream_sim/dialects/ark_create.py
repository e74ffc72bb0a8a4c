"""The create body of the official tasks API (Ark and BytePlus ModelArk) checked field by field
and turned into an engine task: docs/upstream-research.md §1.3 (fields), §1.4 (content),
§9 (draft, per-model limits) and the official SDKs' `tasks.create()` signature
(volcenginesdkarkruntime / byteplussdkarkruntime `resources/content_generation/tasks.py`).

A JSON null is an absent field (the SDKs send every unset parameter as null). A field the API
does not know is refused; a known one the model does not take is refused naming it.
"""

from __future__ import annotations

import secrets
from typing import Any

from projects.upstream_sim.dialects import ark_body
from projects.upstream_sim.dialects.ark_models import ModelRules, model_rules
from projects.upstream_sim.dialects.base import BadRequest, require_fields
from projects.upstream_sim.engine import SimEngine, SimTask

# The SDKs' create() parameters (both send output_format and omni_reference_task_type too).
FIELDS = {
    "model",
    "content",
    "safety_identifier",
    "callback_url",
    "return_last_frame",
    "service_tier",
    "execution_expires_after",
    "priority",
    "generate_audio",
    "draft",
    "camera_fixed",
    "watermark",
    "seed",
    "resolution",
    "ratio",
    "duration",
    "frames",
    "tools",
    "output_format",
    "omni_reference_task_type",
}
DEFAULT_EXPIRES_AFTER = 172800  # 48 h (§1.3)
PRIORITIES = range(0, 10)  # §1.3: 0-9, the only range documented (AceData's, for Ark)
DRAFT_RESOLUTION = "480p"  # §1.3: a draft renders at 480p only
# What a final rendered from a draft takes from the draft; a request may repeat a value but
# not change it.
INHERITED = ("ratio", "duration", "seed", "camera_fixed", "generate_audio")


def create_spec(
    engine: SimEngine, body: Any, *, dialect: str, models: dict[str, ModelRules]
) -> dict[str, Any]:
    """The `engine.create_task` arguments for a create `body` sent to `dialect` whose model
    table is `models`, or BadRequest naming the offending field."""
    raw = body
    body = require_fields(ark_body.drop_nulls(body), FIELDS, {"model", "content"})
    rules = model_rules(body["model"], models)
    types = ("text", *ark_body.MEDIA_TYPES) + (("draft_task",) if rules.draft else ())
    content = ark_body.parse_content(body["content"], rules, types=types)
    ark_body.check_common(body, rules)
    if content.mode == "draft_task":
        source = _draft_source(engine, dialect, content.draft_task_id, rules)
        body = _inherit(body, source)
        content.text, content.media = source.extra["prompt"], source.extra["media"]
        content.mode = source.extra["mode"]
    else:
        source = None
    draft = _check_draft(body, rules, content)
    frames = None
    if "frames" in body:
        frames = body["frames"]
        duration = ark_body.check_frames(rules, frames)
    else:
        duration = ark_body.check_duration(rules, body.get("duration"))
    resolution = ark_body.check_resolution(
        rules,
        body.get("resolution", DRAFT_RESOLUTION if draft else None),
        content.mode,
        param="resolution",
    )
    if draft and resolution != DRAFT_RESOLUTION:
        raise BadRequest("resolution", f"A draft renders at {DRAFT_RESOLUTION} only.")
    ratio = ark_body.check_ratio(rules, body.get("ratio"), content.mode, param="ratio")
    seed = ark_body.check_seed(body.get("seed"))
    ark_body.check_bool(body, "watermark")
    audio = ark_body.check_bool(body, "generate_audio")
    if audio and not rules.audio:
        raise BadRequest("generate_audio", f"{rules.id} cannot generate audio.")
    if ark_body.check_bool(body, "camera_fixed") is not None and (
        not rules.camera_fixed or content.mode == "reference"
    ):
        raise BadRequest("camera_fixed", f"`camera_fixed` is not supported here ({rules.id}).")
    _check_extras(body, rules, ratio, duration)
    if source is None:
        ark_body.fetch_media(engine, content)
    else:
        content.video_seconds = source.extra["input_video_s"]
    expires = body.get("execution_expires_after", DEFAULT_EXPIRES_AFTER)
    return {
        "model": rules.id,
        "body": raw,
        "duration_s": duration,
        "frames": frames,
        "resolution": resolution,
        "ratio": ratio,
        "audio": rules.audio and audio is not False,  # default true where supported (§1.3)
        "callback_url": body.get("callback_url", ""),
        "return_last_frame": bool(body.get("return_last_frame")),
        "expires_after": float(expires),
        "extra": {
            "requested_duration": duration,
            "seed": seed if seed != -1 else secrets.randbelow(2**31),
            "service_tier": body.get("service_tier", "default"),
            "execution_expires_after": expires,
            "priority": body.get("priority", 0),
            "draft": draft,
            "draft_task_id": source.id if source is not None else "",
            "safety_identifier": body.get("safety_identifier"),
            "tools": body.get("tools"),
            "prompt": content.text,
            "media": content.media,
            "mode": content.mode,
            "input_video_s": content.video_seconds,
            "camera_fixed": body.get("camera_fixed"),
        },
    }


def _draft_source(engine: SimEngine, dialect: str, task_id: str, rules: ModelRules) -> SimTask:
    """The succeeded draft of `rules.id` that a draft_task item names (§1.4), or BadRequest."""
    task = engine.get_task(task_id)
    if task is None or task.dialect != dialect or not task.extra.get("draft"):
        raise BadRequest("content", f"The draft task {task_id[:80]} does not exist.")
    if task.model != rules.id:
        raise BadRequest("content", f"The draft task {task_id} was made with {task.model}.")
    status = task.status_at(engine.now())
    if status != "succeeded":
        raise BadRequest("content", f"The draft task {task_id} is {status}, not succeeded.")
    return task


def _inherit(body: dict[str, Any], draft: SimTask) -> dict[str, Any]:
    """`body` with the draft's generation parameters filled in; BadRequest if it changes one.
    Repeating what the draft was asked (duration -1, seed -1) is not a change."""
    made = {
        "ratio": draft.ratio,
        "duration": draft.duration_s,
        "seed": draft.extra["seed"],
        "generate_audio": draft.audio,
        "camera_fixed": draft.extra["camera_fixed"],
    }
    asked = {"duration": draft.extra["requested_duration"], "seed": -1}
    for key in INHERITED:
        if key in body and body[key] not in (made[key], asked.get(key, made[key])):
            raise BadRequest(key, f"`{key}` comes from the draft task and cannot change.")
    if body.get("draft") is True:
        raise BadRequest("draft", "A final rendered from a draft task is not a draft.")
    made = {key: value for key, value in made.items() if value is not None}
    return {**body, **made}


def _check_draft(body: dict[str, Any], rules: ModelRules, content: ark_body.Content) -> bool:
    """Whether this is a draft preview (§1.3, §9: 1.5 pro, 480p, no flex, no last frame)."""
    draft = ark_body.check_bool(body, "draft")
    if not draft:
        return False
    if not rules.draft:
        raise BadRequest("draft", f"{rules.id} has no draft mode.")
    if body.get("service_tier") == "flex":
        raise BadRequest("service_tier", "A draft cannot run on the flex tier.")
    if body.get("return_last_frame"):
        raise BadRequest("return_last_frame", "A draft has no last frame.")
    return True


def _check_extras(body: dict[str, Any], rules: ModelRules, ratio: str, duration: int) -> None:
    """tools, priority, safety_identifier, omni_reference_task_type and output_format (§1.3)."""
    tools = body.get("tools")
    if tools is not None and (
        not rules.tools
        or not isinstance(tools, list)
        or not tools
        or any(tool != {"type": "web_search"} for tool in tools)
    ):
        raise BadRequest("tools", 'The parameter `tools` must be [{"type": "web_search"}].')
    priority = body.get("priority")
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or priority not in PRIORITIES
    ):
        raise BadRequest("priority", "The parameter `priority` must be an integer in [0, 9].")
    identifier = body.get("safety_identifier")
    if identifier is not None and (not isinstance(identifier, str) or len(identifier) > 64):
        raise BadRequest(
            "safety_identifier", "The parameter `safety_identifier` is a string of <= 64."
        )
    task_type = body.get("omni_reference_task_type")
    if task_type is not None:
        if not rules.tools or task_type not in ("auto", "reference", "edit", "extend"):
            raise BadRequest("omni_reference_task_type", "Unsupported task type.")
        if task_type in ("edit", "extend") and ratio != "adaptive":
            raise BadRequest(
                "omni_reference_task_type",
                f"An {task_type} task needs ratio adaptive.",
                code="InvalidParameter.TaskTypeConstraint",
            )
        if task_type == "edit" and duration != -1:
            raise BadRequest(
                "omni_reference_task_type",
                "An edit task needs duration -1.",
                code="InvalidParameter.TaskTypeConstraint",
            )
    output_format = body.get("output_format")
    if output_format is not None and output_format not in rules.output_formats:
        formats = ", ".join(rules.output_formats) or "none (only Seedance 2.5 takes it)"
        raise BadRequest(
            "output_format", f"`output_format` for {rules.id} must be one of: {formats}."
        )
