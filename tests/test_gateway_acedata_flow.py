"""Generations through the AceData Cloud adapter and the simulator over real HTTP: the
statuses its docs show, the `generate` command, and each fault ending in the right state with
never two upstream tasks for one of ours (a lost create waits; AceData cannot be searched)."""

import json
from pathlib import Path

import pytest

from projects.exceptions import InvalidRequest, InvalidStateTransition
from projects.models import GenerationTask
from projects.providers.acedata import AceDataProvider
from projects.services.cancel import generation_task_cancel
from projects.services.generation import GenerationParams, generation_task_create
from projects.services.sweep import generation_tasks_sweep
from projects.services.upstream_request import callback_url_for
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, generate_json, make_due

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
MODEL = "doubao-seedance-1-0-pro-250528"
FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "acedata"


def params(**overrides) -> GenerationParams:
    values = dict(
        provider="acedata",
        model=MODEL,
        prompt="A kitten yawning at the camera.",
        ratio="16:9",
        resolution="480p",
        duration=3,
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationParams(**values)


def creates(sim) -> int:
    return sim.engine.counters["acedata:create"]


def upstream_tasks(sim) -> list:
    return sim.engine.tasks_of("acedata")


def dialect(sim):
    return next(d for d in sim.server.dialects if d.name == "acedata")


def test_without_a_callback_the_documented_create_waits_for_the_video(sim, project, member):
    """Callbacks off: no callback_url, and no `"async": true` either (not in AceData's doc):
    the create answers with the final result when the video is done, and the task is then read
    back through the tasks retrieve."""
    task = create_task(project=project, user=member, params=params(seed=11, watermark=True))
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.upstream_task_id
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert sent == {
        "model": MODEL,
        "content": [
            {
                "type": "text",
                "text": "A kitten yawning at the camera. --rs 480p --rt 16:9 --dur 3 --fps 24 "
                "--wm true --seed 11 --cf false",
            }
        ],
        "return_last_frame": True,  # the model returns a last frame: kept for chaining
        "service_tier": "default",
        "execution_expires_after": 172800,
    }
    made = sim.engine.tasks[task.upstream_task_id]
    assert made.status_at(sim.engine.now()) == "succeeded"  # the create waited for it
    task = drive(task)
    assert task.status == Status.SUCCEEDED, task.error_message
    # 1.0 pro 480p 16:9 is 864x480 (research §1.7): floor(864*480/1024*73) for 3 s
    assert task.usage == {"completion_tokens": 29565, "total_tokens": 29565}
    assert task.upstream_duration_s == 3 and task.video_duration_s == pytest.approx(3, abs=0.05)
    assert creates(sim) == 1 and len(upstream_tasks(sim)) == 1
    # One retrieve (batched) after the create: the result was there already.
    assert sim.engine.counters["acedata:get"] + sim.engine.counters["acedata:list"] == 1


def test_the_guides_object_form_works_as_well(sim, project, member):
    dialect(sim).data_shape = "object"
    try:
        task = drive(create_task(project=project, user=member, params=params()))
    finally:
        dialect(sim).data_shape = "array"
    assert task.status == Status.SUCCEEDED and task.usage == {}
    assert task.video_duration_s == pytest.approx(3, abs=0.05)


def test_audio_model_sends_generate_audio(sim, project, member):
    model = "doubao-seedance-1-5-pro-251215"
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(model=model, generate_audio=True, duration=-1),
        )
    )
    assert task.status == Status.SUCCEEDED
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert sent["generate_audio"] is True and "--dur -1 " in sent["content"][0]["text"]
    assert 5 <= task.upstream_duration_s <= 10


