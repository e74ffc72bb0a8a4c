"""The task as the official tasks API shows it (GET, list items and callbacks alike):
docs/upstream-research.md §1.8, and the fields of the SDKs' `ContentGenerationTask`
(volcenginesdkarkruntime / byteplussdkarkruntime `types/content_generation/
content_generation_task.py`).
"""

from __future__ import annotations

from typing import Any

from projects.upstream_sim import tokens
from projects.upstream_sim.engine import SimEngine, SimTask

FINISHED = ("succeeded", "failed", "expired")


def task_body(engine: SimEngine, task: SimTask, word: str) -> dict[str, Any]:
    """The body of `task` in status `word`.

    Always: id, model, status, created_at, updated_at (unix s), seed, resolution, ratio,
    `duration` (s; `frames` instead when frames were asked), framespersecond (24),
    service_tier, execution_expires_after (s), priority, generate_audio, draft.
    When they apply: revised_prompt (the prompt it rendered), draft_task_id (a final rendered
    from a draft), safety_identifier and tools (echoed), content {video_url, last_frame_url}
    and usage {completion_tokens, total_tokens} once succeeded (tokens per §1.14,
    `tokens.completion_tokens`), error {code, message} once failed or expired.
    """
    extra = task.extra
    body: dict[str, Any] = {
        "id": task.id,
        "model": task.model,
        "status": word,
        "created_at": int(task.created_wall),
        "updated_at": int(wall_time(engine, task, _changed_at(task, word))),
        "seed": extra["seed"],
        "resolution": task.resolution,
        "ratio": task.ratio,
        "framespersecond": tokens.FPS,
        "service_tier": extra["service_tier"],
        "execution_expires_after": extra["execution_expires_after"],
        "priority": extra["priority"],
        "generate_audio": task.audio,
        "draft": extra["draft"],
    }
    if task.frames is not None:
        body["frames"] = task.frames
    else:
        body["duration"] = task.duration_s if word == "succeeded" else extra["requested_duration"]
    for key in ("draft_task_id", "safety_identifier", "tools"):
        if extra.get(key):
            body[key] = extra[key]
    if extra["prompt"]:
        body["revised_prompt"] = extra["prompt"]
    if word == "succeeded":
        urls = engine.outputs(task)
        body["content"] = {"video_url": urls["video"]}
        if "last_frame" in urls:
            body["content"]["last_frame_url"] = urls["last_frame"]
        used = usage_tokens(task)
        body["usage"] = {"completion_tokens": used, "total_tokens": used}
    elif word in FINISHED:
        body["error"] = {
            "code": task.error_code or "TaskExpired",
            "message": task.error_message
            or "The task exceeded execution_expires_after and expired.",
        }
    return body


def usage_tokens(task: SimTask) -> int:
    """`usage.completion_tokens` of a finished task: its output size, length (or frames) and
    reference video seconds through the §1.14 formula."""
    width, height = tokens.output_size(task.model, task.resolution, task.ratio)
    seconds = (task.frames - 1) / tokens.FPS if task.frames is not None else task.duration_s
    return tokens.completion_tokens(width, height, seconds, task.extra.get("input_video_s", 0.0))


def _changed_at(task: SimTask, word: str) -> float:
    if word == "queued":
        return task.created_at
    if word == "running":
        return task.created_at + task.queue_s
    if word == "cancelled" and task.cancelled_at is not None:
        return task.cancelled_at
    if word == "expired" and task.expires_after is not None:
        return min(task.finished_at(), task.created_at + task.expires_after)
    return task.finished_at()


def wall_time(engine: SimEngine, task: SimTask, upstream_t: float | None) -> float:
    """Unix time of the upstream moment `upstream_t` of `task` (its creation when None)."""
    if upstream_t is None:
        return task.created_wall
    return task.created_wall + engine.real_seconds(upstream_t - task.created_at)
