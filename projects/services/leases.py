"""Acquiring, renewing and releasing WorkerLease rows: conditional UPDATEs, safe on SQLite
and PostgreSQL alike (one winner per lease)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from projects.models import WorkerLease

logger = logging.getLogger(__name__)


def lease_acquire(*, name: str, owner: str, seconds: float) -> bool:
    """Take lease `name` for `seconds` if it is free (or expired, or already ours)."""
    now = timezone.now()
    until = now + timedelta(seconds=seconds)
    taken = WorkerLease.objects.filter(Q(expires_at__lte=now) | Q(owner=owner), name=name).update(
        owner=owner, expires_at=until
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            WorkerLease.objects.create(name=name, owner=owner, expires_at=until)
    except IntegrityError:  # it exists and someone else holds it
        return False
    return True


def lease_renew(*, name: str, owner: str, seconds: float) -> bool:
    """Extend our lease by `seconds` from now; False if it is no longer ours."""
    until = timezone.now() + timedelta(seconds=seconds)
    return bool(WorkerLease.objects.filter(name=name, owner=owner).update(expires_at=until))


def lease_release(*, name: str, owner: str) -> None:
    """Give the lease up at once (if still ours)."""
    WorkerLease.objects.filter(name=name, owner=owner).update(expires_at=timezone.now())


class LeaseKeeper:
    """Keeps lease `name` ours while a long piece of work runs: a daemon thread renews it for
    `seconds` every third of that, on its own database connection, until the block ends or
    the lease is no longer ours. So the lease can be short (a worker killed mid-work frees it
    `seconds` after its last renewal) however long the work takes. A context manager."""

    def __init__(self, *, name: str, owner: str, seconds: float) -> None:
        self.name, self.owner, self.seconds = name, owner, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.seconds / 3):
                if not lease_renew(name=self.name, owner=self.owner, seconds=self.seconds):
                    return  # taken over after it ran out: nothing left to keep
        except DatabaseError:
            # The database is away: the lease may run out and another holder start; the work
            # the lease guards is safe to run twice (claims are conditional updates).
            logger.warning("could not renew lease %s", self.name)
        finally:
            connection.close()  # this thread's own connection
