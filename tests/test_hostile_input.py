"""What a hostile client once made answer 500 now answers 4xx (issue 14): the public gateway
callback with a non-ASCII token, deeply nested JSON or a 5,000-digit integer, and the signed
media route with absurd Range headers. A gateway reply of the same kind is an unreadable
reply, never a crash of the worker."""

from __future__ import annotations

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from projects.providers.base import ProviderOutcomeUnknown
from projects.providers.http import load_json, parse_response
from projects.storage import signed_url
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b'{"id": ' + b"9" * 5000 + b"}"


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False)


@pytest.fixture(params=["ark", "acedata", "seedance2ink", "tokenhub", "alltoken"])
def running(request, sim):
    return GenerationTaskFactory(
        provider=request.param, status="running", upstream_task_id="up-1", callback_token="t" * 32
    )


def callback(client, task, *, token=None, body=b"{}", content_type="application/json"):
    url = reverse("projects:generation_callback", args=[task.pk, token or task.callback_token])
    return client.post(url, data=body, content_type=content_type)


def test_a_non_ascii_token_is_unknown_not_a_crash(anonymous, running):
    response = callback(anonymous, running, token="tökén-ü-" + "x" * 24)
    assert response.status_code == 404


def test_a_callback_for_a_gateway_no_longer_configured_is_ignored(anonymous, running, settings):
    settings.SEEDANCE_PROVIDERS = {}
    response = callback(anonymous, running, body=b'{"id": "up-1"}')
    assert (response.status_code, response.content) == (200, b"ignored")


@pytest.mark.parametrize(
    "body",
    [DEEP, HUGE_INT, b"\xff\xfe\x00garbage", b"", b"null", b'"a string"', b"[1, 2]"],
    ids=["deep", "huge-int", "not-utf8", "empty", "null", "string", "list"],
)
def test_an_unreadable_callback_body_is_a_400(anonymous, running, body):
    response = callback(anonymous, running, body=body)
    if running.provider in ("tokenhub", "alltoken"):  # no callbacks: the body is not read
        assert response.status_code in (200, 400)
    else:
        assert response.status_code == 400
        assert response.content == b"Unreadable callback body."
    running.refresh_from_db()
    assert running.status == "running"


@pytest.mark.parametrize("body", [DEEP, HUGE_INT, b"\xff\xfe", b'{"a": NaN}', b"[Infinity]"])
def test_load_json_raises_value_error_only(body):
    with pytest.raises(ValueError):
        load_json(body)


def test_a_gateway_reply_nested_too_deep_is_an_unreadable_reply():
    with pytest.raises(ProviderOutcomeUnknown) as unknown:
        parse_response(httpx.Response(200, content=DEEP), label="Ark")
    assert "unreadable reply" in unknown.value.message


@pytest.fixture
def media_link():
    name = default_storage.save("tests/hostile.bin", ContentFile(b"0123456789" * 100))
    return signed_url(name)


@pytest.mark.parametrize(
    ("range_header", "status"),
    [
        ("bytes=" + "9" * 5000 + "-", 200),  # not a range we read: the whole file
        ("bytes=-" + "9" * 5000, 200),
        ("bytes=٣-٤", 200),  # non-ASCII digits
        ("bytes=999999999999-", 416),
        ("bytes=10-5", 416),
        ("bytes=0-0,5-6", 200),  # several ranges: the whole file
        ("bytes=5-9", 206),
    ],
)
def test_odd_range_headers_never_crash_the_media_route(anonymous, media_link, range_header, status):
    response = anonymous.get(media_link, HTTP_RANGE=range_header)
    assert response.status_code == status
    if status == 206:
        assert b"".join(response.streaming_content) == b"56789"


@pytest.mark.parametrize("token", ["tökén", "x" * 5000, "a:b:c", "%00", "..%2f..%2fetc"])
def test_a_malformed_media_token_is_refused(anonymous, token):
    response = anonymous.get(reverse("signed_media", args=[token]))
    assert response.status_code in (403, 404)
