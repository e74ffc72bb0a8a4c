"""What every simulated gateway dialect shares: responses, strict field checks, faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from projects.upstream_sim.engine import SimEngine, SimTask
from projects.upstream_sim.faults import REQUEST_FAULTS, TASK_FAULTS, Fault


@dataclass
class SimResponse:
    """An HTTP answer. `action` drop closes the connection without answering; hang waits
    `hang_s` real seconds first (a timeout for the client), then drops."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = ""
    hang_s: float = 0.0
    raw: bytes | None = None


class BadRequest(Exception):
    """A request the gateway's doc would reject: (param, message) for the 400 body."""

    def __init__(self, param: str, message: str, code: str = "InvalidParameter") -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.code = code


class Dialect:
    """Base for one gateway's dialect; subclasses route `handle` and shape bodies."""

    name = ""
    prefix = ""
    label = ""

    def handle(
        self,
        engine: SimEngine,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
    ) -> SimResponse:
        raise NotImplementedError

    def callback_body(self, engine: SimEngine, task: SimTask, status: str) -> dict | None:
        """The body POSTed to the task's callback URL on a status change (None: no callback)."""
        return None

    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        """The `engine.create_task` arguments for a create body (model, body, duration_s,
        resolution, ratio, audio, ...); raises BadRequest naming the offending field."""
        raise NotImplementedError

    def not_found(self, task_id: str) -> SimResponse:
        return self.error(404, "NotFound", f"Task {task_id} not found.")

    def task_body(self, engine: SimEngine, task: SimTask) -> dict[str, Any]:
        """The task as the gateway's GET shows it now."""
        raise NotImplementedError

    def cancel(self, engine: SimEngine, task: SimTask) -> SimResponse:
        """Cancel the task as the gateway does (its answer, or its refusal)."""
        raise NotImplementedError

    # --- flows every dialect shares --------------------------------------------------------
    def route_tasks(
        self,
        engine: SimEngine,
        method: str,
        path: str,
        body: Any,
        *,
        collection: str,
        new_id: Callable[[], str],
        created: Callable[[SimTask], dict[str, Any]],
        cancel: bool,
    ) -> SimResponse:
        """The REST shape the gateways share: POST `collection` creates (`create_flow`,
        answering `created(task)`), GET `collection`/{id} reads (`task_body`), and, when
        `cancel`, POST `collection`/{id}/cancel cancels (`cancel`); anything else is a 404."""
        parts = [p for p in path.split("/") if p]
        base = collection.split("/")
        rest = parts[len(base) :] if parts[: len(base)] == base else None
        route = "/".join(parts)
        if rest == [] and method == "POST":
            return self.create_flow(engine, body, path=route, task_id=new_id(), answer=created)
        if rest is not None and len(rest) == 1 and method == "GET":
            return self.task_flow(
                engine,
                op="get",
                path=route,
                task_id=rest[0],
                answer=lambda task: SimResponse(body=self.task_body(engine, task)),
            )
        if cancel and rest is not None and rest[1:] == ["cancel"] and method == "POST":
            return self.task_flow(
                engine,
                op="cancel",
                path=route,
                task_id=rest[0],
                answer=lambda task: self.cancel(engine, task),
            )
        return self.error(404, "NotFound", f"No route {method} {path}.")

    def create_flow(
        self,
        engine: SimEngine,
        body: Any,
        *,
        path: str,
        task_id: str,
        answer: Callable[[SimTask], dict[str, Any]],
    ) -> SimResponse:
        """A create, in the order a gateway works: log the request, apply a queued request
        fault (nothing is created), validate (`validate`; a BadRequest is a 400 in the
        dialect's envelope), apply a queued task fault, create the task `task_id`, and answer
        `answer(task)`, unless the fault was `lost_create`: then the task exists upstream but
        the connection drops before the client learns its id."""
        engine.record(dialect=self.name, op="create", method="POST", path=path, body=body)
        fault, response = self.request_fault(engine, "create")
        if response is not None:
            return response
        try:
            spec = self.validate(engine, body)
        except BadRequest as exc:
            return self.error(400, exc.code, exc.message, exc.param)
        task_fault = engine.take_fault(op="create", dialect=self.name, kinds=TASK_FAULTS)
        task = engine.create_task(dialect=self.name, task_id=task_id, task_fault=task_fault, **spec)
        if fault is not None and fault.kind == "lost_create":
            return SimResponse(action="drop")
        return SimResponse(body=answer(task))

    def task_flow(
        self,
        engine: SimEngine,
        *,
        op: str,
        path: str,
        task_id: str,
        answer: Callable[[SimTask], SimResponse],
    ) -> SimResponse:
        """A call about one task (`op` get, or cancel by POST): log it, apply a queued request
        fault, answer `not_found` for an id this dialect never issued, else `answer(task)`."""
        method = "GET" if op == "get" else "POST"
        engine.record(dialect=self.name, op=op, method=method, path=path, body=None)
        _fault, response = self.request_fault(engine, op)
        if response is not None:
            return response
        task = engine.get_task(task_id)
        if task is None or task.dialect != self.name:
            return self.not_found(task_id)
        if op == "get":
            engine.count_status([task.id])
        return answer(task)

    # --- helpers ---------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str, param: str = "") -> SimResponse:
        """The dialect's error envelope; Ark / OpenAI style by default."""
        error: dict[str, Any] = {"code": code, "message": message, "type": _error_type(status)}
        if param:
            error["param"] = param
        return SimResponse(status=status, body={"error": error})

    def request_fault(self, engine: SimEngine, op: str) -> tuple[Fault | None, SimResponse | None]:
        """A queued request-level fault for `op`, and the response it produces (None for
        lost_create, which the create handler applies after creating the task)."""
        fault = engine.take_fault(op=op, dialect=self.name, kinds=REQUEST_FAULTS)
        if fault is None:
            return None, None
        return fault, self.fault_response(fault)

    def fault_response(self, fault: Fault) -> SimResponse | None:
        kind = fault.kind
        if kind == "lost_create":
            return None
        if kind == "timeout":
            return SimResponse(action="hang", hang_s=fault.hang_s)
        if kind == "drop":
            return SimResponse(action="drop")
        if kind == "malformed":
            return SimResponse(
                status=200,
                raw=b"<html><body>502 Bad Gateway</body></html>",
                headers={"Content-Type": "text/html"},
            )
        if kind == "http_429":
            response = self.error(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "Request rate limit exceeded, please retry later.",
            )
            response.headers["Retry-After"] = str(int(fault.retry_after))
            return response
        table = {
            "http_400": (
                400,
                "InvalidParameter",
                "The parameter `content` specified in the request is not valid (injected fault).",
            ),
            "moderation_input": (
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain "
                "sensitive information. Request id: 02177722141114",
            ),
            "http_401": (401, "AuthenticationError", "The API key in the request is invalid."),
            "http_403": (403, "AccessDenied", "The account has no access to this model."),
            "http_404": (404, "NotFound", "The task does not exist."),
            "http_500": (500, "InternalServiceError", "The service encountered an error."),
            "http_503": (503, "ServerOverloaded", "The service is under heavy load."),
        }
        status, code, message = table[kind]
        return self.error(status, code, message)


def _error_type(status: int) -> str:
    return {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        429: "TooManyRequests",
    }.get(status, "InternalError")


def require_fields(body: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    """The body as a dict with only `allowed` keys and every `required` one; BadRequest else.
    Strict on purpose: a misspelt field is an error, as the gateways' validators make it."""
    if not isinstance(body, dict):
        raise BadRequest("body", "The request body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(unknown[0], f"Unknown parameter `{unknown[0]}`.")
    for key in sorted(required):
        if key not in body:
            raise BadRequest(key, f"The parameter `{key}` is required.", code="MissingParameter")
    return body


def expect_type(body: dict[str, Any], key: str, kinds: type | tuple[type, ...], noun: str) -> Any:
    """body[key] if present and of `kinds` (bool is never a number here), else BadRequest."""
    if key not in body:
        return None
    value = body[key]
    is_bool = isinstance(value, bool)
    wants_bool = kinds is bool or (isinstance(kinds, tuple) and bool in kinds)
    if not isinstance(value, kinds) or (is_bool and not wants_bool):
        raise BadRequest(key, f"The parameter `{key}` must be {noun}.")
    return value
