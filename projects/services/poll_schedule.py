"""When to ask a gateway about a task again: the polling policy, in one pure function.

Times are reasoned about in *upstream seconds* (how long the gateway takes), then converted to
real seconds with SEEDANCE_UPSTREAM_TIME_SCALE, which is 1 in production and 1/speed against
a simulator whose clock runs `speed` times faster (tests, benchmarks).

The policy, for a task whose render is expected to take E upstream seconds
(`GenerationTask.expected_render_s`, ~120 s for a 5 s 720p clip, upstream-research.md §5):
- gateway calls back and is sent a callback URL (projects/callback_reach.py: not when SITE_URL
  is loopback, private or plain http): polling only catches a lost callback, first at 1.3 E
  (a render that ends by its expected time is ours by then even when its callback is lost),
  then every 0.3 E (at least SEEDANCE_POLL_MIN_INTERVAL, at most SEEDANCE_POLL_MAX_INTERVAL),
  so a later one is caught within 0.3 E of ending; the callback makes the task due at once.
- gateway answers about many tasks in one request (Ark, AceData: `fetch_many`): every
  SEEDANCE_BATCH_POLL_INTERVAL, on boundaries shared by all tasks of that gateway, so one
  request covers them all.
- otherwise (a gateway without batch status, and without callbacks or not sent them): every
  I = 0.12 E, but never more than LAG_TARGET (12 s) nor less than SEEDANCE_POLL_MIN_INTERVAL,
  from 0.5 E + I (§5: a 5 s 720p render takes 60-180 s, so none ends much before 0.5 E) until
  2 E; then growing by half up to SEEDANCE_POLL_MAX_INTERVAL. So a render that ends in the
  expected range is noticed within 12 s and stored within 15 s of the gateway finishing
  (bench/polling.py: seedance2.ink at real time, docs/performance.md "Following renders"), for
  6 requests on the median render (E = 120 s: polls at 72, 84, 96, ... s).
Errors back off exponentially; a gateway's Retry-After (real seconds) is never undercut.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from projects.models import GenerationTask
from projects.providers.registry import batch_size, uses_callbacks
from projects.worker_config import worker_config

EARLIEST_FRACTION = 0.5  # no render ends sooner than about half its expected time (§5)
INTERVAL_FRACTION = 0.12
# Upstream seconds between polls at most while a render is expected to end: with the sweep's
# claim, the status request and storing the video (~1-2 s), a finished render is ours within
# 15 s.
LAG_TARGET = 12.0
CALLBACK_FIRST_FRACTION = 1.3
CALLBACK_INTERVAL_FRACTION = 0.3
MAX_ERROR_DELAY = 300.0  # upstream seconds


def upstream_delay(*, task: GenerationTask, age: float, errors: int = 0) -> float:
    """Upstream seconds from now until the next status request, for a task `age` upstream
    seconds after it was sent, after `errors` consecutive failed requests."""
    expected = max(task.expected_render_s, 1.0)
    config = worker_config()
    longest = config.poll_max_interval_s
    if uses_callbacks(task.provider):
        first = CALLBACK_FIRST_FRACTION * expected
        interval = min(
            longest, max(config.poll_min_interval_s, CALLBACK_INTERVAL_FRACTION * expected)
        )
        delay = first - age if age < first else interval
    elif batch_size(task.provider):
        delay = config.batch_poll_interval_s
    else:
        interval = max(config.poll_min_interval_s, min(LAG_TARGET, INTERVAL_FRACTION * expected))
        # The first poll comes one interval after the earliest a render ends.
        first = EARLIEST_FRACTION * expected + interval
        if age < first:
            return _backed_off(first - age, errors)
        overdue = age - 2 * expected
        if overdue > 0:
            interval = min(longest, interval * 1.5 ** min(20.0, overdue / interval))
        delay = interval
    return _backed_off(delay, errors)


def _backed_off(delay: float, errors: int) -> float:
    if errors:
        base = max(delay, worker_config().poll_min_interval_s)
        delay = min(MAX_ERROR_DELAY, base * 2 ** min(errors - 1, 8))
    return delay


def next_poll_time(
    *, task: GenerationTask, now: datetime, errors: int = 0, retry_after: float | None = None
) -> datetime:
    """The moment the task should next be asked about (see the module docstring)."""
    config = worker_config()
    scale = config.upstream_time_scale
    sent = task.submitted_at or task.created_at
    age = max(0.0, (now - sent).total_seconds() / scale)
    delay = max(0.05, upstream_delay(task=task, age=age, errors=errors) * scale)
    delay = max(delay, retry_after or 0.0)
    when = now.timestamp() + delay
    if not errors and batch_size(task.provider) and not uses_callbacks(task.provider):
        # Shared boundaries: every task of the gateway comes due together, one request each.
        step = config.batch_poll_interval_s * scale
        when = math.ceil(when / step) * step
    return now + timedelta(seconds=when - now.timestamp())
