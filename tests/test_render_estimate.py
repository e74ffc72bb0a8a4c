"""The render-time estimator (projects/services/render_estimate.py) and the schedule that
follows it for polled gateways (projects/services/poll_schedule.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from projects.models import GenerationTask
from projects.providers.base import TaskSnapshot, UpstreamStatus
from projects.services.poll_schedule import (
    LEARNED_LAG_TARGET,
    ask_gap,
    learned_delay,
    upstream_delay,
)
from projects.services.refresh import generation_task_apply_snapshot
from projects.services.render_estimate import (
    RenderEstimate,
    duration_band,
    render_estimate,
    render_estimate_cache_clear,
)
from tests.factories import GenerationTaskFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _polled(settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 1.0
    settings.SEEDANCE_CALLBACKS = "off"


def history(
    seconds,
    *,
    provider="tokenhub",
    model="doubao-seedance-2.0",
    resolution="720p",
    duration=5,
    expected=120.0,
):
    """Succeeded tasks that took `seconds` (each) from send to the gateway's finish."""
    project, user = ProjectFactory(), UserFactory()
    GenerationTask.objects.bulk_create(
        GenerationTaskFactory.build(
            project=project,
            created_by=user,
            provider=provider,
            model=model,
            resolution=resolution,
            duration=duration,
            expected_render_s=expected,
            status="succeeded",
            review_state="awaiting",
            video="outputs/x.mp4",
            video_sha256="0" * 64,
            submitted_at=SENT + timedelta(minutes=i),
            upstream_finished_at=SENT + timedelta(minutes=i, seconds=s),
            finished_at=SENT + timedelta(minutes=i, seconds=s + 2),
        )
        for i, s in enumerate(seconds)
    )
    render_estimate_cache_clear()


def task(**fields):
    fields.setdefault("expected_render_s", 120.0)
    fields.setdefault("submitted_at", SENT)
    return GenerationTaskFactory.build(**fields)


def spread(n, low, high):
    return [low + (high - low) * i / (n - 1) for i in range(n)]


def test_no_history_falls_back_to_the_expected_time():
    estimate = render_estimate(task())
    assert not estimate.learned and estimate.samples == 0
    assert estimate.mid_s == 120.0
    assert (estimate.low_s, estimate.high_s) == (60.0, 240.0)


def test_too_little_history_falls_back(settings):
    history(spread(19, 100, 120))
    assert not render_estimate(task()).learned
    settings.SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES = 10
    render_estimate_cache_clear()
    assert render_estimate(task()).samples == 19


def test_quantiles_follow_the_history():
    history(spread(101, 100, 150))  # 100, 100.5, ... 150 s
    estimate = render_estimate(task())
    assert estimate.learned and estimate.samples == 101
    assert estimate.low_s == pytest.approx(105.0)
    assert estimate.mid_s == pytest.approx(125.0)
    assert estimate.high_s == pytest.approx(145.0)
    assert estimate.cdf(125.0) == pytest.approx(0.5)
    assert estimate.cdf(99.0) == 0.0 and estimate.cdf(151.0) == 1.0


def test_the_estimate_scales_with_the_tasks_own_expected_time():
    history(spread(50, 100, 150), duration=12, expected=200.0)  # ratios 0.5-0.75
    longer = render_estimate(task(duration=15, expected_render_s=300.0))
    assert longer.mid_s == pytest.approx(300.0 * 0.625, rel=0.01)


def test_outliers_do_not_move_the_quantiles():
    history([*spread(60, 110, 130), 3600.0, 5000.0, 1.0])  # a stuck render, a clock jump
    estimate = render_estimate(task())
    assert estimate.samples == 60
    assert estimate.quantile(0.98) < 131.0
    assert estimate.quantile(0.02) > 109.0


def test_history_of_other_kinds_is_not_used():
    history(spread(40, 300, 320), duration=12)  # another band
    history(spread(40, 300, 320), resolution="480p")
    history(spread(40, 300, 320), provider="alltoken", model="seedance-2.0")
    history(spread(40, 300, 320), model="doubao-seedance-2.0-fast")
    assert not render_estimate(task()).learned
    history(spread(40, 110, 130), duration=4)  # the same band as 5 s
    assert render_estimate(task()).mid_s == pytest.approx(120.0, abs=1.0)


@pytest.mark.parametrize(
    ("duration", "band"), [(-1, (-1, -1)), (4, (1, 5)), (5, (1, 5)), (8, (6, 8)), (15, (12, 15))]
)
def test_duration_bands(duration, band):
    assert duration_band(duration) == band


def test_the_estimate_is_cached_briefly(django_assert_num_queries):
    history(spread(30, 100, 130))
    with django_assert_num_queries(1):
        render_estimate(task())
        render_estimate(task(duration=4))
    history(spread(30, 300, 330))  # clears the cache
    assert render_estimate(task()).mid_s > 150.0


