"""Generations through the official Ark adapter and the simulator over real HTTP: every
status Ark documents, cancel, the `generate` command, and each fault ending in the right state
with never two upstream tasks for one of ours."""

from datetime import timedelta

import pytest

from projects.exceptions import InvalidStateTransition
from projects.models import GenerationTask
from projects.providers.ark import request_seed
from projects.services.cancel import generation_task_cancel
from projects.services.generation import GenerationParams
from projects.services.sweep import generation_tasks_sweep
from projects.services.upstream_request import callback_url_for, request_for_task
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, generate_json, make_due

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
MODEL = "doubao-seedance-2-0-260128"


def params(**overrides) -> GenerationParams:
    values = dict(
        provider="ark",
        model=MODEL,
        prompt="A red kite over the dunes",
        ratio="16:9",
        resolution="480p",
        duration=4,
    )
    values.update(overrides)
    return GenerationParams(**values)


def creates(sim) -> int:
    return sim.engine.counters["ark:create"]


def upstream_tasks(sim) -> list:
    return sim.engine.tasks_of("ark")


# --- every status Ark documents (§1.9) ---------------------------------------------------------
def test_queued_running_succeeded_with_usage_and_the_body_ark_documents(sim, project, member):
    task = create_task(project=project, user=member, params=params(seed=42, watermark=True))
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.upstream_status == "queued"
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert sent == {
        "model": MODEL,
        "content": [{"type": "text", "text": "A red kite over the dunes"}],
        # No callback_url: callbacks are off here (nothing serves SITE_URL); see the
        # generate test below for the body with one.
        "return_last_frame": True,  # the model returns a last frame: kept for chaining
        "service_tier": "default",
        "execution_expires_after": 172800,
        "generate_audio": True,
        "ratio": "16:9",
        "resolution": "480p",
        "duration": 4,
        "seed": 42,
        "watermark": True,
    }
    task = drive(task)
    assert task.status == Status.SUCCEEDED, task.error_message
    kinds = list(task.events.values_list("kind", flat=True))
    assert kinds[:2] == ["created", "submitted"] and "running" in kinds
    assert task.usage == {"completion_tokens": 40594, "total_tokens": 40594}  # 864x496, 4 s
    assert task.upstream_duration_s == 4 and task.video_duration_s == pytest.approx(4, abs=0.05)
    # Ark gives no cover image: the poster is our own, the stored video's first frame.
    assert not task.cover_url and task.cover.name.endswith("/cover.jpg")
    assert creates(sim) == 1 and len(upstream_tasks(sim)) == 1


