"""Sweep turns: leases keep exactly SEEDANCE_SWEEPERS sweeps alive, each chaining the next."""

from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import WorkerLease
from projects.services import sweeper
from projects.services.leases import lease_acquire, lease_release, lease_renew

pytestmark = pytest.mark.django_db


def test_a_lease_has_one_holder_until_it_expires_or_is_released():
    assert lease_acquire(name="sweeper-0", owner="a", seconds=60)
    assert not lease_acquire(name="sweeper-0", owner="b", seconds=60)
    assert lease_acquire(name="sweeper-0", owner="a", seconds=60)  # ours: renewed
    assert lease_renew(name="sweeper-0", owner="a", seconds=60)
    assert not lease_renew(name="sweeper-0", owner="b", seconds=60)
    lease_release(name="sweeper-0", owner="a")
    assert lease_acquire(name="sweeper-0", owner="b", seconds=60)
    WorkerLease.objects.filter(name="sweeper-0").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert lease_acquire(name="sweeper-0", owner="c", seconds=60)  # the holder died
    assert WorkerLease.objects.get(name="sweeper-0").owner == "c"


def test_a_turn_sweeps_then_chains_the_next_and_frees_its_slot(monkeypatch, settings):
    settings.SEEDANCE_JOBS_INLINE = False
    chained, swept = [], []
    monkeypatch.setattr(sweeper, "enqueue", lambda job: chained.append(job))
    monkeypatch.setattr(
        sweeper, "generation_tasks_sweep", lambda max_seconds: swept.append(max_seconds) or 7
    )
    assert sweeper.generation_tasks_sweep_turn(max_seconds=3.0) == 7
    assert swept == [3.0] and chained == ["projects.tasks.generation_tasks_sweep"]
    assert WorkerLease.objects.get(name="sweeper-0").expires_at <= timezone.now()


def test_a_turn_returns_at_once_when_every_slot_is_taken(monkeypatch, settings):
    settings.SEEDANCE_SWEEPERS = 2
    settings.SEEDANCE_JOBS_INLINE = False
    chained = []
    monkeypatch.setattr(sweeper, "enqueue", lambda job: chained.append(job))
    monkeypatch.setattr(sweeper, "generation_tasks_sweep", lambda max_seconds: 1)
    lease_acquire(name="sweeper-0", owner="other-cluster", seconds=60)
    assert sweeper.generation_tasks_sweep_turn(max_seconds=1.0) == 1  # slot 1 was free
    lease_acquire(name="sweeper-1", owner="third-cluster", seconds=60)
    assert sweeper.generation_tasks_sweep_turn(max_seconds=1.0) == 0
    assert chained == ["projects.tasks.generation_tasks_sweep"]  # only the turn that ran


@pytest.mark.django_db(transaction=True)  # the keeper renews on its own connection
def test_a_long_turn_keeps_its_short_lease(monkeypatch, settings):
    settings.SEEDANCE_JOBS_INLINE = False
    monkeypatch.setattr(sweeper, "enqueue", lambda job: None)
    monkeypatch.setattr(sweeper, "SWEEP_LEASE", 0.6)
    seen = []

    def long_sweep(max_seconds):
        import time

        time.sleep(1.5)  # well past one lease: only renewals keep it
        lease = WorkerLease.objects.get(name="sweeper-0")
        seen.append(
            (
                lease.expires_at > timezone.now(),
                lease_acquire(name="sweeper-0", owner="intruder", seconds=60),
            )
        )
        return 1

    monkeypatch.setattr(sweeper, "generation_tasks_sweep", long_sweep)
    assert sweeper.generation_tasks_sweep_turn(max_seconds=5.0) == 1
    assert seen == [(True, False)]  # still ours after 1.5 s of a 0.6 s lease
    assert WorkerLease.objects.get(name="sweeper-0").expires_at <= timezone.now()  # released
