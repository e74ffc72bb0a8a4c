"""Our generation task as Ark's tasks API shows one (GET, list items and callbacks alike).

Shape: upstream-research §1.8 and the SDKs' `ContentGenerationTask`. `id` is our task's id;
`model` the id the client sent (the gateway's own id for tasks made in the form);
`status` Ark's word for ours (STATUS_WORDS); `content.video_url` and `content.last_frame_url`
are fresh links to our stored copy, signed for SEEDANCE_API_LINK_TTL seconds and absolute
under SITE_URL, so they outlive the gateway's 24 h links. `usage` is what we charged: Ark's
`completion_tokens`/`total_tokens` when the price is per million tokens, and always
`charged_usd`, `unit` and `quantity` (of that unit). Our own facts are under `seedance`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings

from projects.models import CreditEntry, GenerationTask
from projects.models.ledger import usd_text
from projects.storage import signed_url

Status = GenerationTask.Status
Kind = CreditEntry.Kind

# Ours -> Ark's (§1.9). Everything before the gateway starts rendering is "queued", the copy
# into our storage is still "running": the task is done for the client only once its video
# is ours.
STATUS_WORDS = {
    Status.PENDING: "queued",
    Status.SUBMITTING: "queued",
    Status.SUBMIT_UNKNOWN: "queued",
    Status.QUEUED: "queued",
    Status.RUNNING: "running",
    Status.DOWNLOADING: "running",
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "expired",
}
ARK_STATUSES: dict[str, list[str]] = {}
for _ours, _word in STATUS_WORDS.items():
    ARK_STATUSES.setdefault(_word, []).append(_ours)
EXECUTION_EXPIRES_AFTER = 172800  # what our tasks are sent with (Ark's default, §1.3)
FPS = 24


def task_money(task_ids: Iterable[object]) -> dict[object, dict[str, tuple]]:
    """{task id: {kind: (amount_micro, unit, quantity)}} of the holds and charges of these
    tasks, in one query."""
    money: dict[object, dict[str, tuple]] = {}
    rows = CreditEntry.objects.filter(
        task_id__in=list(task_ids), kind__in=[Kind.HOLD, Kind.CHARGE]
    ).values_list("task_id", "kind", "amount_micro", "unit", "quantity")
    for task_id, kind, amount, unit, quantity in rows:
        money.setdefault(task_id, {})[kind] = (amount, unit or "second", quantity)
    return money


def _unix(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None


def _quantity(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def task_body(
    task: GenerationTask, *, money: dict[str, tuple] | None = None, model: str | None = None
) -> dict[str, Any]:
    """The Ark body of `task`. `money` is its entry of `task_money` (read when None),
    `model` the id the client asked for (the task's API row, read when None)."""
    if money is None:
        money = task_money([task.pk]).get(task.pk, {})
    if model is None:
        api = getattr(task, "api_request", None) if _has_api_row(task) else None
        model = api.model if api is not None else task.model
    word = STATUS_WORDS.get(task.status, "queued")
    changed = task.finished_at or task.started_at or task.submitted_at or task.created_at
    body: dict[str, Any] = {
        "id": str(task.pk),
        "model": model,
        "status": word,
        "created_at": _unix(task.created_at),
        "updated_at": _unix(changed),
        "resolution": task.resolution,
        "ratio": task.ratio,
        "duration": task.billed_output_s
        if word == "succeeded" and task.billed_output_s
        else task.duration,
        "framespersecond": FPS,
        "service_tier": task.service_tier,
        "execution_expires_after": EXECUTION_EXPIRES_AFTER,
        "generate_audio": task.generate_audio,
        "draft": False,
    }
    if task.seed is not None:
        body["seed"] = task.seed
    if word == "succeeded" and task.video:
        ttl = settings.SEEDANCE_API_LINK_TTL
        content = {"video_url": signed_url(task.video.name, ttl=ttl, absolute=True)}
        if task.last_frame:
            content["last_frame_url"] = signed_url(task.last_frame.name, ttl=ttl, absolute=True)
        body["content"] = content
    if word in ("failed", "expired"):
        body["error"] = {
            "code": task.error_code or ("TaskExpired" if word == "expired" else "TaskFailed"),
            "message": task.error_message or f"The task {word}.",
        }
    charge = money.get(Kind.CHARGE)
    if word == "succeeded" and charge is not None:
        amount, unit, quantity = charge
        usage: dict[str, Any] = {
            "charged_usd": usd_text(-amount),
            "unit": unit,
            "quantity": _quantity(quantity),
        }
        if unit == "mtokens" and quantity is not None:
            usage["completion_tokens"] = usage["total_tokens"] = int(quantity)
        body["usage"] = usage
    hold = money.get(Kind.HOLD)
    body["seedance"] = {
        "project_id": str(task.project_id),
        "provider": task.provider,
        "provider_model": task.model,
        "our_status": task.status,
        "review_state": task.review_state,
        "held_usd": usd_text(-hold[0]) if hold else None,
        "video_sha256": task.video_sha256 or None,
    }
    return body


def _has_api_row(task: GenerationTask) -> bool:
    try:
        task.api_request  # noqa: B018 - a reverse one-to-one raises when there is none
    except GenerationTask.api_request.RelatedObjectDoesNotExist:
        return False
    return True
