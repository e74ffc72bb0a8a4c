"""AllToken end to end: services, the adapter and the simulator over real HTTP, through every
status the guide names, cancel, and the `generate` command."""

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from projects.exceptions import InvalidRequest, InvalidStateTransition
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
    (Path(__file__).parent / "fixtures/providers/alltoken/create_request.json").read_text()
)


def params(**overrides) -> GenerationParams:
    values = dict(
        provider="alltoken",
        model="seedance-2.0",
        prompt="A serene mountain lake at sunrise, cinematic 4K",
        ratio="16:9",
        resolution="720p",
        duration=4,
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationParams(**values)


def test_a_task_walks_queued_processing_completed(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.upstream_task_id.startswith("vgen_01")
    hold(sim, task.upstream_task_id, "queued")
    task = refreshed(task)
    assert (task.status, task.upstream_status) == (Status.QUEUED, "queued")
    hold(sim, task.upstream_task_id, "running")
    task = refreshed(task)
    assert (task.status, task.upstream_status) == (Status.RUNNING, "processing")
    release(sim, task.upstream_task_id)
    task = drive(task)
    assert (task.status, task.upstream_status) == (Status.SUCCEEDED, "completed")
    assert task.video_duration_s == pytest.approx(4.0, abs=0.05)
    assert sim.engine.counters["alltoken:create"] == 1


@pytest.mark.parametrize(
    ("fault", "status", "word", "message"),
    [
        (
            "fail",
            Status.FAILED,
            "failed",
            "The service encountered an unexpected internal error.",
        ),
        (
            "expire",
            Status.EXPIRED,
            "expired",
            "The task exceeded execution_expires_after.",
        ),
    ],
)
def test_failed_and_expired_end_the_task_with_the_gateway_message(
    sim, project, member, fault, status, word, message
):
    sim.engine.inject(Fault(kind=fault, dialect="alltoken"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert (task.status, task.upstream_status) == (status, word)
    assert task.error_message == message
    assert not task.video


@pytest.mark.parametrize("upstream_status", ["queued", "running"])
def test_cancel_a_queued_or_processing_task(sim, project, member, upstream_status):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    hold(sim, task.upstream_task_id, upstream_status)
    task = refreshed(task)
    assert task.status == (Status.QUEUED if upstream_status == "queued" else Status.RUNNING)
    message = generation_task_cancel(task=task, user=member)
    assert message == "Cancelled at AllToken. Nothing was charged."
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    upstream = get_provider("alltoken").fetch(task.upstream_task_id)
    assert (upstream.status, upstream.raw_status) == (UpstreamStatus.CANCELLED, "cancelled")
    assert sim.engine.counters["alltoken:cancel"] == 1


def test_cancel_of_a_task_that_completed_meanwhile_is_refused_with_the_reason(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    hold(sim, task.upstream_task_id, "running")
    task = refreshed(task)
    release(sim, task.upstream_task_id)  # it completes upstream before we hear of it
    with pytest.raises(InvalidStateTransition) as info:
        generation_task_cancel(task=task, user=member)
    assert info.value.message == (
        f"AllToken refused the cancel: Video generation {task.upstream_task_id} is completed; "
        "only queued or processing tasks can be cancelled."
    )
    task.refresh_from_db()
    assert task.status == Status.RUNNING
    assert task.events.filter(kind="cancel_refused").count() == 1
    assert drive(task).status == Status.SUCCEEDED


def test_what_the_guide_has_no_field_for_is_refused_before_anything_is_stored(sim, project, member):
    with pytest.raises(InvalidRequest) as info:
        generation_task_create(
            project=project,
            user=member,
            params=params(generate_audio=True, seed=5, watermark=True),
        )
    assert set(info.value.errors) == {"generate_audio", "seed", "watermark"}
    assert GenerationTask.objects.count() == 0 and sim.engine.requests == []


@pytest.mark.django_db(transaction=True)
def test_generate_command_sends_the_guide_body_and_succeeds(sim):
    result = generate_json(
        "--provider",
        "alltoken",
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
    assert (result["provider"], result["model"]) == ("alltoken", "seedance-2.0")
    assert result["duration_s"] == pytest.approx(5.0, abs=0.05)
    creates = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert creates == [DOC_BODY]  # the guide's own example, field for field


def test_the_form_offers_alltoken_without_the_fields_it_lacks(client, sim, project, member):
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    default = client.get(url).content.decode()
    # Gateways listed before TokenHub do not displace SEEDANCE_DEFAULT_PROVIDER.
    assert re.search(r'<option value="tokenhub"\s*selected>TokenHub</option>', default)
    assert re.search(r'<option value="alltoken"\s*>AllToken</option>', default)
    page = client.get(url, {"provider": "alltoken", "model": "seedance-1.5-pro"}).content.decode()
    assert "seedance-1.5-pro: 4 to 12 seconds, or auto." in page
    assert re.search(r'<option value="-1"\s*>Auto \(model decides\)</option>', page)
    assert "AllToken does not take a seed for this model." in page
    assert re.search(r'<input type="checkbox" name="generate_audio"[^>]*disabled', page)
    assert re.search(r'<input type="checkbox" name="watermark"[^>]*disabled', page)
