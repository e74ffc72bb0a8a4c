"""The notification pages: a member's e-mail choices, team webhooks on the team page (a URL
into our network refused when saved, the secret shown once), and who may use them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import AuditEvent, Event, Membership, NotificationPreference, TeamWebhook
from projects.notifications.preferences import email_choices, review_digest
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PUBLIC_HOOK = "jsons://93.184.215.14/hooks/seedance"  # an IP literal: no DNS needed


@pytest.fixture
def admin_client(project):
    admin = UserFactory(username="ada")
    MembershipFactory(team=project.team, user=admin, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(admin)
    return client


def add_hook(client, team, url, **extra):
    data = {"name": "Room", "url": url, "events": ["video_ready", "budget_80"], "active": "on"}
    return client.post(
        reverse("projects:team_webhook_add", kwargs={"team_id": team.pk}),
        {**data, **extra},
        follow=True,
    )


def test_the_preferences_page_shows_the_defaults_and_saves(client, member, project):
    client.force_login(member)
    url = reverse("projects:notification_settings")
    page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('type="checkbox"') == len(Event.values) + 1  # + digest
    assert all(email_choices(user=member).values())  # every event on by default

    on = [e for e in Event.values if e not in (Event.VIDEO_READY, Event.BUDGET_80)]
    response = client.post(url, {event: "on" for event in on}, follow=True)
    assert "Notification settings saved." in response.content.decode()
    choices = email_choices(user=member)
    assert choices[Event.VIDEO_READY] is False and choices[Event.BUDGET_80] is False
    assert choices[Event.VIDEO_FAILED] is True
    assert NotificationPreference.objects.filter(user=member).count() == len(Event.values)
    assert 'name="video_ready"' in client.get(url).content.decode()

    client.post(url, {"review_waiting": "on", "review_waiting_digest": "on"})
    assert review_digest(user=member) is True
    assert email_choices(user=member)[Event.VIDEO_READY] is False  # unticked: off
    client.post(url, {"review_waiting": "on"})
    assert review_digest(user=member) is False


@pytest.mark.parametrize(
    "url, why",
    [
        ("json://127.0.0.1:8000/hook", "loopback"),
        ("jsons://10.1.2.3/hook", "private"),
        ("jsons://192.168.0.10:8443/x", "private"),
        ("jsons://169.254.169.254/latest/meta-data", "link-local"),
        ("json://[::1]/hook", "loopback"),
        ("workflow://10.0.0.1/abc/def", "private"),
        ("https://example.com/hook", "not a webhook URL we send to"),
        ("file:///etc/passwd", "not a webhook URL we send to"),
    ],
)
def test_a_team_admin_cannot_point_a_webhook_into_our_network(admin_client, project, url, why):
    response = add_hook(admin_client, project.team, url)
    assert response.status_code == 200
    assert why in response.content.decode()
    assert not TeamWebhook.objects.exists()


def test_a_webhook_is_added_with_its_secret_shown_once(admin_client, project):
    response = add_hook(admin_client, project.team, PUBLIC_HOOK)
    hook = TeamWebhook.objects.get()
    assert (hook.name, hook.url, hook.events, hook.active) == (
        "Room",
        PUBLIC_HOOK,
        ["video_ready", "budget_80"],
        True,
    )
    assert len(hook.secret) == 64
    assert hook.secret in response.content.decode()
    team_page = admin_client.get(
        reverse("projects:team_detail", kwargs={"team_id": project.team.pk})
    )
    assert PUBLIC_HOOK in team_page.content.decode()
    assert hook.secret not in team_page.content.decode()
    assert AuditEvent.objects.filter(action="webhook.created").count() == 1


def test_a_webhook_is_changed_checked_again_and_removed(admin_client, project):
    add_hook(admin_client, project.team, PUBLIC_HOOK)
    hook = TeamWebhook.objects.get()
    url = reverse(
        "projects:team_webhook_save", kwargs={"team_id": project.team.pk, "webhook_id": hook.pk}
    )
    refused = admin_client.post(
        url, {"name": "Room", "url": "jsons://10.0.0.8/x", "events": ["video_ready"]}, follow=True
    )
    assert "private address" in refused.content.decode()
    hook.refresh_from_db()
    assert hook.url == PUBLIC_HOOK

    admin_client.post(url, {"name": "Quiet room", "url": PUBLIC_HOOK, "events": ["video_failed"]})
    hook.refresh_from_db()
    assert (hook.name, hook.events, hook.active) == ("Quiet room", ["video_failed"], False)

    admin_client.post(url, {"delete": "1"})
    assert not TeamWebhook.objects.exists()


def test_members_and_other_teams_cannot_touch_webhooks(client, member, project, admin_client):
    add_hook(admin_client, project.team, PUBLIC_HOOK)
    hook = TeamWebhook.objects.get()
    client.force_login(member)
    assert add_hook(client, project.team, PUBLIC_HOOK).status_code == 403
    save = reverse(
        "projects:team_webhook_save", kwargs={"team_id": project.team.pk, "webhook_id": hook.pk}
    )
    assert client.post(save, {"delete": "1"}).status_code == 403

    stranger = UserFactory(username="eve")
    other = MembershipFactory(user=stranger, role=Membership.Role.ADMIN).team
    client.force_login(stranger)
    elsewhere = reverse(
        "projects:team_webhook_save", kwargs={"team_id": other.pk, "webhook_id": hook.pk}
    )
    assert client.post(elsewhere, {"delete": "1"}).status_code == 404
    assert TeamWebhook.objects.count() == 1


def test_django_admin_checks_the_url_and_shows_the_secret_once(project):
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    add = reverse("admin:projects_teamwebhook_add")
    data = {"team": project.team.pk, "name": "Ops", "events": ["video_failed"], "active": "on"}
    refused = client.post(add, {**data, "url": "jsons://10.9.8.7/x"})
    assert refused.status_code == 200
    assert "private address" in refused.content.decode()
    assert not TeamWebhook.objects.exists()

    added = client.post(add, {**data, "url": PUBLIC_HOOK}, follow=True)
    hook = TeamWebhook.objects.get()
    assert len(hook.secret) == 64 and hook.secret in added.content.decode()
    change = client.get(reverse("admin:projects_teamwebhook_change", args=[hook.pk]))
    assert hook.secret not in change.content.decode()
