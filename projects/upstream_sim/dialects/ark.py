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
The create body is checked in ark_create.py, the task body shaped in ark_task.py; the model
table is a class attribute, so BytePlus ModelArk (byteplus.py) is this dialect with its ids.
"""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from projects.upstream_sim.dialects import ark_create, ark_task
from projects.upstream_sim.dialects.ark_models import MODEL_NOT_FOUND, VOLCENGINE, ModelRules
from projects.upstream_sim.dialects.base import BadRequest, Dialect, SimResponse
from projects.upstream_sim.engine import SimEngine, SimTask
from projects.upstream_sim.faults import TASK_FAULTS

TASKS = "contents/generations/tasks"
LIST_PARAMS = {
    "page_num",
    "page_size",
    "filter.status",
    "filter.task_ids",
    "filter.model",
    "filter.service_tier",
}
LIST_STATUSES = {"queued", "running", "cancelled", "succeeded", "failed"}
SERVICE_TIERS = {"default", "flex"}
LIST_WINDOW_S = 7 * 86400  # the list shows tasks of the last 7 days (§1.8)
CANCELLED_VISIBLE_S = 86400  # cancelled ones for 24 h
CALLBACK_STATUSES = {"queued", "running", "succeeded", "failed", "expired"}  # §1.10


class ArkDialect(Dialect):
    """The official Ark tasks API (see the module docstring)."""

    name = "ark"
    prefix = "/ark/api/v3"
    label = "Ark"
    models: dict[str, ModelRules] = VOLCENGINE

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
        created = {"id": task.id}
        if task.extra["safety_identifier"]:
            created["safety_identifier"] = task.extra["safety_identifier"]  # SDK's TaskID model
        return SimResponse(body=created)

    def bad_request(self, exc: BadRequest) -> SimResponse:
        status = 404 if exc.code == MODEL_NOT_FOUND else 400
        return self.error(status, exc.code, exc.message, exc.param)

    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        """The engine.create_task arguments for a create body, or BadRequest (§1.3, §1.4)."""
        return ark_create.create_spec(engine, body, dialect=self.name, models=self.models)

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
        tier = single.get("filter.service_tier")
        if tier is not None and tier not in SERVICE_TIERS:
            return self.error(
                400,
                "InvalidParameter",
                "`filter.service_tier` must be default or flex.",
                "filter.service_tier",
            )
        wanted_ids = set(query.get("filter.task_ids", []))
        now, wall = engine.now(), time.time()
        items = []
        tasks = engine.tasks_of(self.name)
        for task in sorted(tasks, key=lambda t: (t.created_wall, t.id), reverse=True):
            word = task.status_at(now)
            if wall - task.created_wall > LIST_WINDOW_S:
                continue
            cancelled_wall = ark_task.wall_time(engine, task, task.cancelled_at)
            if word == "cancelled" and wall - cancelled_wall > CANCELLED_VISIBLE_S:
                continue
            if (
                (status and word != status)
                or (wanted_ids and task.id not in wanted_ids)
                or ("filter.model" in single and task.model != single["filter.model"])
                or (tier is not None and task.extra.get("service_tier") != tier)
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
        """The GET body (§1.8; ark_task.task_body) of `task` in `status` (default: now's)."""
        return ark_task.task_body(engine, task, status or task.status_at(engine.now()))

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
