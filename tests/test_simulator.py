"""The upstream simulator over real HTTP: TokenHub's dialect, real MP4s, expiring links, faults."""

import time

import av
import httpx
import pytest

from projects.upstream_sim.faults import Fault

AUTH = {"Authorization": "Bearer th-anything"}


def create(sim, body, headers=AUTH):
    return httpx.post(
        sim.base_url("tokenhub") + "/videos/generations", json=body, headers=headers, timeout=5
    )


def wait_for(sim, task_id, word, timeout=10.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body = httpx.get(
            f"{sim.base_url('tokenhub')}/videos/generations/{task_id}", headers=AUTH, timeout=5
        ).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == word:
            return body, seen
        time.sleep(0.02)
    raise AssertionError(f"never reached {word}: {seen}")


def test_task_walks_queued_running_succeeded_and_serves_a_real_mp4(sim, tmp_path):
    response = create(
        sim,
        {
            "model": "doubao-seedance-2.0",
            "prompt": "a kite",
            "duration": 6,
            "resolution": "480p",
            "aspect_ratio": "9:16",
        },
    )
    assert response.status_code == 200
    created = response.json()
    assert created["status"] == "queued" and created["object"] == "video.generation.task"
    body, seen = wait_for(sim, created["id"], "succeeded")
    assert seen[0] in ("queued", "running") and seen[-1] == "succeeded"
    assert "running" in seen
    assert body["usage"] == {"video_duration": 6}
    video = httpx.get(body["data"][0]["video_url"], timeout=5)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = tmp_path / "out.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.duration * stream.time_base) == pytest.approx(6.0, abs=0.05)
        width, height = stream.codec_context.width, stream.codec_context.height
        assert width / height == pytest.approx(9 / 16, rel=0.03)
        assert container.streams.audio  # generate_audio defaults to true
    cover = httpx.get(body["data"][0]["cover_image_url"], timeout=5)
    assert cover.status_code == 200 and cover.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "doubao-seedance-2.0", "prompt": "x", "duration": 20}, "duration"),
        ({"model": "doubao-seedance-2.0", "prompt": "x", "resolution": "1080p"}, "resolution"),
        ({"model": "doubao-seedance-2.0", "prompt": "x", "seed": 3}, "seed"),
        ({"model": "doubao-seedance-2.0", "prompt": "x", "aspectRatio": "16:9"}, "aspectRatio"),
        ({"model": "doubao-seedance-2.0"}, "prompt"),
        ({"model": "seedance-2.0", "prompt": "x"}, "model"),
        (
            {"model": "doubao-seedance-2.0", "prompt": "x", "generate_audio": "yes"},
            "generate_audio",
        ),
        (
            {"model": "doubao-seedance-2.0", "prompt": "x", "video_urls": ["a", "b", "c", "d"]},
            "video_urls",
        ),
        (
            {
                "model": "doubao-seedance-2.0",
                "prompt": "x",
                "content": [
                    {"type": "image_url", "image_url": {"url": "u"}, "role": "first_frame"},
                    {"type": "image_url", "image_url": {"url": "v"}, "role": "first_frame"},
                ],
            },
            "content",
        ),
    ],
)
def test_requests_the_guide_would_reject_get_a_400_naming_the_parameter(sim, body, param):
    response = create(sim, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["message"]
    assert sim.engine.tasks == {}


def test_missing_api_key_is_a_401(sim):
    response = create(sim, {"model": "doubao-seedance-2.0", "prompt": "x"}, headers={})
    assert response.status_code == 401


def test_output_links_expire_and_cannot_be_forged(sim):
    created = create(sim, {"model": "doubao-seedance-2.0", "prompt": "x", "duration": 4}).json()
    body, _ = wait_for(sim, created["id"], "succeeded")
    url = body["data"][0]["video_url"]
    forged = url.replace("sig=", "sig=0")
    assert httpx.get(forged, timeout=5).status_code == 403
    task = sim.engine.get_task(created["id"])
    task.link_expired = True
    expired = sim.engine.signed_url(task, "video.mp4")
    response = httpx.get(expired, timeout=5)
    assert response.status_code == 403 and b"expired" in response.content


def test_injected_429_carries_retry_after_and_is_consumed(sim):
    sim.engine.inject(Fault(kind="http_429", op="create", retry_after=3))
    first = create(sim, {"model": "doubao-seedance-2.0", "prompt": "x"})
    second = create(sim, {"model": "doubao-seedance-2.0", "prompt": "x"})
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert second.status_code == 200


def test_moderation_output_fault_fails_the_task_after_running(sim):
    sim.engine.inject(Fault(kind="moderation_output"))
    created = create(sim, {"model": "doubao-seedance-2.0", "prompt": "x", "duration": 4}).json()
    body, seen = wait_for(sim, created["id"], "failed")
    assert body["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "succeeded" not in seen


def test_control_api_records_requests(sim):
    create(sim, {"model": "doubao-seedance-2.0", "prompt": "recorded"})
    recorded = httpx.get(sim.url + "/_sim/requests", timeout=5).json()["requests"]
    assert recorded[-1]["body"] == {"model": "doubao-seedance-2.0", "prompt": "recorded"}
    stats = httpx.get(sim.url + "/_sim/stats", timeout=5).json()
    assert stats["counters"]["tokenhub:create"] == 1
