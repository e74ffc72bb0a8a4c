"""A worker SIGKILLed at each step of a task's life, then restarted: the task still ends
right, with exactly one upstream task and exactly one settlement.

Each test runs the product's worker loop in a separate process (tests/worker_proc.py) on the
test database, against the simulator over HTTP, with a crashpoint armed
(projects/crashpoints.py), checks what the dead worker left, then runs a fresh worker
without it. Leases are 1 s (tests/workers.py), so the dead worker's claim runs out at once.
"""

import hashlib

import pytest
from django.core.files.storage import default_storage

from projects.models import GenerationTask
from projects.storage import output_key
from tests.conftest import create_task
from tests.test_gateway_ark_flow import params
from tests.workers import (
    assert_settled_once,
    creates,
    ledger_kinds,
    partial_files,
    run_worker,
    unsent,
    worker_env,
)

pytestmark = pytest.mark.django_db(transaction=True)
Status = GenerationTask.Status
KILLED = -9  # the returncode of a process ended by SIGKILL


@pytest.fixture(autouse=True)
def _no_inline_jobs(monkeypatch):
    """Creating a task here only writes it: the worker process sends it, not this one."""
    monkeypatch.setattr("projects.queue.enqueue", lambda *args: None)


def new_task(project, member, **overrides) -> GenerationTask:
    return unsent(create_task(project=project, user=member, params=params(**overrides)))


def kill_then_restart(sim, tasks: list, point: str):
    """Run a worker with `point` armed (it must die there), then one without; returns both."""
    ids = [t.pk for t in tasks]
    killed = run_worker(ids, worker_env(sim, crashpoint=point))
    assert killed.returncode == KILLED, killed.output
    yield killed
    restarted = run_worker(ids, worker_env(sim))
    assert restarted.returncode == 0, restarted.output
    print(f"{point}: killed after {killed.seconds:.1f} s, restarted ran {restarted.seconds:.1f} s")
    yield restarted


