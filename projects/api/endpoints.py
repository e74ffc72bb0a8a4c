"""The team API: Ark's content-generation tasks endpoints, served by this site (django-ninja).

    POST   /api/v3/contents/generations/tasks          create  -> {"id": "<our task id>"}
    GET    /api/v3/contents/generations/tasks/{id}     the task (projects/api/task_body.py)
    GET    /api/v3/contents/generations/tasks          list: page_num, page_size, filter.status,
                                                       filter.task_ids (repeated), filter.model,
                                                       filter.service_tier -> {total, items}
    DELETE /api/v3/contents/generations/tasks/{id}     cancel a queued task, delete an ended one
    GET    /api/v3/openapi.json, /api/v3/docs          the OpenAPI document and its page

Authentication is `Authorization: Bearer <API key>` (the official SDKs' `api_key`); each
request is counted against the key's rate: creates against SEEDANCE_API_CREATE_RATE, every
other request against SEEDANCE_API_RATE. Views only read the request and call
projects/api/services.py; every refusal is an ApiError answered in Ark's shape
(projects/api/errors.py).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django_ratelimit.core import is_ratelimited
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from projects.api import services
from projects.api.errors import ApiError, api_error_response, error_response
from projects.api.gateways import PROVIDER_HEADER
from projects.api.keys import KeyRefused, api_key_authenticate
from projects.api.schemas import CreateTaskIn, EmptyOut, ErrorOut, TaskIdOut, TaskListOut, TaskOut
from projects.api.task_body import task_body, task_money
from projects.models import ApiKey

logger = logging.getLogger("projects.api")
TASKS = "/contents/generations/tasks"
REFUSALS = {code: ErrorOut for code in (400, 401, 403, 404, 413, 429)}


class KeyAuth(HttpBearer):
    """`Authorization: Bearer <key>` -> the live ApiKey, counted against its rate."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        try:
            key = api_key_authenticate(token)
        except KeyRefused as exc:
            raise ApiError(401, "AuthenticationError", exc.message) from None
        # One counter per request (each is a write to the shared cache): creates count
        # against the create rate (in the view), everything else against the key's rate.
        if request.method != "POST":
            _limit(request, key, "api-key", settings.SEEDANCE_API_RATE)
        # Kept for this request only: a create derives its callback signing secret from it.
        request.api_secret = token
        return key


def _limit(request: HttpRequest, key: ApiKey, group: str, rate: str) -> None:
    limited = is_ratelimited(
        request,
        group=group,
        key=lambda _group, _request: str(key.pk),
        rate=rate,
        increment=True,
    )
    if limited:
        raise ApiError(
            429,
            "RateLimitExceeded",
            f"Too many requests with this API key (at most {rate}); try again shortly.",
            retry_after=_period_seconds(rate),
        )


def _period_seconds(rate: str) -> int:
    unit = rate.rsplit("/", 1)[-1].strip()
    number = "".join(c for c in unit if c.isdigit()) or "1"
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(unit[-1:], 60)


api = NinjaAPI(
    title="seedance-web team API (Ark-compatible)",
    version="3",
    description=(
        "The official Ark content-generation tasks API, served by this studio: point any Ark "
        "client (volcenginesdkarkruntime.Ark, byteplussdkarkruntime.Ark) at "
        "`<site>/api/v3` with an API key from the API keys page. Tasks run through the "
        "key's project, budgets, ledger, review and storage. Optional headers: "
        f"`{PROVIDER_HEADER}` (a gateway configured here) and `{services.PROJECT_HEADER}` "
        "(the project's id or slug, when the key works in several)."
    ),
    auth=KeyAuth(),
    urls_namespace="arkapi",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _key(request: HttpRequest) -> ApiKey:
    return request.auth


@api.post(TASKS, response={200: TaskIdOut, **REFUSALS}, url_name="tasks", summary="Create a task")
def create_task(request: HttpRequest, body: CreateTaskIn) -> dict:
    key = _key(request)
    _limit(request, key, "api-create", settings.SEEDANCE_API_CREATE_RATE)
    task = services.api_task_create(
        key=key,
        request=services.CreateRequest(
            body=body.model_dump(),
            provider=request.headers.get(PROVIDER_HEADER, "").strip(),
            project=request.headers.get(services.PROJECT_HEADER, "").strip(),
            secret=request.api_secret,
        ),
    )
    return {"id": str(task.pk)}


@api.get(TASKS, response={200: TaskListOut, **REFUSALS}, url_name="tasks_list", summary="List")
def list_tasks(
    request: HttpRequest,
    page_num: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(10, ge=1, le=500),
    status: str | None = Query(None, alias="filter.status", max_length=32),
    task_ids: list[str] | None = Query(None, alias="filter.task_ids"),
    model: str | None = Query(None, alias="filter.model", max_length=200),
    service_tier: str | None = Query(None, alias="filter.service_tier", max_length=16),
) -> dict:
    key = _key(request)
    tasks = services.api_task_list(
        key=key,
        status=status,
        task_ids=(task_ids or [])[:500],
        model=model,
        service_tier=service_tier,
    )
    total = tasks.count()
    page = list(tasks[(page_num - 1) * page_size : page_num * page_size])
    money = task_money([t.pk for t in page])
    items = [task_body(task, money=money.get(task.pk, {})) for task in page]
    return {"total": total, "items": items}


@api.get(TASKS + "/{task_id}", response={200: TaskOut, **REFUSALS}, url_name="task", summary="Get")
def get_task(request: HttpRequest, task_id: str) -> dict:
    task = services.api_task_get(key=_key(request), task_id=task_id)
    return task_body(task)


@api.delete(
    TASKS + "/{task_id}",
    response={200: EmptyOut, **REFUSALS},
    url_name="task_delete",
    summary="Cancel or delete",
)
def delete_task(request: HttpRequest, task_id: str) -> dict:
    services.api_task_delete(key=_key(request), task_id=task_id)
    return {}


# --- refusals in Ark's shape ----------------------------------------------------------------
@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return api_error_response(exc)


@api.exception_handler(AuthenticationError)
def _no_key(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        401,
        "AuthenticationError",
        "The request needs an API key: send Authorization: Bearer <key> (API keys page).",
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    param = ".".join(loc).replace(".[", "[")
    if first.get("type") == "missing":
        if not param:
            return error_response(
                400, "MissingParameter", "The request body is missing: send a JSON object."
            )
        return error_response(
            400,
            "MissingParameter",
            f"The request failed because it is missing the `{param}` parameter.",
            param=param,
        )
    reason = str(first.get("msg", "not valid"))[:300]
    return error_response(
        400,
        "InvalidParameter",
        f"The parameter `{param or 'body'}` specified in the request is not valid: {reason}.",
        param=param,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return error_response(
            400,
            "InvalidParameter",
            "The request body is not valid JSON (Content-Type: application/json).",
        )
    return error_response(exc.status_code, "InvalidParameter", "The request was refused.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "ResourceNotFound", "The specified task is not found.")


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "AccessDenied", "The key's member may not do this.")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            413,
            "InvalidParameter.RequestTooLarge",
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes: "
            "send references as https:// or asset:// URLs instead of data: URLs.",
        )
    logger.exception("api: %s %s failed", request.method, request.path)
    return error_response(500, "InternalServiceError", "The request failed; try again.")
