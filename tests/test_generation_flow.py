"""A generation's whole life through the services and the simulator over real HTTP."""

import hashlib
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from projects.exceptions import InvalidRequest
from projects.media import probe_video
from projects.models import GenerationTask
from projects.services.generation import generation_task_create
from projects.services.outputs import generation_task_store_outputs
from projects.services.submit import generation_task_submit
from projects.services.sweep import generation_tasks_sweep
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, tokenhub_params

pytestmark = pytest.mark.django_db

Status = GenerationTask.Status


params = tokenhub_params


def creates(sim) -> int:
    return sim.engine.counters["tokenhub:create"]


def test_text_to_video_ends_with_a_stored_checksummed_probed_video(sim, project, member):
    task = drive(create_task(project=project, user=member, params=params(duration=7)))
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.upstream_task_id and creates(sim) == 1
    assert task.video.name == f"teams/{project.team_id}/outputs/{task.pk}/video.mp4"
    path = Path(default_storage.path(task.video.name))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == task.video_sha256
    assert task.video_size_bytes == path.stat().st_size
    info = probe_video(path)
    assert info.duration_s == pytest.approx(7.0, abs=0.05) == task.video_duration_s
    assert (task.video_width, task.video_height) == (info.width, info.height)
    assert task.cover.name.endswith("cover.jpg") and default_storage.exists(task.cover.name)
    assert task.upstream_duration_s == 7
    kinds = list(task.events.values_list("kind", flat=True))
    assert kinds[0] == "created" and kinds[-1] == "succeeded" and "submitted" in kinds


def test_invalid_request_stores_and_sends_nothing(sim, project, member):
    with pytest.raises(InvalidRequest) as info:
        generation_task_create(project=project, user=member, params=params(duration=20))
    assert info.value.errors == {
        "duration": "doubao-seedance-2.0 accepts 4 to 15 seconds (TokenHub guide)."
    }
    assert GenerationTask.objects.count() == 0
    assert creates(sim) == 0


