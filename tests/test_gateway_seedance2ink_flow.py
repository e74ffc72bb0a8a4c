"""seedance2.ink end to end: services, the adapter and the simulator over real HTTP, through
every status the reference names, cancel, the `generate` command, and its webhook delivered
to a live server (genuine, forged, replayed, and naming a lost create's task)."""

import json
import time
from pathlib import Path

import httpx
import pytest

from projects.exceptions import InvalidStateTransition
from projects.models import GenerationTask
from projects.providers.base import UpstreamStatus
from projects.providers.registry import get_provider
from projects.services.cancel import generation_task_cancel
from projects.services.generation import GenerationParams, generation_task_create
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, generate_json
from tests.sim_control import hold, refreshed, release

pytestmark = pytest.mark.django_db

Status = GenerationTask.Status
DOC_BODY = json.loads(
    (Path(__file__).parent / "fixtures/providers/seedance2ink/create_request.json").read_text()
)
NOWHERE = "http://127.0.0.1:9"  # the discard port: webhooks of tests without a server go nowhere


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = NOWHERE


def params(**overrides) -> GenerationParams:
    values = dict(
        provider="seedance2ink",
        model="seedance-2.0",
        prompt=DOC_BODY["prompt"],
        ratio="16:9",
        resolution="720p",
        duration=4,
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationParams(**values)


def wait_until(task: GenerationTask, done, timeout: float = 15.0) -> GenerationTask:
    """Wait (without polling the gateway) until `done(task)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if done(task):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task stayed {task.status}: {list(task.events.values('kind'))}")


def test_a_task_walks_queued_processing_succeeded(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.upstream_task_id.startswith("req_")
    hold(sim, task.upstream_task_id, "queued")
    task = refreshed(task)
    assert (task.status, task.upstream_status) == (Status.QUEUED, "queued")
    hold(sim, task.upstream_task_id, "running")
    task = refreshed(task)
    assert (task.status, task.upstream_status) == (Status.RUNNING, "processing")
    release(sim, task.upstream_task_id)
    task = drive(task)
    assert (task.status, task.upstream_status) == (Status.SUCCEEDED, "succeeded")
    assert task.upstream_duration_s == 4 and task.video_duration_s == pytest.approx(4, abs=0.05)
    submitted = task.events.get(kind="submitted")
    assert submitted.data["upstream_task_id"] == task.upstream_task_id
    # The simulator's price: 4 s of seedance-2.0 at 720p, 8 credits a second.
    assert submitted.data["vendor_cost"] == "32"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("fail", "The service encountered an unexpected internal error."),
        # The reference names no expired status: an expiry reads as failed.
        ("expire", "The task exceeded execution_expires_after."),
    ],
)
def test_failures_and_expiry_end_failed_with_the_gateway_message(
    sim, project, member, fault, message
):
    sim.engine.inject(Fault(kind=fault, dialect="seedance2ink"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert (task.status, task.upstream_status) == (Status.FAILED, "failed")
    assert task.error_message == message and not task.video


@pytest.mark.parametrize("upstream_status", ["queued", "running"])
def test_cancel_a_queued_or_processing_generation(sim, project, member, upstream_status):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    hold(sim, task.upstream_task_id, upstream_status)
    task = refreshed(task)
    message = generation_task_cancel(task=task, user=member)
    assert message == "Cancelled at seedance2.ink. Nothing was charged."
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    upstream = get_provider("seedance2ink").fetch(task.upstream_task_id)
    assert (upstream.status, upstream.raw_status) == (UpstreamStatus.CANCELLED, "cancelled")


def test_cancel_of_a_generation_that_ended_meanwhile_is_refused_with_the_reason(
    sim, project, member
):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    hold(sim, task.upstream_task_id, "running")
    task = refreshed(task)
    release(sim, task.upstream_task_id)
    with pytest.raises(InvalidStateTransition) as info:
        generation_task_cancel(task=task, user=member)
    assert info.value.message == (
        f"seedance2.ink refused the cancel: Generation {task.upstream_task_id} is succeeded; "
        "only queued or processing generations can be cancelled."
    )
    task.refresh_from_db()
    assert task.status == Status.RUNNING
    assert drive(task).status == Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_generate_command_sends_the_reference_fields_and_succeeds(sim, settings):
    settings.SEEDANCE_CALLBACKS = True  # so the body carries webhookUrl (it goes nowhere here)
    result = generate_json(
        "--provider",
        "seedance2ink",
        "--prompt",
        DOC_BODY["prompt"],
        "--duration",
        "5",
        "--ratio",
        "16:9",
        "--resolution",
        "720p",
    )
    assert result["status"] == "succeeded" and result["error"] is None
    assert (result["provider"], result["model"]) == ("seedance2ink", "seedance-2.0")
    task = GenerationTask.objects.get()
    creates = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    # The reference's example without its mediaUrls (text to video), plus the two optional
    # fields it documents that we always fill: webhookUrl and metadata.
    text_to_video = {k: v for k, v in DOC_BODY.items() if k != "mediaUrls"}
    assert creates == [
        {
            **text_to_video,
            "webhookUrl": f"{NOWHERE}/callbacks/{task.pk}/{task.callback_token}/",
            "metadata": {"seedance_web_task": str(task.pk)},
        }
    ]


# --- webhooks delivered to a live server -------------------------------------------------


@pytest.fixture
def live_site(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.SEEDANCE_CALLBACKS = True
    return live_server


def gets(sim) -> int:
    return sim.engine.counters["seedance2ink:get"]


def wait_for_deliveries(sim, timeout: float = 5.0) -> list[dict]:
    """The webhook posts the simulator saw answered 200, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivered = [c for c in sim.engine.callbacks_sent if c["status"] == 200]
        if delivered:
            return delivered
        time.sleep(0.02)
    return []


@pytest.fixture
def queued_until_released(sim, monkeypatch):
    """New simulated tasks stay queued until `release`: no webhook can overtake the create's
    answer (a webhook about a task still being submitted is only noted)."""
    monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))