def assert_succeeded_once(sim, task: GenerationTask) -> None:
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED, (task.status, task.error_message)
    assert creates(sim) == 1
    (upstream,) = sim.engine.tasks_of("ark")
    assert task.upstream_task_id == upstream.id
    with default_storage.open(task.video.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == task.video_sha256
    assert_settled_once(task)
    assert partial_files() == []


def test_killed_after_the_hold_before_the_submit(sim, project, member):
    task = new_task(project, member)
    runs = kill_then_restart(sim, [task], "before_submit")
    next(runs)
    task.refresh_from_db()
    assert task.status == Status.SUBMITTING and creates(sim) == 0
    assert ledger_kinds(task) == {"hold": 1}
    next(runs)
    assert_succeeded_once(sim, task)
    # The restarted worker found nothing upstream and only then sent it (once).
    assert task.events.filter(kind="submit_unknown").count() == 1
    assert task.submit_attempts == 2


def test_killed_after_the_submit_before_the_upstream_id_is_saved(sim, project, member):
    task = new_task(project, member)
    runs = kill_then_restart(sim, [task], "after_submit")
    next(runs)
    task.refresh_from_db()
    assert task.status == Status.SUBMITTING and task.upstream_task_id == ""
    assert creates(sim) == 1
    next(runs)
    assert_succeeded_once(sim, task)
    # Found through the gateway's list, never sent again.
    assert task.events.filter(kind="reconciled", data__upstream_task_id__isnull=False).exists()
    assert task.submit_attempts == 1


def test_killed_during_the_download(sim, project, member):
    task = new_task(project, member)
    runs = kill_then_restart(sim, [task], "during_download")
    next(runs)
    task.refresh_from_db()
    assert task.status == Status.DOWNLOADING and not task.video
    left = partial_files()
    assert len(left) == 1 and left[0].name.startswith(f"dl-{task.pk}-")
    next(runs)
    assert_succeeded_once(sim, task)  # the stale scratch file was removed


def test_killed_after_the_file_is_stored_before_the_settle(sim, project, member):
    task = new_task(project, member)
    runs = kill_then_restart(sim, [task], "before_settle")
    next(runs)
    task.refresh_from_db()
    key = output_key(team_id=project.team_id, task_id=task.pk, filename="video.mp4")
    assert task.status == Status.DOWNLOADING and default_storage.exists(key)
    assert ledger_kinds(task) == {"hold": 1}
    next(runs)
    assert_succeeded_once(sim, task)
    assert task.video.name == key  # the stored file was reused, not saved a second time
    assert default_storage.listdir(key.rsplit("/", 1)[0])[1].count("video.mp4") == 1


@pytest.mark.parametrize("point", ["before_submit", "after_submit"])
def test_a_killed_submit_beside_a_twin_is_told_apart(sim, project, member, point):
    """Two tasks of the same shape sent together (Ark's list cannot tell them apart by
    content): the one whose submit was killed must neither adopt its twin's upstream task
    nor be sent twice."""
    task, twin = new_task(project, member), new_task(project, member)
    runs = kill_then_restart(sim, [task, twin], point)
    next(runs)
    next(runs)
    task.refresh_from_db()
    twin.refresh_from_db()
    assert task.status == twin.status == Status.SUCCEEDED, (task.error_message, twin.error_message)
    assert task.upstream_task_id != twin.upstream_task_id
    assert creates(sim) == 2
    assert {t.id for t in sim.engine.tasks_of("ark")} == {
        task.upstream_task_id,
        twin.upstream_task_id,
    }
    for one in (task, twin):
        assert_settled_once(one)


def test_a_reconcile_answer_another_task_follows_waits_for_an_admin(
    sim, project, member, monkeypatch
):
    """Should a gateway still name an upstream task one of ours already follows (adopted
    meanwhile), the lost submit is not attached to it (unique per gateway) and the worker
    goes on: an admin decides."""
    from projects.providers.ark import ArkProvider
    from projects.services.reconcile import generation_task_reconcile

    twin = new_task(project, member)
    GenerationTask.objects.filter(pk=twin.pk).update(
        status=Status.QUEUED, upstream_task_id="cgt-taken"
    )
    task = new_task(project, member)
    GenerationTask.objects.filter(pk=task.pk).update(status=Status.SUBMIT_UNKNOWN)
    monkeypatch.setattr(ArkProvider, "reconcile", lambda self, request, **kw: "cgt-taken")
    task.refresh_from_db()
    generation_task_reconcile(task=task)
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and task.upstream_task_id == ""
    assert "another task follows it" in task.events.get(kind="needs_admin").message


# --- a gateway that cannot be searched for a lost create (TokenHub) -----------------------------
TOKENHUB = dict(provider="tokenhub", model="doubao-seedance-2.0", resolution="720p", duration=5)


def wait_for_admin(sim, task: GenerationTask, point: str) -> GenerationTask:
    """Kill the worker at `point`, run a fresh one until the task asks for an admin (TokenHub
    cannot list tasks, so a submit that may have gone out is never sent again blindly)."""
    killed = run_worker([task.pk], worker_env(sim, crashpoint=point))
    assert killed.returncode == KILLED, killed.output
    restarted = run_worker([task.pk], worker_env(sim, WORKER_STOP_ON_EVENT="needs_admin"))
    assert restarted.returncode == 4, restarted.output  # stopped once an admin was asked
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN and task.upstream_task_id == ""
    assert task.events.filter(kind="needs_admin").exists()
    assert ledger_kinds(task) == {"hold": 1}  # held, not charged nor released meanwhile
    return task


def test_a_killed_submit_at_a_gateway_without_a_list_waits_for_an_admin_to_adopt(
    sim, project, member
):
    from projects.services.recovery import generation_task_adopt_upstream

    task = wait_for_admin(sim, new_task(project, member, **TOKENHUB), "after_submit")
    assert creates(sim) == 1  # never sent twice
    (upstream,) = sim.engine.tasks_of("tokenhub")
    generation_task_adopt_upstream(task=task, upstream_task_id=upstream.id, actor=member)
    done = run_worker([task.pk], worker_env(sim))
    assert done.returncode == 0, done.output
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED and task.upstream_task_id == upstream.id
    assert creates(sim) == 1
    assert_settled_once(task)


def test_a_killed_submit_that_never_went_out_is_resent_by_an_admin_once(sim, project, member):
    from projects.services.recovery import generation_task_resubmit

    task = wait_for_admin(sim, new_task(project, member, **TOKENHUB), "before_submit")
    assert creates(sim) == 0
    generation_task_resubmit(task=task, actor=member)  # enqueues nothing here: the worker sends
    done = run_worker([task.pk], worker_env(sim))
    assert done.returncode == 0, done.output
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED, task.error_message
    assert creates(sim) == 1 and sim.engine.tasks_of("tokenhub")[0].id == task.upstream_task_id
    assert_settled_once(task)
