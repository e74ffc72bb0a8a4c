"""Rate limits: logins per address and per username, admin logins, generation submits per
user, and the atomic counter they rely on."""

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from projects.models import GenerationTask
from projects.ratelimits import LOGIN_LIMITED, SUBMIT_LIMITED, client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def login(client, username, password="wrong-password", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_login_is_limited_per_address_and_the_password_is_not_checked(client, settings):
    settings.SEEDANCE_LOGIN_RATE = "3/m"
    UserFactory(username="mia", password="pass-word-123")
    for attempt in range(3):
        assert login(client, f"guess{attempt}").status_code == 200  # form error, not limited
    refused = login(client, "mia", "pass-word-123")
    assert refused.status_code == 429 and LOGIN_LIMITED in refused.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password does not log in
    other = login(client, "mia", "pass-word-123", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302  # another address has its own count


def test_login_is_limited_per_username_across_addresses(client, settings):
    settings.SEEDANCE_LOGIN_RATE = "2/m"
    for n in range(2):
        login(client, "Mia", REMOTE_ADDR=f"10.1.0.{n}")
    response = login(client, "mia", REMOTE_ADDR="10.1.0.99")
    assert response.status_code == 429


def test_admin_login_is_limited_too(client, settings):
    settings.SEEDANCE_LOGIN_RATE = "1/m"
    url = reverse("admin:login")
    client.post(url, {"username": "root", "password": "x"})
    response = client.post(url, {"username": "root", "password": "x"})
    assert response.status_code == 429 and LOGIN_LIMITED in response.content.decode()


def test_generation_submits_are_limited_per_user(
    client, project, member, sim, settings, django_capture_on_commit_callbacks
):
    settings.SEEDANCE_SUBMIT_RATE = "2/m"
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    data = {
        "provider": "tokenhub",
        "model": "doubao-seedance-2.0-fast",
        "prompt": "A cat",
        "ratio": "1:1",
        "resolution": "480p",
        "duration": "4",
    }
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [client.post(url, data).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert GenerationTask.objects.count() == 2
    refused = client.post(url, data)
    assert SUBMIT_LIMITED in refused.content.decode()
    other = UserFactory(username="other")
    project.team.memberships.create(user=other, role="member")
    client.force_login(other)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302  # per user


def test_client_ip_uses_the_configured_proxy_header(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.5")
    assert client_ip(request) == "10.0.0.1"
    settings.SEEDANCE_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert client_ip(request) == "203.0.113.5"
    forwarded = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="1.1.1.1, 198.51.100.7")
    assert client_ip(forwarded) == "198.51.100.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_the_database_cache_increments_atomically():
    if "Redis" in type(cache).__name__:
        pytest.skip("Redis increments atomically itself")
    if connection.vendor == "sqlite":
        pass  # IMMEDIATE transactions serialise writers; still worth proving
    cache.set("counter", 0, 60)
    errors = []

    def bump() -> None:
        try:
            for _ in range(10):
                cache.incr("counter")
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and cache.get("counter") == 40
    with pytest.raises(ValueError):
        cache.incr("missing")
