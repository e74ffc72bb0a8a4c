"""A task's life in one place (projects/generation/lifecycle.py): every move of the table is
walked and applied once, every move outside it is refused before anything is written, the page
version follows what pages show, and no other module writes a task's row."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction

from projects.generation import lifecycle
from projects.generation.lifecycle import TRANSITIONS, IllegalTransition
from projects.models import CreditEntry, GenerationTask
from projects.money.billing import generation_task_hold
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
ALL = list(Status)
MOVES = [(a, b) for a in ALL for b in ALL if b in TRANSITIONS[a]]
NOT_MOVES = [(a, b) for a in ALL for b in ALL if b not in TRANSITIONS[a]]


def test_the_table_is_the_diagram():
    assert set(TRANSITIONS) == set(ALL)
    for ending in GenerationTask.TERMINAL:
        assert TRANSITIONS[ending] == frozenset()
    for status in GenerationTask.ACTIVE:
        assert {Status.FAILED, Status.CANCELLED, Status.EXPIRED} <= TRANSITIONS[status]
    assert TRANSITIONS[Status.DOWNLOADING] & {Status.QUEUED, Status.RUNNING} == frozenset()
    assert Status.SUCCEEDED in TRANSITIONS[Status.DOWNLOADING]
    assert not [a for a in ALL if Status.SUCCEEDED in TRANSITIONS[a] and a != Status.DOWNLOADING]


def held_task(status: str) -> GenerationTask:
    task = GenerationTaskFactory(status=Status.PENDING)
    with transaction.atomic():
        generation_task_hold(task=task)
    GenerationTask.objects.filter(pk=task.pk).update(status=status)
    return task


@pytest.mark.parametrize(("source", "target"), MOVES, ids=[f"{a}->{b}" for a, b in MOVES])
def test_every_move_of_the_table_applies_once_and_bumps_the_version(source, target):
    task = held_task(source)
    before = GenerationTask.objects.get(pk=task.pk).version
    if target in GenerationTask.TERMINAL:
        extra = {"video": "x.mp4", "video_sha256": "0" * 64} if target == Status.SUCCEEDED else {}
        first = lifecycle.finish(task_id=task.pk, status=target, from_statuses=[source], **extra)
        again = lifecycle.finish(task_id=task.pk, status=target, from_statuses=[source], **extra)
        kinds = set(CreditEntry.objects.filter(task=task).values_list("kind", flat=True))
        assert kinds == ({"hold", "charge", "release"} if target == Status.SUCCEEDED else
                         {"hold", "release"})  # fmt: skip
    else:
        first = lifecycle.transition(task_id=task.pk, from_statuses=[source], to_status=target)
        again = lifecycle.transition(task_id=task.pk, from_statuses=[source], to_status=target)
    task.refresh_from_db()
    assert (first, again, task.status) == (True, False, target)
    assert task.version > before


@pytest.mark.parametrize(("source", "target"), NOT_MOVES, ids=[f"{a}->{b}" for a, b in NOT_MOVES])
def test_a_move_outside_the_table_is_refused_and_writes_nothing(source, target):
    stored = {"video": "x.mp4", "video_sha256": "0" * 64} if source == Status.SUCCEEDED else {}
    task = GenerationTaskFactory(status=source, **stored)
    with pytest.raises(IllegalTransition):
        if target in GenerationTask.TERMINAL:
            lifecycle.finish(task_id=task.pk, status=target, from_statuses=[source])
        else:
            lifecycle.transition(task_id=task.pk, from_statuses=[source], to_status=target)
    assert GenerationTask.objects.get(pk=task.pk).status == source


def test_an_ending_goes_through_finish_and_scheduling_alone_keeps_the_version():
    task = GenerationTaskFactory(status=Status.QUEUED)
    with pytest.raises(IllegalTransition):
        lifecycle.transition(task_id=task.pk, from_statuses=[Status.QUEUED], to_status="failed")
    version = GenerationTask.objects.get(pk=task.pk).version
    assert lifecycle.reschedule(task.pk, statuses=[Status.QUEUED], poll_count=3) == 1
    assert GenerationTask.objects.get(pk=task.pk).version == version
    with pytest.raises(ValueError):
        lifecycle.reschedule(task.pk, prompt="changed")
    assert lifecycle.record(task.pk, cost_note="shown") == 1
    assert GenerationTask.objects.get(pk=task.pk).version == version + 1
    with pytest.raises(ValueError):
        lifecycle.record(task.pk, status=Status.FAILED)


# --- nothing else writes a task ---------------------------------------------------------------
APP = Path(__file__).resolve().parent.parent / "projects"
OWNER = APP / "generation" / "lifecycle.py"
WRITES = {"update", "bulk_update", "save", "delete"}


def task_writes(path: Path) -> list[str]:
    """`<...GenerationTask...>.update(...)`-like calls and `.status = ` assignments in a
    module: what only the lifecycle may do."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            if node.func.attr in {"update", "bulk_update"} and "GenerationTask" in receiver:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in {"status", "version"}
                    and "task" in ast.unparse(target.value).lower()
                ):
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}")
    return found


def test_no_module_but_the_lifecycle_writes_a_task():
    modules = [
        p
        for p in APP.rglob("*.py")
        # The model's own save() keeps the version for admin edits; the simulator is a server.
        if not {"migrations", "upstream_sim", "models"} & set(p.parts) and p != OWNER
    ]
    assert modules and [w for p in modules for w in task_writes(p)] == []


def test_the_scan_sees_a_write_where_there_is_one(tmp_path):
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "GenerationTask.objects.filter(pk=1).update(status='failed')\ntask.status = 'x'\n"
    )
    assert len(task_writes(rogue)) == 2
