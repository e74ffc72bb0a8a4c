"""The simulator's AllToken dialect over real HTTP: as strict as the guide, its status words,
its error envelope, cancel, portraits and faults."""

import json
import time
from pathlib import Path

import httpx
import pytest

from projects.upstream_sim.faults import Fault
from tests.media_server import media_fixture, media_server_fixture  # noqa: F401 - fixtures

AUTH = {"Authorization": "Bearer at-anything"}
FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "alltoken"
DOC_BODY = json.loads((FIXTURES / "create_request.json").read_text())


def base(sim) -> str:
    return sim.base_url("alltoken") + "/videos/generations"


def create(sim, body, headers=AUTH):
    return httpx.post(base(sim), json=body, headers=headers, timeout=5)


def get(sim, task_id):
    return httpx.get(f"{base(sim)}/{task_id}", headers=AUTH, timeout=5)


def cancel(sim, task_id):
    return httpx.post(f"{base(sim)}/{task_id}/cancel", headers=AUTH, timeout=5)


def wait_for(sim, task_id, word, timeout=10.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body = get(sim, task_id).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == word:
            return body, seen
        time.sleep(0.01)
    raise AssertionError(f"never reached {word}: {seen}")


def test_the_guide_example_walks_queued_processing_completed(sim):
    response = create(sim, DOC_BODY)
    assert response.status_code == 200
    created = response.json()
    assert created == {"id": created["id"], "status": "queued", "model": "seedance-2.0"}
    assert created["id"].startswith("vgen_01")
    task = sim.engine.get_task(created["id"])
    task.queue_s = 1e9  # the simulator's clock is fast: hold each status to look at it
    assert get(sim, task.id).json() == {"id": task.id, "model": "seedance-2.0", "status": "queued"}
    task.queue_s, task.render_s = 0.0, 1e9
    assert get(sim, task.id).json()["status"] == "processing"
    task.render_s = 0.0
    body = get(sim, task.id).json()
    assert body["status"] == "completed"
    assert body["video_url_ttl"] == int(sim.engine.link_ttl)
    assert (body["resolution"], body["ratio"], body["fps"]) == ("720p", "16:9", 24)
    video = httpx.get(body["video_url"], timeout=5)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert sim.engine.requests[0]["body"] == DOC_BODY


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"aspect_ratio": "16:9"}, "aspect_ratio", "Unknown parameter"),
        ({"generate_audio": True}, "generate_audio", "Unknown parameter"),
        ({"seed": 7}, "seed", "Unknown parameter"),
        ({"watermark": False}, "watermark", "Unknown parameter"),
        ({"model": "doubao-seedance-2.0"}, "model", "not supported"),
        ({"duration": 16}, "duration", "4 to 15 seconds, or -1"),
        ({"duration": 5.5}, "duration", "integer"),
        ({"model": "seedance-1.5-pro", "duration": 13}, "duration", "4 to 12 seconds"),
        ({"model": "seedance-2.0-fast", "resolution": "1080p"}, "resolution", "480p, 720p"),
        ({"resolution": "4k"}, "resolution", "480p, 720p, 1080p"),
        ({"ratio": "2:1"}, "ratio", "adaptive"),
        ({"prompt": "  "}, "prompt", "must not be empty"),
    ],
)
def test_requests_the_guide_would_refuse_get_a_400_naming_the_parameter(sim, change, param, words):
    response = create(sim, {**DOC_BODY, **change})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "type", "message", "param", "request_id"}
    assert error["param"] == param and words in error["message"]
    assert error["type"] == "invalid_request_error" and error["request_id"].startswith("req_")
    assert sim.engine.tasks == {}


