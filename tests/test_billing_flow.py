"""A task's money through its life: held at submit, charged on success, released on every
other ending; exactly once even when the worker's job is delivered twice or killed between
steps (a step raises, then the job runs again)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from projects.exceptions import InvalidStateTransition
from projects.generation import lifecycle
from projects.management.commands.generate import task_summary
from projects.management.commands.ledger_check import ledger_problems
from projects.models import Budget, CreditEntry, GenerationTask
from projects.money.billing import generation_task_hold, generation_task_settle
from projects.providers.base import TaskSnapshot, UpstreamStatus
from projects.services.cancel import generation_task_cancel
from projects.services.outputs import generation_task_store_outputs
from projects.services.refresh import generation_task_apply_snapshot
from projects.services.submit import generation_task_submit
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, tokenhub_params
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
DOLLAR = 1_000_000


class Killed(Exception):
    """The worker process dying at a step (raised by a patched function)."""


params = tokenhub_params


def money(task) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for kind, amount in CreditEntry.objects.filter(task=task).values_list("kind", "amount_micro"):
        found.setdefault(kind, []).append(amount)
    return found


def assert_consistent():
    problems, _ = ledger_problems()
    assert problems == []


# --- success -----------------------------------------------------------------------------


def test_the_tokenhub_guide_example_is_charged_exactly_three_dollars(sim, project, member):
    """doubao-seedance-2.0, 720p, 10 s output with a 5 s reference video: (5 + 10) x $0.20."""
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        model="doubao-seedance-2.0",
        resolution="720p",
        duration=10,
        input_video_seconds=5.0,
    )
    with transaction.atomic():
        hold = generation_task_hold(task=task)
    assert -hold.amount_micro == 3 * DOLLAR
    generation_task_submit(task_id=str(task.pk))
    task = drive(task)
    assert task.status == Status.SUCCEEDED, task.error_message
    assert task.upstream_duration_s == 10 and task.billed_output_s == 10
    assert money(task) == {"hold": [-3 * DOLLAR], "charge": [-3 * DOLLAR], "release": [3 * DOLLAR]}
    charge = CreditEntry.objects.get(task=task, kind="charge")
    assert str(charge.seconds) == "15.000" and charge.rate_micro == 200_000
    summary = task_summary(task)
    assert (summary["held_usd"], summary["charged_usd"]) == ("3.00", "3.00")
    assert -hold.amount_micro >= -charge.amount_micro
    assert task.cost_note == ""
    assert task.events.get(kind="settled").message == (
        "Charged $3.00 (5 s input + 10 s output x $0.20/s); the $3.00 hold was released."
    )
    assert_consistent()


def test_success_charges_the_output_and_releases_the_hold(sim, project, member):
    task = drive(create_task(project=project, user=member, params=params(resolution="480p")))
    assert task.status == Status.SUCCEEDED
    assert money(task) == {"hold": [-600_000], "charge": [-600_000], "release": [600_000]}
    assert_consistent()


def test_settlement_killed_while_storing_is_redone_once(sim, project, member, monkeypatch):
    kill = {"on": True}
    real_settle = __import__("projects.money.billing", fromlist=["x"]).credit_settle

    def settle(**kwargs):
        if kill["on"]:
            raise Killed
        return real_settle(**kwargs)

    monkeypatch.setattr("projects.money.billing.credit_settle", settle)
    task = create_task(project=project, user=member, params=params(duration=4))
    with pytest.raises(Killed):
        drive(task)
    task.refresh_from_db()
    assert task.status == Status.DOWNLOADING and money(task) == {"hold": [-800_000]}
    kill["on"] = False
    # The store job's lease runs out; the sweep hands the task to a new store job.
    GenerationTask.objects.filter(pk=task.pk).update(lease_until=None, next_poll_at=timezone.now())
    task = drive(task)
    assert task.status == Status.SUCCEEDED
    assert money(task) == {"hold": [-800_000], "charge": [-800_000], "release": [800_000]}
    generation_task_store_outputs(task_id=str(task.pk))  # delivered again
    generation_task_settle(task_id=task.pk, succeeded=True)  # settled again
    assert money(task) == {"hold": [-800_000], "charge": [-800_000], "release": [800_000]}
    assert_consistent()


# --- every other ending: released once, nothing charged ----------------------------------

ENDINGS = {
    "failed": TaskSnapshot(
        upstream_id="up-1",
        status=UpstreamStatus.FAILED,
        raw_status="failed",
        error_code="InternalServiceError",
        error_message="Internal error.",
    ),
    "moderation": TaskSnapshot(
        upstream_id="up-1",
        status=UpstreamStatus.FAILED,
        raw_status="failed",
        error_code="OutputVideoSensitiveContentDetected",
        error_message="The output video may contain sensitive information.",
    ),
    "expired": TaskSnapshot(
        upstream_id="up-1", status=UpstreamStatus.EXPIRED, raw_status="expired"
    ),
    "cancelled": None,  # a member cancels it before it is sent
}
FINAL = {
    "failed": Status.FAILED,
    "moderation": Status.FAILED,
    "expired": Status.EXPIRED,
    "cancelled": Status.CANCELLED,
}


@pytest.fixture
def held_task(project, member, monkeypatch):
    """A task created through the service (so holding $1.00), not sent anywhere."""
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)
    from projects.services.generation import generation_task_create

    return generation_task_create(project=project, user=member, params=params())


def run_ending(ending: str, task: GenerationTask, member) -> None:
    """The job that ends the task: the poll applying the gateway's final answer, or the
    cancel a member asked for."""
    if ending == "cancelled":
        generation_task_cancel(task=task, user=member)
    else:
        generation_task_apply_snapshot(task=task, snapshot=ENDINGS[ending])


def to_running(task: GenerationTask) -> GenerationTask:
    assert lifecycle.transition(
        task_id=task.pk, from_statuses=[Status.PENDING], to_status=Status.SUBMITTING
    )
    assert lifecycle.transition(
        task_id=task.pk,
        from_statuses=[Status.SUBMITTING],
        to_status=Status.RUNNING,
        upstream_task_id="up-1",
    )
    task.refresh_from_db()
    return task


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("kill_at", ["release", "event", None])
def test_every_ending_releases_exactly_once_and_charges_nothing(
    ending, kill_at, held_task, member, monkeypatch
):
    task = held_task if ending == "cancelled" else to_running(held_task)
    start_status = task.status
    assert money(task) == {"hold": [-DOLLAR]}
    if kill_at is not None:
        target = {
            "release": "projects.money.billing.credit_release",
            "event": "projects.generation.lifecycle.event_add",
        }[kill_at]
        real = __import__(target.rsplit(".", 1)[0], fromlist=["x"]).__dict__[
            target.rsplit(".", 1)[1]
        ]

        def dies(*args, **kwargs):
            if kill_at == "event" and kwargs.get("kind") != FINAL[ending]:
                return real(*args, **kwargs)
            raise Killed

        with monkeypatch.context() as patch:
            patch.setattr(target, dies)
            with pytest.raises(Killed):
                run_ending(ending, task, member)
        task.refresh_from_db()
        # Status and money move together: nothing of the killed step remains.
        assert task.status == start_status
        assert money(task) == {"hold": [-DOLLAR]}
    run_ending(ending, task, member)
    task.refresh_from_db()
    assert task.status == FINAL[ending]
    assert money(task) == {"hold": [-DOLLAR], "release": [DOLLAR]}
    # Delivered again: nothing more happens.
    if ending == "cancelled":
        with pytest.raises(InvalidStateTransition):
            run_ending(ending, task, member)
    else:
        run_ending(ending, task, member)
    generation_task_settle(task_id=task.pk, succeeded=False)
    assert money(task) == {"hold": [-DOLLAR], "release": [DOLLAR]}
    assert task_summary(task)["charged_usd"] == "0.00"
    assert_consistent()


@pytest.mark.parametrize("fault", ["moderation_output", "fail"])
def test_a_gateway_failure_killed_mid_poll_then_polled_again_releases_once(
    sim, project, member, monkeypatch, fault
):
    sim.engine.inject(Fault(kind=fault))
    kill = {"on": True}
    real_release = __import__("projects.money.billing", fromlist=["x"]).credit_release

    def release(**kwargs):
        if kill["on"]:
            raise Killed
        return real_release(**kwargs)

    monkeypatch.setattr("projects.money.billing.credit_release", release)
    task = create_task(project=project, user=member, params=params(duration=4))
    with pytest.raises(Killed):
        drive(task)
    task.refresh_from_db()
    assert task.status in (Status.QUEUED, Status.RUNNING)
    assert money(task) == {"hold": [-800_000]}
    kill["on"] = False
    GenerationTask.objects.filter(pk=task.pk).update(next_poll_at=timezone.now())  # lease over
    task = drive(task)
    assert task.status == Status.FAILED
    assert money(task) == {"hold": [-800_000], "release": [800_000]}
    assert_consistent()


def test_a_refused_submit_releases_the_hold(sim, project, member):
    sim.engine.inject(Fault(kind="http_400", op="create"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED
    assert money(task) == {"hold": [-DOLLAR], "release": [DOLLAR]}


def test_an_admin_failing_a_stuck_task_releases_its_hold(project, member, held_task):
    from projects.services.recovery import generation_task_fail

    assert generation_task_fail(task=held_task, actor=member, reason="stuck")
    assert money(held_task) == {"hold": [-DOLLAR], "release": [DOLLAR]}
    assert not generation_task_fail(task=held_task, actor=member)
    assert money(held_task) == {"hold": [-DOLLAR], "release": [DOLLAR]}


def test_vendor_figures_are_recorded_and_differences_noted(project, member, held_task):
    task = to_running(held_task)
    GenerationTask.objects.filter(pk=task.pk).update(
        status=Status.DOWNLOADING,
        upstream_duration_s=5,
        usage={"completion_tokens": 200_000, "total_tokens": 200_000},
        vendor_cost="40",
    )
    from projects.generation import lifecycle

    lifecycle.finish(
        task_id=task.pk,
        status=Status.SUCCEEDED,
        from_statuses=[Status.DOWNLOADING],
        video="x.mp4",
        video_sha256="0" * 64,
        video_duration_s=3.0,
        billed_output_s=5,
    )
    task.refresh_from_db()
    assert money(task)["charge"] == [-DOLLAR]
    assert task.cost_note == (
        "The gateway reported 5 s; the stored file is 3 s (billed 5 s). "
        "The gateway counted 200,000 tokens; 5 s at 720p 16:9 is about 108,900 "
        "by the gateway's token formula. The gateway reported a cost of 40; we charged $1.00."
    )


# --- the command line --------------------------------------------------------------------


def generate(*args: str) -> dict:
    out = io.StringIO()
    call_command(
        "generate",
        "--project",
        "demo",
        "--user",
        "mia",
        "--prompt",
        "A harbour at dawn",
        *args,
        stdout=out,
        stderr=io.StringIO(),
    )
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)  # generate's jobs run on commit
def test_generate_json_prints_held_and_charged_usd(sim):
    call_command("seed_demo", stdout=io.StringIO())
    result = generate("--duration", "5", "--resolution", "720p", "--wait", "--json")
    assert result["status"] == "succeeded"
    assert (result["held_usd"], result["charged_usd"]) == ("1.00", "1.00")
    queued = generate("--duration", "4", "--resolution", "480p", "--json")
    assert (queued["held_usd"], queued["charged_usd"]) == ("0.48", "0.00")


@pytest.mark.django_db(transaction=True)
def test_generate_refuses_over_budget_with_the_budget_message(sim):
    from projects.models import Team

    call_command("seed_demo", stdout=io.StringIO())
    Budget.objects.create(team=Team.objects.get(slug="demo-studio"), limit_usd="0.50")
    with pytest.raises(CommandError) as info:
        generate("--duration", "5", "--json")
    assert str(info.value) == (
        "The request was refused: This would go over the Demo Studio team's monthly budget "
        "($0.50): $0.50 is left this month and this request costs up to $1.00."
    )
    assert GenerationTask.objects.count() == 0


def test_a_vendor_charge_for_a_failed_task_is_noted_for_admins(held_task):
    task = to_running(held_task)
    GenerationTask.objects.filter(pk=task.pk).update(vendor_cost="40")
    run_ending("failed", task, None)
    task.refresh_from_db()
    assert money(task) == {"hold": [-DOLLAR], "release": [DOLLAR]}
    assert task.cost_note == (
        "The gateway reported a cost of 40 but the task ended without a video; we charged "
        "nothing (check that the gateway refunded it)."
    )
    assert task.events.get(kind="settled").message == (
        "The $1.00 hold was released; nothing was charged."
    )
