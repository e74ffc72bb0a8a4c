"""The simulator's Ark dialect over real HTTP: strict validation, the task lifecycle, DELETE,
the list, callbacks, usage, expiry and faults (upstream-research §1)."""

import json
import re
import time

import httpx
import pytest
from django.conf import settings as django_settings

from projects.upstream_sim.faults import Fault
from projects.upstream_sim.server import start_simulator
from tests.receivers import receiver  # noqa: F401 - fixture

AUTH = {"Authorization": "Bearer ark-anything"}
MODEL = "doubao-seedance-2-0-260128"
TASK_ID = re.compile(r"^cgt-\d{14}-[a-z0-9]{5}$")


def url(sim, path=""):
    return sim.base_url("ark") + "/contents/generations/tasks" + path


def create(sim, body, headers=AUTH):
    return httpx.post(url(sim), json=body, headers=headers, timeout=5)


def get(sim, task_id):
    return httpx.get(url(sim, f"/{task_id}"), headers=AUTH, timeout=5)


def text(prompt="a kite", **fields):
    return {"model": MODEL, "content": [{"type": "text", "text": prompt}], **fields}


def image(url_, role=None):
    item = {"type": "image_url", "image_url": {"url": url_}}
    if role:
        item["role"] = role
    return item


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


def hold_in_queue(sim, task_id):
    sim.engine.tasks[task_id].queue_s = 1e9


@pytest.fixture
def media(sim):
    """A reachable reference image on the simulator itself (a task's cover)."""
    task_id = create(sim, text(duration=4)).json()["id"]
    return sim.engine.signed_url(sim.engine.tasks[task_id], "cover.jpg")


def test_task_walks_queued_running_succeeded_with_usage_and_a_real_video(sim):
    response = create(sim, text(ratio="9:16", resolution="480p", duration=6))
    assert response.status_code == 200
    created = response.json()
    assert set(created) == {"id"} and TASK_ID.match(created["id"])
    task = sim.engine.tasks[created["id"]]
    task.queue_s = 1e9  # queued until the test lets it go, however slow the machine
    first = get(sim, created["id"]).json()
    assert first["status"] == "queued" and "content" not in first and "usage" not in first
    task.queue_s = sim.engine.now() - task.created_at
    body, seen = wait_for(sim, created["id"], "succeeded")
    assert seen[-2:] == ["running", "succeeded"]
    # 480p 9:16 = 496x864: floor(496*864/1024*(24*6+1)) tokens (§1.14)
    assert body["usage"] == {"completion_tokens": 60682, "total_tokens": 60682}
    assert (body["ratio"], body["resolution"], body["duration"]) == ("9:16", "480p", 6)
    assert body["framespersecond"] == 24 and body["generate_audio"] is True
    assert body["created_at"] <= body["updated_at"]
    assert "last_frame_url" not in body["content"]
    video = httpx.get(body["content"]["video_url"], timeout=5)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_the_doc_token_example_and_the_last_frame(sim):
    task_id = create(sim, text(duration=5, return_last_frame=True)).json()["id"]
    body, _ = wait_for(sim, task_id, "succeeded")
    assert body["usage"]["total_tokens"] == 108900  # 720p 16:9 5 s, every doc example
    frame = httpx.get(body["content"]["last_frame_url"], timeout=5)
    assert frame.status_code == 200 and frame.content[:4] == b"\x89PNG"


