"""Asking the gateway about a task that cannot be asked (services/refresh.py): before its
deadline the task waits and is asked again later; past it, the task expires and its hold is
released. (Turning the expiry off once left the whole suite passing.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from projects.generation import lifecycle
from projects.models import CreditEntry, GenerationTask
from projects.money.billing import generation_task_hold
from projects.providers.base import ProviderTransientError
from projects.services import refresh
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status


class Unreachable:
    def fetch(self, upstream_id):
        raise ProviderTransientError("The gateway timed out.")


@pytest.fixture
def running(monkeypatch):
    monkeypatch.setattr(refresh, "get_provider", lambda name: Unreachable())
    task = GenerationTaskFactory(status=Status.PENDING, upstream_task_id="up-9")
    with transaction.atomic():
        generation_task_hold(task=task)
    lifecycle.transition(task_id=task.pk, from_statuses=[Status.PENDING], to_status="submitting")
    lifecycle.transition(task_id=task.pk, from_statuses=["submitting"], to_status="running")
    return task


def kinds(task) -> list[str]:
    return sorted(CreditEntry.objects.filter(task=task).values_list("kind", flat=True))


def test_an_unreachable_gateway_before_the_deadline_means_asking_again_later(running):
    lifecycle.record(running.pk, deadline_at=timezone.now() + timedelta(hours=1))
    running.refresh_from_db()
    before = timezone.now()
    refresh.generation_task_refresh(task=running)
    running.refresh_from_db()
    assert running.status == Status.RUNNING and running.consecutive_errors == 1
    assert running.next_poll_at > before and kinds(running) == ["hold"]
    assert running.events.filter(kind="poll_error").count() == 1


def test_past_its_deadline_the_task_expires_and_its_hold_is_released(running):
    lifecycle.record(running.pk, deadline_at=timezone.now() - timedelta(seconds=1))
    running.refresh_from_db()
    refresh.generation_task_refresh(task=running)
    running.refresh_from_db()
    assert (running.status, running.error_code) == (Status.EXPIRED, "deadline")
    assert running.error_message == "The gateway did not report an end before the deadline."
    assert kinds(running) == ["hold", "release"]
