"""bench/api.py's URLconf: the site's own URLs plus `/bench-trivial/`, the yardstick: the same
server and middleware, no login or key, then only "ok"."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@login_not_required
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench-trivial/", trivial, name="bench_trivial"),
    path("", include("seedance_web.urls")),
]