def test_auto_duration_reports_what_was_made(sim):
    task_id = create(sim, text(duration=-1)).json()["id"]
    assert get(sim, task_id).json()["duration"] == -1
    body, _ = wait_for(sim, task_id, "succeeded")
    assert 5 <= body["duration"] <= 10


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (text(durations=5), "durations", "InvalidParameter"),
        (text(aspect_ratio="16:9"), "aspect_ratio", "InvalidParameter"),
        ({"model": MODEL}, "content", "MissingParameter"),
        ({"model": MODEL, "content": []}, "content", "InvalidParameter"),
        (text(duration=16), "duration", "InvalidParameter"),
        (text(duration="5"), "duration", "InvalidParameter"),
        (text(model="doubao-seedance-1-0-pro-250528", duration=-1), "duration", "InvalidParameter"),
        (text(model="doubao-seedance-1-0-pro-250528", duration=13), "duration", "InvalidParameter"),
        (text(model="doubao-seedance-2-0-fast-260128", resolution="1080p"), "resolution", None),
        (text(ratio="2:1"), "ratio", None),
        (text(execution_expires_after=3599), "execution_expires_after", None),
        (text(execution_expires_after=259201), "execution_expires_after", None),
        (text(service_tier="flex"), "service_tier", None),
        (text(seed=2**32), "seed", None),
        (text(model="doubao-seedance-1-0-pro-250528", generate_audio=True), "generate_audio", None),
        (text(callback_url="ftp://x"), "callback_url", None),
        (text(watermark="no"), "watermark", None),
        (text(frames=30, model="doubao-seedance-1-0-pro-250528"), "frames", None),
    ],
)
def test_requests_the_docs_refuse_get_a_400_naming_the_parameter(sim, body, param, code):
    response = create(sim, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and error["message"] and error["type"] == "BadRequest"
    if code:
        assert error["code"] == code
    assert sim.engine.tasks == {}


def test_an_unknown_model_is_a_404(sim):
    response = create(sim, text(model="doubao-seedance-9-0"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [image("{media}"), image("{media}")],
            "role must be specified for image contents",
        ),
        ([image("{media}", "last_frame")], "last_frame image needs a first_frame"),
        (
            [image("{media}", "first_frame"), image("{media}", "reference_image")],
            "mutually exclusive",
        ),
        (
            [
                {
                    "type": "video_url",
                    "video_url": {"url": "data:video/mp4;base64,AAAA"},
                    "role": "reference_video",
                }
            ],
            "reference_video must be provided as a web url",
        ),
        ([image("{media}", "reference_image")] * 10, "at most 9 reference_image"),
        (
            [{"type": "audio_url", "audio_url": {"url": "{media}"}, "role": "reference_audio"}],
            "needs at least one image or video",
        ),
        ([image("{media}", "boss_frame")], "not valid for image_url"),
        ([{"type": "image_url", "image_url": "{media}"}], "object with a url"),
        ([image("https://127.0.0.1:1/nothing.png")], "could not be downloaded"),
    ],
)
def test_content_rules_of_the_docs(sim, media, items, message):
    content = [{"type": "text", "text": "a kite"}] + json.loads(
        json.dumps(items).replace("{media}", media)
    )
    response = create(sim, {"model": MODEL, "content": content})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "content" and message in error["message"]


def test_first_and_last_frames_are_fetched_and_accepted(sim, media):
    body = {
        "model": "doubao-seedance-1-0-pro-250528",
        "content": [
            {"type": "text", "text": "360-degree shot"},
            image(media, "first_frame"),
            image(media, "last_frame"),
        ],
        "duration": 3,
    }
    fetches = len(sim.engine.media_fetches)
    response = create(sim, body)
    assert response.status_code == 200, response.text
    assert len(sim.engine.media_fetches) == fetches + 2
    assert create(sim, {**body, "model": "doubao-seedance-1-0-pro-fast-251015"}).status_code == 400
    portrait = {**body, "content": [body["content"][0], image("asset://asset-1", "first_frame")]}
    assert create(sim, portrait).status_code == 400  # 1.x takes no asset:// portraits
    assert create(sim, {**portrait, "model": MODEL, "duration": 4}).status_code == 200


# --- DELETE (§1.9) -----------------------------------------------------------------------------
def test_delete_cancels_a_queued_task_refuses_a_running_one_and_deletes_a_finished_one(sim):
    queued = create(sim, text()).json()["id"]
    hold_in_queue(sim, queued)
    response = httpx.delete(url(sim, f"/{queued}"), headers=AUTH, timeout=5)
    assert response.status_code == 200 and response.json() == {}
    assert get(sim, queued).json()["status"] == "cancelled"
    again = httpx.delete(url(sim, f"/{queued}"), headers=AUTH, timeout=5)
    assert again.status_code == 400 and "cancelled" in again.json()["error"]["message"]

    running = create(sim, text()).json()["id"]
    sim.engine.tasks[running].render_s = 1e9
    wait_for(sim, running, "running")
    refused = httpx.delete(url(sim, f"/{running}"), headers=AUTH, timeout=5)
    assert refused.status_code == 400
    assert "running task cannot be stopped" in refused.json()["error"]["message"]
    assert get(sim, running).json()["status"] == "running"

    done = create(sim, text(duration=4)).json()["id"]
    wait_for(sim, done, "succeeded")
    deleted = httpx.delete(url(sim, f"/{done}"), headers=AUTH, timeout=5)
    assert deleted.status_code == 200
    gone = get(sim, done)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"


