"""Notifications beyond one task's ending (issue 16): budget alerts to the team's admins
once a period, the reviewers' daily digest, and Django admin's "Send now"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from projects.generation import lifecycle
from projects.models import Budget, Event, Notification
from projects.money.budget_alerts import budget_alerts_check
from projects.notifications.digest import review_digest_write
from projects.notifications.preferences import review_digest_save
from projects.notifications.team_webhooks import team_webhook_create
from projects.services.generation import generation_task_create
from projects.services.variations import variation_batch_create
from tests.conftest import tokenhub_params
from tests.factories import UserFactory
from tests.notification_support import (
    mails_to,
    rendering,
    running_receiver,
    succeed,
    team_people,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(project, member):
    return team_people(project, member)


def test_budget_at_80_percent_tells_the_admins_once_a_period(
    project, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("1.20"))
    with django_capture_on_commit_callbacks(execute=True):
        generation_task_create(project=project, user=people["maker"], params=tokenhub_params())
    [alert] = mail.outbox
    assert alert.to == ["ada@example.com"]
    assert alert.subject == "The Studio team's monthly budget is 80 % used"
    assert "$1.00 of $1.20 this month" in alert.body
    assert f"/t/{project.team.pk}/spend/" in alert.body
    with django_capture_on_commit_callbacks(execute=True):
        budget_alerts_check(team=project.team, project=project, user=people["maker"])
    assert len(mail.outbox) == 1


def test_budget_used_up_tells_the_admins(
    project, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("1.00"))
    with django_capture_on_commit_callbacks(execute=True):
        generation_task_create(project=project, user=people["maker"], params=tokenhub_params())
    [alert] = mail.outbox
    assert alert.subject == "The Studio team's monthly budget is used up"
    assert Notification.objects.get().event == Event.BUDGET_EXHAUSTED


def test_a_reviewer_who_chose_the_digest_gets_one_email_a_day(
    project, people, django_capture_on_commit_callbacks
):
    review_digest_save(user=people["reviewer"], digest=True)
    for prompt in ("Dawn", "Dusk"):
        succeed(
            rendering(project, people["maker"], prompt=prompt), django_capture_on_commit_callbacks
        )
    assert mails_to("rey@example.com") == []  # not one per video
    assert len(mails_to("ada@example.com")) == 2  # the admin did not choose the digest

    with django_capture_on_commit_callbacks(execute=True):
        assert review_digest_write(day="2026-12-07") == 1
    with django_capture_on_commit_callbacks(execute=True):
        review_digest_write(day="2026-12-07")  # the schedule run twice that day
    [digest] = mails_to("rey@example.com")
    assert digest.subject == "2 videos await your review"
    assert "Dawn" in digest.body and "Dusk" in digest.body
    assert "http://127.0.0.1:8000/review/" in digest.body
    assert ".mp4" not in digest.body


@pytest.fixture
def webhook_receiver(settings):
    settings.SEEDANCE_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def hook(project, people, webhook_receiver):
    return team_webhook_create(
        team=project.team, name="Room", url=webhook_receiver.url, events=Event.values, actor=None
    )


def test_send_now_in_django_admin_tries_a_failed_row_again(
    project, people, hook, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.status = 500
    task = rendering(project, people["maker"])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.finish(task_id=task.pk, status="failed", error_message="moderation")
    row = Notification.objects.get(channel="webhook")
    Notification.objects.filter(pk=row.pk).update(state="failed")
    webhook_receiver.status = 200
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:projects_notification_changelist"),
            {"action": "send_now", "_selected_action": [row.pk]},
        )
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(webhook_receiver.posts) == 2


def test_a_restricted_projects_review_request_reaches_only_who_sees_it(
    project, people, django_capture_on_commit_callbacks
):
    from projects.models import Membership, ProjectMember
    from tests.factories import MembershipFactory

    listed = UserFactory(username="lee", email="lee@example.com")
    MembershipFactory(team=project.team, user=listed, role=Membership.Role.REVIEWER)
    project.restricted = True
    project.save()
    ProjectMember.objects.create(project=project, user=listed)
    ProjectMember.objects.create(project=project, user=people["maker"])
    succeed(rendering(project, people["maker"]), django_capture_on_commit_callbacks)
    waiting = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("A video awaits"))
    assert waiting == ["ada@example.com", "lee@example.com"]  # not rey: not listed


def test_an_inactive_webhook_or_one_not_hearing_the_event_gets_nothing(
    project, people, webhook_receiver, django_capture_on_commit_callbacks
):
    off = team_webhook_create(
        team=project.team, name="Off", url=webhook_receiver.url, events=Event.values, actor=None
    )
    off.active = False
    off.save()
    team_webhook_create(
        team=project.team,
        name="Budgets only",
        url=webhook_receiver.url,
        events=[Event.BUDGET_80],
        actor=None,
    )
    succeed(rendering(project, people["maker"]), django_capture_on_commit_callbacks)
    assert webhook_receiver.posts == []
    assert not Notification.objects.filter(channel="webhook").exists()
    assert len(mail.outbox) == 3


def test_a_variation_batch_that_uses_up_a_budget_tells_the_admins(
    project, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("3.00"))
    with django_capture_on_commit_callbacks(execute=True):
        variation_batch_create(
            project=project, user=people["maker"], params=tokenhub_params(), count=3
        )
    [alert] = mail.outbox
    assert alert.subject == "The Studio team's monthly budget is used up"