def test_a_missing_prompt_is_named(sim):
    response = create(sim, {"model": "seedance-2.0"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"


def item(url, role="first_frame", kind="image_url"):
    return {"type": kind, kind: {"url": url}, "role": role}


@pytest.mark.parametrize(
    ("model", "content", "words"),
    [
        ("seedance-1.5-pro", [item("asset://asset-1")], "asset:// portrait"),
        ("seedance-1.5-pro", [item("{media}/photo.jpg", "reference_image")], "reference_image"),
        ("seedance-2.0", [item("{media}/photo.jpg", "last_frame")], "needs a `first_frame`"),
        (
            "seedance-2.0",
            [item("{media}/photo.jpg"), item("{media}/photo.jpg")],
            "At most one `first_frame`",
        ),
        (
            "seedance-2.0",
            [item("{media}/photo.jpg"), item("{media}/clip.mp4", "reference_video", "video_url")],
            "cannot be combined",
        ),
        (
            "seedance-2.0",
            [item("{media}/song.mp3", "reference_audio", "audio_url")],
            "needs an image or a video",
        ),
        ("seedance-2.0", [item("{media}/missing.jpg")], "could not be fetched (HTTP 404)"),
        ("seedance-2.0", [{"type": "text", "text": "hi"}], "image_url, video_url or audio_url"),
        (
            "seedance-2.0",
            [{**item("{media}/photo.jpg"), "detail": "high"}],
            "Unknown content field `detail`",
        ),
        ("seedance-2.0", [item("{media}/clip.mp4", "reference_video")], "not valid for"),
    ],
)
def test_content_is_checked_like_the_models_do(sim, media, model, content, words):
    content = json.loads(json.dumps(content).replace("{media}", media.url))
    response = create(sim, {**DOC_BODY, "model": model, "content": content})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "content" and words in error["message"]
    assert sim.engine.tasks == {}


def test_references_and_portraits_are_fetched_and_accepted_for_seedance_2(sim, media):
    content = [
        item("asset://asset-20260101", "reference_image"),
        item(f"{media.url}/photo.jpg", "reference_image"),
        item(f"{media.url}/clip.mp4", "reference_video", "video_url"),
        item(f"{media.url}/song.mp3", "reference_audio", "audio_url"),
    ]
    response = create(sim, {**DOC_BODY, "model": "seedance-2.0-fast", "content": content})
    assert response.status_code == 200, response.text
    fetched = [(f["url"], f["ok"]) for f in sim.engine.media_fetches]
    assert fetched == [(i[i["type"]]["url"], True) for i in content]
    frames = [item(f"{media.url}/photo.jpg"), item(f"{media.url}/second.png", "last_frame")]
    pro = create(sim, {**DOC_BODY, "model": "seedance-1.5-pro", "content": frames})
    assert pro.status_code == 200 and len(sim.engine.tasks) == 2


def test_auto_duration_lets_the_model_choose(sim):
    created = create(sim, {**DOC_BODY, "duration": -1}).json()
    assert 5 <= sim.engine.get_task(created["id"]).duration_s <= 10


def test_cancel_queued_and_processing_but_not_completed(sim):
    queued = create(sim, DOC_BODY).json()["id"]
    sim.engine.get_task(queued).queue_s = 1e9
    answer = cancel(sim, queued)
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert get(sim, queued).json()["status"] == "cancelled"

    running = create(sim, DOC_BODY).json()["id"]
    task = sim.engine.get_task(running)
    task.queue_s, task.render_s = 0.0, 1e9
    assert get(sim, running).json()["status"] == "processing"
    assert cancel(sim, running).json()["status"] == "cancelled"

    done = create(sim, DOC_BODY).json()["id"]
    wait_for(sim, done, "completed")
    refused = cancel(sim, done)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "task_not_cancellable" and "is completed" in error["message"]
    again = cancel(sim, queued)
    assert again.status_code == 409 and "is cancelled" in again.json()["error"]["message"]
    assert sim.engine.counters["alltoken:cancel"] == 4


def test_unknown_task_is_a_404_in_the_envelope(sim):
    response = get(sim, "vgen_01nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_expiry_and_failures_use_the_guide_words(sim):
    sim.engine.inject(Fault(kind="expire", dialect="alltoken"))
    expired = create(sim, DOC_BODY).json()["id"]
    body, seen = wait_for(sim, expired, "expired")
    assert "completed" not in seen and body["error"]["code"] == "TaskExpired"
    sim.engine.inject(Fault(kind="moderation_output", dialect="alltoken"))
    failed = create(sim, DOC_BODY).json()["id"]
    body, _ = wait_for(sim, failed, "failed")
    assert body["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "video_url" not in body


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("http_401", 401, "invalid_api_key"),
        ("http_429", 429, "rate_limited"),
        ("http_503", 503, "all_providers_failed"),
        ("http_500", 500, "InternalServiceError"),
        ("moderation_input", 400, "InputTextSensitiveContentDetected"),
    ],
)
def test_injected_faults_speak_alltoken_slugs(sim, kind, status, code):
    sim.engine.inject(Fault(kind=kind, op="create", dialect="alltoken", retry_after=4))
    response = create(sim, DOC_BODY)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 429:
        assert response.headers["Retry-After"] == "4"
    assert sim.engine.tasks == {}
    assert create(sim, DOC_BODY).status_code == 200  # the fault is consumed


def test_missing_key_is_invalid_api_key(sim):
    response = create(sim, DOC_BODY, headers={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_lost_create_makes_the_task_but_drops_the_answer(sim):
    sim.engine.inject(Fault(kind="lost_create", dialect="alltoken"))
    with pytest.raises(httpx.TransportError):
        create(sim, DOC_BODY)
    assert len(sim.engine.tasks) == 1 and sim.engine.counters["alltoken:create"] == 1