# --- the schedule ----------------------------------------------------------------------------
def learned(points=((0.02, 95.0), (0.1, 100.0), (0.5, 120.0), (0.9, 140.0), (0.98, 150.0))):
    return RenderEstimate(expected_s=120.0, samples=100, points=points)


def test_first_ask_comes_at_the_low_quantile():
    assert learned_delay(learned(), 0.0) == pytest.approx(100.0)
    assert learned_delay(learned(), 40.0) == pytest.approx(60.0)


def test_asks_come_where_the_end_is_likely_and_within_bounds(settings):
    estimate = learned()
    ages, age = [], 0.0
    while age < 400:
        age += learned_delay(estimate, age)
        ages.append(age)
    gaps = [b - a for a, b in zip(ages, ages[1:], strict=False)]
    dense = [g for a, g in zip(ages, gaps, strict=False) if a < 150.0]
    assert all(settings.SEEDANCE_POLL_MIN_INTERVAL <= g <= LEARNED_LAG_TARGET for g in dense)
    late = [g for a, g in zip(ages, gaps, strict=False) if a >= 150.0]
    assert late == sorted(late) and late[-1] == settings.SEEDANCE_POLL_MAX_INTERVAL
    # Between the quantiles the asks follow the remaining mass: a narrow distribution is
    # asked about more often than the lag bound alone would.
    narrow = learned(((0.02, 99.0), (0.1, 100.0), (0.5, 104.0), (0.9, 108.0), (0.98, 110.0)))
    assert learned_delay(narrow, 100.0) == settings.SEEDANCE_POLL_MIN_INTERVAL
    assert learned_delay(learned(), 100.0) == LEARNED_LAG_TARGET


def asks_until(polled, finish):
    age, asks = 0.0, 0
    while age < finish:
        age += upstream_delay(task=polled, age=age)
        asks += 1
    return asks, age - finish


@pytest.mark.parametrize("finish", [104.0, 125.0, 146.0])
def test_fewer_asks_than_the_fixed_schedule_and_no_later(settings, finish):
    history(spread(101, 100, 150))
    polled = task()
    asks, lag = asks_until(polled, finish)
    settings.SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES = 1000  # the fixed schedule
    render_estimate_cache_clear()
    fixed_asks, fixed_lag = asks_until(polled, finish)
    assert lag <= LEARNED_LAG_TARGET and fixed_lag <= 12.0
    assert asks <= fixed_asks
    if finish == 125.0:  # the median render: 4 asks where the fixed schedule makes 6
        assert (asks, fixed_asks) == (4, 6)


def test_the_first_ask_follows_the_history():
    history(spread(101, 100, 150))
    assert upstream_delay(task=task(), age=0.0) == pytest.approx(105.0)


def test_callback_and_batch_gateways_keep_their_schedule(settings):
    history(spread(40, 100, 150), provider="ark", model="doubao-seedance-2-0-260128")
    ark = task(provider="ark", model="doubao-seedance-2-0-260128")
    assert upstream_delay(task=ark, age=0) == settings.SEEDANCE_BATCH_POLL_INTERVAL
    settings.SEEDANCE_CALLBACKS = "on"
    assert upstream_delay(task=ark, age=0) == pytest.approx(156.0)  # 1.3 E, as before
    assert ask_gap(task=ark, age=130.0) == 0.0


def test_ask_gap_is_the_time_since_the_ask_before():
    polled = task()  # fixed schedule: asks at 72, 84, 96 ... s
    assert ask_gap(task=polled, age=96.0) == pytest.approx(12.0)
    assert ask_gap(task=polled, age=72.0) == pytest.approx(72.0)  # the first ask
    history(spread(101, 100, 150))
    assert ask_gap(task=polled, age=105.0) == pytest.approx(105.0)
    assert ask_gap(task=polled, age=112.0) == pytest.approx(7.0)


def test_a_polled_render_is_taken_to_have_ended_half_way_since_the_ask_before(monkeypatch):
    monkeypatch.setattr("projects.services.refresh.enqueue_on_commit", lambda *a: None)
    now = timezone.now()
    running = GenerationTaskFactory(
        status="running",
        upstream_task_id="up-1",
        expected_render_s=120.0,
        submitted_at=now - timedelta(seconds=96),  # the fixed schedule's asks: 72, 84, 96 s
    )
    done = TaskSnapshot(
        upstream_id="up-1",
        status=UpstreamStatus.SUCCEEDED,
        raw_status="completed",
        video_url="https://example.com/v.mp4",
    )
    generation_task_apply_snapshot(task=running, snapshot=done)
    running.refresh_from_db()
    assert running.status == "downloading"
    ended = (running.upstream_finished_at - running.submitted_at).total_seconds()
    assert ended == pytest.approx(90.0, abs=0.5)  # half way between 84 and 96 s
