"""The official Ark "content generation tasks" dialect, as docs/upstream-research.md §1 has it.

Prefix /ark/api/v3:
    POST   /contents/generations/tasks         create -> {"id": "cgt-YYYYMMDDHHMMSS-xxxxx"}
    GET    /contents/generations/tasks/{id}    the task
    GET    /contents/generations/tasks         list: page_num, page_size, filter.status,
                                               filter.model, filter.task_ids (repeated),
                                               filter.service_tier -> {"total", "items"}
    DELETE /contents/generations/tasks/{id}    §1.9: queued -> cancelled; running -> error;
                                               finished -> record deleted (then 404)

Statuses queued, running, succeeded, failed, expired (execution_expires_after passed, on the
simulator's clock), cancelled. Callbacks carry the GET body on every status change (§1.10).
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from projects.upstream_sim import render
from projects.upstream_sim.dialects import ark_body
from projects.upstream_sim.dialects.base import (
    BadRequest,
    Dialect,
    SimResponse,
    require_fields,
)
from projects.upstream_sim.engine import TASK_FAULTS, SimEngine, SimTask

TASKS = "contents/generations/tasks"
# The create fields of the SDK's signature (§1.3), plus ComfyUI's extra_body task type.
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
    "omni_reference_task_type",
}
LIST_PARAMS = {
    "page_num",
    "page_size",
    "filter.status",
    "filter.task_ids",
    "filter.model",
    "filter.service_tier",
}
LIST_STATUSES = {"queued", "running", "cancelled", "succeeded", "failed"}
DEFAULT_EXPIRES_AFTER = 172800
LIST_WINDOW_S = 7 * 86400  # the list shows tasks of the last 7 days (§1.8)
CANCELLED_VISIBLE_S = 86400  # cancelled ones for 24 h
CALLBACK_STATUSES = {"queued", "running", "succeeded", "failed", "expired"}  # §1.10


class ArkDialect(Dialect):
    """The official Ark tasks API (see the module docstring)."""

    name = "ark"
    prefix = "/ark/api/v3"
    label = "Ark"

    def handle(self, engine, method, path, query, body, headers) -> SimResponse:
        parts = [p for p in path.split("/") if p]
        if parts[:3] != TASKS.split("/") or len(parts) > 4:
            return self.error(404, "NotFound", f"No route {method} {path}.")
        task_id = parts[3] if len(parts) == 4 else None
        if task_id is None and method == "POST":
            return self.create(engine, body)
        if task_id is None and method == "GET":
            return self.list(engine, query)
        if task_id is not None and method == "GET":
            return self.get(engine, task_id)
        if task_id is not None and method == "DELETE":
            return self.delete(engine, task_id)
        return self.error(404, "NotFound", f"No route {method} {path}.")

    # --- create ----------------------------------------------------------------------------
    def create(self, engine: SimEngine, body: Any) -> SimResponse:
        engine.record(dialect=self.name, op="create", method="POST", path=TASKS, body=body)
        fault, response = self.request_fault(engine, "create")
        if response is not None:
            return response
        try:
            spec = self.validate(engine, body)
        except BadRequest as exc:
            return self.bad_request(exc)
        task = engine.create_task(
            dialect=self.name,
            task_id=new_task_id(engine),
            task_fault=engine.take_fault(op="create", dialect=self.name, kinds=TASK_FAULTS),
            **spec,
        )
        if fault is not None and fault.kind == "lost_create":
            return SimResponse(action="drop")
        return SimResponse(body={"id": task.id})

    def bad_request(self, exc: BadRequest) -> SimResponse:
        status = 404 if exc.code == ark_body.MODEL_NOT_FOUND else 400
        return self.error(status, exc.code, exc.message, exc.param)

    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        """The engine.create_task arguments for a create body, or BadRequest (§1.3, §1.4)."""
        body = require_fields(body, FIELDS, {"model", "content"})
        rules = ark_body.model_rules(body["model"])
        content = ark_body.parse_content(body["content"], rules)
        ark_body.check_common(body, rules)
        if "frames" in body:
            duration = ark_body.check_frames(rules, body["frames"])
        else:
            duration = ark_body.check_duration(rules, body.get("duration"))
        resolution = ark_body.check_resolution(
            rules, body.get("resolution"), content.mode, param="resolution"
        )
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
        self._check_extras(body, rules, resolution, ratio, duration)
        ark_body.fetch_media(engine, content)
        return {
            "model": rules.id,
            "body": body,
            "duration_s": duration,
            "resolution": resolution,
            "ratio": ratio,
            "audio": rules.audio and audio is not False,  # default true where supported
            "callback_url": body.get("callback_url", ""),
            "return_last_frame": bool(body.get("return_last_frame")),
            "expires_after": float(body.get("execution_expires_after", DEFAULT_EXPIRES_AFTER)),
            "extra": {
                "requested_duration": duration,
                "seed": seed if seed != -1 else secrets.randbelow(2**31),
                "service_tier": body.get("service_tier", "default"),
                "execution_expires_after": body.get(
                    "execution_expires_after", DEFAULT_EXPIRES_AFTER
                ),
            },
        }

    def _check_extras(
        self, body: dict[str, Any], rules: ark_body.ModelRules, resolution, ratio, duration
    ) -> None:
        draft = ark_body.check_bool(body, "draft")
        if draft and (not rules.draft or resolution != "480p"):
            raise BadRequest("draft", "`draft` is 1.5 pro only, at 480p.")
        tools = body.get("tools")
        if tools is not None and (
            not rules.tools
            or not isinstance(tools, list)
            or any(tool != {"type": "web_search"} for tool in tools)
        ):
            raise BadRequest("tools", 'The parameter `tools` must be [{"type": "web_search"}].')
        priority = body.get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise BadRequest("priority", "The parameter `priority` must be an integer.")
        identifier = body.get("safety_identifier")
        if identifier is not None and (not isinstance(identifier, str) or len(identifier) > 64):
            raise BadRequest("safety_identifier", "`safety_identifier` is a string of <= 64.")
        task_type = body.get("omni_reference_task_type")
        if task_type is not None:
            if not rules.tools or task_type not in ("auto", "reference", "edit", "extend"):
                raise BadRequest("omni_reference_task_type", "Unsupported task type.")
            if task_type == "edit" and (ratio != "adaptive" or duration != -1):
                raise BadRequest(
                    "omni_reference_task_type",
                    "An edit task needs ratio adaptive and duration -1.",
                    code="InvalidParameter.TaskTypeConstraint",
                )

    # --- read ------------------------------------------------------------------------------
    def get(self, engine: SimEngine, task_id: str) -> SimResponse:
        engine.record(
            dialect=self.name, op="get", method="GET", path=f"{TASKS}/{task_id}", body=None
        )
        _fault, response = self.request_fault(engine, "get")
        if response is not None:
            return response
        task = self._task(engine, task_id)
        if task is None:
            return self._not_found(task_id)
        engine.count_status([task.id])
        return SimResponse(body=self.task_body(engine, task))

    def list(self, engine: SimEngine, query: dict[str, list[str]]) -> SimResponse:
        engine.record(dialect=self.name, op="list", method="GET", path=TASKS, body=query)
        _fault, response = self.request_fault(engine, "list")
        if response is not None:
            return response
        unknown = sorted(set(query) - LIST_PARAMS)
        if unknown:
            param = unknown[0]
            return self.error(400, "InvalidParameter", f"Unknown parameter `{param}`.", param)
        single = {k: v[-1] for k, v in query.items() if k != "filter.task_ids"}
        try:
            page_num = _int_param(single, "page_num", 1, 1, 10**6)
            page_size = _int_param(single, "page_size", 10, 1, 500)
        except BadRequest as exc:
            return self.bad_request(exc)
        status = single.get("filter.status")
        if status is not None and status not in LIST_STATUSES:
            return self.error(
                400, "InvalidParameter", "`filter.status` is not a valid status.", "filter.status"
            )
        wanted_ids = set(query.get("filter.task_ids", []))
        now, wall = engine.now(), time.time()
        items = []
        tasks = engine.tasks_of(self.name)
        for task in sorted(tasks, key=lambda t: (t.created_wall, t.id), reverse=True):
            word = task.status_at(now)
            if wall - task.created_wall > LIST_WINDOW_S:
                continue
            if word == "cancelled" and wall - self._wall(engine, task, task.cancelled_at) > (
                CANCELLED_VISIBLE_S
            ):
                continue
            if (
                (status and word != status)
                or (wanted_ids and task.id not in wanted_ids)
                or ("filter.model" in single and task.model != single["filter.model"])
                or (
                    "filter.service_tier" in single
                    and task.extra.get("service_tier") != single["filter.service_tier"]
                )
            ):
                continue
            items.append(task)
        page = items[(page_num - 1) * page_size : page_num * page_size]
        if wanted_ids:  # a status request about these tasks (not a reconcile search)
            engine.count_status([t.id for t in page])
        return SimResponse(
            body={"total": len(items), "items": [self.task_body(engine, t) for t in page]}
        )

    # --- cancel / delete -------------------------------------------------------------------
    def delete(self, engine: SimEngine, task_id: str) -> SimResponse:
        engine.record(
            dialect=self.name, op="cancel", method="DELETE", path=f"{TASKS}/{task_id}", body=None
        )
        _fault, response = self.request_fault(engine, "cancel")
        if response is not None:
            return response
        task = self._task(engine, task_id)
        if task is None:
            return self._not_found(task_id)
        cancelled, word = engine.cancel_task(task, allowed={"queued"})
        if cancelled:
            return SimResponse(body={})
        if word in ("succeeded", "failed", "expired"):
            engine.delete_task(task.id)  # the record goes; the task is no longer queryable
            return SimResponse(body={})
        return self.error(
            400,
            "InvalidParameter",
            f"The task {task_id} is {word}; only queued tasks can be cancelled"
            + (" (a running task cannot be stopped)." if word == "running" else "."),
            "id",
        )

    # --- bodies ----------------------------------------------------------------------------
    def callback_body(self, engine: SimEngine, task: SimTask, status: str) -> dict | None:
        if status not in CALLBACK_STATUSES:
            return None
        return self.task_body(engine, task, status=status)

    def task_body(self, engine: SimEngine, task: SimTask, *, status: str | None = None) -> dict:
        """The GET body (§1.8) of `task` in `status` (default: its status now)."""
        word = status or task.status_at(engine.now())
        finished = word in ("succeeded", "failed", "expired")
        duration = task.duration_s if word == "succeeded" else task.extra["requested_duration"]
        body: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": word,
            "created_at": int(task.created_wall),
            "updated_at": int(self._wall(engine, task, self._changed_at(task, word))),
            "seed": task.extra["seed"],
            "resolution": task.resolution,
            "ratio": task.ratio,
            "duration": duration,
            "framespersecond": 24,
            "service_tier": task.extra["service_tier"],
            "execution_expires_after": task.extra["execution_expires_after"],
        }
        if ark_body.MODELS[task.model].audio:
            body["generate_audio"] = task.audio
        if word == "succeeded":
            urls = engine.outputs(task)
            body["content"] = {"video_url": urls["video"]}
            if "last_frame" in urls:
                body["content"]["last_frame_url"] = urls["last_frame"]
            width, height = render.output_size(task.resolution, task.ratio)
            tokens = ark_body.usage_tokens(width, height, task.duration_s)
            body["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        elif finished:
            body["error"] = {
                "code": task.error_code or "TaskExpired",
                "message": task.error_message
                or "The task exceeded execution_expires_after and expired.",
            }
        return body

    def _changed_at(self, task: SimTask, word: str) -> float:
        if word == "queued":
            return task.created_at
        if word == "running":
            return task.created_at + task.queue_s
        if word == "cancelled" and task.cancelled_at is not None:
            return task.cancelled_at
        if word == "expired" and task.expires_after is not None:
            return min(task.finished_at(), task.created_at + task.expires_after)
        return task.finished_at()

    @staticmethod
    def _wall(engine: SimEngine, task: SimTask, upstream_t: float | None) -> float:
        if upstream_t is None:
            return task.created_wall
        return task.created_wall + engine.real_seconds(upstream_t - task.created_at)

    def _task(self, engine: SimEngine, task_id: str) -> SimTask | None:
        task = engine.get_task(task_id)
        return task if task is not None and task.dialect == self.name else None

    def _not_found(self, task_id: str) -> SimResponse:
        return self.error(
            404,
            "ResourceNotFound",
            f"The specified task {task_id} is not found.",
            "id",
        )


def new_task_id(engine: SimEngine) -> str:
    """A fresh id shaped like Ark's: cgt-YYYYMMDDHHMMSS-xxxxx (UTC, 5 lowercase alnum)."""
    alphabet = string.ascii_lowercase + string.digits
    while True:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        task_id = f"cgt-{stamp}-{''.join(secrets.choice(alphabet) for _ in range(5))}"
        if engine.get_task(task_id) is None:
            return task_id


def _int_param(params: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadRequest(key, f"The parameter `{key}` must be an integer in [{low}, {high}].")
    return value
