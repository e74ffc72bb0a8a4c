"""Notifications (issue 16): each event sends exactly one message per subscribed channel
(e-mail through the locmem backend, a signed JSON webhook to a local receiver), once however
often its code path runs; a failing webhook is retried with backoff and never fails the task;
no message carries a key or a media link."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from projects.generation import lifecycle
from projects.models import Event, GenerationTask, Notification
from projects.notifications import outbox
from projects.notifications.delivery import (
    MAX_ATTEMPTS,
    notifications_deliver,
    notifications_deliver_due,
)
from projects.notifications.preferences import email_choices_save
from projects.notifications.team_webhooks import team_webhook_create
from projects.services.reviews import video_approve, video_reject
from projects.storage import signed_url
from tests.notification_support import (
    VIDEO,
    mails_to,
    rendering,
    running_receiver,
    succeed,
    team_people,
)

pytestmark = pytest.mark.django_db
KEY = "th-test-key-0000"  # TOKENHUB_API_KEY in tests/settings.py


@pytest.fixture
def people(project, member):
    return team_people(project, member)


@pytest.fixture
def webhook_receiver(settings):
    settings.SEEDANCE_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def hook(project, people, webhook_receiver):
    return team_webhook_create(
        team=project.team,
        name="Team room",
        url=webhook_receiver.url,
        events=Event.values,
        actor=people["admin"],
    )


def verify(secret: str, headers: dict, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-seedance-signature"], expected)


def test_success_sends_ready_and_review_waiting_once_per_channel(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    task = rendering(project, people["maker"], prompt="A paper crane over a harbour")
    assert succeed(task, django_capture_on_commit_callbacks)

    [ready] = mails_to("mia@example.com")
    assert ready.subject == "Your video is ready: A paper crane over a harbour"
    assert f"http://127.0.0.1:8000/g/{task.pk}/" in ready.body
    for who in ("rey@example.com", "ada@example.com"):
        [waiting] = mails_to(who)
        assert waiting.subject.startswith("A video awaits your review")
    assert len(mail.outbox) == 3  # the maker is not asked to review their own video

    bodies = [json.loads(body) for _, body in webhook_receiver.posts]
    assert sorted(b["event"] for b in bodies) == ["review_waiting", "video_ready"]
    for headers, body in webhook_receiver.posts:
        assert verify(hook.secret, headers, body)
        assert not verify("another secret", headers, body)
    assert Notification.objects.filter(state="sent").count() == 5
    assert GenerationTask.objects.get(pk=task.pk).status == "succeeded"


def test_the_same_event_twice_sends_once(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    task = rendering(project, people["maker"])
    assert succeed(task, django_capture_on_commit_callbacks)
    assert not succeed(task, django_capture_on_commit_callbacks)  # already ended
    with django_capture_on_commit_callbacks(execute=True):
        outbox.task_ended(task_id=task.pk)  # the code path run again, as a redelivered job
    for key in Notification.objects.values_list("event_key", flat=True).distinct():
        notifications_deliver(event_key=key)  # and the delivery job delivered twice
    notifications_deliver_due()
    assert len(mail.outbox) == 3
    assert len(webhook_receiver.posts) == 2
    assert Notification.objects.count() == 5


def test_an_unsubscribed_member_gets_nothing(project, people, django_capture_on_commit_callbacks):
    email_choices_save(user=people["maker"], choices={Event.VIDEO_READY: False})
    email_choices_save(user=people["admin"], choices={Event.REVIEW_WAITING: False})
    task = rendering(project, people["maker"])
    assert succeed(task, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["rey@example.com"]]
    assert not Notification.objects.filter(user=people["maker"]).exists()


def test_a_failure_tells_the_maker_and_messages_carry_no_key_or_media_link(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    task = rendering(project, people["maker"])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.finish(
            task_id=task.pk,
            status="failed",
            error_message=f"Upstream said: invalid key {KEY} (Bearer {KEY})",
        )
    [failed] = mail.outbox
    assert failed.to == ["mia@example.com"]
    assert failed.subject.startswith("Your video failed")
    assert "Nothing was charged" in failed.body
    [(_, body)] = webhook_receiver.posts
    assert json.loads(body)["event"] == "video_failed"

    ok = rendering(project, people["maker"])
    assert succeed(ok, django_capture_on_commit_callbacks)
    media = signed_url(VIDEO)
    texts = [m.subject + m.body for m in mail.outbox] + [
        b.decode() for _, b in webhook_receiver.posts
    ]
    assert len(texts) == 7  # 1 + 3 e-mails, 1 + 2 posts
    for text in texts:
        assert KEY not in text
        assert VIDEO not in text and media not in text and "/media/" not in text
        assert ".mp4" not in text


def test_cancel_sends_nothing(project, people, django_capture_on_commit_callbacks):
    task = rendering(project, people["maker"])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.finish(task_id=task.pk, status="cancelled")
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_failing_webhook_is_retried_with_backoff_and_the_task_still_succeeds(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    webhook_receiver.status = 500
    task = rendering(project, people["maker"])
    started = timezone.now()
    assert succeed(task, django_capture_on_commit_callbacks)
    assert GenerationTask.objects.get(pk=task.pk).status == "succeeded"
    assert len(mails_to("mia@example.com")) == 1  # e-mail is not held up by the webhook

    rows = Notification.objects.filter(channel="webhook")
    assert rows.count() == 2
    for row in rows:
        assert (row.state, row.attempts, row.last_error) == (
            "pending",
            1,
            "HTTP 500 from 127.0.0.1",
        )
        wait = (row.next_try_at - started).total_seconds()
        assert 29 < wait < 40  # 30 s after the first failure
    assert notifications_deliver_due() == {"sent": 0, "failed": 0}  # not due yet

    # Due again and still failing: the wait doubles.
    rows.update(next_try_at=timezone.now() - timedelta(seconds=1))
    assert notifications_deliver_due() == {"sent": 0, "failed": 2}
    row = rows.first()
    assert row.attempts == 2
    assert 55 < (row.next_try_at - timezone.now()).total_seconds() < 61

    # The receiver is back: each message is sent once.
    webhook_receiver.status = 200
    rows.update(next_try_at=timezone.now() - timedelta(seconds=1))
    posts_before = len(webhook_receiver.posts)
    assert notifications_deliver_due() == {"sent": 2, "failed": 0}
    assert len(webhook_receiver.posts) == posts_before + 2
    assert set(rows.values_list("state", "attempts")) == {("sent", 3)}


def test_a_webhook_that_keeps_failing_gives_up_after_the_last_attempt(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    webhook_receiver.status = 503
    task = rendering(project, people["maker"])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.finish(task_id=task.pk, status="failed", error_message="moderation")
    row = Notification.objects.get(channel="webhook")
    for _ in range(MAX_ATTEMPTS - 1):
        Notification.objects.filter(pk=row.pk).update(next_try_at=timezone.now())
        notifications_deliver_due()
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(webhook_receiver.posts) == MAX_ATTEMPTS


def test_review_decisions_tell_the_maker(
    project,
    people,
    hook,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    first = rendering(project, people["maker"], prompt="First cut")
    second = rendering(project, people["maker"], prompt="Second cut")
    succeed(first, django_capture_on_commit_callbacks)
    succeed(second, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    webhook_receiver.posts.clear()
    first.refresh_from_db()
    second.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        video_approve(task=first, user=people["reviewer"], comment="Lovely light")
    with django_capture_on_commit_callbacks(execute=True):
        video_reject(task=second, user=people["reviewer"], comment="Too dark at 0:03")
    approved, rejected = mail.outbox
    assert approved.to == rejected.to == ["mia@example.com"]
    assert approved.subject == "Your video was approved: First cut"
    assert "rey approved your video" in approved.body and "Lovely light" in approved.body
    assert rejected.subject == "Your video was rejected: Second cut"
    assert "Too dark at 0:03" in rejected.body
    events = sorted(json.loads(body)["event"] for _, body in webhook_receiver.posts)
    assert events == ["video_approved", "video_rejected"]


def test_a_broken_notification_write_never_fails_the_task(
    project, people, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is on fire")

    monkeypatch.setattr("projects.notifications.outbox.task_message", broken)
    task = rendering(project, people["maker"])
    assert succeed(task, django_capture_on_commit_callbacks)
    assert GenerationTask.objects.get(pk=task.pk).status == "succeeded"
    assert not Notification.objects.exists()


def test_chat_webhooks_go_through_apprise(
    project, people, monkeypatch, django_capture_on_commit_callbacks
):
    import apprise

    sent = []
    monkeypatch.setattr(
        apprise.Apprise, "notify", lambda self, **kw: sent.append((len(self), kw)) or True
    )
    team_webhook_create(
        team=project.team,
        name="Slack",
        url="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        events=[Event.VIDEO_READY],
        actor=None,
    )
    task = rendering(project, people["maker"], prompt="A kite")
    assert succeed(task, django_capture_on_commit_callbacks)
    [(services, message)] = sent
    assert services == 1
    assert message["title"] == "Your video is ready: A kite"
    assert Notification.objects.get(channel="webhook").state == "sent"
