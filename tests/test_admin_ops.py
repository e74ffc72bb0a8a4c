"""Django admin on stuck tasks: the "stuck" filter, and actions to retry, reconcile, cancel
upstream and fail, each through a service, audited, with a message saying what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.models import AuditEvent, GenerationTask
from projects.selectors import generation_tasks_stuck
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task
from tests.factories import GenerationTaskFactory, UserFactory
from tests.test_gateway_ark_flow import params as ark_params

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
CHANGELIST = "admin:projects_generationtask_changelist"


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def aged(task: GenerationTask, **ago: float) -> GenerationTask:
    GenerationTask.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(**ago))
    return task


def act(client: Client, action: str, *tasks: GenerationTask) -> str:
    response = client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [str(t.pk) for t in tasks]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_stuck_filter_lists_late_unsent_unpolled_and_unconfirmed_tasks(project, member):
    make = lambda **kw: GenerationTaskFactory(project=project, created_by=member, **kw)  # noqa: E731
    now = timezone.now()
    unconfirmed = make(status="submit_unknown")
    unsent = aged(make(status="pending"), minutes=11)
    late = aged(make(status="running", expected_render_s=120), minutes=22)  # 3x2 min + 15 min
    unpolled = make(status="queued", next_poll_at=now - timedelta(minutes=11))
    overdue = make(status="running", deadline_at=now - timedelta(minutes=1))
    fresh = make(status="running", expected_render_s=120, next_poll_at=now)
    long_render = aged(make(status="running", expected_render_s=400), minutes=22)  # not yet
    just_sent = aged(make(status="pending"), minutes=2)
    ended = aged(make(status="failed"), hours=5)
    stuck = set(generation_tasks_stuck().values_list("pk", flat=True))
    assert stuck == {t.pk for t in (unconfirmed, unsent, late, unpolled, overdue)}
    assert not {fresh.pk, long_render.pk, just_sent.pk, ended.pk} & stuck


def test_the_admin_list_filters_stuck_tasks(admin_client, project, member):
    stuck = GenerationTaskFactory(project=project, created_by=member, status="submit_unknown")
    fine = GenerationTaskFactory(project=project, created_by=member, status="queued")
    page = admin_client.get(reverse(CHANGELIST), {"stuck": "yes"}).content.decode()
    assert str(stuck.pk) in page and str(fine.pk) not in page
    page = admin_client.get(reverse(CHANGELIST), {"stuck": "unconfirmed"}).content.decode()
    assert str(stuck.pk) in page and str(fine.pk) not in page


def test_retry_now_makes_active_tasks_due_and_is_audited(admin_client, project, member):
    later = timezone.now() + timedelta(hours=1)
    waiting = GenerationTaskFactory(
        project=project, created_by=member, status="queued", next_poll_at=later
    )
    ended = GenerationTaskFactory(project=project, created_by=member, status="failed")
    page = act(admin_client, "poll_now", waiting, ended)
    assert "1 task(s) will be handled within seconds. 1 had already ended." in page
    waiting.refresh_from_db()
    assert waiting.next_poll_at <= timezone.now()
    event = AuditEvent.objects.get(action="task.poll_now")
    assert event.target_id == str(waiting.pk) and event.actor_name == "root"
    assert event.team == project.team


def test_reconcile_now_finds_a_lost_create_upstream(admin_client, sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark"))
    task = create_task(project=project, user=member, params=ark_params())
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN
    (made,) = sim.engine.tasks_of("ark")
    page = act(admin_client, "reconcile_now", task)
    assert f"Task {task.pk}: found upstream as {made.id}; following it." in page
    task.refresh_from_db()
    assert task.status == Status.QUEUED and task.upstream_task_id == made.id
    audit = AuditEvent.objects.get(action="task.reconciled", target_id=str(task.pk))
    assert audit.details["now"] == "queued"
    # A second go: nothing to reconcile any more, and it says so.
    assert "Only a task whose submit is unconfirmed can be reconciled" in act(
        admin_client, "reconcile_now", task
    )


def test_reconcile_now_says_when_the_gateway_cannot_tell(admin_client, sim, project, member):
    sim.engine.inject(Fault(kind="lost_create", dialect="ark", count=2))
    task = create_task(project=project, user=member, params=ark_params(seed=7))
    # A twin whose create was lost too, with the same seed: two unclaimed tasks of the same
    # shape, ambiguous (without a seed of the user's, each gets its own and they are told apart).
    create_task(project=project, user=member, params=ark_params(seed=7))
    page = act(admin_client, "reconcile_now", task)
    assert "the gateway cannot say whether it was created" in page
    task.refresh_from_db()
    assert task.status == Status.SUBMIT_UNKNOWN


def test_cancel_upstream_where_the_gateway_allows_it(admin_client, sim, project, member):
    ark = create_task(project=project, user=member, params=ark_params())
    ark.refresh_from_db()
    sim.engine.tasks[ark.upstream_task_id].queue_s = 1e9  # still queued at Ark
    from tests.test_generation_flow import params as tokenhub_params

    tokenhub = create_task(project=project, user=member, params=tokenhub_params())
    tokenhub.refresh_from_db()
    page = act(admin_client, "cancel_upstream", ark, tokenhub)
    assert f"Task {ark.pk}: Cancelled at Ark. Nothing was charged." in page
    assert f"Task {tokenhub.pk}: TokenHub has no cancel operation" in page
    ark.refresh_from_db()
    tokenhub.refresh_from_db()
    assert ark.status == Status.CANCELLED and tokenhub.status != Status.CANCELLED
    assert sim.engine.counters["ark:cancel"] == 1
    assert AuditEvent.objects.filter(action="generation.cancelled", target_id=str(ark.pk)).exists()


def test_mark_failed_releases_the_hold_and_is_audited(admin_client, sim, project, member):
    task = create_task(project=project, user=member, params=ark_params())
    page = act(admin_client, "mark_failed", task)
    assert "1 task(s) marked failed." in page
    task.refresh_from_db()
    assert task.status == Status.FAILED and task.error_code == "admin"
    assert task.ledger_entries.filter(kind="release").exists()
    assert AuditEvent.objects.filter(action="task.failed", target_id=str(task.pk)).exists()
