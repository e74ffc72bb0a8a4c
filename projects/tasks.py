"""django-q2 entry points. Each takes ids, calls one service and does nothing else (but
name the task in its log lines: projects/logs.py).

Enqueue them through projects/queue.py; schedule the sweep with `manage.py setup_schedules`.
"""

from projects.logs import log_context
from projects.notifications import delivery, digest
from projects.services import cuts, outputs, submit, sweep, sweeper
from projects.worker_config import worker_config


def generation_task_submit(task_id: str) -> None:
    """Send a pending task upstream (idempotent)."""
    with log_context(task=task_id, job="submit"):
        submit.generation_task_submit(task_id=task_id)


def generation_task_store_outputs(task_id: str) -> None:
    """Copy a rendered task's outputs into storage and mark it succeeded (idempotent)."""
    with log_context(task=task_id, job="store_outputs"):
        outputs.generation_task_store_outputs(task_id=task_id)


def generation_tasks_sweep() -> int:
    """One sweep turn of SEEDANCE_SWEEP_SECONDS, chained to the next (services/sweeper.py);
    the minutely schedule restarts a chain whose worker died."""
    return sweeper.generation_tasks_sweep_turn(max_seconds=worker_config().sweep_s)


def generation_task_poll(task_id: str) -> None:
    """Handle one task now (a callback arrived, an admin asked); a finished render is
    stored in this same job."""
    with log_context(task=task_id, job="poll"):
        sweep.generation_task_poll(task_id=task_id, store_inline=True)


def storyboard_cut_assemble(cut_id: str) -> None:
    """Assemble a queued cut of a storyboard into one MP4 in storage (idempotent)."""
    with log_context(job="cut_assemble", cut=cut_id):
        cuts.cut_assemble(cut_id=cut_id)


def notifications_deliver(event_key: str) -> dict[str, int]:
    """Send one event's notifications (enqueued on commit by notifications/outbox.py)."""
    return delivery.notifications_deliver(event_key=event_key)


def notifications_deliver_due() -> dict[str, int]:
    """Send notifications whose next try is due: retries with backoff, lost jobs (every
    minute)."""
    return delivery.notifications_deliver_due()


def notifications_review_digest() -> int:
    """Write and send today's review digests (daily)."""
    return digest.review_digest_write()
