"""Sessions end after SEEDANCE_SESSION_IDLE_MINUTES idle and SEEDANCE_SESSION_MAX_HOURS after
login (projects/session_limits.py); activity inside both keeps the member logged in."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from projects.session_limits import SEEN, STARTED
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client):
    client.force_login(MembershipFactory().user)
    assert client.get(reverse("projects:project_list")).status_code == 200
    return client


def age(client, **seconds_ago: float) -> None:
    session = client.session
    now = time.time()
    for key, ago in (("started", STARTED), ("seen", SEEN)):
        if key in seconds_ago:
            session[ago] = now - seconds_ago[key]
    session.save()


def test_the_defaults_are_asvs_limits(settings):
    assert (settings.SEEDANCE_SESSION_IDLE_MINUTES, settings.SEEDANCE_SESSION_MAX_HOURS) == (30, 12)
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


def test_a_session_idle_past_the_limit_is_logged_out_with_the_reason(logged_in):
    age(logged_in, seen=31 * 60)
    response = logged_in.get(reverse("projects:project_list"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in logged_in.session


def test_activity_keeps_a_session_until_the_absolute_limit(logged_in):
    age(logged_in, started=11 * 3600, seen=29 * 60)
    assert logged_in.get(reverse("projects:project_list")).status_code == 200
    assert time.time() - logged_in.session[SEEN] < 5  # the request counted as activity
    age(logged_in, started=12 * 3600 + 1)
    response = logged_in.get(reverse("projects:project_list"), follow=True)
    assert "sessions last at most 12 hours" in response.content.decode()
    assert "_auth_user_id" not in logged_in.session
