"""Fuzzing the team API from its own OpenAPI document (schemathesis): bodies, query strings
and path parameters that fit the schema and that break it, 250 cases for each of the four
operations (1,000 in all), sent with a valid API key through the whole Django stack (WSGI,
middleware, auth, rate limit, services). No answer may be a 5xx, and every refusal must be
Ark's JSON error shape.

Reference links in generated bodies would make the server fetch them: here the fetch is
replaced by a refusal, so no request leaves the machine (DNS included).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from projects.api import content
from projects.api.endpoints import api
from projects.providers.downloads import DownloadError
from tests.api_support import make_studio

pytestmark = pytest.mark.django_db
CASES_PER_OPERATION = 250
SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema())
APP = get_wsgi_application()
STATUSES: Counter = Counter()  # answers by status, and "cases": how many were sent


def no_fetch(url, **kwargs):
    raise DownloadError("The fuzz test fetches nothing.", transient=False)


@pytest.fixture
def key(settings, monkeypatch) -> str:
    settings.SEEDANCE_API_RATE = settings.SEEDANCE_API_CREATE_RATE = "1000000/m"
    monkeypatch.setattr(content, "download_to_file", no_fetch)
    # As Django's test client does: the WSGI handler must not close the test's connection
    # (and its transaction) after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield make_studio(name="Fuzz").key.secret
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@SCHEMA.parametrize()
@settings(
    max_examples=CASES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_5xx_or_a_non_json_refusal(case, key):
    response = case.call(app=APP, headers={"Authorization": f"Bearer {key}"})
    STATUSES[response.status_code] += 1
    STATUSES["cases"] += 1
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400:
        kind = (response.headers.get("content-type") or [""])[0]
        assert kind.startswith("application/json"), (
            case.as_curl_command(),
            response.status_code,
            response.text,
        )
        error = response.json()["error"]
        assert error["code"] and error["message"]
