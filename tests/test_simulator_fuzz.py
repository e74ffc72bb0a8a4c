"""No request makes a simulated gateway answer 5xx unless a fault was injected (issue 12).

Hypothesis sends 500 requests' worth of junk to every dialect's create endpoint (random JSON
values, the documented body with fields set to wrong types, nulls, huge numbers or removed,
deep nesting, bytes that are not UTF-8 or not JSON) and follows each with a status, list or
cancel request about the task it made or a random id, with random query strings. Derandomized,
so a run is repeatable; no fault is injected and every media URL is on 127.0.0.1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.upstream_sim.server import start_simulator
from tests.media_server import start_media_server

EXAMPLES = 500
AUTH = {"Authorization": "Bearer fuzz-key", "Content-Type": "application/json"}


@dataclass(frozen=True)
class Target:
    """One dialect: where it creates, a valid body to mutate, the fields it knows, and the
    requests about one task (method, path template with {id}) it answers."""

    dialect: str
    create: str
    template: dict[str, Any]
    known: tuple[str, ...]
    reads: tuple[tuple[str, str], ...]
    list_path: str = ""
    id_keys: tuple[str, ...] = ("id",)
    extra: dict[str, Any] = field(default_factory=dict)


def targets(local: str) -> list[Target]:
    photo, hook = f"{local}/photo.jpg", f"{local}/hook"
    ark_fields = (
        "safety_identifier priority draft camera_fixed frames tools output_format "
        "omni_reference_task_type"
    ).split()

    def ark(dialect: str, model: str) -> Target:
        return Target(
            dialect=dialect,
            create="contents/generations/tasks",
            template={
                "model": model,
                "content": [
                    {"type": "text", "text": "a kite"},
                    {"type": "image_url", "image_url": {"url": photo}, "role": "first_frame"},
                ],
                "callback_url": hook,
                "return_last_frame": True,
                "service_tier": "default",
                "execution_expires_after": 172800,
                "generate_audio": True,
                "ratio": "16:9",
                "resolution": "480p",
                "duration": 4,
                "seed": 11,
                "watermark": False,
            },
            known=tuple(ark_fields),
            reads=(
                ("GET", "contents/generations/tasks/{id}"),
                ("DELETE", "contents/generations/tasks/{id}"),
            ),
            list_path="contents/generations/tasks",
        )

    return [
        ark("ark", "doubao-seedance-2-0-260128"),
        ark("byteplus", "dreamina-seedance-2-0-260128"),
        Target(
            dialect="acedata",
            create="seedance/videos",
            template={
                "model": "doubao-seedance-1-0-pro-250528",
                "content": [{"type": "text", "text": "a kitten --rs 480p --dur 2 --seed 3"}],
                "generate_audio": False,
                "callback_url": hook,
                "return_last_frame": False,
                "service_tier": "default",
                "execution_expires_after": 172800,
            },
            known=("async",),
            reads=(),
            id_keys=("task_id",),
        ),
        Target(
            dialect="alltoken",
            create="videos/generations",
            template={
                "model": "seedance-2.0",
                "prompt": "a lake",
                "ratio": "16:9",
                "duration": 4,
                "resolution": "480p",
                "content": [
                    {"type": "image_url", "image_url": {"url": photo}, "role": "first_frame"}
                ],
            },
            known=(),
            reads=(("GET", "videos/generations/{id}"), ("POST", "videos/generations/{id}/cancel")),
        ),
        Target(
            dialect="seedance2ink",
            create="api/open/v1/video/generations",
            template={
                "model": "seedance-2.0",
                "prompt": "candles",
                "mediaUrls": [photo],
                "aspectRatio": "16:9",
                "duration": 4,
                "resolution": "480p",
                "webhookUrl": hook,
                "metadata": {"k": "v"},
            },
            known=(),
            reads=(
                ("GET", "api/open/v1/video/generations/{id}"),
                ("POST", "api/open/v1/video/generations/{id}/cancel"),
            ),
            id_keys=("requestId",),
        ),
        Target(
            dialect="tokenhub",
            create="videos/generations",
            template={
                "model": "doubao-seedance-2.0",
                "prompt": "a dog",
                "duration": 4,
                "resolution": "480p",
                "aspect_ratio": "16:9",
                "image_url": photo,
                "watermark": False,
            },
            known=("image_urls", "video_urls", "audio_urls", "generate_audio", "seed"),
            reads=(("GET", "videos/generations/{id}"),),
        ),
    ]


# Strings never hold "://": no generated URL can send the simulator off this machine.
texts = st.text(max_size=24).filter(lambda s: "://" not in s)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 4, 2**31, 2**32, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
RAW_BODIES = [
    b"[" * 100_000 + b"]" * 100_000,  # deeper than json.loads recurses
    b'{"model": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"model": 1' + b"0" * 5000 + b"}",  # more digits than int() takes
    b'{"duration": NaN, "seed": Infinity, "model": -Infinity}',
    b"\xff\xfe\xfd not utf-8",
    b"not json at all",
    b'{"a": 1',
    b"null",
]


@st.composite
def bodies(draw, target: Target) -> bytes:
    """A create body: the template with 1-3 fields changed, random JSON, or raw bytes."""
    kind = draw(st.sampled_from(["mutated"] * 6 + ["content"] * 2 + ["random", "raw"]))
    if kind == "raw":
        return draw(st.sampled_from(RAW_BODIES) | st.binary(max_size=64))
    if kind == "random":
        return json.dumps(draw(json_values)).encode()
    body = json.loads(json.dumps(target.template))
    keys = sorted(set(body) | set(target.known)) + ["unknown_field"]
    if kind == "content" and isinstance(body.get("content"), list):
        item = draw(st.integers(0, len(body["content"]) - 1))
        key = draw(st.sampled_from(sorted(body["content"][item]) + ["role", "url"]))
        body["content"][item][key] = draw(json_values)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(json_values)
    return json.dumps(body).encode()


queries = st.lists(
    st.tuples(
        st.sampled_from(
            ["page_num", "page_size", "filter.status", "filter.task_ids", "filter.model"]
            + ["filter.service_tier", "x"]
        ),
        st.one_of(texts, st.integers(-(10**9), 10**30).map(str)),
    ),
    max_size=5,
)


@pytest.fixture(scope="module")
def fuzz_sim(tmp_path_factory):
    """A simulator of its own whose tasks end at once, and a media server for its fetches."""
    media = start_media_server()
    sim = start_simulator(
        cache_dir=tmp_path_factory.mktemp("fuzz-cache"),
        speed=100_000.0,
        render_range=(1.0, 1.0),
        queue_range=(0.0, 0.0),
        seed=3,
    )
    with httpx.Client(timeout=10.0) as client:
        yield sim, media, client
    sim.stop()
    media.server.shutdown()
    media.server.server_close()


@pytest.mark.parametrize("index", range(6), ids=[t.dialect for t in targets("")])
def test_no_body_or_query_makes_a_dialect_answer_5xx(fuzz_sim, index):
    sim, media, client = fuzz_sim
    target = targets(media.url)[index]
    base = sim.base_url(target.dialect)
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def probe(data):
        body = data.draw(bodies(target), label="body")
        created = client.post(f"{base}/{target.create}", content=body, headers=AUTH)
        seen.append(created.status_code)
        assert created.status_code < 500, (body[:300], created.text[:300])
        answer = created.json() if created.status_code == 200 else {}
        ids = [answer.get(key) for key in target.id_keys if isinstance(answer, dict)]
        task_id = next((i for i in ids if isinstance(i, str)), None)
        if task_id is None or data.draw(st.booleans(), label="random id"):
            task_id = data.draw(st.text(min_size=1, max_size=40), label="id")
        for response in follow_up(data, client, target, base, task_id):
            seen.append(response.status_code)
            assert response.status_code < 500, (task_id, response.request.url, response.text)

    probe()
    assert len(seen) >= 2 * EXAMPLES  # every example made its create and one more request
    assert 200 in seen and 400 in seen  # some bodies were valid, most were not


def follow_up(data, client, target: Target, base: str, task_id: str) -> list[httpx.Response]:
    """One request about `task_id` (or a list with a random query) in `target`'s dialect."""
    if target.dialect == "acedata":
        body = data.draw(
            st.sampled_from(
                [
                    {"id": task_id, "action": "retrieve"},
                    {"trace_id": task_id, "action": "retrieve"},
                    {"ids": [task_id], "action": "retrieve_batch"},
                ]
            )
            | json_values.map(lambda v: {"action": "retrieve", "id": v})
            | json_values,
            label="tasks body",
        )
        payload = json.dumps(body).encode()  # NaN and Infinity too, as Python writes them
        return [client.post(f"{base}/seedance/tasks", content=payload, headers=AUTH)]
    choices = [*target.reads, ("LIST", target.list_path)] if target.list_path else target.reads
    method, path = data.draw(st.sampled_from(choices), label="read")
    if method == "LIST":
        query = urlencode(data.draw(queries, label="query"))
        return [client.get(f"{base}/{path}?{query}", headers=AUTH)]
    url = f"{base}/{path.format(id=quote(task_id, safe=''))}"
    return [client.request(method, url, headers=AUTH)]
