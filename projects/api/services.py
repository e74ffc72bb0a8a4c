"""What the team API does, through the same services as the form and the CLI.

A create becomes `GenerationParams` and goes to `generation_task_create` (one validation, one
hold with every budget checked, the key's too, one ledger entry set), as the key's member;
its API row (the model id asked for, the callback) is written in the same transaction. Reads
go through projects/access.py as the member, limited to the key's projects. DELETE follows
Ark (upstream-research §1.9): a queued task is cancelled (`generation_task_cancel`), an ended
one deleted (`generation_task_delete`), a running one refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from projects.access import access_generation_task, access_project, tasks_visible_to
from projects.api.content import content_read
from projects.api.errors import ApiError, invalid, not_found
from projects.api.gateways import gateway_route
from projects.api.keys import api_key_project_ids
from projects.api.task_body import ARK_STATUSES, STATUS_WORDS
from projects.audit import audit_acting_key
from projects.exceptions import (
    ApplicationError,
    BudgetExceeded,
    InsufficientCredits,
    InvalidRequest,
    InvalidStateTransition,
    NoPrice,
)
from projects.models import ApiKey, ApiTask, GenerationTask, Project
from projects.providers.capabilities import ROLES
from projects.providers.outbound import (
    BlockedURL,
    address_refusal,
    allowed_hosts,
    check_url,
    host_listed,
)
from projects.providers.registry import get_capabilities
from projects.services.cancel import generation_task_cancel
from projects.services.deletion import generation_task_delete
from projects.services.generation import GenerationParams, generation_task_create

Status = GenerationTask.Status
PROJECT_HEADER = "X-Seedance-Project"
# Fields of Ark's create body that we take only at their default (or null): we cannot honour
# another value, and ignoring it would give the client something it did not ask for.
DEFAULT_ONLY = {
    "draft": False,
    "camera_fixed": False,
    "frames": None,
    "tools": None,
    "priority": 0,
    "execution_expires_after": 172800,
    "output_format": "mp4",
    "omni_reference_task_type": "auto",
}
# Where our refusal fields land in Ark's body.
PARAMS = {
    "references": "content",
    "prompt": "content",
    "provider": "model",
    **dict.fromkeys(ROLES, "content"),
}


@dataclass(frozen=True)
class CreateRequest:
    """A create body as the schema read it (`body`: field -> value, unset ones None), the
    optional `X-Seedance-Provider` / `X-Seedance-Project` headers, and the key's secret as
    sent (only to derive the task's callback signing secret; never stored or logged)."""

    body: dict[str, Any]
    provider: str = ""
    project: str = ""
    secret: str = ""


def api_project(key: ApiKey, wanted: str = "") -> Project:
    """The project a create of `key` works in: the one named by `X-Seedance-Project` (id or
    slug), or the key's only project. The member must still see it (projects/access.py)."""
    projects = {p.pk: p for p in key.projects.all()}
    if wanted:
        chosen = next((p for p in projects.values() if wanted in (str(p.pk), p.slug)), None)
        if chosen is None:
            raise invalid(
                f"{PROJECT_HEADER}: this key does not work in a project {wanted[:100]!r}.",
                PROJECT_HEADER,
            )
    elif len(projects) == 1:
        chosen = next(iter(projects.values()))
    else:
        slugs = ", ".join(sorted(p.slug for p in projects.values()))
        raise invalid(
            f"This key works in several projects ({slugs}): name one in the "
            f"{PROJECT_HEADER} header.",
            PROJECT_HEADER,
        )
    try:
        return access_project(key.user, chosen.pk)
    except (Http404, PermissionDenied):
        raise ApiError(
            403, "AccessDenied", "The key's member can no longer work in this project."
        ) from None


def api_task_create(*, key: ApiKey, request: CreateRequest) -> GenerationTask:
    """Validate and create one task for `key`; returns it (pending, its hold placed, its
    submit enqueued on commit). Raises ApiError with Ark's code; nothing is held, stored or
    sent then (references fetched for it are scratch files, removed)."""
    body = request.body
    for field, default in DEFAULT_ONLY.items():
        if body.get(field) not in (None, default):
            raise invalid(f"`{field}` is not supported here (only {default!r}).", field)
    project = api_project(key, request.project)
    route = gateway_route(model=body["model"], provider=request.provider)
    caps = get_capabilities(route.provider).model(route.model)
    callback_url = _callback_url(body.get("callback_url"))
    with ExitStack() as scratch, audit_acting_key(key.name):
        content = content_read(scratch, items=body["content"], user=key.user, project=project)
        images_only = content.references and all(
            r.role in ("first_frame", "last_frame") for r in content.references
        )
        default_ratio = "adaptive" if images_only and "adaptive" in caps.ratios else None
        seed = body.get("seed")
        params = GenerationParams(
            provider=route.provider,
            model=route.model,
            prompt=content.prompt,
            ratio=body.get("ratio") or default_ratio or caps.default_ratio,
            resolution=body.get("resolution") or caps.default_resolution,
            duration=body["duration"]
            if body.get("duration") is not None
            else caps.default_duration,
            generate_audio=(
                body["generate_audio"]
                if body.get("generate_audio") is not None
                else caps.default_audio and caps.audio
            ),
            watermark=bool(body.get("watermark")),
            seed=None if seed in (None, -1) else seed,
            references=content.references,
            service_tier=body.get("service_tier") or "default",
        )

        def api_row(task: GenerationTask) -> None:
            if not callback_url and route.model == body["model"]:
                return  # nothing to keep: the task's own model is the id the client sent
            ApiTask.objects.create(
                task=task,
                model=body["model"][:100],
                return_last_frame=bool(body.get("return_last_frame")),
                callback_url=callback_url,
                callback_secret=callback_secret(request.secret, task.pk) if callback_url else "",
            )

        try:
            return generation_task_create(
                project=project, user=key.user, params=params, api_key=key, also_write=api_row
            )
        except InvalidRequest as exc:
            field = next(iter(exc.errors), "")
            raise invalid(exc.message, PARAMS.get(field, field)) from None
        except NoPrice as exc:
            raise ApiError(404, "ModelNotOpen", exc.message, param="model") from None
        except BudgetExceeded as exc:
            # 403, not Ark's 429 QuotaExceeded: the SDKs retry a 429, and no retry helps.
            raise ApiError(403, "QuotaExceeded", exc.message) from None
        except InsufficientCredits as exc:
            raise ApiError(403, "AccountOverdueError", exc.message) from None
        except ApplicationError as exc:
            raise invalid(exc.message) from None


def _callback_url(url: str | None) -> str:
    """`url` when we may POST to it later: https (or http to a host an admin listed), and not
    an address literal that is private, loopback or link-local (names are checked again
    after DNS, where the socket opens, at delivery: projects/api/callbacks.py)."""
    if not url:
        return ""
    if len(url) > 2000:
        raise invalid("`callback_url` is too long (2,000 characters at most).", "callback_url")
    try:
        check_url(url)
        parsed = httpx.URL(url)
        host = _address_literal(parsed.host)
        listed = host_listed(parsed.host, parsed.port, allowed_hosts())
        if host is not None and not listed and (why := address_refusal(host)):
            raise BlockedURL(f"{host} is {why}; refused.")
    except BlockedURL as exc:
        reason = exc.message.replace("The gateway gave", "The request gave")
        raise invalid(f"`callback_url`: {reason}", "callback_url") from None
    return url


def _address_literal(host: str) -> str | None:
    """`host` when it is an IP address literal, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def callback_secret(secret: str, task_id: object) -> str:
    """The task's callback signing secret: hex of HMAC-SHA256(key=the API key, msg=task id).
    The client derives the same from its own key; we keep only this, never the key."""
    return hmac.new(secret.encode(), str(task_id).encode(), hashlib.sha256).hexdigest()


def api_tasks(key: ApiKey) -> QuerySet[GenerationTask]:
    """The tasks `key` may see: those its member may see, in the key's projects."""
    return tasks_visible_to(key.user).filter(project_id__in=api_key_project_ids(key))


def api_task_get(*, key: ApiKey, task_id: str) -> GenerationTask:
    """One task of `key`'s (404 ResourceNotFound for anything else: another team's, another
    project's, a deleted one, an id that is not ours)."""
    try:
        task = access_generation_task(key.user, task_id)
    except (Http404, PermissionDenied):
        raise not_found(task_id) from None
    if task.project_id not in api_key_project_ids(key):
        raise not_found(task_id)
    return task


def api_task_list(
    *,
    key: ApiKey,
    status: str | None = None,
    task_ids: list[str] | None = None,
    model: str | None = None,
    service_tier: str | None = None,
) -> QuerySet[GenerationTask]:
    """`key`'s tasks, newest first, filtered as Ark's list is (exact status word, any of the
    ids, the model id as asked or the gateway's, the service tier)."""
    tasks = api_tasks(key).select_related("api_request").order_by("-created_at", "-pk")
    if status:
        if status not in ARK_STATUSES:
            raise invalid(
                "`filter.status` must be one of " + ", ".join(sorted(ARK_STATUSES)) + ".",
                "filter.status",
            )
        tasks = tasks.filter(status__in=ARK_STATUSES[status])
    if task_ids:
        tasks = tasks.filter(pk__in=[i for i in map(_uuid, task_ids) if i])
    if model:
        tasks = tasks.filter(Q(api_request__model=model) | Q(api_request__isnull=True, model=model))
    if service_tier:
        tasks = tasks.filter(service_tier=service_tier)
    return tasks


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None


def api_task_delete(*, key: ApiKey, task_id: str) -> None:
    """Ark's DELETE: cancel a queued task, delete an ended one (it is 404 afterwards), refuse
    a running one (400: it will finish and be charged, as on Ark). A cancelled task is
    deleted too (Ark forgets those after 24 h by itself; ours would stay)."""
    task = api_task_get(key=key, task_id=task_id)
    word = STATUS_WORDS.get(task.status)
    with audit_acting_key(key.name):
        try:
            if word == "queued":
                generation_task_cancel(task=task, user=key.user)
            elif task.is_terminal:
                generation_task_delete(task=task, user=key.user)
            else:
                raise InvalidStateTransition(
                    f"The task {task.pk} is running; only queued tasks can be cancelled (a "
                    "running task cannot be stopped)."
                )
        except InvalidStateTransition as exc:
            raise invalid(exc.message, "id") from None
        except ApplicationError as exc:
            raise ApiError(403, "AccessDenied", exc.message) from None
