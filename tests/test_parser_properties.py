"""Property tests of every gateway adapter's parsers (Hypothesis): whatever JSON a gateway
answers or POSTs, the adapter returns its typed result (a SubmitResult, a TaskSnapshot with a
known UpstreamStatus, a task id string) or raises a ProviderError, never another exception.

Replies are drawn from the gateway's own documented replies (tests/fixtures/providers/<gateway>/,
taken from its docs) with any JSON put in place of, or added beside, any field at any depth, so
every branch of the parsers sees wrong types, nulls, huge numbers and missing keys; and from
any JSON value at all. Each reply comes with any HTTP status. 200 examples per gateway and
operation.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.providers.acedata import AceDataProvider
from projects.providers.alltoken import AllTokenProvider
from projects.providers.ark import ArkProvider
from projects.providers.base import (
    GenerationRequest,
    ProviderError,
    SubmitResult,
    TaskSnapshot,
    UpstreamStatus,
)
from projects.providers.seedance2ink import Seedance2InkProvider
from projects.providers.tokenhub import TokenHubProvider

ADAPTERS = {
    "ark": (ArkProvider, "doubao-seedance-2-0-260128"),
    "acedata": (AceDataProvider, "doubao-seedance-1-0-pro-250528"),
    "alltoken": (AllTokenProvider, "seedance-2.0"),
    "seedance2ink": (Seedance2InkProvider, "seedance-1.5-pro"),
    "tokenhub": (TokenHubProvider, "doubao-seedance-2.0"),
}
KEYS = [
    "id",
    "task_id",
    "taskId",
    "requestId",
    "status",
    "state",
    "success",
    "code",
    "message",
    "msg",
    "error",
    "data",
    "content",
    "video_url",
    "videoUrl",
    "cover_url",
    "last_frame_url",
    "usage",
    "completion_tokens",
    "duration",
    "resolution",
    "items",
    "total",
    "result",
    "response",
    "video",
    "url",
    "creditsCharged",
    "output",
    "created_at",
]
STATUS_WORDS = ["queued", "running", "succeeded", "failed", "completed", "pending", "processing"]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(STATUS_WORDS + ["https://cdn.example.com/v.mp4", "", "cgt-1"])
)
any_json = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=25,
)
shaped = st.dictionaries(st.sampled_from(KEYS), any_json, min_size=1, max_size=8)
FIXTURES = Path(__file__).parent / "fixtures" / "providers"


def documented(name: str) -> list[object]:
    """Every JSON reply in the gateway's fixtures (its docs' own examples)."""
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / name).glob("*.json"))]


@st.composite
def mutated(draw, value: object, depth: int = 0) -> object:
    """`value` with some of its parts replaced by, or joined by, any JSON."""
    roll = draw(st.integers(0, 9))
    leaf = not isinstance(value, dict | list)
    if roll == 0 or (depth > 0 and roll < (4 if leaf else 2)):
        return draw(any_json)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if draw(st.integers(0, 9)) > 0:  # sometimes a key goes missing
                out[key] = draw(mutated(item, depth + 1))
        if draw(st.booleans()):
            out[draw(st.sampled_from(KEYS))] = draw(any_json)
        return out
    if isinstance(value, list):
        return [draw(mutated(item, depth + 1)) for item in value]
    return value


def replies(name: str):
    docs = st.sampled_from(documented(name)).flatmap(mutated)
    return st.tuples(
        st.sampled_from([200] * 8 + [201, 400, 401, 404, 409, 429, 500, 502]),
        st.one_of(docs, docs, docs, docs, shaped, any_json),
    )


PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def adapter(name: str, reply: tuple[int, object]):
    status, body = reply

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode())

    cls, _ = ADAPTERS[name]
    return cls(
        api_key="k",
        base_url="https://gw.example.com",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )


def request_for(name: str) -> GenerationRequest:
    return GenerationRequest(
        model=ADAPTERS[name][1],
        prompt="A paper boat",
        ratio="16:9",
        resolution="480p" if name != "seedance2ink" else "720p",
        duration=5,
    )


@pytest.mark.parametrize("name", ADAPTERS)
@PROPERTY
@given(data=st.data())
def test_fetch_gives_a_snapshot_or_a_provider_error(name, data):
    reply = data.draw(replies(name))
    try:
        snapshot = adapter(name, reply).fetch("task-1")
    except ProviderError:
        return
    assert isinstance(snapshot, TaskSnapshot)
    assert isinstance(snapshot.status, UpstreamStatus)
    assert snapshot.video_url is None or isinstance(snapshot.video_url, str)


@pytest.mark.parametrize("name", ADAPTERS)
@PROPERTY
@given(data=st.data())
def test_submit_gives_an_upstream_id_or_a_provider_error(name, data):
    reply = data.draw(replies(name))
    try:
        result = adapter(name, reply).submit(request_for(name))
    except ProviderError:
        return
    assert isinstance(result, SubmitResult)
    assert isinstance(result.upstream_id, str) and result.upstream_id


@pytest.mark.parametrize("name", ["ark", "acedata"])
@PROPERTY
@given(data=st.data())
def test_batch_fetch_gives_snapshots_or_a_provider_error(name, data):
    reply = data.draw(replies(name))
    try:
        found = adapter(name, reply).fetch_many(["task-1", "task-2"])
    except ProviderError:
        return
    assert all(isinstance(s, TaskSnapshot) for s in found.values())
    assert set(found) <= {"task-1", "task-2"}


@pytest.mark.parametrize("name", ["ark", "acedata", "seedance2ink"])
@PROPERTY
@given(data=st.data(), raw=st.binary(max_size=40), use_raw=st.booleans())
def test_a_callback_gives_a_task_id_or_a_provider_error(name, data, raw, use_raw):
    body = data.draw(replies(name))[1]
    payload = raw if use_raw else json.dumps(body).encode()
    provider = adapter(name, (200, {}))
    try:
        task_id = provider.parse_callback(payload)
    except ProviderError:
        pass
    else:
        assert isinstance(task_id, str) and task_id
    assert isinstance(provider.callback_status(payload), UpstreamStatus)