def test_failed_after_running_moderation(sim, project, member):
    sim.engine.inject(Fault(kind="moderation_output", dialect="acedata"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED
    assert task.error_code == "OutputVideoSensitiveContentDetected"
    assert "moderation blocked the generated video" in task.error_message


def test_expired(sim, project, member):
    sim.engine.inject(Fault(kind="expire", dialect="acedata"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.EXPIRED and task.error_code == "TaskExpired"


def test_cancel_is_refused_acedata_has_none(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    with pytest.raises(InvalidStateTransition) as info:
        generation_task_cancel(task=task, user=member)
    assert "AceData Cloud has no cancel operation" in info.value.message


def test_a_prompt_with_flags_is_refused_and_nothing_is_stored(sim, project, member):
    with pytest.raises(InvalidRequest) as info:
        generation_task_create(
            project=project, user=member, params=params(prompt="A cat --rs 1080p")
        )
    assert "Remove '--rs' from the prompt" in info.value.errors["prompt"]
    assert GenerationTask.objects.count() == 0 and creates(sim) == 0


@pytest.mark.django_db(transaction=True)
def test_generate_with_acedata_sends_the_documented_body(sim, settings):
    settings.SEEDANCE_CALLBACKS = True  # the documented body carries callback_url
    result = generate_json(
        "--provider=acedata",
        "--prompt=A harbour at dawn",
        "--resolution=720p",
    )
    assert result["status"] == "succeeded", result
    assert (result["provider"], result["model"]) == ("acedata", MODEL)
    assert result["upstream_task_id"] in sim.engine.tasks
    task = GenerationTask.objects.get()
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    doc = json.loads((FIXTURES / "create_request.json").read_text())
    # The doc example's fields, minus generate_audio (1.0 pro ignores it; not sent).
    assert set(sent) == set(doc) - {"generate_audio"}
    assert sent == {
        "model": MODEL,
        "content": [
            {
                "type": "text",
                "text": "A harbour at dawn --rs 720p --rt 16:9 --dur 5 --fps 24 --wm false "
                "--cf false",
            }
        ],
        "callback_url": callback_url_for(task),
        "return_last_frame": True,  # the model returns a last frame: kept for chaining
        "service_tier": "default",
        "execution_expires_after": 172800,
    }
    assert task.usage["total_tokens"] == 103818  # 1.0 pro 720p 16:9 = 1248x704 (§1.7), 5 s


# --- faults ------------------------------------------------------------------------------------
def test_rate_limit_and_server_errors_are_retried(sim, project, member):
    sim.engine.inject(Fault(kind="http_429", op="create", dialect="acedata", retry_after=2))
    sim.engine.inject(Fault(kind="http_500", op="list", dialect="acedata", count=2))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.PENDING
    assert (task.next_poll_at - task.submitted_at).total_seconds() >= 2
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert task.events.filter(kind="poll_error").exists()
    assert creates(sim) == 2 and len(upstream_tasks(sim)) == 1


def test_timeout_and_malformed_replies_on_polls_are_retried(sim, project, member, settings):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    sim.engine.inject(Fault(kind="timeout", op="list", dialect="acedata", hang_s=0.8))
    sim.engine.inject(Fault(kind="malformed", op="list", dialect="acedata"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.SUCCEEDED and creates(sim) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(kind="lost_create", dialect="acedata"), "dropped the connection"),
        (Fault(kind="timeout", op="create", dialect="acedata", hang_s=1.0), "did not answer"),
        (Fault(kind="malformed", op="create", dialect="acedata"), "unreadable reply"),
    ],
)
def test_an_unknown_create_outcome_waits_and_is_never_resent(
    sim, project, member, settings, monkeypatch, fault, message
):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    monkeypatch.setattr(AceDataProvider, "SYNC_CREATE_TIMEOUT", 0.5)
    sim.engine.inject(fault)
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and message in task.error_message
    for _ in range(3):
        make_due(task)
        generation_tasks_sweep(max_seconds=0.3, concurrency=1, until_idle=True)
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    assert task.events.filter(kind="needs_admin").count() == 1
    assert creates(sim) == 1
    assert len(upstream_tasks(sim)) == (1 if fault.kind == "lost_create" else 0)


def test_moderation_at_create_fails_with_the_vendor_message(sim, project, member):
    sim.engine.inject(Fault(kind="moderation_input", op="create", dialect="acedata"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.FAILED and task.error_code == "bad_request"
    assert task.error_message == (
        "AceData refused the content: InputTextSensitiveContentDetected: The request failed "
        "because the input text may contain sensitive information."
    )
    assert upstream_tasks(sim) == []
