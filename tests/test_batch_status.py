"""Batch status reads: one request about many tasks (Ark list by task ids, AceData
retrieve_batch), against MockTransport and against the simulator over HTTP."""

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest

from projects.providers.acedata import AceDataProvider
from projects.providers.ark import ArkProvider
from projects.providers.base import GenerationRequest, ProviderOutcomeUnknown, UpstreamStatus
from projects.providers.registry import get_provider


def ark(handler) -> ArkProvider:
    return ArkProvider(
        api_key="k",
        base_url="https://ark.example/api/v3",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )


def test_ark_asks_for_many_ids_in_one_list_request_and_maps_the_items():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "total": 2,
                "items": [
                    {"id": "cgt-1", "status": "running"},
                    {
                        "id": "cgt-2",
                        "status": "succeeded",
                        "content": {"video_url": "https://v/2.mp4"},
                    },
                    {"id": "cgt-9", "status": "running"},  # not asked for: ignored
                    "garbage",
                ],
            },
        )

    found = ark(handler).fetch_many(["cgt-1", "cgt-2", "cgt-3"])
    assert len(seen) == 1 and seen[0].url.path == "/api/v3/contents/generations/tasks"
    query = parse_qs(seen[0].url.query.decode())
    assert query["filter.task_ids"] == ["cgt-1", "cgt-2", "cgt-3"]
    assert query["page_size"] == ["3"]
    assert set(found) == {"cgt-1", "cgt-2"}  # cgt-3 missing: the caller asks for it alone
    assert found["cgt-2"].status == UpstreamStatus.SUCCEEDED
    assert found["cgt-2"].video_url == "https://v/2.mp4"


def test_ark_batch_answer_without_items_is_unreadable():
    with pytest.raises(ProviderOutcomeUnknown):
        ark(lambda r: httpx.Response(200, json={"total": 0})).fetch_many(["cgt-1"])


def test_acedata_retrieve_batch_posts_the_ids():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "count": 1,
                "items": [
                    {"_id": "x", "id": "t-1", "request": {}},
                ],
            },
        )

    provider = AceDataProvider(
        api_key="k",
        base_url="https://api.acedata.example",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )
    found = provider.fetch_many(["t-1", "t-2"])
    assert seen == [{"ids": ["t-1", "t-2"], "action": "retrieve_batch"}]
    assert list(found) == ["t-1"] and found["t-1"].status == UpstreamStatus.RUNNING


@pytest.mark.parametrize(
    ("name", "model", "resolution"),
    [
        ("ark", "doubao-seedance-2-0-260128", "720p"),
        ("acedata", "doubao-seedance-1-0-pro-250528", "720p"),
    ],
)
def test_batch_read_against_the_simulator_matches_single_reads(sim, name, model, resolution):
    provider = get_provider(name)
    ids = [
        provider.submit(
            GenerationRequest(
                model=model, prompt=f"clip {i}", ratio="16:9", resolution=resolution, duration=5
            )
        ).upstream_id
        for i in range(3)
    ]
    deadline = time.monotonic() + 30  # renders at the model's pixel size: slow on a busy machine
    while time.monotonic() < deadline:
        found = provider.fetch_many(ids)
        if all(s.status == UpstreamStatus.SUCCEEDED for s in found.values()) and len(found) == 3:
            break
        time.sleep(0.05)
    assert set(found) == set(ids)
    for upstream_id in ids:
        single = provider.fetch(upstream_id)
        assert found[upstream_id].status == single.status == UpstreamStatus.SUCCEEDED
        assert found[upstream_id].video_url.split("?")[0] == single.video_url.split("?")[0]
