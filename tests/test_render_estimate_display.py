"""The render estimate where people see it: the generation page's progress words and
/healthz's render times per gateway (projects/services/render_estimate.py)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.services.render_estimate import gateway_render_summary, render_time_left
from projects.templatetags.studio import time_left
from tests.factories import GenerationTaskFactory
from tests.test_render_estimate import SENT, history, spread, task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _gateway_clock(settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 1.0
    settings.SEEDANCE_CALLBACKS = "off"


@pytest.fixture
def client_in(client, member, project):
    client.force_login(member)
    return client


def at(seconds):
    return SENT + timedelta(seconds=seconds)


def test_without_history_the_time_left_counts_down_from_the_expected_time():
    assert render_time_left(task(), now=at(20)) == pytest.approx(100.0)
    assert render_time_left(task(), now=at(150)) == 0.0  # due any moment
    assert render_time_left(task(), now=at(240)) is None  # past 2 E: longer than usual


def test_with_history_the_time_left_is_the_median_of_what_remains():
    history(spread(101, 100, 150))
    assert render_time_left(task(), now=at(25)) == pytest.approx(100.0)  # median 125 s
    # Not ended at 130 s: half of the renders still running then end by 140 s.
    assert render_time_left(task(), now=at(130)) == pytest.approx(10.0)
    assert render_time_left(task(), now=at(145)) is None  # past the 90 % quantile


def test_time_left_follows_the_simulator_clock(settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 0.1  # ten times faster than a gateway
    assert render_time_left(task(), now=at(2)) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("elapsed", "words"),
    [
        (20, "about 1 min 40 s left"),
        (97, "about 25 s left"),
        (118, "any moment now"),
        (300, "longer than usual"),
    ],
)
def test_member_facing_words(elapsed, words):
    running = task(status="running", submitted_at=timezone.now() - timedelta(seconds=elapsed))
    assert time_left(running) == words


def test_the_generation_page_says_how_long_is_left(client_in, project, member):
    running = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="running",
        expected_render_s=120.0,
        submitted_at=timezone.now() - timedelta(seconds=20),
    )
    body = client_in.get(reverse("projects:generation_detail", args=[running.pk])).content
    assert b'<span id="time-left">about 1 min 40 s left</span>' in body
    late = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="queued",
        expected_render_s=120.0,
        submitted_at=timezone.now() - timedelta(seconds=400),
    )
    body = client_in.get(reverse("projects:generation_detail", args=[late.pk])).content
    assert b"longer than usual" in body


def test_healthz_reports_render_times_per_gateway(client):
    history(spread(41, 100, 140))
    history([500.0] * 20, provider="alltoken", model="seedance-2.0")
    gateways = client.get("/healthz").json()["gateways"]
    assert gateways["tokenhub"]["render"] == {"p50_s": 120.0, "p90_s": 136.0, "samples": 41}
    assert gateways["alltoken"]["render"] == {"p50_s": 500.0, "p90_s": 500.0, "samples": 20}
    assert gateways["ark"]["render"] == {"p50_s": None, "p90_s": None, "samples": 0}


def test_the_summary_drops_outliers():
    history([*spread(41, 100, 140), 9000.0])
    assert gateway_render_summary("tokenhub")["samples"] == 41


def test_usually_about_is_the_learned_median(client_in, project, member):
    history(spread(101, 100, 150))
    running = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="running",
        expected_render_s=120.0,
        submitted_at=timezone.now() - timedelta(seconds=25),
    )
    body = client_in.get(reverse("projects:generation_detail", args=[running.pk])).content
    assert b"about 1 min 40 s left</span> (usually about 2 min 05 s)" in body
