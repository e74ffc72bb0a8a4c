"""Holding simulated tasks in one status: the simulator's clock is fast, so a test that wants
to look at (or act on) a queued or running task stops its clock for that task."""

from __future__ import annotations

from projects.models import GenerationTask
from projects.services.refresh import generation_task_refresh


def hold(sim, upstream_id: str, status: str) -> None:
    """Keep the simulated task `upstream_id` in `status` (queued | running) until released."""
    upstream = sim.engine.get_task(upstream_id)
    if status == "queued":
        upstream.queue_s = 1e9
    else:
        upstream.queue_s, upstream.render_s = 0.0, 1e9


def release(sim, upstream_id: str) -> None:
    """Let the simulated task finish now (with the outcome it was created with)."""
    upstream = sim.engine.get_task(upstream_id)
    upstream.queue_s = upstream.render_s = 0.0


def refreshed(task: GenerationTask) -> GenerationTask:
    """Ask the gateway about the task once (as a poll would) and reload it."""
    generation_task_refresh(task=task)
    task.refresh_from_db()
    return task
