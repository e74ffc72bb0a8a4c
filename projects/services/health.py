"""What /healthz reports: whether this site's own dependencies answer, and what it last saw
of each gateway.

`database`, `broker` and `storage` decide the HTTP status (200 when all answer, 503 when one
does not): they are what a load balancer or an orchestrator should act on. Gateways are
reported but never fail the check: an upstream outage is not fixed by restarting us.
Nothing secret is reported: no keys, no URLs with credentials, no vendor messages.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection

from projects.callback_reach import callback_mode, callback_notice
from projects.providers.registry import callback_gateway_labels
from projects.services.gateway_status import gateway_states
from projects.storage import is_local

logger = logging.getLogger("projects.health")
PROBE_KEY = "healthz/probe"  # looked up, never written: a HEAD on S3


@dataclass
class Check:
    """One dependency: `ok`, how long the probe took (milliseconds) and, when it failed, the
    exception's class name (never its message: it may hold a host or a credential)."""

    ok: bool
    ms: float
    error: str = ""
    detail: dict = field(default_factory=dict)


@dataclass
class HealthReport:
    """Everything /healthz says; `ok` is database and broker and storage. `callbacks` says
    whether gateways are sent callback URLs and, when not, why (SITE_URL unreachable):
    {"setting": "auto", "sent": false, "reason": "...", "polled": ["Ark", ...], "notice":
    "..."}; it never fails the check (polling covers it)."""

    checks: dict[str, Check]
    gateways: dict[str, dict]
    callbacks: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict:
        return {
            "status": "ok" if self.ok else "unavailable",
            "checks": {
                name: {
                    "ok": check.ok,
                    "ms": round(check.ms, 1),
                    **({"error": check.error} if check.error else {}),
                    **check.detail,
                }
                for name, check in self.checks.items()
            },
            "gateways": self.gateways,
            "callbacks": self.callbacks,
        }


def check_database() -> dict:
    """A round trip to the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_broker() -> dict:
    """The django-q2 broker answers (Redis PING, or a query on the ORM broker's table) and
    how many jobs wait in it."""
    from django_q.brokers import get_broker

    broker = get_broker()
    if broker.ping() is False:
        raise ConnectionError("the broker did not answer")
    return {"queued": broker.queue_size(), "kind": type(broker).__name__.lower()}


def check_storage() -> dict:
    """Media storage answers: the local media directory exists and is writable, or the S3
    bucket answers a HEAD for a key (found or not) with our credentials."""
    if is_local():
        root = Path(default_storage.location)
        if not root.is_dir():
            root.mkdir(parents=True, exist_ok=True)  # a fresh install has none yet
        if not os.access(root, os.W_OK):
            raise PermissionError("the media directory is not writable")
        return {"kind": "local"}
    default_storage.exists(PROBE_KEY)
    return {"kind": "s3"}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


def health_report() -> HealthReport:
    """Run every check (each failure caught and named) and read the gateways' status."""
    checks = {}
    for name, probe in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = probe()
        except Exception as exc:
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
            checks[name] = Check(False, _ms(started), type(exc).__name__)
        else:
            checks[name] = Check(True, _ms(started), detail=detail)
    try:
        gateways = gateway_states() if checks["database"].ok else {}
    except Exception as exc:
        logger.warning("health: gateway status unreadable: %s", type(exc).__name__)
        gateways = {}
    return HealthReport(checks=checks, gateways=gateways, callbacks=callback_state())


def callback_state() -> dict:
    """/healthz's `callbacks` (HealthReport): the mode, and the gateways polled instead of
    called back when callbacks are not sent (projects/callback_reach.py)."""
    mode = callback_mode()
    labels = callback_gateway_labels()
    return {
        **mode.as_json(),
        "polled": [] if mode.sent else labels,
        "notice": callback_notice(labels),
    }


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
