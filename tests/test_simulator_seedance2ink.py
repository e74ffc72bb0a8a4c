"""The simulator's seedance2.ink dialect over real HTTP: strict fields, mediaUrls and the mode
they imply, creditsCharged, metadata, webhooks, cancel and its error envelope."""

import json
from pathlib import Path

import httpx
import pytest

from projects.upstream_sim.dialects.seedance2ink import credits_for
from projects.upstream_sim.faults import Fault
from tests.media_server import media_fixture, media_server_fixture  # noqa: F401 - fixtures

AUTH = {"Authorization": "Bearer sd2_live_anything"}
FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "seedance2ink"
DOC_BODY = json.loads((FIXTURES / "create_request.json").read_text())
TEXT_BODY = {k: v for k, v in DOC_BODY.items() if k != "mediaUrls"}


def base(sim) -> str:
    return sim.base_url("seedance2ink") + "/api/open/v1/video/generations"


def create(sim, body, headers=AUTH):
    return httpx.post(base(sim), json=body, headers=headers, timeout=5)


def get(sim, request_id):
    return httpx.get(f"{base(sim)}/{request_id}", headers=AUTH, timeout=5)


def cancel(sim, request_id):
    return httpx.post(f"{base(sim)}/{request_id}/cancel", headers=AUTH, timeout=5)


def refused(response) -> str:
    """The message of a refusal in seedance2.ink's envelope."""
    body = response.json()
    assert body["success"] is False and set(body) == {"success", "error"}
    assert set(body["error"]) == {"code", "message"}
    return body["error"]["message"]


def test_the_reference_example_is_accepted_with_its_credits(sim, monkeypatch):
    # example.com is not reachable from here: take the reference's URL on trust.
    monkeypatch.setattr(sim.engine, "fetch_media", False)
    response = create(sim, DOC_BODY)
    assert response.status_code == 200
    created = response.json()
    assert created == {
        "success": True,
        "requestId": created["requestId"],
        "status": "queued",
        "creditsCharged": 64,  # the reference's own figure for this body
    }
    assert created["requestId"].startswith("req_")
    task = sim.engine.get_task(created["requestId"])
    assert task.extra["mode"] == "first_frame"
    assert sim.engine.requests[0]["body"] == DOC_BODY


def test_text_to_video_walks_every_status_and_echoes_metadata(sim):
    body = {**TEXT_BODY, "metadata": {"seedance_web_task": "t-1", "shot": 3}}
    created = create(sim, body).json()
    assert created["creditsCharged"] == 40  # research §4.2's text-to-video figure
    task = sim.engine.get_task(created["requestId"])
    task.queue_s = 1e9  # the simulator's clock is fast: hold each status to look at it
    queued = get(sim, task.id).json()
    assert queued == {
        "success": True,
        "requestId": task.id,
        "status": "queued",
        "model": "seedance-2.0",
        "prompt": DOC_BODY["prompt"],
        "duration": 5,
        "aspectRatio": "16:9",
        "output": None,
        "error": None,
        "metadata": {"seedance_web_task": "t-1", "shot": 3},
    }
    task.queue_s, task.render_s = 0.0, 1e9
    assert get(sim, task.id).json()["status"] == "processing"
    task.render_s = 0.0
    done = get(sim, task.id).json()
    assert done["status"] == "succeeded" and done["error"] is None
    assert done["output"]["type"] == "video"
    video = httpx.get(done["output"]["url"], timeout=5)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_credits_are_deterministic_per_second():
    assert credits_for(model="seedance-2.0", resolution="720p", duration_s=5, with_media=True) == 64
    assert (
        credits_for(model="seedance-2.0", resolution="720p", duration_s=10, with_media=False) == 80
    )
    assert (
        credits_for(model="seedance-2.0-fast", resolution="480p", duration_s=4, with_media=True)
        == 26
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aspect_ratio": "16:9"}, "`aspect_ratio`"),
        ({"webhook_url": "https://x"}, "`webhook_url`"),
        ({"generate_audio": True}, "`generate_audio`"),
        ({"seed": 1}, "`seed`"),
        ({"watermark": True}, "`watermark`"),
        ({"model": "seedance-2.5"}, "`model` must be one of"),
        ({"aspectRatio": "4:3"}, "`aspectRatio` must be one of 16:9, 9:16, 1:1"),
        ({"duration": 16}, "`duration` for seedance-2.0 must be 4 to 15 seconds"),
        ({"duration": "5"}, "`duration` must be an integer"),
        ({"model": "seedance-1.5-pro", "duration": 6}, "must be 5 or 10 seconds"),
        ({"model": "seedance-2.0-fast", "resolution": "1080p"}, "must be one of 480p, 720p"),
        ({"webhookUrl": "ftp://x/y"}, "`webhookUrl` must be an http(s) URL"),
        ({"metadata": "task-1"}, "`metadata` must be an object"),
        ({"prompt": ""}, "`prompt` must not be empty"),
    ],
)
def test_fields_the_reference_does_not_name_or_allow_are_refused(sim, change, words):
    response = create(sim, {**TEXT_BODY, **change})
    assert response.status_code == 400
    assert words in refused(response)
    assert response.json()["error"]["code"] == "invalid_request"
    assert sim.engine.tasks == {}


