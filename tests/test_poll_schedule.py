"""The polling policy (projects/services/poll_schedule.py) and batched sweeps."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from projects.models import GenerationTask
from projects.services.generation import GenerationParams
from projects.services.poll_schedule import next_poll_time, upstream_delay
from projects.services.sweep import generation_tasks_sweep
from tests.conftest import create_task
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _real_time(settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 1.0
    settings.SEEDANCE_CALLBACKS = True


def task_for(provider, **fields):
    model = {
        "tokenhub": "doubao-seedance-2.0",
        "ark": "doubao-seedance-2-0-260128",
        "alltoken": "seedance-2.0",
        "seedance2ink": "seedance-2.0",
    }.get(provider, "doubao-seedance-2.0")
    fields.setdefault("expected_render_s", 120.0)
    return GenerationTaskFactory.build(provider=provider, model=model, submitted_at=NOW, **fields)


def test_single_task_gateway_waits_then_polls_every_12_s():
    task = task_for("tokenhub")
    assert upstream_delay(task=task, age=0) == pytest.approx(72.0)  # 0.5 E + 12 s
    assert upstream_delay(task=task, age=72) == pytest.approx(12.0)  # 0.12 E, at most 12 s
    assert upstream_delay(task=task, age=200) == pytest.approx(12.0)
    late = upstream_delay(task=task, age=600)
    assert 12.0 < late <= 60.0
    short = task_for("tokenhub", expected_render_s=60.0)
    assert upstream_delay(task=short, age=40) == pytest.approx(7.2)  # 0.12 E when below


@pytest.mark.parametrize("finish", [61.0, 72.0, 95.5, 121.0, 150.0, 188.0, 239.0])
def test_a_render_in_the_expected_range_is_noticed_within_12_s(finish):
    task = task_for("tokenhub")
    age, requests = 0.0, 0
    while age < finish:  # §5: 60-180 s renders plus 1-8 s of queue
        age += upstream_delay(task=task, age=age)
        requests += 1
    assert age - finish <= 12.0
    if finish == 121.0:  # the median render
        assert requests == 6


def test_callback_gateway_polls_only_as_a_fallback(settings):
    task = task_for("ark")
    assert upstream_delay(task=task, age=0) == pytest.approx(156.0)  # 1.3 E
    assert upstream_delay(task=task, age=160) == pytest.approx(36.0)  # then every 0.3 E
    slow = task_for("ark", expected_render_s=400.0)
    assert upstream_delay(task=slow, age=600) == settings.SEEDANCE_POLL_MAX_INTERVAL
    settings.SEEDANCE_CALLBACKS = False  # e.g. a laptop the gateway cannot reach
    assert upstream_delay(task=task, age=0) == settings.SEEDANCE_BATCH_POLL_INTERVAL


def test_a_site_gateways_cannot_reach_polls_as_without_callbacks(settings):
    settings.SEEDANCE_CALLBACKS = "auto"
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert upstream_delay(task=task_for("ark"), age=0) == settings.SEEDANCE_BATCH_POLL_INTERVAL
    assert upstream_delay(task=task_for("seedance2ink"), age=0) == pytest.approx(72.0)
    settings.SITE_URL = "https://studio.example.com"
    assert upstream_delay(task=task_for("seedance2ink"), age=0) == pytest.approx(156.0)


def test_batch_gateway_tasks_come_due_on_shared_boundaries(settings):
    settings.SEEDANCE_CALLBACKS = False
    times = {
        next_poll_time(task=task_for("ark"), now=NOW + timedelta(seconds=offset)).timestamp()
        for offset in (0.1, 1.3, 2.9, 4.4)
    }
    assert len(times) == 1 and next(iter(times)) % settings.SEEDANCE_BATCH_POLL_INTERVAL == 0


def test_errors_back_off_and_retry_after_is_never_undercut():
    task = task_for("tokenhub")
    assert upstream_delay(task=task, age=100, errors=3) == pytest.approx(12.0 * 4)
    assert upstream_delay(task=task, age=100, errors=30) == 300.0
    when = next_poll_time(task=task, now=NOW, errors=1, retry_after=500.0)
    assert (when - NOW).total_seconds() == pytest.approx(500.0)


def test_time_scale_shrinks_real_waits_for_a_fast_simulator(settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 0.01
    when = next_poll_time(task=task_for("tokenhub"), now=NOW)
    assert (when - NOW).total_seconds() == pytest.approx(0.72)


def test_one_list_request_answers_for_every_due_ark_task(sim, project, member, settings):
    settings.SEEDANCE_CALLBACKS = False
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 1 / 200
    for i in range(6):
        create_task(
            project=project,
            user=member,
            params=GenerationParams(
                provider="ark",
                model="doubao-seedance-2-0-260128",
                prompt=f"clip {i}",
                ratio="16:9",
                resolution="480p",
                duration=4,
            ),
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not GenerationTask.objects.exclude(status="succeeded").exists():
            break
        with TestCase.captureOnCommitCallbacks(execute=True):
            generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True)
        time.sleep(0.05)
    done = list(GenerationTask.objects.all())
    assert len(done) == 6 and {t.status for t in done} == {"succeeded"}
    counters = sim.engine.counters
    # Each sweep asked about all six in one list request, never one by one.
    assert counters["ark:get"] == 0
    assert counters["ark:list"] < sum(t.poll_count for t in done)
