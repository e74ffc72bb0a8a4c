"""Recording how calls to each gateway go, for /healthz and Django admin.

Services wrap every gateway API call (submit, fetch, batch fetch, reconcile, cancel) in
`gateway_call(provider)`: a call that returns is a success, a ProviderError a failure of
its kind. Writes are throttled per process (a success at most every WRITE_EVERY seconds,
a failure when its kind changes or WRITE_EVERY has passed), so a busy worker does not write
a row per poll; a refused key and the first success after one are written at once, because
the admin is told about them (admin banner, /healthz).

Recording never breaks the call it watches: a database error here is logged and dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

from projects.models import GatewayStatus
from projects.providers.base import (
    CancelNotSupported,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
)
from projects.redaction import redact
from projects.services.render_estimate import gateway_render_summary

logger = logging.getLogger("projects.gateways")

WRITE_EVERY = 30.0  # seconds between two throttled writes for one gateway, per process
KEY_REFUSED = "auth"
# Kinds that say the gateway is unwell (as opposed to refusing one request on its merits).
UNWELL = frozenset({"auth", "quota", "rate_limited", "unavailable", "outcome_unknown"})

_lock = threading.Lock()
_written: dict[str, tuple[float, str]] = {}  # provider -> (monotonic time, "ok" | error kind)


def error_kind(exc: ProviderError) -> str:
    """The kind recorded for a failed call: ProviderRejectedError's own kind (auth, quota,
    validation, moderation, not_found, conflict), 'cancel_unsupported', 'outcome_unknown'
    (sent, answer lost),
    'rate_limited' (429) or 'unavailable' (not reached, 5xx, timeouts)."""
    if isinstance(exc, CancelNotSupported):
        return "cancel_unsupported"
    if isinstance(exc, ProviderRejectedError):
        return exc.kind
    if isinstance(exc, ProviderOutcomeUnknown):
        return "outcome_unknown"
    if isinstance(exc, ProviderTransientError) and exc.http_status == 429:
        return "rate_limited"
    return "unavailable"


@contextmanager
def gateway_call(provider: str) -> Iterator[None]:
    """Record the call made inside the block as a success, or as a failure of its kind when
    it raises a ProviderError (which is raised on, unchanged)."""
    try:
        yield
    except ProviderError as exc:
        gateway_failure(provider=provider, exc=exc)
        raise
    gateway_success(provider=provider)


def gateway_success(*, provider: str) -> None:
    """Note that `provider` answered (throttled; written at once after a failure)."""
    if not _due(provider, "ok"):
        return
    now = timezone.now()
    _save(provider, {"last_success_at": now, "key_refused_since": None})


def gateway_failure(*, provider: str, exc: ProviderError) -> None:
    """Note a failed call to `provider` (throttled per kind; a refused key at once)."""
    kind = error_kind(exc)
    if not _due(provider, kind):
        return
    now = timezone.now()
    fields = {
        "last_error_at": now,
        "last_error_kind": kind,
        "last_error_status": exc.http_status,
        "last_error_message": redact(exc.message)[:300],
    }
    if kind == KEY_REFUSED:
        current = GatewayStatus.objects.filter(provider=provider).values_list(
            "key_refused_since", flat=True
        )
        fields["key_refused_since"] = next(iter(current), None) or now
        logger.error(
            "gateway %s refused the API key (HTTP %s): an admin must check it",
            provider,
            exc.http_status,
            extra={"provider": provider, "error_kind": kind},
        )
    _save(provider, fields)


def _due(provider: str, state: str) -> bool:
    """Whether this process should write `state` for `provider` now, and if so note it."""
    now = time.monotonic()
    with _lock:
        last = _written.get(provider)
        if last is not None and last[1] == state and now - last[0] < WRITE_EVERY:
            return False
        _written[provider] = (now, state)
    return True


def _save(provider: str, fields: dict) -> None:
    try:
        GatewayStatus.objects.update_or_create(provider=provider, defaults=fields)
    except Exception:  # a status row must never fail the call it describes
        logger.exception("could not record the status of gateway %s", provider)
        with _lock:
            _written.pop(provider, None)


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "SEEDANCE_PROVIDERS":
        forget_throttle()


def forget_throttle() -> None:
    """Drop this process's memory of what it wrote (tests; after a settings change)."""
    with _lock:
        _written.clear()


def gateway_states() -> dict[str, dict]:
    """{provider: {...}} for every gateway in settings.SEEDANCE_PROVIDERS: `configured`,
    `state` (ok | key_refused | failing | unknown), the last success and error times
    (ISO 8601 or None), the error's kind and HTTP status, and `render`: its recent render
    times (services/render_estimate.py::gateway_render_summary). Nothing secret: no messages."""
    from django.conf import settings

    rows = {row.provider: row for row in GatewayStatus.objects.all()}
    states = {}
    for name, conf in settings.SEEDANCE_PROVIDERS.items():
        row = rows.get(name)
        states[name] = {
            "configured": bool(conf.get("api_key")),
            "state": gateway_state(row),
            "last_success_at": _iso(row.last_success_at if row else None),
            "last_error_at": _iso(row.last_error_at if row else None),
            "last_error_kind": row.last_error_kind if row else "",
            "last_error_status": row.last_error_status if row else None,
            "render": gateway_render_summary(name),
        }
    return states


def gateway_state(row: GatewayStatus | None) -> str:
    """'key_refused' (401/403 since the last success), 'failing' (the latest call failed
    for a reason that is the gateway's, e.g. 5xx or timeouts), 'ok', or 'unknown' (never
    called)."""
    if row is None or (row.last_success_at is None and row.last_error_at is None):
        return "unknown"
    if row.key_refused_since is not None:
        return "key_refused"
    latest_failed = row.last_error_at is not None and (
        row.last_success_at is None or row.last_error_at > row.last_success_at
    )
    if latest_failed and row.last_error_kind in UNWELL:
        return "failing"
    return "ok"


def offered_providers(names: list[str]) -> list[str]:
    """Of the configured gateways `names`, those to offer members: not the ones refusing our
    key now (a generation there would fail at once). All of them when every one refuses, so
    the form still opens and says why."""
    refused = set(
        GatewayStatus.objects.filter(
            provider__in=names, key_refused_since__isnull=False
        ).values_list("provider", flat=True)
    )
    return [name for name in names if name not in refused] or list(names)


def key_refused_message(provider: str) -> str:
    """'' while `provider` takes our key; else why members cannot use it now."""
    row = GatewayStatus.objects.filter(provider=provider, key_refused_since__isnull=False).first()
    if row is None:
        return ""
    return (
        f"{provider} refuses the studio's API key (since "
        f"{row.key_refused_since:%Y-%m-%d %H:%M} UTC); a team admin must have it fixed. "
        "Pick another gateway meanwhile."
    )


def refused_keys() -> list[GatewayStatus]:
    """Gateways that refuse our API key now (the admin banner)."""
    return list(GatewayStatus.objects.filter(key_refused_since__isnull=False))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def gateway_key_refusal_clear(*, provider: str, actor) -> bool:
    """An admin fixed `provider`'s key: drop the refused-key warning now (the next success
    would too). Audited. Returns whether there was a warning."""
    from django.db import transaction

    from projects.audit import audit_record

    with transaction.atomic():
        cleared = GatewayStatus.objects.filter(
            provider=provider, key_refused_since__isnull=False
        ).update(key_refused_since=None)
        if cleared:
            audit_record(
                actor=actor, action="gateway.key_warning_cleared", details={"provider": provider}
            )
    forget_throttle()
    return bool(cleared)