def test_failed_after_running_moderation(sim, project, member):
    sim.engine.inject(Fault(kind="moderation_output", dialect="ark"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED
    assert task.error_code == "OutputVideoSensitiveContentDetected"
    assert "moderation blocked the generated video" in task.error_message
    assert "Request id" not in task.error_message and not task.video


def test_expired(sim, project, member):
    sim.engine.inject(Fault(kind="expire", dialect="ark"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.EXPIRED
    assert task.error_message == "The task exceeded execution_expires_after."
    assert task.upstream_status == "expired"


def test_cancel_while_queued_cancels_upstream(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    sim.engine.tasks[task.upstream_task_id].queue_s = 1e9  # still in Ark's queue
    message = generation_task_cancel(task=task, user=member)
    task.refresh_from_db()
    assert message == "Cancelled at Ark. Nothing was charged."
    assert task.status == Status.CANCELLED and task.upstream_status == "cancelled"
    upstream = sim.engine.tasks[task.upstream_task_id]
    assert upstream.status_at(sim.engine.now()) == "cancelled"
    assert sim.engine.counters["ark:cancel"] == 1


def test_cancel_while_running_is_refused_with_the_reason(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    upstream = sim.engine.tasks[task.upstream_task_id]
    upstream.queue_s, upstream.render_s = 0.0, 1e9  # rendering, and for long
    # Our row still says queued (no poll yet): Ark itself tells us it is too late.
    with pytest.raises(InvalidStateTransition) as info:
        generation_task_cancel(task=task, user=member)
    assert "Ark cannot stop a task that is already rendering" in info.value.message
    task.refresh_from_db()
    assert task.status == Status.QUEUED
    assert task.events.filter(kind="cancel_refused").exists()
    assert sim.engine.counters["ark:cancel"] == 0  # no DELETE sent for a running task
    # Once we know it runs, the service refuses without asking.
    GenerationTask.objects.filter(pk=task.pk).update(status=Status.RUNNING)
    task.refresh_from_db()
    with pytest.raises(InvalidStateTransition) as info:
        generation_task_cancel(task=task, user=member)
    assert "can only cancel queued tasks" in info.value.message
    assert upstream.status_at(sim.engine.now()) == "running"


# --- the generate command ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_generate_with_ark_sends_the_documented_body(sim, settings):
    settings.SEEDANCE_CALLBACKS = True  # the documented body carries callback_url
    result = generate_json(
        "--provider=ark",
        "--prompt=A harbour at dawn",
    )
    assert result["status"] == "succeeded", result
    assert (result["provider"], result["model"]) == ("ark", MODEL)
    assert result["upstream_task_id"] in sim.engine.tasks
    assert result["duration_s"] == pytest.approx(5.0, abs=0.05)
    task = GenerationTask.objects.get()
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert sent == {
        "model": MODEL,
        "content": [{"type": "text", "text": "A harbour at dawn"}],
        "callback_url": callback_url_for(task),
        "return_last_frame": True,  # the model returns a last frame: kept for chaining
        "service_tier": "default",
        "execution_expires_after": 172800,
        "generate_audio": True,
        "ratio": "16:9",
        "resolution": "720p",
        "duration": 5,
        # No seed was asked for: one drawn from our task id, so a lost create can be found.
        "seed": request_seed(request_for_task(task)),
        "watermark": False,
    }
    assert 0 <= sent["seed"] < 2**31
    assert task.usage["total_tokens"] == 108900  # the docs' 720p 5 s figure


# --- faults ------------------------------------------------------------------------------------
def test_rate_limit_on_create_is_retried_after_retry_after(sim, project, member):
    sim.engine.inject(Fault(kind="http_429", op="create", dialect="ark", retry_after=2))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.PENDING
    assert "rate limiting" in task.events.get(kind="submit_retry").message
    assert (task.next_poll_at - task.submitted_at).total_seconds() >= 2
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED and task.submit_attempts == 2
    assert creates(sim) == 2 and len(upstream_tasks(sim)) == 1


def test_server_errors_on_create_and_poll_are_retried(sim, project, member):
    sim.engine.inject(Fault(kind="http_500", op="create", dialect="ark"))
    sim.engine.inject(Fault(kind="http_503", op="list", dialect="ark", count=2))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.PENDING
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert task.events.filter(kind="poll_error").exists()
    assert len(upstream_tasks(sim)) == 1


def test_timeout_on_create_is_reconciled_and_sent_once_more(sim, project, member, settings):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    sim.engine.inject(Fault(kind="timeout", op="create", dialect="ark", hang_s=1.0))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and "did not answer in time" in task.error_message
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    # The list showed nothing from the timed-out create, so it was sent once more.
    assert task.events.filter(kind="reconciled", message__contains="sending it again").exists()
    assert creates(sim) == 2 and len(upstream_tasks(sim)) == 1


def test_timeout_and_malformed_replies_on_polls_are_retried(sim, project, member, settings):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    sim.engine.inject(Fault(kind="timeout", op="list", dialect="ark", hang_s=0.8))
    sim.engine.inject(Fault(kind="malformed", op="list", dialect="ark"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.SUCCEEDED
    assert task.events.filter(kind="poll_error").exists()
    assert creates(sim) == 1


def test_malformed_create_reply_is_reconciled_not_blindly_resent(sim, project, member):
    sim.engine.inject(Fault(kind="malformed", op="create", dialect="ark"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and "unreadable reply" in task.error_message
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert sim.engine.counters["ark:list"] >= 1
    assert len(upstream_tasks(sim)) == 1


def test_lost_create_is_found_through_the_list_and_followed(sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    (made,) = upstream_tasks(sim)
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert task.upstream_task_id == made.id
    assert task.events.filter(kind="reconciled", data__upstream_task_id=made.id).exists()
    assert creates(sim) == 1 and len(upstream_tasks(sim)) == 1


def test_lost_create_beside_a_followed_twin_is_told_apart(sim, project, member):
    """A twin of the same shape sent at the same time: its upstream id is ours already, so
    the other listed task is the lost create's."""
    sim.engine.inject(Fault(kind="lost_create", dialect="ark"))
    task = create_task(project=project, user=member, params=params())
    twin = create_task(project=project, user=member, params=params())  # same shape, same time
    twin.refresh_from_db()
    assert twin.upstream_task_id
    (made,) = [t for t in upstream_tasks(sim) if t.id != twin.upstream_task_id]
    make_due(task)
    generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True, only=[str(task.pk)])
    task.refresh_from_db()
    assert task.upstream_task_id == made.id
    assert task.events.filter(kind="reconciled", data__upstream_task_id=made.id).exists()
    assert creates(sim) == 2 and len(upstream_tasks(sim)) == 2


def test_two_lost_creates_of_the_same_shape_are_told_apart_by_their_seeds(sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark", count=2))
    task = create_task(project=project, user=member, params=params())
    twin = create_task(project=project, user=member, params=params())  # same shape, same time
    for _ in range(2):
        make_due(task)
        make_due(twin)
        generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True)
    task.refresh_from_db()
    twin.refresh_from_db()
    made = {t.id: t.extra["seed"] for t in upstream_tasks(sim)}
    assert creates(sim) == 2 and len(made) == 2
    assert {task.upstream_task_id, twin.upstream_task_id} == set(made)
    assert made[task.upstream_task_id] == request_seed(request_for_task(task))
    assert made[twin.upstream_task_id] == request_seed(request_for_task(twin))


def test_two_lost_creates_with_the_same_seed_wait_for_an_admin(sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark", count=2))
    task = create_task(project=project, user=member, params=params(seed=7))
    twin = create_task(project=project, user=member, params=params(seed=7))
    make_due(task)
    generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True, only=[str(task.pk)])
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and not task.upstream_task_id
    assert task.events.filter(kind="needs_admin").exists()
    assert creates(sim) == 2 and len(upstream_tasks(sim)) == 2
    twin.refresh_from_db()
    assert twin.status == Status.SUBMIT_UNKNOWN and not twin.upstream_task_id


def test_moderation_at_create_fails_with_the_vendor_message(sim, project, member):
    sim.engine.inject(Fault(kind="moderation_input", op="create", dialect="ark"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert task.error_code == "InputTextSensitiveContentDetected"
    assert task.error_message == (
        "Ark refused the content: The request failed because the input text may contain "
        "sensitive information."
    )
    assert upstream_tasks(sim) == []


def test_a_task_ark_no_longer_knows_ends_failed(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    sim.engine.delete_task(task.upstream_task_id)
    for _ in range(3):
        make_due(task)
        generation_tasks_sweep(max_seconds=0.3, concurrency=1, until_idle=True)
    task.refresh_from_db()
    assert task.status == Status.FAILED and "no longer knows" in task.error_message
    assert task.finished_at - task.created_at < timedelta(minutes=1)
