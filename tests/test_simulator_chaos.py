"""The simulator's random faults for chaos runs: every kind can be drawn, each one fired is
counted by kind, and /_sim/tasks attributes every upstream task to the create body that
made it (bench/chaos.py)."""

from __future__ import annotations

import httpx

from projects.upstream_sim.engine import SimEngine
from projects.upstream_sim.faults import FAULT_KINDS, REQUEST_FAULTS, TASK_FAULTS


def test_every_fault_kind_can_be_drawn_at_random():
    drawable = set()
    for op in ("create", "get", "list", "cancel", "file"):
        drawable |= SimEngine._random_kinds(op)
    assert drawable == FAULT_KINDS


def test_random_faults_are_drawn_and_counted_by_kind(tmp_path):
    engine = SimEngine(cache_dir=tmp_path, seed=5, fault_rate=1.0)
    drawn = [
        engine.take_fault(op="create", dialect="ark", kinds=REQUEST_FAULTS) for _ in range(400)
    ]
    drawn += [engine.take_fault(op="create", dialect="ark", kinds=TASK_FAULTS) for _ in range(200)]
    drawn += [engine.take_fault(op="get", dialect="ark", kinds=REQUEST_FAULTS) for _ in range(200)]
    kinds = {fault.kind for fault in drawn}
    assert kinds == FAULT_KINDS
    assert sum(engine.faults_injected.values()) == len(drawn)
    snapshot = engine.snapshot()
    assert snapshot["faults_injected"] == dict(engine.faults_injected)
    assert snapshot["faults_by_dialect"] == {"ark": dict(engine.faults_injected)}


def test_sim_tasks_lists_each_task_with_its_create_body(sim):
    body = {
        "model": "doubao-seedance-2.0",
        "prompt": "A lighthouse [chaos #7]",
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "duration": 4,
    }
    response = httpx.post(
        sim.base_url("tokenhub") + "/videos/generations",
        json=body,
        headers={"Authorization": "Bearer test"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [task] = httpx.get(sim.url + "/_sim/tasks", timeout=10).json()["tasks"]
    assert task["dialect"] == "tokenhub" and "[chaos #7]" in task["body"]["prompt"]
    assert task["status"] in ("queued", "running")
