"""Acquiring, renewing and releasing WorkerLease rows: conditional UPDATEs, safe on SQLite
and PostgreSQL alike (one winner per lease)."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from projects.models import WorkerLease


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
