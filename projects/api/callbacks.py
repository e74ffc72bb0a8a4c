"""Calling back an API client when its task ends (its create's `callback_url`).

Ark POSTs the task body to `callback_url` (upstream-research §1.10); we do the same once our
task has ended (succeeded with the video in our storage, failed, expired or cancelled), with
the body of GET .../tasks/{id}. Each POST is signed so the client can tell it is ours:

    X-Seedance-Timestamp: <unix seconds>
    X-Seedance-Signature: v1=<hex HMAC-SHA256(key=S, msg="<timestamp>.<raw body>")>
    where S = HMAC-SHA256(key=<the API key>, msg=<task id>)   (32 bytes)

so the client needs only its own key; we keep S, never the key. The POST goes through the
outbound guard (projects/providers/outbound.py): https (or http to a host in
SEEDANCE_FETCH_ALLOW_HOSTS), public addresses only, checked where the socket opens; no
redirects are followed. A 2xx answer is delivery; anything else is tried again, up to
ATTEMPTS times within the job (Ark tries 3 times). A refused address is not tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import httpx
from django.db.models import F
from django.utils import timezone

from projects.api.task_body import task_body
from projects.models import ApiTask, GenerationTask
from projects.providers.http import USER_AGENT
from projects.providers.outbound import BlockedURL, GuardedTransport, check_url

logger = logging.getLogger("projects.api")
ATTEMPTS = 3
WAITS = (1.0, 4.0)  # seconds before the second and third attempts
TIMEOUT = 5.0  # Ark waits 5 s for an answer (§1.10)


def signature(secret_hex: str, timestamp: str, body: bytes) -> str:
    """The `X-Seedance-Signature` value for `body` sent at `timestamp`."""
    digest = hmac.new(bytes.fromhex(secret_hex), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def api_callback_deliver(task_id: str) -> str:
    """The django-q2 job (enqueued by generation/lifecycle.py `finish` when a task with a
    callback ends): POST the ended task's body to its callback URL. Idempotent (a
    delivered callback is not sent again). Returns 'delivered', 'refused', 'failed' or
    'skipped'."""
    row = ApiTask.objects.select_related("task").filter(task_id=task_id).first()
    if row is None or not row.callback_url or row.callback_delivered_at is not None:
        return "skipped"
    task: GenerationTask = row.task
    if not task.is_terminal:
        return "skipped"
    body = json.dumps(task_body(task, model=row.model), separators=(",", ":")).encode()
    error = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(WAITS[min(attempt - 1, len(WAITS) - 1)])
        ApiTask.objects.filter(pk=row.pk).update(callback_attempts=F("callback_attempts") + 1)
        try:
            status = _post(row.callback_url, body, row.callback_secret)
        except BlockedURL as exc:
            _record(row, error=exc.message.replace("The gateway gave", "The callback_url is"))
            return "refused"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__} on attempt {attempt + 1}"
            continue
        if 200 <= status < 300:
            _record(row, delivered=True)
            return "delivered"
        error = f"HTTP {status} on attempt {attempt + 1}"
    _record(row, error=error)
    logger.warning("task=%s callback not delivered: %s", task_id, error, extra={"task": task_id})
    return "failed"


def _post(url: str, body: bytes, secret_hex: str) -> int:
    check_url(url)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Seedance-Timestamp": timestamp,
        "X-Seedance-Signature": signature(secret_hex, timestamp, body),
    }
    with httpx.Client(
        transport=GuardedTransport(), timeout=TIMEOUT, follow_redirects=False, trust_env=False
    ) as client:
        return client.post(url, content=body, headers=headers).status_code


def _record(row: ApiTask, *, delivered: bool = False, error: str = "") -> None:
    ApiTask.objects.filter(pk=row.pk).update(
        callback_delivered_at=timezone.now() if delivered else None,
        callback_error=error[:300],
    )
