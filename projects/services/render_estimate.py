"""How long a task's render will take, learned from our own finished tasks.

A render's time is mostly a function of the model, the resolution, the output seconds, the
references and the gateway's queue (upstream-research.md §5; projects/upstream_sim/
render_time.py models it so). We know all but the queue, so the recent tasks of the same
gateway, model, resolution and duration band say how long this one will take, spread
included. The estimate is a set of quantiles of the render time, in *upstream seconds* from
the moment the task was sent to the moment the gateway finished (queue included):

- history: the last HISTORY_ROWS tasks that succeeded with that key (one query on the
  `task_estimate_history` index), each as the ratio of its observed time to the rough prior
  `expected_render_s` (services/generation.py::expected_render_seconds), so a 12 s and a 15 s
  clip of one band inform each other; the ratios beyond MAD_LIMIT scaled median absolute
  deviations of their median (a render stuck for an hour, a clock jump) are dropped, then
  QUANTILES of the rest, times this task's prior, are its estimate.
- fallback: fewer than SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES (worker_config, 20) such tasks: no
  quantiles (`samples == 0`); the schedule keeps its fixed policy around the prior and the
  page says "about E".

"Observed time": `upstream_finished_at - submitted_at`, real seconds divided by
SEEDANCE_UPSTREAM_TIME_SCALE. `upstream_finished_at` is when a status request first saw the
render finished, less half the gap since the ask before (services/refresh.py), so a polled
gateway's times are not biased late by the schedule that polled them.

Estimates are cached per key for CACHE_SECONDS (real seconds) in the process: the schedule
asks for one on every status request.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from projects.models import GenerationTask
from projects.worker_config import worker_config

HISTORY_ROWS = 200
MAD_LIMIT = 6.0  # scaled MADs from the median beyond which a ratio is an outlier
# The probability levels kept; the schedule interpolates between them.
QUANTILES = (0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98)
LOW, HIGH = 0.1, 0.9  # "low" and "high" quantile: first ask, "longer than usual"
CACHE_SECONDS = 30.0  # real seconds
# Duration bands (output seconds): the render time grows with them (§5), so a band is
# narrow enough for its ratios to share one spread. -1 ("the model chooses", 4-15 s) is its
# own band.
BANDS = ((-1, -1), (1, 5), (6, 8), (9, 11), (12, 15))


@dataclass(frozen=True, slots=True)
class RenderEstimate:
    """A task's render time estimate. `points`: (probability, upstream seconds from send to
    finish) pairs, increasing; empty when there is too little history (`samples` 0), then
    `expected_s` (the prior) is all there is."""

    expected_s: float
    samples: int = 0
    points: tuple[tuple[float, float], ...] = ()

    @property
    def learned(self) -> bool:
        return bool(self.points)

    def quantile(self, p: float) -> float:
        """Upstream seconds by which the render has ended with probability `p` (linear
        between the kept quantiles, clamped at the ends); the prior without history."""
        if not self.points:
            return self.expected_s
        if p <= self.points[0][0]:
            return self.points[0][1]
        for (p0, t0), (p1, t1) in zip(self.points, self.points[1:], strict=False):
            if p <= p1:
                return t0 + (t1 - t0) * (p - p0) / (p1 - p0)
        return self.points[-1][1]

    def cdf(self, seconds: float) -> float:
        """The probability that the render has ended `seconds` upstream seconds after it was
        sent (linear between the kept quantiles; 0 before the first, 1 after the last)."""
        if not self.points:
            return 0.0
        if seconds <= self.points[0][1]:
            return 0.0 if seconds < self.points[0][1] else self.points[0][0]
        for (p0, t0), (p1, t1) in zip(self.points, self.points[1:], strict=False):
            if seconds <= t1:
                return p0 + (p1 - p0) * (seconds - t0) / max(t1 - t0, 1e-9)
        return 1.0

    @property
    def low_s(self) -> float:
        return self.quantile(LOW) if self.points else 0.5 * self.expected_s

    @property
    def mid_s(self) -> float:
        return self.quantile(0.5)

    @property
    def high_s(self) -> float:
        return self.quantile(HIGH) if self.points else 2.0 * self.expected_s


def duration_band(duration: int) -> tuple[int, int]:
    """The band of output seconds `duration` falls in (BANDS)."""
    for band in BANDS:
        if band[0] <= duration <= band[1]:
            return band
    return (duration, duration)


_cache: dict[tuple, tuple[float, tuple[int, tuple[float, ...]]]] = {}
_lock = threading.Lock()


def render_estimate_cache_clear() -> None:
    """Forget the cached ratios (tests; a settings change)."""
    with _lock:
        _cache.clear()


def render_estimate(task: GenerationTask) -> RenderEstimate:
    """The estimate for `task` (see the module docstring); at most one query per key every
    CACHE_SECONDS in this process."""
    samples, ratios = ratio_quantiles(
        provider=task.provider,
        model=task.model,
        resolution=task.resolution,
        duration=task.duration,
    )
    expected = max(task.expected_render_s, 1.0)
    if not ratios:
        return RenderEstimate(expected_s=expected)
    return RenderEstimate(
        expected_s=expected,
        samples=samples,
        points=tuple((p, r * expected) for p, r in zip(QUANTILES, ratios, strict=True)),
    )


def ratio_quantiles(
    *, provider: str, model: str, resolution: str, duration: int
) -> tuple[int, tuple[float, ...]]:
    """(samples, the QUANTILES of observed / prior render time) of the key's recent history;
    (n, ()) with fewer usable rows than worker_config().estimate_min_samples."""
    key = (provider, model, resolution, duration_band(duration))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = _ratio_quantiles_uncached(key)
    with _lock:
        _cache[key] = (now, value)
    return value


def history_ratios(key: tuple) -> list[float]:
    """Observed / prior render time of the key's last HISTORY_ROWS succeeded tasks."""
    provider, model, resolution, (shortest, longest) = key
    rows = (
        GenerationTask.objects.filter(
            provider=provider,
            model=model,
            resolution=resolution,
            status=GenerationTask.Status.SUCCEEDED,
            duration__gte=shortest,
            duration__lte=longest,
            upstream_finished_at__isnull=False,
            submitted_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("submitted_at", "upstream_finished_at", "expected_render_s")[:HISTORY_ROWS]
    )
    scale = worker_config().upstream_time_scale
    return [
        (finished - sent).total_seconds() / scale / expected
        for sent, finished, expected in rows
        if expected > 0 and finished > sent
    ]


def _ratio_quantiles_uncached(key: tuple) -> tuple[int, tuple[float, ...]]:
    ratios = without_outliers(history_ratios(key))
    if len(ratios) < worker_config().estimate_min_samples:
        return len(ratios), ()
    return len(ratios), tuple(quantiles(ratios, QUANTILES))


def without_outliers(values: list[float]) -> list[float]:
    """`values` less those beyond MAD_LIMIT scaled median absolute deviations of the median
    (1.4826 MAD estimates a normal spread's standard deviation; a floor of 1 % of the
    median keeps identical values from rejecting everything else)."""
    if len(values) < 3:
        return list(values)
    centre = statistics.median(values)
    spread = 1.4826 * statistics.median(abs(v - centre) for v in values)
    spread = max(spread, 0.01 * abs(centre))
    return [v for v in values if abs(v - centre) <= MAD_LIMIT * spread]


def quantiles(values: list[float], levels: tuple[float, ...]) -> list[float]:
    """The empirical quantiles of `values` at `levels` (linear interpolation between order
    statistics, numpy's default)."""
    ordered = sorted(values)
    last = len(ordered) - 1
    out = []
    for p in levels:
        position = p * last
        below = int(position)
        above = min(below + 1, last)
        out.append(ordered[below] + (ordered[above] - ordered[below]) * (position - below))
    return out


def render_time_left(task: GenerationTask, *, now: datetime) -> float | None:
    """Real seconds a queued or running task will likely still take (the median of what is
    left, given it has not ended yet; 0 when it is due any moment), or None once it has run
    past the high quantile (longer than usual). For the page (templatetags/studio.py)."""
    estimate = render_estimate(task)
    scale = worker_config().upstream_time_scale
    sent = task.submitted_at or task.created_at
    age = max(0.0, (now - sent).total_seconds() / scale)
    if age >= estimate.high_s:
        return None
    if estimate.learned:
        done = estimate.cdf(age)
        left = estimate.quantile(done + 0.5 * (1.0 - done)) - age
    else:
        left = estimate.expected_s - age
    return max(0.0, left) * scale


def gateway_render_summary(provider: str) -> dict:
    """/healthz's render times of a gateway's last HISTORY_ROWS succeeded tasks, any kind:
    {"p50_s", "p90_s": upstream seconds from send to finish (None without history),
    "samples"}; cached like the estimates."""
    key = (provider,)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is None or now - hit[0] >= CACHE_SECONDS:
        seconds = without_outliers(_history_seconds(provider))
        hit = (now, (len(seconds), tuple(quantiles(seconds, (0.5, 0.9))) if seconds else ()))
        with _lock:
            _cache[key] = hit
    samples, found = hit[1]
    p50, p90 = (round(v, 1) for v in found) if found else (None, None)
    return {"p50_s": p50, "p90_s": p90, "samples": samples}


def _history_seconds(provider: str) -> list[float]:
    rows = (
        GenerationTask.objects.filter(
            provider=provider,
            status=GenerationTask.Status.SUCCEEDED,
            upstream_finished_at__isnull=False,
            submitted_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("submitted_at", "upstream_finished_at")[:HISTORY_ROWS]
    )
    scale = worker_config().upstream_time_scale
    return [(done - sent).total_seconds() / scale for sent, done in rows if done > sent]