@pytest.mark.django_db(transaction=True)
def test_a_genuine_webhook_finishes_the_task_with_one_refetch(
    sim, live_site, queued_until_released, project, member
):
    task = generation_task_create(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.QUEUED  # submitted inline on commit
    release(sim, task.upstream_task_id)
    # No sweep runs: only the webhook can move the task on.
    task = wait_until(task, lambda t: t.is_terminal)
    assert task.status == Status.SUCCEEDED, task.error_message
    assert gets(sim) == 1 and task.poll_count == 1  # the one re-fetch the webhook triggered
    # The task ends inside the webhook's request; the simulator logs the answer just after.
    delivered = wait_for_deliveries(sim)
    assert len(delivered) == 1
    assert delivered[0]["url"] == (f"{live_site.url}/callbacks/{task.pk}/{task.callback_token}/")
    assert delivered[0]["body"]["status"] == "succeeded"

    # Replayed: the same body again changes nothing and asks the gateway nothing.
    before = (task.finished_at, task.events.count())
    replay = httpx.post(delivered[0]["url"], json=delivered[0]["body"], timeout=10)
    assert (replay.status_code, replay.text) == (200, "already-final")
    task.refresh_from_db()
    assert (task.finished_at, task.events.count()) == before and gets(sim) == 1


@pytest.mark.django_db(transaction=True)
def test_a_forged_webhook_is_a_404_and_changes_nothing(
    sim, live_site, queued_until_released, project, member
):
    task = generation_task_create(project=project, user=member, params=params())
    task.refresh_from_db()
    events = task.events.count()
    forged_body = {
        "success": True,
        "requestId": task.upstream_task_id,
        "status": "succeeded",
        "output": {"type": "video", "url": "https://evil.example/x.mp4"},
        "error": None,
    }
    for url in (
        f"{live_site.url}/callbacks/{task.pk}/not-the-token/",
        f"{live_site.url}/callbacks/00000000-0000-0000-0000-000000000000/{task.callback_token}/",
        f"{live_site.url}/callbacks/not-a-uuid/{task.callback_token}/",
    ):
        response = httpx.post(url, json=forged_body, timeout=10)
        assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.events.count() == events
    assert task.output_url == "" and gets(sim) == 0


@pytest.mark.django_db(transaction=True)
def test_the_webhook_of_a_lost_create_names_its_task_and_it_is_adopted(
    sim, live_site, queued_until_released, project, member
):
    sim.engine.inject(Fault(kind="lost_create", dialect="seedance2ink"))
    task = generation_task_create(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and task.upstream_task_id == ""
    (upstream,) = sim.engine.tasks.values()
    release(sim, upstream.id)
    task = wait_until(task, lambda t: t.is_terminal)
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.upstream_task_id == upstream.id and len(sim.engine.tasks) == 1
    assert sim.engine.counters["seedance2ink:create"] == 1
    assert task.events.filter(kind="reconciled").exists()
