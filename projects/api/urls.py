"""The team API's URLs (included at /api/v3/ by seedance_web/urls.py): django-ninja's
patterns, open without a session (the API key authenticates each request, and CSRF does not
apply to a request that carries no cookie), and a JSON 404 for anything else under the
prefix."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from projects.api.endpoints import api
from projects.api.errors import error_response


@login_not_required
@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v3/: Ark's 404, not a login page or HTML."""
    return error_response(404, "NotFound", f"No route {request.method} {request.path[:200]}.")


def _open(patterns: list) -> list:
    """ninja's patterns, one per route (it makes one per operation, and the first of a route
    already answers every method of it), each open without a login: LoginRequiredMiddleware
    would send an API client to the login page."""
    kept, routes = [], set()
    for pattern in patterns:
        if str(pattern.pattern) in routes:
            continue
        routes.add(str(pattern.pattern))
        pattern.callback.login_required = False
        kept.append(pattern)
    return kept


patterns, app_name, namespace = api.urls
urlpatterns = [
    *_open(list(patterns)),
    re_path(r"^(?P<rest>.*)$", api_not_found, name="not_found"),
]
