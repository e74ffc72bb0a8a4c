"""bench/api.py's URLconf: the site's own URLs plus two yardsticks behind the same server and
middleware that then only say "ok": `/bench-trivial/` (no login, no key, no query) and
`/bench-trivial-key/` (the API's key check and per-key rate counter first, as the pages
benchmark's trivial view loads its session and user first)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from projects.api.endpoints import KeyAuth
from projects.api.errors import ApiError


@login_not_required
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def trivial_key(request: HttpRequest) -> HttpResponse:
    try:
        key = KeyAuth()(request)
    except ApiError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    if key is None:
        return JsonResponse({"error": "no key"}, status=401)
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench-trivial/", trivial, name="bench_trivial"),
    path("bench-trivial-key/", trivial_key, name="bench_trivial_key"),
    path("", include("seedance_web.urls")),
]
