"""The worker's tuning knobs as one typed, checked object.

Each knob is a `SEEDANCE_*` Django setting (seedance_web/settings.py reads them from the
environment, tests override them with pytest-django's `settings`); `worker_config()` reads them
afresh on each call, so an override takes effect at once, and returns a frozen `WorkerConfig`
with units in the field names. `worker_config_problems()` is what the system check
(projects/checks.py) reports at startup: a worker with impossible settings refuses to start
instead of polling in a tight loop or losing tasks to a lease shorter than a request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.conf import settings


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How the worker polls, leases and retries. Seconds are "upstream" seconds (the
    gateway's clock) where named so, else real seconds.

    - poll_min_interval_s / poll_max_interval_s: bounds of a task's own status polls
      (upstream s; services/poll_schedule.py).
    - batch_poll_interval_s: how often a gateway that answers for many tasks is asked
      (upstream s).
    - upstream_time_scale: real seconds per upstream second (1; 1/speed against a fast
      simulator).
    - sweep_s: real seconds one scheduled sweep keeps polling before it returns.
    - sweepers: sweeps running at once across all clusters.
    - poll_concurrency: status requests in flight per sweep.
    - reconcile_after_s: real seconds after a lost create before "no such task" is believed.
    - submit_lease_s / poll_lease_s / download_lease_s: real seconds a dead worker's claim
      keeps a task from the others.
    - store_pickup_s: real seconds a rendered task waits for a store job before another is
      queued.
    - store_retry_s: real seconds before the first retry of a failed output copy (doubled
      each time, at most 600).
    """

    poll_min_interval_s: float
    poll_max_interval_s: float
    batch_poll_interval_s: float
    upstream_time_scale: float
    sweep_s: float
    sweepers: int
    poll_concurrency: int
    reconcile_after_s: float
    submit_lease_s: float
    poll_lease_s: float
    download_lease_s: float
    store_pickup_s: float
    store_retry_s: float


SETTING_OF = {
    "poll_min_interval_s": "SEEDANCE_POLL_MIN_INTERVAL",
    "poll_max_interval_s": "SEEDANCE_POLL_MAX_INTERVAL",
    "batch_poll_interval_s": "SEEDANCE_BATCH_POLL_INTERVAL",
    "upstream_time_scale": "SEEDANCE_UPSTREAM_TIME_SCALE",
    "sweep_s": "SEEDANCE_SWEEP_SECONDS",
    "sweepers": "SEEDANCE_SWEEPERS",
    "poll_concurrency": "SEEDANCE_POLL_CONCURRENCY",
    "reconcile_after_s": "SEEDANCE_RECONCILE_AFTER",
    "submit_lease_s": "SEEDANCE_SUBMIT_LEASE",
    "poll_lease_s": "SEEDANCE_POLL_LEASE",
    "download_lease_s": "SEEDANCE_DOWNLOAD_LEASE",
    "store_pickup_s": "SEEDANCE_STORE_PICKUP",
    "store_retry_s": "SEEDANCE_STORE_RETRY_SECONDS",
}


def worker_config() -> WorkerConfig:
    """The knobs as they are set now (see the module docstring)."""
    return WorkerConfig(**{name: getattr(settings, SETTING_OF[name]) for name in SETTING_OF})


def worker_config_problems(config: WorkerConfig) -> list[str]:
    """Sentences naming each setting that cannot work ([] when all can)."""
    problems = [
        f"{SETTING_OF[f.name]} must be above 0 (it is {getattr(config, f.name)!r})."
        for f in fields(config)
        if not getattr(config, f.name) > 0
    ]
    if config.poll_min_interval_s > config.poll_max_interval_s:
        problems.append("SEEDANCE_POLL_MIN_INTERVAL must not exceed SEEDANCE_POLL_MAX_INTERVAL.")
    timeout = settings.SEEDANCE_HTTP_TIMEOUT
    if config.submit_lease_s <= timeout:
        problems.append(
            f"SEEDANCE_SUBMIT_LEASE ({config.submit_lease_s:g} s) must outlast a create call "
            f"(SEEDANCE_HTTP_TIMEOUT, {timeout:g} s), or a slow create is sent twice."
        )
    return problems
