"""/healthz: public, JSON, no secrets (projects/services/health.py says what it checks)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from projects.services.health import health_report


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok", ...} when the database, the broker and storage answer;
    503 with {"status": "unavailable", ...} and the failing check's error class otherwise."""
    report = health_report()
    return JsonResponse(report.as_json(), status=200 if report.ok else 503)
