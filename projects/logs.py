"""Structured logs: the fields a log line is about (`task`, `provider`, ...), and a JSON
formatter that writes one object per line.

Fields come two ways: `extra={"task": ...}` on the call, or `log_context(task=...)` around
a job (the worker's entry points and each poll job set it), which `ContextFilter` copies
onto every record made inside, whoever logs it (an adapter, httpx, Django). Settings attach
ContextFilter and then projects.redaction.RedactSecretsFilter to every handler, so fields
are redacted like messages. `SEEDANCE_LOG_FORMAT=json` selects JsonFormatter for the
console; `plain` (the default) keeps one readable line, with the fields appended.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any]] = ContextVar("log_context", default={})  # noqa: B039
# Attributes every LogRecord has: anything else on a record is a field someone added.
STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Attributes Django puts on records that are objects, not fields (request, server socket).
NOT_FIELDS = frozenset({"request", "server_time", "status_code"})


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values left out) to every log record made inside the block on this
    thread or task."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def with_log_context(func: Callable[..., Any], **kwargs: Any) -> Callable[[], Any]:
    """A job that runs `func(**kwargs)` with its `task_id` (as `task`) or `task_ids` (as
    `tasks`) and `provider` in the log context."""

    def job() -> Any:
        ids = kwargs.get("task_ids")
        with log_context(
            task=kwargs.get("task_id"),
            tasks=",".join(ids) if ids else None,
            provider=kwargs.get("provider"),
        ):
            return func(**kwargs)

    job.__name__ = job.__qualname__ = f"{getattr(func, '__name__', 'job')}({kwargs})"
    return job


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's own fields: what `extra=` and log_context added."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in STANDARD_ATTRS and key not in NOT_FIELDS and not key.startswith("_")
    }


class ContextFilter(logging.Filter):
    """Copies the log context's fields onto each record (fields given with `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, the
    record's fields (`task`, `provider`, `event`, ...) and `exc` (the traceback) if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            entry.setdefault(key, _jsonable(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message`, then the record's fields as key=value when the message
    does not already say them."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        message = record.getMessage()
        extras = [
            f"{key}={value}"
            for key, value in record_fields(record).items()
            if f"{key}={value}" not in message
        ]
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # a traceback stays below the line
        return f"{head} {' '.join(extras)}{sep}{tail}"