# --- list (§1.8) -------------------------------------------------------------------------------
def test_list_filters_pages_and_counts(sim):
    ids = [create(sim, text(duration=4)).json()["id"] for _ in range(3)]
    other = create(sim, text(model="doubao-seedance-1-0-pro-250528", duration=3)).json()["id"]
    for task_id in ids[:2]:
        hold_in_queue(sim, task_id)

    def listing(**params):
        response = httpx.get(url(sim), params=params, headers=AUTH, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    everything = listing(page_size=10)
    assert everything["total"] == 4 and len(everything["items"]) == 4
    assert [t["id"] for t in everything["items"]] == [other, *reversed(ids)]  # newest first
    assert listing(**{"filter.model": MODEL})["total"] == 3
    assert {t["id"] for t in listing(**{"filter.status": "queued"})["items"]} == set(ids[:2])
    page2 = listing(page_num=2, page_size=3)
    assert page2["total"] == 4 and [t["id"] for t in page2["items"]] == [ids[0]]
    chosen = listing(**{"filter.task_ids": [ids[0], other]})
    assert {t["id"] for t in chosen["items"]} == {ids[0], other}
    for bad in ({"page_size": 501}, {"page_num": 0}, {"filter.status": "expired-ish"}, {"x": 1}):
        response = httpx.get(url(sim), params=bad, headers=AUTH, timeout=5)
        assert response.status_code == 400, bad


# --- callbacks (§1.10) -------------------------------------------------------------------------
def test_callbacks_carry_the_get_body_on_every_status_change(sim, receiver, monkeypatch):  # noqa: F811
    hook, received = receiver
    # The ticker samples every 50 ms: the task is born with a queue phase of 0.4 s (80 upstream
    # seconds at the test clock), long enough to be seen even on a loaded machine, and its
    # "queued" callback is sent well before the "running" one.
    monkeypatch.setattr(sim.engine, "queue_range", (80.0, 80.0))
    task_id = create(sim, text(duration=4, callback_url=hook)).json()["id"]
    wait_for(sim, task_id, "succeeded")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(received) < 3:
        time.sleep(0.02)
    assert [b["status"] for b in received] == ["queued", "running", "succeeded"]
    assert all(b["id"] == task_id for b in received)
    final = received[-1]
    assert final["content"]["video_url"] and final["usage"]["total_tokens"] > 0
    assert set(get(sim, task_id).json()) == set(final)


# --- expiry -----------------------------------------------------------------------------------
def test_a_task_expires_once_execution_expires_after_passes(tmp_path):
    # 3600 upstream seconds before a 5000 s render ends; 20000x speed makes that 0.18 s.
    fast = start_simulator(
        cache_dir=tmp_path, speed=20000.0, render_range=(5000.0, 5000.0), queue_range=(1.0, 1.0)
    )
    try:
        response = httpx.post(
            fast.base_url("ark") + "/contents/generations/tasks",
            json=text(execution_expires_after=3600),
            headers=AUTH,
            timeout=5,
        )
        task_id = response.json()["id"]
        time.sleep(0.4)  # well past both 3600 s and the 5000 s render
        body = httpx.get(
            fast.base_url("ark") + f"/contents/generations/tasks/{task_id}",
            headers=AUTH,
            timeout=5,
        ).json()
        assert body["status"] == "expired" and "content" not in body
        assert body["error"]["code"] == "TaskExpired"
    finally:
        fast.stop()


def test_the_expire_fault_expires_a_task_after_running(sim):
    sim.engine.inject(Fault(kind="expire", dialect="ark"))
    task_id = create(sim, text(duration=4)).json()["id"]
    body, seen = wait_for(sim, task_id, "expired")
    assert "succeeded" not in seen and body["error"]["code"] == "TaskExpired"


# --- faults -----------------------------------------------------------------------------------
def test_lost_create_makes_the_task_but_drops_the_answer(sim):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark"))
    with pytest.raises(httpx.TransportError):
        create(sim, text())
    assert len(sim.engine.tasks_of("ark")) == 1


def test_request_faults_use_the_ark_envelope(sim):
    sim.engine.inject(Fault(kind="http_429", op="get", dialect="ark", retry_after=2))
    task_id = create(sim, text()).json()["id"]
    limited = get(sim, task_id)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["error"]["code"].startswith("RateLimitExceeded")
    sim.engine.inject(Fault(kind="moderation_input", op="create", dialect="ark"))
    refused = create(sim, text())
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "InputTextSensitiveContentDetected"


def test_missing_key_is_a_401(sim):
    assert create(sim, text(), headers={}).status_code == 401


def test_simulator_prefixes_match_the_settings(sim):
    assert sim.base_url("ark").endswith("/ark/api/v3")
    assert "ark" in django_settings.SEEDANCE_PROVIDERS
