"""The simulator's AceData dialect over real HTTP: the doc's body and prompt flags, async and
synchronous creates, retrieve / retrieve_batch, the final-result callback, faults."""

import json
import time
from pathlib import Path

import httpx
import pytest

from projects.upstream_sim.faults import Fault
from tests.receivers import receiver  # noqa: F401 - fixture

AUTH = {"Authorization": "Bearer ace-anything"}
FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "acedata"
MODEL = "doubao-seedance-1-0-pro-250528"


def doc_body(**overrides) -> dict:
    body = json.loads((FIXTURES / "create_request.json").read_text())
    del body["callback_url"]  # the doc's "<string>" placeholder
    body["async"] = True
    body.update(overrides)
    return body


def flags_body(flags: str, **overrides) -> dict:
    return doc_body(content=[{"type": "text", "text": f"A kitten yawning. {flags}"}], **overrides)


def create(sim, body, **kwargs):
    return httpx.post(
        sim.base_url("acedata") + "/seedance/videos", json=body, headers=AUTH, timeout=10, **kwargs
    )


def tasks(sim, body):
    url = sim.base_url("acedata") + "/seedance/tasks"
    return httpx.post(url, json=body, headers=AUTH, timeout=5)


def retrieve_until_done(sim, task_id, timeout=10.0):
    deadline = time.monotonic() + timeout
    pending_seen = False
    while time.monotonic() < deadline:
        record = tasks(sim, {"id": task_id, "action": "retrieve"}).json()
        if "response" in record:
            return record, pending_seen
        pending_seen = True
        time.sleep(0.01)
    raise AssertionError("no response in time")


def dialect(sim):
    return next(d for d in sim.server.dialects if d.name == "acedata")


@pytest.fixture
def object_shape(sim):
    dialect(sim).data_shape = "object"
    yield
    dialect(sim).data_shape = "array"


def test_the_doc_example_runs_async_and_retrieve_shows_the_result(sim):
    response = create(sim, doc_body())
    assert response.status_code == 200, response.text
    created = response.json()
    assert created["success"] is True and set(created) == {"success", "task_id", "trace_id"}
    task = sim.engine.tasks[created["task_id"]]
    assert (task.resolution, task.ratio, task.duration_s, task.audio) == ("720p", "16:9", 5, False)
    assert task.extra["seed"] == 11
    task.queue_s = 40.0  # 0.2 s: retrieve sees the task before it has a response
    record, pending_seen = retrieve_until_done(sim, created["task_id"])
    assert pending_seen
    assert record["id"] == created["task_id"] and record["trace_id"] == created["trace_id"]
    assert record["request"] == doc_body() and record["type"] == "videos"
    result = record["response"]
    assert result["success"] is True and result["task_id"] == created["task_id"]
    (ark_task,) = result["data"]  # the reference's array form
    assert ark_task["status"] == "succeeded" and ark_task["id"].startswith("cgt-")
    # 1.0 pro 720p 16:9 renders 1248x704 (research §1.7): floor(1248*704/1024*121) tokens.
    # AceData's example shows 108,900, the 1280x720 figure: see upstream_sim/tokens.py
    assert ark_task["usage"]["total_tokens"] == 103818 and ark_task["duration"] == 5
    video = httpx.get(ark_task["content"]["video_url"], timeout=5)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_the_guides_object_form(sim, object_shape):
    task_id = create(sim, doc_body(return_last_frame=True)).json()["task_id"]
    record, _ = retrieve_until_done(sim, task_id)
    data = record["response"]["data"]
    assert set(data) == {"task_id", "status", "video_url", "last_frame_url", "model"}
    assert data["status"] == "succeeded" and data["model"] == MODEL
    assert httpx.get(data["last_frame_url"], timeout=5).content[:4] == b"\x89PNG"


def test_without_callback_or_async_the_call_holds_until_done(sim):
    body = doc_body()
    del body["async"]
    started = time.monotonic()
    response = create(sim, body)
    assert response.status_code == 200
    result = response.json()
    assert result["success"] is True and result["data"][0]["status"] == "succeeded"
    task = sim.engine.tasks[result["task_id"]]
    assert time.monotonic() - started >= sim.engine.real_seconds(task.queue_s + task.render_s)


