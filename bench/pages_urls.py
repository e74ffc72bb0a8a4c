"""bench/pages.py's URLconf: the app's own URLs plus `/bench-trivial/`, the yardstick.

The trivial view goes through the same server, middleware and login as the pages (a
logged-in request loads its session and user: two queries) and then only returns "ok", so
the difference between it and a page is the page's own work.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


urlpatterns = [
    path("bench-trivial/", trivial, name="bench_trivial"),
    path("", include("seedance_web.urls")),
]
