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


class RenewingThread:
    """A claim kept alive while a long piece of work runs: a daemon thread calls `renew()`
    every `period` seconds, on its own database connection, until the `with` block ends or
    `renew()` returns False (the claim is no longer ours). While the database is away the
    renewals stop and the claim may run out: whatever it guards must tolerate a second
    holder (claims are conditional updates). Subclasses define `renew`."""

    def __init__(self, *, period: float, label: str) -> None:
        self.period, self.label = period, label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=label, daemon=True)

    def renew(self) -> bool:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.period):
                if not self.renew():
                    return
        except DatabaseError:
            logger.warning("could not renew %s", self.label)
        finally:
            connection.close()  # this thread's own connection


class LeaseKeeper(RenewingThread):
    """Keeps lease `name` ours for `seconds` at a time, renewed every third of that, while a
    long piece of work runs; so the lease can be short (a worker killed mid-work frees it
    `seconds` after its last renewal) however long the work takes. A context manager."""

    def __init__(self, *, name: str, owner: str, seconds: float) -> None:
        super().__init__(period=seconds / 3, label=f"lease {name}")
        self.name, self.owner, self.seconds = name, owner, seconds

    def renew(self) -> bool:
        return lease_renew(name=self.name, owner=self.owner, seconds=self.seconds)
