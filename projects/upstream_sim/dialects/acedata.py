"""AceData Cloud's Seedance dialect, as its API reference and guides describe it.

Sources: ../shared/upstream/acedata-seedance-videos.txt (POST /seedance/videos),
docs/upstream-research.md §4.3, AceData's guides (github.com/AceDataCloud/Docs
guides/seedance/seedance_{videos,tasks}.mdx) for the tasks endpoint and the inline flags.

Prefix /acedata:
    POST /seedance/videos  the native Ark body (model from the doc's five 1.x ids, content of
                           text and image_url items, generate_audio, callback_url,
                           return_last_frame, service_tier, execution_expires_after, async);
                           parameters as prompt flags (--rs --rt --dur --frames --fps --seed
                           --cf --wm, or their long names). With callback_url or async: true
                           it answers at once {"success", "task_id", "trace_id"}; with
                           neither it holds the connection until the video is done and
                           answers the final result.
    POST /seedance/tasks   {"id" | "trace_id", "action": "retrieve"} -> the task record
                           {_id, id, created_at, request, trace_id, type, response}, `response`
                           only once the task has ended; {"ids": [...], "action":
                           "retrieve_batch"} -> {"items", "count"}.

The final result `{"success", "task_id", "trace_id", "data"}` is POSTed to callback_url when
the task ends. `data` comes in the API reference's array form (raw Ark tasks with usage) or,
with `data_shape = "object"`, the guides' object form ({task_id, status, video_url, ...}).

Stricter than AceData on one point, on purpose: AceData reads inline flags "weakly" (a bad
value silently falls back to the default); here a bad or unknown flag is a 400 naming it,
since a silent fallback would bill a different video than the one asked for.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from projects.upstream_sim.dialects import ark_body
from projects.upstream_sim.dialects.ark import new_task_id
from projects.upstream_sim.dialects.ark_models import model_rules
from projects.upstream_sim.dialects.ark_task import usage_tokens
from projects.upstream_sim.dialects.base import (
    BadRequest,
    Dialect,
    SimResponse,
    require_fields,
)
from projects.upstream_sim.engine import SimEngine, SimTask
from projects.upstream_sim.faults import TASK_FAULTS

MODELS = (
    "doubao-seedance-1-0-pro-250528",
    "doubao-seedance-1-0-pro-fast-251015",
    "doubao-seedance-1-5-pro-251215",
    "doubao-seedance-1-0-lite-t2v-250428",
    "doubao-seedance-1-0-lite-i2v-250428",
)
AUDIO_MODELS = {"doubao-seedance-1-5-pro-251215"}
FIELDS = {
    "model",
    "content",
    "generate_audio",
    "callback_url",
    "return_last_frame",
    "service_tier",
    "execution_expires_after",
    "async",
}
# Inline parameter -> the field it sets (the guide's table; long names per §1.5).
FLAGS = {
    "rs": "resolution",
    "resolution": "resolution",
    "rt": "ratio",
    "ratio": "ratio",
    "dur": "duration",
    "duration": "duration",
    "frames": "frames",
    "fps": "framespersecond",
    "framespersecond": "framespersecond",
    "seed": "seed",
    "cf": "camerafixed",
    "camerafixed": "camerafixed",
    "wm": "watermark",
    "watermark": "watermark",
}
# Error codes by HTTP status (the reference and the guides' error lists).
CODES = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    429: "too_many_requests",
    500: "api_error",
    503: "api_error",
}
KNOWN_CODES = {
    "bad_request",
    "no_token",
    "token_mismatched",
    "api_not_implemented",
    "invalid_token",
    "token_expired",
    "not_found",
    "too_many_requests",
    "internal_error",
    "api_error",
}
TERMINAL = {"succeeded", "failed", "expired", "cancelled"}


class AceDataDialect(Dialect):
    """AceData's /seedance/videos and /seedance/tasks (see the module docstring)."""

    name = "acedata"
    prefix = "/acedata"
    label = "AceData"

    def __init__(self, *, data_shape: str = "array") -> None:
        self.data_shape = data_shape  # "array" (API reference) or "object" (guides)

    def handle(self, engine, method, path, query, body, headers) -> SimResponse:
        if method == "POST" and path.rstrip("/") == "/seedance/videos":
            return self.create(engine, body)
        if method == "POST" and path.rstrip("/") == "/seedance/tasks":
            return self.tasks(engine, body)
        return self.error(404, "not_found", f"No route {method} {path}.")

    def error(self, status: int, code: str, message: str, param: str = "") -> SimResponse:
        """AceData's envelope: {"success": false, "error": {"code", "message"}, "trace_id"}.
        An upstream (Ark) code is kept in front of the message, as AceData forwards it."""
        if code not in KNOWN_CODES:
            message = f"{code}: {message}" if code and status == 400 else message
            code = CODES.get(status, "api_error")
        return SimResponse(
            status=status,
            body={
                "success": False,
                "error": {"code": code, "message": message},
                "trace_id": str(uuid.uuid4()),
            },
        )

    # --- create ----------------------------------------------------------------------------
    def create(self, engine: SimEngine, body: Any) -> SimResponse:
        engine.record(
            dialect=self.name, op="create", method="POST", path="seedance/videos", body=body
        )
        fault, response = self.request_fault(engine, "create")
        if response is not None:
            return response
        try:
            spec = self.validate(engine, body)
        except BadRequest as exc:
            return self.error(400, "bad_request", exc.message, exc.param)
        task = engine.create_task(
            dialect=self.name,
            task_id=str(uuid.uuid4()),
            task_fault=engine.take_fault(op="create", dialect=self.name, kinds=TASK_FAULTS),
            **spec,
        )
        task.extra["ark_id"] = new_task_id(engine)
        if fault is not None and fault.kind == "lost_create":
            return SimResponse(action="drop")
        if task.callback_url or body.get("async") is True:
            return SimResponse(
                body={"success": True, "task_id": task.id, "trace_id": task.extra["trace_id"]}
            )
        # Neither callback_url nor async: the documented synchronous mode.
        time.sleep(engine.real_seconds(max(0.0, task.finished_at() - engine.now())) + 0.02)
        return SimResponse(body=self.result(engine, task, task.status_at(engine.now())))

    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        """engine.create_task arguments for a create body, or BadRequest naming the field or
        the flag at fault."""
        # A JSON null is an absent field, as on the Ark API AceData forwards to.
        body = require_fields(ark_body.drop_nulls(body), FIELDS, {"model", "content"})
        if body["model"] not in MODELS:
            raise BadRequest("model", f"`model` must be one of {', '.join(MODELS)}.")
        rules = model_rules(body["model"])
        content = ark_body.parse_content(body["content"], rules, types=("text", "image_url"))
        if not content.text:
            raise BadRequest("content", "A text item with the prompt is required.")
        flags = parse_flags(content.text)
        ark_body.check_common(body, rules)
        ark_body.check_bool(body, "async")
        audio = ark_body.check_bool(body, "generate_audio")  # ignored by models without audio
        frames = None
        if "frames" in flags:
            frames = _int(flags["frames"], "--frames")
            duration = ark_body.check_frames(rules, frames, param="--frames")
        else:
            duration = ark_body.check_duration(
                rules, _int(flags.get("duration"), "--dur"), param="--dur"
            )
        resolution = ark_body.check_resolution(
            rules, flags.get("resolution"), content.mode, param="--rs"
        )
        ratio = ark_body.check_ratio(rules, flags.get("ratio"), content.mode, param="--rt")
        seed = ark_body.check_seed(_int(flags.get("seed"), "--seed"), param="--seed")
        if flags.get("framespersecond", "24") != "24":
            raise BadRequest("--fps", "`--fps` supports 24 only.")
        for key, flag in (("watermark", "--wm"), ("camerafixed", "--cf")):
            if flags.get(key, "false") not in ("true", "false"):
                raise BadRequest(flag, f"`{flag}` must be true or false.")
        ark_body.fetch_media(engine, content)
        expires = body.get("execution_expires_after", 172800)
        return {
            "model": rules.id,
            "body": body,
            "duration_s": duration,
            "frames": frames,
            "resolution": resolution,
            "ratio": ratio,
            "audio": rules.id in AUDIO_MODELS and audio is True,  # AceData: default false
            "callback_url": body.get("callback_url", ""),
            "return_last_frame": bool(body.get("return_last_frame")),
            "expires_after": float(expires),
            "extra": {
                "requested_duration": duration,
                "seed": seed if seed != -1 else secrets.randbelow(2**31),
                "service_tier": body.get("service_tier", "default"),
                "execution_expires_after": expires,
                "trace_id": str(uuid.uuid4()),
                "_id": secrets.token_hex(12),
            },
        }

    # --- tasks -----------------------------------------------------------------------------
    def tasks(self, engine: SimEngine, body: Any) -> SimResponse:
        action = body.get("action") if isinstance(body, dict) else None
        op = "list" if action == "retrieve_batch" else "get"
        engine.record(dialect=self.name, op=op, method="POST", path="seedance/tasks", body=body)
        _fault, response = self.request_fault(engine, op)
        if response is not None:
            return response
        try:
            body = require_fields(
                ark_body.drop_nulls(body), {"id", "ids", "trace_id", "action"}, {"action"}
            )
        except BadRequest as exc:
            return self.error(400, "bad_request", exc.message)
        if action == "retrieve":
            task = self._find(engine, body)
            if task is None:
                return self.error(404, "not_found", "The task does not exist.")
            engine.count_status([task.id])
            return SimResponse(body=self.record_body(engine, task))
        if action == "retrieve_batch":
            ids = body.get("ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                return self.error(400, "bad_request", "`ids` must be an array of task ids.")
            found = [t for t in map(engine.get_task, ids) if t and t.dialect == self.name]
            engine.count_status([t.id for t in found])
            items = [self.record_body(engine, t) for t in found]
            return SimResponse(body={"items": items, "count": len(items)})
        return self.error(400, "bad_request", "`action` must be retrieve or retrieve_batch.")

    def _find(self, engine: SimEngine, body: dict[str, Any]) -> SimTask | None:
        if isinstance(body.get("id"), str):
            task = engine.get_task(body["id"])
            return task if task is not None and task.dialect == self.name else None
        trace_id = body.get("trace_id")
        return next(
            (t for t in engine.tasks_of(self.name) if t.extra.get("trace_id") == trace_id), None
        )

    def record_body(self, engine: SimEngine, task: SimTask) -> dict[str, Any]:
        """The retrieve record; `response` appears once the task has ended."""
        record: dict[str, Any] = {
            "_id": task.extra["_id"],
            "id": task.id,
            "created_at": round(task.created_wall, 3),
            "request": task.body,
            "trace_id": task.extra["trace_id"],
            "type": "videos",
        }
        word = task.status_at(engine.now())
        if word in TERMINAL:
            record["response"] = self.result(engine, task, word)
        return record

    # --- results ---------------------------------------------------------------------------
    def callback_body(self, engine: SimEngine, task: SimTask, status: str) -> dict | None:
        # AceData posts the final result once, when the task ends.
        return self.result(engine, task, status) if status in TERMINAL else None

    def result(self, engine: SimEngine, task: SimTask, word: str) -> dict[str, Any]:
        """The final result {success, task_id, trace_id, data[, error]} for `word`."""
        urls = engine.outputs(task) if word == "succeeded" else {}
        requested = task.extra["requested_duration"]
        ark_task: dict[str, Any] = {
            "id": task.extra["ark_id"],
            "model": task.model,
            "status": word,
            "seed": task.extra["seed"],
            "resolution": task.resolution,
            "ratio": task.ratio,
            "duration": task.duration_s if word == "succeeded" else requested,
            "framespersecond": 24,
            "service_tier": task.extra["service_tier"],
            "execution_expires_after": task.extra["execution_expires_after"],
            "created_at": int(task.created_wall),
            "updated_at": int(time.time()),
        }
        result: dict[str, Any] = {
            "success": word == "succeeded",
            "task_id": task.id,
            "trace_id": task.extra["trace_id"],
        }
        if word == "succeeded":
            ark_task["content"] = {"video_url": urls["video"]}
            if "last_frame" in urls:
                ark_task["content"]["last_frame_url"] = urls["last_frame"]
            tokens = usage_tokens(task)
            ark_task["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        else:
            error = {
                "code": task.error_code or ("TaskExpired" if word == "expired" else "api_error"),
                "message": task.error_message or f"The task ended as {word}.",
            }
            ark_task["error"] = error
            result["error"] = error
        if self.data_shape == "object":
            result["data"] = {
                "task_id": ark_task["id"],
                "status": word,
                "video_url": urls.get("video"),
                "last_frame_url": urls.get("last_frame"),
                "model": task.model,
            }
        else:
            result["data"] = [ark_task]
        return result


def parse_flags(text: str) -> dict[str, str]:
    """{field: value} of the inline `--flag value` parameters in a prompt; BadRequest for an
    unknown flag, one given twice, or one without a value."""
    tokens = text.split()
    found: dict[str, str] = {}
    for index, token in enumerate(tokens):
        if not token.startswith("--") or len(token) < 3 or not token[2].isalpha():
            continue
        name = token[2:].lower()
        if name not in FLAGS:
            raise BadRequest(token, f"Unknown inline parameter `{token}`.")
        field = FLAGS[name]
        if field in found:
            raise BadRequest(token, f"The inline parameter `{token}` is given twice.")
        if index + 1 >= len(tokens) or tokens[index + 1].startswith("--"):
            raise BadRequest(token, f"The inline parameter `{token}` needs a value.")
        found[field] = tokens[index + 1].lower()
    return found


def _int(raw: str | None, flag: str) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(flag, f"`{flag}` must be an integer.") from None
