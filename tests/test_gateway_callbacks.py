"""Gateway callbacks over real HTTP: the simulator POSTs to a live server (Ark on every status
change, AceData once with the final result). A genuine callback finishes a task with no sweep,
through the one re-fetch it triggers; forged and replayed ones change nothing."""

import json
import time

import httpx
import pytest

from projects.models import GenerationTask
from projects.providers.base import TaskSnapshot, UpstreamStatus
from projects.services.generation import GenerationParams
from projects.services.refresh import generation_task_apply_snapshot
from projects.services.upstream_request import callback_url_for
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db(transaction=True)
Status = GenerationTask.Status


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.SEEDANCE_CALLBACKS = True
    return live_server.url


def ark_params(**overrides) -> GenerationParams:
    values = dict(
        provider="ark",
        model="doubao-seedance-2-0-260128",
        prompt="A paper boat on a rainy street",
        ratio="16:9",
        resolution="480p",
        duration=4,
    )
    values.update(overrides)
    return GenerationParams(**values)


def acedata_params(**overrides) -> GenerationParams:
    values = dict(
        provider="acedata",
        model="doubao-seedance-1-0-pro-250528",
        prompt="A paper boat on a rainy street",
        ratio="16:9",
        resolution="480p",
        duration=3,
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationParams(**values)


def wait_until_terminal(task: GenerationTask, timeout: float = 20.0) -> GenerationTask:
    """Wait for callbacks to end the task; nothing here polls the gateway."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.is_terminal:
            return task
        time.sleep(0.05)
    return task


def delivered(
    sim, task: GenerationTask, *, final: str = "", at_least: int = 1, timeout: float = 5.0
) -> list[dict]:
    """The callbacks the simulator delivered for `task`, waiting (up to `timeout` seconds) for
    `at_least` of them and, with `final`, for the last to carry that status: the simulator
    records a callback only after our 200 came back, which can be after the task it finished
    is already terminal in our database."""
    url = callback_url_for(task)
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in sim.engine.callbacks_sent if c["url"] == url and c["status"] == 200]
        done = len(calls) >= at_least and (not final or calls[-1]["body"].get("status") == final)
        if done or time.monotonic() > deadline:
            return calls
        time.sleep(0.02)


def post(url: str, body) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url, content=content, timeout=10)


# --- Ark ---------------------------------------------------------------------------------------
def test_ark_callbacks_finish_the_task_with_no_sweep(site, sim, project, member):
    task = create_task(project=project, user=member, params=ark_params())
    task = wait_until_terminal(task)
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.video and task.usage["total_tokens"] > 0
    calls = delivered(sim, task, final="succeeded")
    gets = sim.engine.counters["ark:get"]
    # Each callback asks the gateway once (never more); nothing else polled.
    assert 1 <= gets <= len(calls) and task.poll_count == gets
    assert calls[-1]["body"]["status"] == "succeeded"
    assert sim.engine.counters["ark:create"] == 1


def test_a_forged_ark_callback_gets_404_and_changes_nothing(
    site, sim, project, member, monkeypatch
):
    # Queued upstream from its create on (a 5-40 ms queue at 200x could end first).
    monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))
    task = create_task(project=project, user=member, params=ark_params())
    task.refresh_from_db()
    assert sim.engine.callbacks_quiet(task.upstream_task_id)  # the queued callback came and went
    task.refresh_from_db()
    before = (task.status, task.poll_count, sim.engine.counters["ark:get"])
    claim = {"id": task.upstream_task_id, "status": "succeeded", "content": {"video_url": "x"}}
    good_url = callback_url_for(task)
    forged = good_url.replace(task.callback_token, "not-the-token")
    assert post(forged, claim).status_code == 404
    assert post(good_url.replace(str(task.pk), "not-a-uuid"), claim).status_code == 404
    task.refresh_from_db()
    assert (task.status, task.poll_count, sim.engine.counters["ark:get"]) == before
    assert task.status == Status.QUEUED


def test_replayed_and_foreign_ark_callbacks_change_nothing(site, sim, project, member, monkeypatch):
    done = wait_until_terminal(create_task(project=project, user=member, params=ark_params()))
    assert done.status == Status.SUCCEEDED
    old_body = delivered(sim, done)[0]["body"]
    gets = sim.engine.counters["ark:get"]
    replay = post(callback_url_for(done), old_body)
    assert replay.status_code == 200 and replay.text == "already-final"
    done.refresh_from_db()
    assert done.status == Status.SUCCEEDED and sim.engine.counters["ark:get"] == gets

    # Queued upstream from its create on: a queue of 5-40 ms at 200x could end (and call
    # back "running") before the test held it.
    monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))
    waiting = create_task(project=project, user=member, params=ark_params())
    waiting.refresh_from_db()
    # Another task's "succeeded" body sent to this task's URL: ignored, nothing fetched.
    foreign = post(callback_url_for(waiting), delivered(sim, done)[-1]["body"])
    assert foreign.text == "ignored"
    # A body claiming a non-final status needs no confirmation: noted, nothing fetched.
    gets = sim.engine.counters["ark:get"]
    # (Claiming "queued": a "running" one would rightly show the task rendering.)
    early = post(
        callback_url_for(waiting),
        {**old_body, "id": waiting.upstream_task_id, "status": "queued"},
    )
    assert old_body["status"] in ("queued", "running") and early.text == "noted"
    assert sim.engine.counters["ark:get"] == gets
    # Its own id with a forged "succeeded": re-fetched once, and the gateway still says queued.
    final_body = delivered(sim, done, final="succeeded")[-1]["body"]
    stale = post(callback_url_for(waiting), {**final_body, "id": waiting.upstream_task_id})
    assert stale.text == "refreshing"
    waiting.refresh_from_db()
    assert waiting.status == Status.QUEUED and not waiting.video
    assert post(callback_url_for(waiting), b"not json").status_code == 400


def test_thirty_replayed_endings_make_one_gateway_request(site, sim, project, member, monkeypatch):
    done = wait_until_terminal(create_task(project=project, user=member, params=ark_params()))
    ending = delivered(sim, done, final="succeeded")[-1]["body"]
    # Queued upstream from its create on: a queue of 5-40 ms at 200x could end (and call
    # back "running") before the test held it.
    monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))
    waiting = create_task(project=project, user=member, params=ark_params())
    waiting.refresh_from_db()  # the gateway says queued
    gets = sim.engine.counters["ark:get"]
    answers = [
        post(callback_url_for(waiting), {**ending, "id": waiting.upstream_task_id}).text
        for _ in range(30)
    ]
    # The first claims the task for one poll job (run inline here); the other 29 find the
    # lease held and queue nothing.
    assert answers == ["refreshing"] + ["noted"] * 29
    assert sim.engine.counters["ark:get"] == gets + 1
    waiting.refresh_from_db()
    assert waiting.status == Status.QUEUED and waiting.poll_count == 1


def test_two_polls_of_one_queued_task_write_rendering_started_once(db):
    task = GenerationTaskFactory(status=Status.QUEUED, upstream_task_id="up-1")
    stale = GenerationTask.objects.get(pk=task.pk)  # the second job read it queued too
    running = TaskSnapshot(upstream_id="up-1", status=UpstreamStatus.RUNNING, raw_status="running")
    generation_task_apply_snapshot(task=task, snapshot=running)
    generation_task_apply_snapshot(task=stale, snapshot=running)
    task.refresh_from_db()
    assert task.status == Status.RUNNING
    assert task.events.filter(kind="running").count() == 1


# --- AceData -----------------------------------------------------------------------------------
def test_acedata_final_callback_finishes_the_task_with_one_fetch(site, sim, project, member):
    task = create_task(project=project, user=member, params=acedata_params())
    task = wait_until_terminal(task)
    assert task.status == Status.SUCCEEDED, task.error_message
    (call,) = delivered(sim, task)
    assert call["body"]["task_id"] == task.upstream_task_id
    assert sim.engine.counters["acedata:get"] == 1 == task.poll_count


def test_acedata_lost_create_is_adopted_from_its_callback(site, sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="acedata"))
    task = create_task(project=project, user=member, params=acedata_params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    (made,) = sim.engine.tasks_of("acedata")
    task = wait_until_terminal(task)
    assert task.status == Status.SUCCEEDED and task.upstream_task_id == made.id
    assert task.events.filter(kind="reconciled", message__contains="callback").exists()
    assert sim.engine.counters["acedata:create"] == 1


def test_a_forged_acedata_callback_gets_404(site, sim, project, member):
    task = create_task(project=project, user=member, params=acedata_params())
    task.refresh_from_db()
    sim.engine.tasks[task.upstream_task_id].queue_s = 1e9
    body = {"success": True, "task_id": task.upstream_task_id, "data": {"status": "succeeded"}}
    forged = callback_url_for(task).replace(task.callback_token, "guess")
    assert post(forged, body).status_code == 404
    task.refresh_from_db()
    assert task.status == Status.QUEUED and sim.engine.counters["acedata:get"] == 0
