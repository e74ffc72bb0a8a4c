"""Keeping secrets out of log lines and error reports.

The secrets are the values, not the names: gateway API keys (`*_API_KEY`), SECRET_KEY and its
fallbacks, the S3 secret, passwords in database and Redis URLs, and any environment variable
whose name says it is secret. `redact(text)` replaces each of them, any `Bearer` token, any
team API key and the per-task secret of any callback URL (`/callbacks/<task>/<token>/`)
with `[redacted]`.

`RedactSecretsFilter` is attached to every log handler (settings.LOGGING) and rewrites the
message and every string field (projects/logs.py), so even a library that logs a header or a
URL cannot write a key into a log; projects/error_reports.py does the
same for Django's error pages and e-mailed reports.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REDACTED = "[redacted]"
# The secrets in the URL of the request being handled on this thread (RequestSecretsMiddleware).
_current_request_secrets: ContextVar[tuple[str, ...]] = ContextVar(
    "current_request_secrets", default=()
)
SECRET_NAME = re.compile(r"API_?KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE", re.I)
MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words
_CALLBACK_TOKEN = re.compile(r"(/callbacks/[^/\s]+/)([^/\s\"'<>?]+)")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]+(@)")
# A team API key wherever it appears (an `X-...` header echoed by a library, a local variable in
# an error report): 8 characters of prefix, a dot, 40 of secret (projects/models/api_keys.py).
_API_KEY = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{8}\.[A-Za-z0-9]{40}(?![A-Za-z0-9])")


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def secret_values() -> list[str]:
    """Every secret value configured now, longest first (so a key containing another is
    replaced whole)."""
    found: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            found.add(value)

    add(getattr(settings, "SECRET_KEY", ""))
    for value in getattr(settings, "SECRET_KEY_FALLBACKS", []):
        add(value)
    for conf in getattr(settings, "SEEDANCE_PROVIDERS", {}).values():
        add(conf.get("api_key"))
    for storage in getattr(settings, "STORAGES", {}).values():
        options = storage.get("OPTIONS", {}) or {}
        for name, value in options.items():
            if SECRET_NAME.search(name) or name in ("secret_key", "access_key"):
                add(value)
    for database in getattr(settings, "DATABASES", {}).values():
        add(database.get("PASSWORD"))
    for mailer in (getattr(settings, "MAILERS", None) or {}).values():
        for name, value in (mailer.get("OPTIONS") or {}).items():
            if SECRET_NAME.search(name):
                add(value)
    add(_url_password(getattr(settings, "REDIS_URL", "") or ""))
    for name, value in os.environ.items():
        if SECRET_NAME.search(name):
            add(value)
        elif name.endswith("_URL"):
            add(_url_password(value))
    return sorted(found, key=len, reverse=True)


def request_secrets(request: Any) -> list[str]:
    """The secrets a request carries in its URL: a callback's per-task token, and any URL
    keyword named like a secret (`token`). A crash while handling it may quote them in free
    text (an exception message), where no pattern would find them."""
    found = []
    match = getattr(request, "resolver_match", None)
    for name, value in (getattr(match, "kwargs", None) or {}).items():
        if SECRET_NAME.search(name) and len(str(value)) >= MIN_SECRET_LENGTH:
            found.append(str(value))
    callback = _CALLBACK_TOKEN.search(str(getattr(request, "path", "") or ""))
    if callback and len(callback.group(2)) >= MIN_SECRET_LENGTH:
        found.append(callback.group(2))
    return found


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every secret value, Bearer token, password in a URL and callback token
    replaced by [redacted]."""
    if not text:
        return text
    for secret in secret_values() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _CALLBACK_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _API_KEY.sub(REDACTED, text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}\2", text)


class RedactSecretsFilter(logging.Filter):
    """A handler filter that rewrites each record's message (and traceback text) through
    `redact`; it never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = (
            secret_values()
            + request_secrets(getattr(record, "request", None))
            + list(_current_request_secrets.get())
        )
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what the caller gave, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message, secrets), ()
        for key, value in _record_fields(record).items():  # extra= and log-context fields
            if isinstance(value, str):
                setattr(record, key, redact(value, secrets))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    from projects.logs import record_fields

    return record_fields(record)


def current_request_secrets() -> list[str]:
    """The URL secrets of the request being handled now (empty outside a request)."""
    return list(_current_request_secrets.get())


class RequestSecretsMiddleware:
    """Remembers the secrets in the current request's URL (a callback's token, a `token`
    URL keyword) while it is handled, so any log line or report written meanwhile, by any
    library, has them redacted (RedactSecretsFilter, projects/error_reports.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reset = _current_request_secrets.set(tuple(request_secrets(request)))
        try:
            return self.get_response(request)
        finally:
            _current_request_secrets.reset(reset)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> None:
        found = [
            str(value)
            for name, value in view_kwargs.items()
            if SECRET_NAME.search(name) and len(str(value)) >= MIN_SECRET_LENGTH
        ]
        if found:
            _current_request_secrets.set((*_current_request_secrets.get(), *found))
        return None
