"""A fuzz pass over every URL pattern (tests/url_patterns.py): generated path segments, query
strings, form, JSON, multipart and non-UTF-8 bodies, Range and htmx headers, sent as an
anonymous visitor, a member, a team admin and a superuser. No answer may be a 5xx, and no
request may log an error (a traceback goes with every 500 Django logs).

Inputs are drawn from a seeded generator (FUZZ_SEED, per pattern and identity), so a failure
names the request and repeats. REQUESTS_PER_IDENTITY x 4 identities x every pattern: about
2,300 requests, some 20-30 s on two workers.
"""

from __future__ import annotations

import json
import logging
import random
import re
import uuid
from urllib.parse import quote

import pytest
from django.test import Client

from projects import forms as project_forms
from projects import generation_form
from tests.url_patterns import (  # noqa: F401 (world_fixture is the "world" fixture)
    KWARGS,
    PATTERNS,
    Pattern,
    World,
    build_path,
    kwarg_names,
    world_fixture,
)

pytestmark = pytest.mark.django_db
FUZZ_SEED = 20261207
REQUESTS_PER_IDENTITY = 4
IDENTITIES = ("anonymous", "member", "admin", "superuser")

NASTY_TEXT = [
    "",
    " ",
    "é",
    "tökén-ü",
    "日本語",
    "\u202e\u0000",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 5000,
    "9" * 5000,
    "-1",
    "0",
    "1e309",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "٣",
    str(uuid.uuid4()),
]
# Field and parameter names the app reads, so generated input reaches the parsers.
FIELD_NAMES = sorted(
    {
        name
        for form in [*vars(project_forms).values(), *vars(generation_form).values()]
        if isinstance(form, type) and hasattr(form, "base_fields")
        for name in form.base_fields
    }
    | {
        "page",
        "kind",
        "status",
        "review",
        "format",
        "month",
        "revise",
        "revised_from",
        "first_frame",
        "username",
        "password",
        "decision",
        "comment",
        "action",
        "_selected_action",
        "q",
    }
)


def nasty_value(rng: random.Random) -> str:
    return rng.choice(
        [
            rng.choice(NASTY_TEXT),
            str(rng.randint(-(10**20), 10**20)),
            "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40))),
        ]
    )


def nasty_json(rng: random.Random, depth: int = 0):
    kind = rng.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 10**30, 1.5, float("1e300")])
    if kind in (3, 4):
        return nasty_value(rng)
    if kind == 5:
        return [nasty_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        rng.choice(FIELD_NAMES + ["id", "status"]): nasty_json(rng, depth + 1) for _ in range(3)
    }


def fuzzed_path(pattern: Pattern, world: World, rng: random.Random) -> str:
    """The pattern's real path, or with one URL keyword replaced by generated text."""
    path = build_path(pattern, world)
    names = kwarg_names(pattern)
    if names and rng.random() < 0.5:
        name = rng.choice(names)
        real = str(KWARGS[name](world, pattern.id))
        path = path.replace(real, quote(nasty_value(rng), safe=""), 1)
    return path


def query(rng: random.Random) -> str:
    pairs = [(rng.choice(FIELD_NAMES), nasty_value(rng)) for _ in range(rng.randint(0, 4))]
    if pairs and rng.random() < 0.3:
        pairs.append(pairs[0])  # a repeated parameter
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)


def one_request(client: Client, path: str, rng: random.Random):
    headers = {}
    if rng.random() < 0.3:
        headers["HX-Request"] = "true"
    if rng.random() < 0.2:
        headers["Range"] = rng.choice(["bytes=0-", "bytes=-5", f"bytes={'9' * 40}-", "bytes=x-y"])
    if rng.random() < 0.2:
        headers["Accept"] = "application/json"
    qs = query(rng)
    url = f"{path}?{qs}" if qs else path
    shape = rng.choice(["get", "form", "json", "bytes", "multipart", "empty"])
    if shape == "get":
        return client.get(url, headers=headers)
    if shape == "form":
        data = {rng.choice(FIELD_NAMES): nasty_value(rng) for _ in range(rng.randint(1, 8))}
        return client.post(url, data, headers=headers)
    if shape == "json":
        body = json.dumps(nasty_json(rng))
        if rng.random() < 0.2:
            body = "[" * 5000 + "]" * 5000
        return client.post(url, body, content_type="application/json", headers=headers)
    if shape == "bytes":
        body = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
        content_type = rng.choice(
            ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", ""]
        )
        return client.generic("POST", url, body, content_type=content_type, headers=headers)
    if shape == "multipart":
        boundary = "fuzzboundary"
        field = rng.choice(FIELD_NAMES)
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{nasty_value(rng)[:50]}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode() + bytes(rng.randint(0, 255) for _ in range(64))
        if rng.random() < 0.5:
            body += f"\r\n--{boundary}--\r\n".encode()  # else cut short
        return client.generic(
            "POST",
            url,
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=headers,
        )
    return client.generic(rng.choice(["POST", "PUT", "DELETE", "PATCH"]), url, b"", headers=headers)


def client_for(identity: str, world: World) -> Client:
    client = Client(raise_request_exception=False)
    user = {
        "anonymous": None,
        "member": world.member,
        "admin": world.admin,
        "superuser": world.superuser,
    }[identity]
    if user is not None:
        client.force_login(user)
    return client


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log():
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.name or p.id for p in PATTERNS])
def test_no_generated_request_gets_a_5xx_or_logs_an_error(pattern, world, error_log, settings):
    # Rate limits would turn most generated logins and submits into 429s: fuzz the forms.
    settings.SEEDANCE_LOGIN_RATE = settings.SEEDANCE_SUBMIT_RATE = "100000/m"
    seen = 0
    for identity in IDENTITIES:
        rng = random.Random(f"{FUZZ_SEED}:{pattern.id}:{identity}")
        client = client_for(identity, world)
        for n in range(REQUESTS_PER_IDENTITY):
            path = fuzzed_path(pattern, world, rng)
            response = one_request(client, path, rng)
            seen += 1
            where = f"{identity} request {n} to {path[:200]!r} (seed {FUZZ_SEED})"
            assert response.status_code < 500, f"{response.status_code} for {where}"
            errors = [r.getMessage()[:300] for r in error_log.records]
            assert not errors, f"errors logged for {where}: {errors}"
    assert seen == len(IDENTITIES) * REQUESTS_PER_IDENTITY


def test_the_pass_covers_at_least_2000_requests():
    assert len(PATTERNS) * len(IDENTITIES) * REQUESTS_PER_IDENTITY >= 2000


def test_the_fuzz_finds_a_500_when_there_is_one(world, error_log):
    """The assertions above can fail: a view that crashes answers 500 and logs an error."""
    client = Client(raise_request_exception=False)
    response = client.get("/healthz", headers={"X-Fuzz": "x"})
    assert response.status_code == 200 and not error_log.records
    from django.urls import path as make_path

    from seedance_web import urls as root_urls

    def crash(request):
        raise RuntimeError("boom")

    crash.login_required = False
    root_urls.urlpatterns.append(make_path("fuzz-crash/", crash))
    try:
        from django.urls import clear_url_caches

        clear_url_caches()
        response = client.get("/fuzz-crash/")
    finally:
        root_urls.urlpatterns.pop()
        clear_url_caches()
    assert response.status_code == 500
    assert any(re.search("Internal Server Error", r.getMessage()) for r in error_log.records)
