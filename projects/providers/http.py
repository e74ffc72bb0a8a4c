"""The one place upstream HTTP happens: a client factory with a mandatory timeout, and the
translation of transport failures and HTTP statuses into the provider exceptions.

Zulip's `OutgoingSession(role, timeout)` and `catch_stripe_errors` are the models: adapters
call `request_json` and never see httpx exceptions.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import httpx

from projects.providers.base import (
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
    VideoProvider,
)
from projects.providers.capabilities import ProviderCapabilities
from projects.redaction import redact

logger = logging.getLogger(__name__)

USER_AGENT = "seedance-web/0.1 (+https://github.com/seedance-web)"
MODERATION_MARKERS = ("SensitiveContent", "RiskDetection", "ContentSecurity", "moderation")
# "… Request id: 0217787249219670…": vendor request ids are noise to users and leak internals.
_REQUEST_ID = re.compile(r"\s*\(?\s*request[ _-]?id\s*[:=]\s*[\w\-]+\)?\.?", re.IGNORECASE)


def load_json(body: bytes | str) -> Any:
    """A gateway's body (a reply or a callback) as JSON. Raises ValueError, and only that, for
    anything unreadable: not UTF-8, not JSON (NaN and Infinity included), nested past
    Python's recursion limit (which json raises as RecursionError), or an integer of more
    than 4,300 digits (int's limit): bodies come from outside, and none of those may crash a
    worker or answer 500."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError("The JSON is nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ValueError(f"Not JSON ({type(exc).__name__}).") from exc


def _no_constant(word: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259); Python's decoder accepts them, and a float
    # that cannot be written back as JSON breaks whatever stores or re-encodes it later.
    raise ValueError(f"{word} is not a JSON value.")


def build_http_client(
    *,
    base_url: str,
    api_key: str,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx.Client for one gateway: Bearer auth, JSON, a User-Agent and `timeout` seconds
    on every phase (connect, read, write, pool). Pass `transport` in tests (MockTransport)."""
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={
            "Authorization": f"Bearer {api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        },
        timeout=httpx.Timeout(timeout),
        transport=transport,
        follow_redirects=False,
    )


ErrorParser = Callable[[Any], tuple[str, str]]


def default_error_parser(body: Any) -> tuple[str, str]:
    """(code, message) from the common envelopes: Ark/AllToken/OpenAI `{"error": {...}}`,
    seedance2.ink `{"success": false, "error": {...}}`, AceData `{"error": {...}, "trace_id"}`,
    or a flat `{"code", "message"}`."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or error.get("type") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return "", error
    return str(body.get("code") or ""), str(body.get("message") or body.get("msg") or "")


def clean_message(message: str, secrets: tuple[str, ...] = ()) -> str:
    """A vendor message fit for a user: request ids removed, `secrets` (the API key the
    request was sent with: a gateway may echo it), Bearer tokens and the like replaced by
    [redacted] (projects/redaction.py `redact`), whitespace collapsed, capped at 500
    characters."""
    text = redact(_REQUEST_ID.sub("", message or ""), [s for s in secrets if s]).strip()
    return " ".join(text.split())[:500]


def _client_secrets(client: httpx.Client) -> tuple[str, ...]:
    # The key travels as `Authorization: Bearer <key>` (build_http_client) or as an adapter's
    # own header; either way it must not come back to a user inside an echoed message.
    values = (client.headers.get("authorization", ""), client.headers.get("x-api-key", ""))
    return tuple(v.removeprefix("Bearer ").strip() for v in values if v.strip())


def request_json(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    label: str,
    json_body: dict[str, Any] | None = None,
    params: Any = None,
    error_parser: ErrorParser = default_error_parser,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Send one request and return its JSON object body. `timeout` (seconds) replaces the
    client's for this request only (a create the gateway answers when the video is done).

    Raises ProviderTransientError (not sent / 429 / 5xx; `retry_after` from Retry-After),
    ProviderOutcomeUnknown (sent, answer lost or malformed), ProviderRejectedError (other 4xx;
    `kind` auth for 401/403, quota for 402, not_found for 404, moderation when the code says so).
    `label` names the gateway in messages.
    """
    try:
        extra = {"timeout": httpx.Timeout(timeout)} if timeout is not None else {}
        response = client.request(method, path.lstrip("/"), json=json_body, params=params, **extra)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ProviderTransientError(
            f"{label} could not be reached ({type(exc).__name__})."
        ) from exc
    except httpx.TimeoutException as exc:
        raise ProviderOutcomeUnknown(f"{label} did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise ProviderOutcomeUnknown(
            f"{label} dropped the connection before answering ({type(exc).__name__})."
        ) from exc
    return parse_response(
        response, label=label, error_parser=error_parser, secrets=_client_secrets(client)
    )


def parse_response(
    response: httpx.Response,
    *,
    label: str,
    error_parser: ErrorParser = default_error_parser,
    secrets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Map one httpx.Response onto a JSON dict or a provider exception (see request_json);
    `secrets` never appear in a message (clean_message)."""
    status = response.status_code
    try:
        body: Any = load_json(response.content)
    except ValueError:
        body = None
    if 200 <= status < 300:
        if not isinstance(body, dict):
            raise ProviderOutcomeUnknown(
                f"{label} sent an unreadable reply (HTTP {status}, not a JSON object).",
                http_status=status,
            )
        return body
    code, raw_message = error_parser(body)
    message = clean_message(raw_message, secrets) or f"HTTP {status}"
    if status == 429:
        raise ProviderTransientError(
            f"{label} is rate limiting requests: {message}",
            code=code,
            http_status=status,
            retry_after=_retry_after(response),
        )
    if status >= 500 or status in (408, 425):
        raise ProviderTransientError(
            f"{label} had a server error: {message}",
            code=code,
            http_status=status,
            retry_after=_retry_after(response),
        )
    if status in (401, 403):
        raise ProviderRejectedError(
            f"{label} refused the API key or account (HTTP {status}: {message}). "
            "An admin must check the key and the account.",
            kind="auth",
            code=code,
            http_status=status,
        )
    if status == 402:
        raise ProviderRejectedError(
            f"{label} says the account balance is too low: {message}",
            kind="quota",
            code=code,
            http_status=status,
        )
    if status == 404:
        raise ProviderRejectedError(
            f"{label} does not know this: {message}",
            kind="not_found",
            code=code,
            http_status=status,
        )
    kind = (
        "moderation"
        if any(m.lower() in (code + raw_message).lower() for m in MODERATION_MARKERS)
        else "validation"
    )
    if status == 409:
        kind = "conflict"
    prefix = "refused the content" if kind == "moderation" else "rejected the request"
    raise ProviderRejectedError(
        f"{label} {prefix}: {message}", kind=kind, code=code, http_status=status
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        logger.info("ignoring non-numeric Retry-After %r", value)
        return None


class HttpVideoProvider(VideoProvider):
    """A gateway reached over HTTP with one API key: the pooled client every adapter shares.
    Subclasses set `name` and `CAPABILITIES` (their module's capabilities table) and use
    `self._client` through `request_json`."""

    CAPABILITIES: ProviderCapabilities

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = build_http_client(
            base_url=base_url, api_key=api_key, timeout=timeout, transport=transport
        )

    def capabilities(self) -> ProviderCapabilities:
        return self.CAPABILITIES

    def close(self) -> None:
        self._client.close()
