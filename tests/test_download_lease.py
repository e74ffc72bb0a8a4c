"""The store job's lease is renewed while a copy runs, so a short SEEDANCE_DOWNLOAD_LEASE frees
a dead worker's task quickly without letting a second job start beside a slow live copy."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import GenerationTask
from projects.services.outputs import DownloadLeaseKeeper
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the keeper writes on its own connection
Status = GenerationTask.Status


def downloading_task(until):
    task = GenerationTaskFactory(status=Status.DOWNLOADING)
    GenerationTask.objects.filter(pk=task.pk).update(lease_until=until, next_poll_at=until)
    return task


def test_the_lease_is_pushed_ahead_while_the_copy_runs():
    lease = timedelta(seconds=0.3)
    first = timezone.now() + lease
    task = downloading_task(first)
    with DownloadLeaseKeeper(task_id=task.pk, until=first, lease=lease):
        time.sleep(0.8)  # several renewals (every 0.1 s), well past the first expiry
        task.refresh_from_db()
        assert task.lease_until > timezone.now() > first
        assert task.next_poll_at == task.lease_until
    held = task.lease_until
    time.sleep(0.3)
    task.refresh_from_db()
    assert task.lease_until == held  # stopped with the copy


def test_a_lease_someone_else_took_is_left_alone():
    lease = timedelta(seconds=0.3)
    first = timezone.now() + lease
    task = downloading_task(first)
    theirs = timezone.now() + timedelta(minutes=5)
    with DownloadLeaseKeeper(task_id=task.pk, until=first, lease=lease) as keeper:
        GenerationTask.objects.filter(pk=task.pk).update(lease_until=theirs)
        time.sleep(0.5)
        assert not keeper._thread.is_alive()
    task.refresh_from_db()
    assert task.lease_until == theirs
