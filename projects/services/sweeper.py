"""Keeping the due-task sweep running without gaps, on however many worker clusters.

django-q2 runs schedules at minute granularity and checks them every 30 s, so a sweep that
only ran when scheduled would leave gaps of up to half a minute with nobody polling. Instead a
sweep turn, once it ends, enqueues the next turn at once (a chain), and a lease makes sure
exactly SEEDANCE_SWEEPERS chains exist: the minutely schedule only restarts a chain whose
worker died (its lease expired), and otherwise returns at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from django.conf import settings

from projects.callback_reach import log_callback_notice_once
from projects.providers.registry import callback_gateway_labels
from projects.queue import enqueue
from projects.services.leases import LeaseKeeper, lease_acquire, lease_release
from projects.services.sweep import generation_tasks_sweep
from projects.worker_config import worker_config

logger = logging.getLogger("projects.tasks")
SWEEP_JOB = "projects.tasks.generation_tasks_sweep"
# Seconds a sweeper's lease lasts; renewed every third of it while its turn runs, so a worker
# that died (or was restarted: a deploy, Ctrl-C of `make run`) frees its slot this soon after,
# not a whole turn later.
SWEEP_LEASE = 20.0


def generation_tasks_sweep_turn(*, max_seconds: float, chain: bool = True) -> int:
    """One sweep turn of up to `max_seconds` if a sweeper slot is free; returns how many task
    steps it handled (0 when every slot is taken). With `chain`, the next turn is enqueued as
    this one ends, so polling never pauses between turns."""
    # Said once per worker process: why renders of gateways that call back are polled.
    log_callback_notice_once(logger, callback_gateway_labels())
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    for slot in range(worker_config().sweepers):
        name = f"sweeper-{slot}"
        if lease_acquire(name=name, owner=owner, seconds=SWEEP_LEASE):
            break
    else:
        return 0
    try:
        with LeaseKeeper(name=name, owner=owner, seconds=SWEEP_LEASE):
            return generation_tasks_sweep(max_seconds=max_seconds)
    finally:
        lease_release(name=name, owner=owner)
        # Inline jobs (tests) would run the next turn inside this one, forever.
        if chain and not getattr(settings, "SEEDANCE_JOBS_INLINE", False):
            enqueue(SWEEP_JOB)