@pytest.mark.parametrize(
    ("paths", "mode"),
    [
        (["/photo.jpg"], "first_frame"),
        (["/photo.jpg", "/second.png"], "first_last_frames"),
        (["/photo.jpg", "/second.png", "/third.webp"], "reference"),
        (["/photo.jpg", "/clip.mp4"], "reference"),
        (["/clip.mp4", "/song.mp3"], "reference"),
        (["/signed/a1b2c3"], "first_frame"),  # no extension: the Content-Type tells
        (["/signed/a1b2c3", "/signed/v9x8"], "reference"),
    ],
)
def test_the_mode_is_inferred_from_count_and_kind(sim, media, paths, mode):
    urls = [media.url + p for p in paths]
    response = create(sim, {**TEXT_BODY, "mediaUrls": urls})
    assert response.status_code == 200, response.text
    task = sim.engine.get_task(response.json()["requestId"])
    assert task.extra["mode"] == mode
    assert [f["url"] for f in sim.engine.media_fetches] == urls


@pytest.mark.parametrize(
    ("model", "paths", "words"),
    [
        ("seedance-2.0", [], "takes 1 to 5 URLs"),
        ("seedance-2.0", ["/photo.jpg"] * 6, "takes 1 to 5 URLs"),
        ("seedance-2.0", ["/song.mp3"], "needs an image or a video"),
        ("seedance-2.0", ["/missing.jpg"], "could not be fetched (HTTP 404)"),
        ("seedance-2.0", ["/signed/blob"], "application/octet-stream, not a supported"),
        ("seedance-2.0", ["/photo.tiff"], "unsupported format"),
        ("seedance-1.5-pro", ["/photo.jpg", "/clip.mp4"], "takes one image (first frame)"),
        ("seedance-1.5-pro", ["/photo.jpg", "/second.png", "/third.webp"], "takes one image"),
    ],
)
def test_media_the_gateway_cannot_use_is_refused(sim, media, model, paths, words):
    body = {**TEXT_BODY, "model": model, "mediaUrls": [media.url + p for p in paths]}
    response = create(sim, body)
    assert response.status_code == 400
    assert words in refused(response)
    assert sim.engine.tasks == {}


def test_portrait_asset_urls_are_not_public_urls(sim):
    response = create(sim, {**TEXT_BODY, "mediaUrls": ["asset://asset-1"]})
    assert response.status_code == 400
    assert "`mediaUrls[0]` must be a public http(s) URL" in refused(response)


def test_the_webhook_receives_the_get_body_once_the_generation_ends(sim, media):
    body = {**TEXT_BODY, "webhookUrl": f"{media.url}/hook/t-9", "metadata": {"k": "v"}}
    request_id = create(sim, body).json()["requestId"]
    assert sim.engine.callbacks_quiet(request_id, until_ended=True)  # nothing else may follow
    assert len(media.posts) == 1
    path, payload = media.posts[0]
    assert path == "/hook/t-9"
    sent = json.loads(payload)
    assert sent["requestId"] == request_id and sent["status"] == "succeeded"
    now = get(sim, request_id).json()
    # The same body as a GET, but for the output link's signature (signed per answer).
    sent_url, now_url = sent["output"].pop("url"), now["output"].pop("url")
    assert sent == now and sent["metadata"] == {"k": "v"}
    assert sent_url.split("?")[0] == now_url.split("?")[0]
    assert httpx.get(sent_url, timeout=5).status_code == 200


def test_cancel_queued_and_processing_but_not_ended(sim):
    queued = create(sim, TEXT_BODY).json()["requestId"]
    sim.engine.get_task(queued).queue_s = 1e9
    answer = cancel(sim, queued)
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "requestId": queued, "status": "cancelled"}
    assert get(sim, queued).json()["status"] == "cancelled"

    processing = create(sim, TEXT_BODY).json()["requestId"]
    task = sim.engine.get_task(processing)
    task.queue_s, task.render_s = 0.0, 1e9
    assert get(sim, processing).json()["status"] == "processing"
    assert cancel(sim, processing).json()["status"] == "cancelled"

    done = create(sim, TEXT_BODY).json()["requestId"]
    sim.engine.get_task(done).queue_s = sim.engine.get_task(done).render_s = 0.0
    response = cancel(sim, done)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_cancellable"
    assert "is succeeded; only queued or processing" in refused(response)


def test_an_expiry_reads_as_failed(sim):
    sim.engine.inject(Fault(kind="expire", dialect="seedance2ink"))
    task_id = create(sim, TEXT_BODY).json()["requestId"]
    task = sim.engine.get_task(task_id)
    task.queue_s = task.render_s = 0.0
    body = get(sim, task_id).json()
    assert body["status"] == "failed" and body["output"] is None
    assert body["error"]["code"] == "TaskExpired"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("http_401", 401, "unauthorized"),
        ("http_429", 429, "rate_limited"),
        ("http_500", 500, "internal_error"),
        ("http_503", 503, "service_unavailable"),
        ("moderation_input", 400, "InputTextSensitiveContentDetected"),
    ],
)
def test_injected_faults_use_the_envelope(sim, kind, status, code):
    sim.engine.inject(Fault(kind=kind, op="create", dialect="seedance2ink", retry_after=2))
    response = create(sim, TEXT_BODY)
    assert response.status_code == status
    refused(response)
    assert response.json()["error"]["code"] == code
    if status == 429:
        assert response.headers["Retry-After"] == "2"
    assert sim.engine.tasks == {}


def test_missing_key_and_unknown_request_id(sim):
    unauthorized = create(sim, TEXT_BODY, headers={})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["error"]["code"] == "unauthorized"
    missing = get(sim, "req_0000")
    assert missing.status_code == 404 and "req_0000 not found" in refused(missing)
