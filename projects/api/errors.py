"""The team API's refusals, in Ark's error shape and with Ark's HTTP statuses.

Every answer under /api/v3/ that is not a success is JSON
`{"error": {"code", "message", "param", "type"}}` (upstream-research.md §1.11): the official
SDKs read `error.code` and `error.message` and raise by status (400 ArkBadRequestError, 401
ArkAuthenticationError, 403 ArkPermissionDeniedError, 404 ArkNotFoundError, 429
ArkRateLimitError). The SDKs retry 408, 409, 429 and 5xx by themselves, so a refusal that
retrying cannot cure (a budget, a task that is running) is never one of those.

`ApiError` is what the API's own code raises; `ApiErrorsMiddleware` turns whatever else
reaches a client under /api/v3/ (Django's 404 for an unknown path, ninja's 405, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, an unexpected exception) into the same shape, never HTML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("projects.api")

PREFIX = "/api/v3/"
# Ark's error `type` per HTTP status (its 400 envelope says "BadRequest").
TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "InternalServerError",
}
# A status whose answer was not ours, and the code it gets.
CODES = {
    400: "InvalidParameter",
    401: "AuthenticationError",
    403: "AccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "InvalidParameter.RequestTooLarge",
    415: "InvalidParameter.ContentType",
    429: "RateLimitExceeded",
}


class ApiError(Exception):
    """A refusal for the client: HTTP `status`, Ark `code`, a `message` safe to show (it
    never holds a key), the `param` it is about, and `retry_after` seconds for a 429."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str = "",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after


def error_response(
    status: int, code: str, message: str, *, param: str = "", retry_after: int | None = None
) -> JsonResponse:
    """The JSON answer for one refusal."""
    error = {"code": code, "message": message, "type": TYPES.get(status, "BadRequest")}
    if param:
        error["param"] = param
    response = JsonResponse({"error": error}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def api_error_response(exc: ApiError) -> JsonResponse:
    return error_response(
        exc.status, exc.code, exc.message, param=exc.param, retry_after=exc.retry_after
    )


def invalid(message: str, param: str = "") -> ApiError:
    """A 400 InvalidParameter."""
    return ApiError(400, "InvalidParameter", message, param=param)


def missing(param: str) -> ApiError:
    """A 400 MissingParameter for the required `param`."""
    return ApiError(
        400,
        "MissingParameter",
        f"The request failed because it is missing the `{param}` parameter.",
        param=param,
    )


def not_found(task_id: str = "") -> ApiError:
    """Ark's 404 for a task id that does not exist for this key (another team's ids too:
    their existence is not revealed)."""
    return ApiError(
        404, "ResourceNotFound", "The specified task is not found.", param="id" if task_id else ""
    )


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class ApiErrorsMiddleware:
    """Under /api/v3/, rewrite any refusal that is not already JSON (Django's own 404 page,
    the 405 of a method no operation takes, a 400 for a body too large, and the 500 page of
    an exception that escaped everything, which Django has logged by then) into Ark's shape.
    Other paths pass through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code < 400 or _is_json(response):
            return response
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            rewritten = error_response(
                405,
                CODES[405],
                f"{request.method} is not allowed here; allowed: {allowed or 'none'}.",
            )
            if allowed:
                rewritten["Allow"] = allowed
            return rewritten
        if status == 404:
            return error_response(404, "NotFound", f"No route {request.method} {request.path}.")
        if status >= 500:
            return error_response(500, "InternalServiceError", "The request failed; try again.")
        return error_response(
            status, CODES.get(status, "InvalidParameter"), "The request was refused."
        )
