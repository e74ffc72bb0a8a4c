"""Injected upstream faults on AllToken and seedance2.ink, through the services and the
simulator over real HTTP: each ends in the right state with the right message, and one task
of ours never makes two upstream tasks."""

import pytest
from django.test import TestCase
from django.utils import timezone

from projects.models import GenerationTask
from projects.services.generation import GenerationParams
from projects.services.sweep import generation_tasks_sweep
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, make_due
from tests.sim_control import hold, refreshed, release

pytestmark = pytest.mark.django_db

Status = GenerationTask.Status
LABELS = {"alltoken": "AllToken", "seedance2ink": "seedance2.ink"}


@pytest.fixture(params=["alltoken", "seedance2ink"])
def gateway(request, settings, sim) -> str:
    settings.SITE_URL = "http://127.0.0.1:9"  # seedance2.ink's webhooks go nowhere here
    return request.param


def params(gateway: str) -> GenerationParams:
    return GenerationParams(
        provider=gateway,
        model="seedance-2.0",
        prompt="A red kite over a windy beach",
        ratio="16:9",
        resolution="720p",
        duration=4,
        generate_audio=False,
    )


def upstream_tasks(sim, gateway: str) -> list:
    return [t for t in sim.engine.tasks.values() if t.dialect == gateway]


def creates(sim, gateway: str) -> int:
    return sim.engine.counters[f"{gateway}:create"]


def sweep_a_while(task: GenerationTask, rounds: int = 3) -> GenerationTask:
    for _ in range(rounds):
        make_due(task)
        with TestCase.captureOnCommitCallbacks(execute=True):
            generation_tasks_sweep(
                max_seconds=0.3, concurrency=1, until_idle=True, only=[str(task.pk)]
            )
    task.refresh_from_db()
    return task


def test_a_429_on_create_is_retried_no_sooner_than_retry_after(sim, project, member, gateway):
    sim.engine.inject(Fault(kind="http_429", op="create", dialect=gateway, retry_after=30))
    task = create_task(project=project, user=member, params=params(gateway))
    task.refresh_from_db()
    assert task.status == Status.PENDING
    retry = task.events.get(kind="submit_retry")
    assert retry.message.startswith(f"{LABELS[gateway]} is rate limiting requests: ")
    assert retry.data["retry_after"] == 30.0
    wait = (task.next_poll_at - timezone.now()).total_seconds()
    assert 28 < wait <= 30  # Retry-After wins over the 5 s backoff
    make_due(task)  # skip the wait
    task = drive(task)
    assert task.status == Status.SUCCEEDED and task.submit_attempts == 2
    assert creates(sim, gateway) == 2 and len(upstream_tasks(sim, gateway)) == 1


@pytest.mark.parametrize("kind", ["http_500", "http_503"])
def test_server_errors_on_create_are_retried(sim, project, member, gateway, kind):
    sim.engine.inject(Fault(kind=kind, op="create", dialect=gateway))
    task = create_task(project=project, user=member, params=params(gateway))
    task.refresh_from_db()
    assert task.status == Status.PENDING
    assert f"{LABELS[gateway]} had a server error" in task.events.get(kind="submit_retry").message
    make_due(task)
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert creates(sim, gateway) == 2 and len(upstream_tasks(sim, gateway)) == 1


@pytest.mark.parametrize("kind", ["http_503", "malformed", "timeout"])
def test_a_bad_answer_to_a_poll_is_retried_and_the_task_still_succeeds(
    sim, project, member, gateway, kind, settings
):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    sim.engine.inject(Fault(kind=kind, op="get", dialect=gateway, hang_s=1.0))
    task = drive(create_task(project=project, user=member, params=params(gateway)))
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.events.filter(kind="poll_error").count() == 1
    assert creates(sim, gateway) == 1 and len(upstream_tasks(sim, gateway)) == 1


@pytest.mark.parametrize(
    ("kind", "message", "tasks"),
    [
        ("timeout", "did not answer in time.", 0),
        ("malformed", "sent an unreadable reply (HTTP 200, not a JSON object).", 0),
        ("lost_create", "dropped the connection before answering (RemoteProtocolError).", 1),
    ],
)
def test_a_lost_or_unreadable_create_answer_is_never_resubmitted(
    sim, project, member, gateway, settings, kind, message, tasks
):
    settings.SEEDANCE_HTTP_TIMEOUT = 0.5
    sim.engine.inject(Fault(kind=kind, op="create", dialect=gateway, hang_s=1.0))
    task = create_task(project=project, user=member, params=params(gateway))
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    assert task.error_message == f"{LABELS[gateway]} {message}"
    task = sweep_a_while(task)
    # Neither gateway can say what a lost create made: an admin decides, nothing is resent.
    assert task.status == Status.SUBMIT_UNKNOWN
    assert task.events.filter(kind="needs_admin").count() == 1
    assert task.submit_attempts == 1 and creates(sim, gateway) == 1
    assert len(upstream_tasks(sim, gateway)) == tasks


def test_moderation_at_create_fails_with_the_vendor_message(sim, project, member, gateway):
    sim.engine.inject(Fault(kind="moderation_input", op="create", dialect=gateway))
    task = drive(create_task(project=project, user=member, params=params(gateway)))
    assert task.status == Status.FAILED
    assert task.error_code == "InputTextSensitiveContentDetected"
    assert task.error_message == (
        f"{LABELS[gateway]} refused the content: The request failed because the input text "
        "may contain sensitive information."
    )
    assert "req_" not in task.error_message and "Request id" not in task.error_message
    assert upstream_tasks(sim, gateway) == [] and creates(sim, gateway) == 1


def test_moderation_after_running_fails_clearly(sim, project, member, gateway):
    sim.engine.inject(Fault(kind="moderation_output", dialect=gateway))
    task = create_task(project=project, user=member, params=params(gateway))
    task.refresh_from_db()
    hold(sim, task.upstream_task_id, "running")
    task = refreshed(task)
    assert (task.status, task.upstream_status) == (Status.RUNNING, "processing")
    release(sim, task.upstream_task_id)
    task = drive(task)
    assert (task.status, task.upstream_status) == (Status.FAILED, "failed")
    assert task.error_code == "OutputVideoSensitiveContentDetected"
    assert "moderation blocked the generated video" in task.error_message
    assert "Request id" not in task.error_message
    assert len(upstream_tasks(sim, gateway)) == 1 and creates(sim, gateway) == 1


def test_an_expired_output_link_is_refreshed_then_fails_clearly(sim, project, member, gateway):
    sim.engine.inject(Fault(kind="link_expired", dialect=gateway))
    task = drive(create_task(project=project, user=member, params=params(gateway)))
    assert task.status == Status.FAILED and "link expired" in task.error_message
    assert task.events.filter(kind="links_refreshed").count() == 1
    assert len(upstream_tasks(sim, gateway)) == 1


def test_a_refused_key_fails_the_task_for_an_admin(sim, project, member, gateway):
    sim.engine.inject(Fault(kind="http_401", op="create", dialect=gateway))
    task = drive(create_task(project=project, user=member, params=params(gateway)))
    assert task.status == Status.FAILED
    assert (
        task.error_code == {"alltoken": "invalid_api_key", "seedance2ink": "unauthorized"}[gateway]
    )
    assert "An admin must check the key" in task.error_message
    assert upstream_tasks(sim, gateway) == []