def test_retrieve_batch_and_trace_id(sim):
    first = create(sim, doc_body()).json()
    second = create(sim, doc_body()).json()
    batch = tasks(sim, {"ids": [first["task_id"], second["task_id"]], "action": "retrieve_batch"})
    assert batch.status_code == 200
    assert batch.json()["count"] == 2
    assert [i["id"] for i in batch.json()["items"]] == [first["task_id"], second["task_id"]]
    by_trace = tasks(sim, {"trace_id": second["trace_id"], "action": "retrieve"}).json()
    assert by_trace["id"] == second["task_id"]
    missing = tasks(sim, {"id": "nope", "action": "retrieve"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert tasks(sim, {"id": "x", "action": "delete"}).status_code == 400


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (doc_body(resolution="720p"), "resolution"),
        (doc_body(modell=MODEL), "modell"),
        (doc_body(model="doubao-seedance-2-0-260128"), "model"),
        (flags_body("--rs 4k"), "--rs"),
        (flags_body("--rt 2:1"), "--rt"),
        (flags_body("--dur 13"), "--dur"),
        (flags_body("--dur -1"), "--dur"),
        (flags_body("--fps 16"), "--fps"),
        (flags_body("--wm maybe"), "--wm"),
        (flags_body("--seed lucky"), "--seed"),
        (flags_body("--rs 720p --resolution 480p"), "--resolution"),
        (flags_body("--speed 2"), "--speed"),
        (flags_body("--cf"), "--cf"),
        (doc_body(execution_expires_after=100), "execution_expires_after"),
        (
            doc_body(
                content=[
                    {"type": "text", "text": "x"},
                    {
                        "type": "video_url",
                        "video_url": {"url": "https://a/v.mp4"},
                        "role": "reference_video",
                    },
                ]
            ),
            "type",
        ),
        (
            doc_body(
                model="doubao-seedance-1-0-lite-i2v-250428",
                content=[{"type": "text", "text": "x --rs 480p"}],
            ),
            "needs an image",
        ),
    ],
)
def test_what_the_doc_refuses_gets_a_400_naming_it(sim, body, named):
    response = create(sim, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["success"] is False and answer["trace_id"]
    assert answer["error"]["code"] == "bad_request" and named in answer["error"]["message"]
    assert sim.engine.tasks == {}


def test_flags_in_long_form_and_auto_duration_on_1_5_pro(sim):
    body = flags_body(
        "--resolution 480p --ratio 9:16 --duration -1 --seed 3 --camerafixed true",
        model="doubao-seedance-1-5-pro-251215",
        generate_audio=True,
    )
    task = sim.engine.tasks[create(sim, body).json()["task_id"]]
    assert (task.resolution, task.ratio, task.audio) == ("480p", "9:16", True)
    assert task.extra["requested_duration"] == -1 and 5 <= task.duration_s <= 10
    ignored = create(sim, doc_body(generate_audio=True)).json()["task_id"]
    assert sim.engine.tasks[ignored].audio is False  # "other models will ignore this parameter"


def test_the_final_result_is_posted_to_the_callback_once(sim, receiver):  # noqa: F811
    hook, received = receiver
    created = create(sim, doc_body(callback_url=hook)).json()
    retrieve_until_done(sim, created["task_id"])
    assert sim.engine.callbacks_quiet(created["task_id"])  # nothing more will follow
    assert len(received) == 1
    assert received[0]["task_id"] == created["task_id"] and received[0]["success"] is True
    assert received[0]["data"][0]["status"] == "succeeded"


def test_moderation_after_running_is_a_failed_result(sim):
    sim.engine.inject(Fault(kind="moderation_output", dialect="acedata"))
    task_id = create(sim, doc_body()).json()["task_id"]
    record, _ = retrieve_until_done(sim, task_id)
    result = record["response"]
    assert result["success"] is False
    assert result["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert result["data"][0]["status"] == "failed"


def test_faults_use_acedata_error_envelope(sim):
    sim.engine.inject(Fault(kind="http_429", op="create", dialect="acedata", retry_after=3))
    limited = create(sim, doc_body())
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"]["code"] == "too_many_requests"
    sim.engine.inject(Fault(kind="moderation_input", op="create", dialect="acedata"))
    refused = create(sim, doc_body()).json()["error"]
    assert refused["code"] == "bad_request"
    assert refused["message"].startswith("InputTextSensitiveContentDetected: ")
    sim.engine.inject(Fault(kind="http_500", op="get", dialect="acedata"))
    assert tasks(sim, {"id": "x", "action": "retrieve"}).json()["error"]["code"] == "api_error"
    no_key = httpx.post(sim.base_url("acedata") + "/seedance/videos", json=doc_body(), timeout=5)
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "invalid_token"
    sim.engine.inject(Fault(kind="lost_create", dialect="acedata"))
    with pytest.raises(httpx.TransportError):
        create(sim, doc_body())
    assert len(sim.engine.tasks_of("acedata")) == 1