def test_submit_delivered_twice_makes_one_upstream_task(
    sim, project, member, settings, django_capture_on_commit_callbacks
):
    settings.SEEDANCE_JOBS_INLINE = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = generation_task_create(project=project, user=member, params=params())
    assert len(callbacks) == 1
    generation_task_submit(task_id=str(task.pk))
    generation_task_submit(task_id=str(task.pk))  # re-delivery by the broker
    generation_task_submit(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status in (Status.QUEUED, Status.RUNNING)
    assert creates(sim) == 1
    assert task.submit_attempts == 1


def sweep_until_downloading(task: GenerationTask) -> None:
    """Sweep (without store jobs running) until the gateway has rendered `task`."""
    for _ in range(400):
        generation_tasks_sweep(max_seconds=0.2, concurrency=1, until_idle=True)
        time.sleep(0.05)
        task.refresh_from_db()
        if task.status == Status.DOWNLOADING:
            break
    assert task.status == Status.DOWNLOADING


def test_store_job_delivered_twice_stores_one_output(sim, project, member, settings):
    settings.SEEDANCE_JOBS_INLINE = False  # the sweep must not run the store job itself
    task = generation_task_create(project=project, user=member, params=params(duration=4))
    generation_task_submit(task_id=str(task.pk))
    sweep_until_downloading(task)
    generation_task_store_outputs(task_id=str(task.pk))
    task.refresh_from_db()
    first = (task.video.name, task.video_sha256, task.finished_at)
    generation_task_store_outputs(task_id=str(task.pk))  # re-delivered
    task.refresh_from_db()
    assert (task.video.name, task.video_sha256, task.finished_at) == first
    folder = Path(default_storage.path(task.video.name)).parent
    # TokenHub returns no last frame: the video's own is stored (projects/media_frames.py).
    assert sorted(p.name for p in folder.iterdir()) == ["cover.jpg", "last_frame.png", "video.mp4"]
    assert sim.engine.counters["tokenhub:file"] == 2  # one video + one cover download


def test_a_400_from_upstream_fails_the_task_with_the_message(sim, project, member):
    sim.engine.inject(Fault(kind="http_400", op="create"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED
    assert task.error_message == (
        "TokenHub rejected the request: The parameter `content` "
        "specified in the request is not valid (injected fault)."
    )
    assert task.error_code == "InvalidParameter"
    assert creates(sim) == 1 and sim.engine.tasks == {}


def test_moderation_of_the_output_fails_with_a_clear_message(sim, project, member):
    sim.engine.inject(Fault(kind="moderation_output"))
    task = drive(create_task(project=project, user=member, params=params(duration=4)))
    assert task.status == Status.FAILED
    assert "moderation blocked the generated video" in task.error_message
    assert "Request id" not in task.error_message
    assert not task.video


def test_malformed_reply_to_a_poll_is_retried_and_the_task_still_succeeds(sim, project, member):
    sim.engine.inject(Fault(kind="malformed", op="get", count=2))
    task = drive(create_task(project=project, user=member, params=params(duration=4)))
    assert task.status == Status.SUCCEEDED
    assert task.events.filter(kind="poll_error").exists()
    assert creates(sim) == 1


def test_malformed_reply_to_create_is_never_resubmitted_blindly(sim, project, member):
    sim.engine.inject(Fault(kind="malformed", op="create"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    assert "unreadable reply" in task.error_message
    GenerationTask.objects.filter(pk=task.pk).update(next_poll_at=task.created_at)
    generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True)
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    assert creates(sim) == 1


def test_rate_limit_on_create_is_retried_not_failed(sim, project, member):
    sim.engine.inject(Fault(kind="http_429", op="create", retry_after=1))
    task = create_task(project=project, user=member, params=params(duration=4))
    task.refresh_from_db()
    assert task.status == Status.PENDING
    assert "rate limiting" in task.events.get(kind="submit_retry").message
    assert (task.next_poll_at - task.created_at).total_seconds() >= 1
    task = drive(task)
    assert task.status == Status.SUCCEEDED and task.submit_attempts == 2
    assert sim.engine.tasks.keys() == {task.upstream_task_id}


def test_an_expired_output_link_is_refreshed_once_then_fails_clearly(sim, project, member):
    sim.engine.inject(Fault(kind="link_expired"))
    task = drive(create_task(project=project, user=member, params=params(duration=4)))
    assert task.status == Status.FAILED
    assert "link expired" in task.error_message
    assert task.events.filter(kind="links_refreshed").count() == 1
    assert not default_storage.exists(f"teams/{project.team_id}/outputs/{task.pk}/video.mp4")


def test_an_output_link_expired_before_the_download_is_fetched_again(sim, project, member):
    sim.engine.inject(Fault(kind="link_expired_once"))
    task = drive(create_task(project=project, user=member, params=params(duration=4)))
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.events.filter(kind="links_refreshed").count() == 1
    assert default_storage.exists(task.video.name)


def test_the_simulator_accounts_each_status_request_to_the_tasks_it_answered(sim, project, member):
    task = drive(create_task(project=project, user=member, params=params(duration=4)))
    asks = sim.engine.status_asks[task.upstream_task_id]
    assert asks == task.poll_count == sim.engine.counters["tokenhub:get"] >= 1
    assert sim.engine.status_share[task.upstream_task_id] == asks  # one task per request


def test_a_lost_store_job_is_queued_again_after_the_pickup_time(
    sim, project, member, settings, monkeypatch
):
    # A store job lost with a killed worker must not leave the video waiting the whole
    # download lease (600 s): the sweep queues another once SEEDANCE_STORE_PICKUP passes.
    settings.SEEDANCE_JOBS_INLINE = False
    settings.SEEDANCE_STORE_PICKUP = 0.3
    queued: list[tuple] = []
    monkeypatch.setattr("projects.services.sweep.enqueue", lambda *a: queued.append(a))
    task = generation_task_create(project=project, user=member, params=params(duration=4))
    generation_task_submit(task_id=str(task.pk))
    sweep_until_downloading(task)
    wait_s = (task.next_poll_at - task.upstream_finished_at).total_seconds()
    assert 0.2 <= wait_s <= 1.0, wait_s  # the pickup time, not settings.SEEDANCE_DOWNLOAD_LEASE
    time.sleep(0.4)
    generation_tasks_sweep(max_seconds=0.2, concurrency=1, until_idle=True)
    assert [args for args in queued if str(task.pk) in args and "store" in args[0]]
    generation_task_store_outputs(task_id=str(task.pk))  # the re-queued job does the work
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED and task.video_sha256
