"""How long the simulator's tasks queue and render: a model of a real gateway's times.

All times in *upstream seconds* (the gateway's clock; the engine's `speed` shortens them).

    queue  = QUEUE_RANGE drawn uniformly + QUEUE_PER_TASK x tasks of the gateway in flight
    render = (OVERHEAD_S + seconds x PER_10S[model] / 10) x RESOLUTION[resolution]
             x (1 + REFERENCE_SHARE x references) x lognormal(0, NOISE_SIGMA)

Sources (upstream-research.md §5) and assumptions:
- PER_10S, RESOLUTION: ComfyUI's partner nodes estimate per 10 s of output 1.0 lite 40/60/90 s,
  1.0 pro 70/85/115 s, 1.0 pro fast 50/65/100 s, 1.5 pro 80/100/150 s at 480/720/1080p: the
  720p figures are PER_10S, 480p is about 0.75 and 1080p 1.5 of 720p. Seedance 2.0: "~60-180 s
  for a 4-5 s 720p clip" (chinzy docs), so 200 s per 10 s (a 5 s 720p clip: 110 s, the middle
  of that range with the queue); 2.0 fast and mini: 0.75 of 2.0, as 1.0 pro fast is of 1.0
  pro; 2.5: "a 30 s edit 6-15 min", about 250 s per 10 s.
- OVERHEAD_S (model load, encoding, moderation of the output): an assumption, 10 s.
- REFERENCE_SHARE: an assumption: each reference (image, video, audio) adds 4 % (encoding it
  into the conditioning); no source gives a figure.
- QUEUE_RANGE: the 1-8 s the simulator always drew (the "queued" status of §1.9 is seen for a
  few seconds in the gongju.gold run of §5); QUEUE_PER_TASK: an assumption, 0.01 s per task
  in flight at the gateway (1,000 in flight: 10 s more), standing for a shared pool of GPUs
  (BytePlus caps an account at 120 queued tasks, §5, which this does not model).
- NOISE_SIGMA: an assumption: a render of a given shape runs a fixed number of diffusion steps,
  so its time varies little (5 %, lognormal); the wide spreads users quote (§5: 60-180 s)
  come from the shapes, models and queues above. `bench/polling.py --spread --noise` shows
  the poll schedule's figures under a wider spread.

A pinned `render_range` / `queue_range` on the engine (tests, the older benches) overrides the
model with a uniform draw, as before.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

OVERHEAD_S = 10.0
# Seconds of render per 10 s of output at 720p, by a part of the model id (first match).
PER_10S = (
    ("lite", 60.0),
    ("1-0-pro-fast", 65.0),
    ("1-0-pro", 85.0),
    ("1-5", 100.0),
    ("1.5", 100.0),
    ("fast", 150.0),
    ("mini", 150.0),
    ("2-5", 250.0),
    ("2.5", 250.0),
)
DEFAULT_PER_10S = 200.0  # Seedance 2.0
RESOLUTION = {"480p": 0.75, "720p": 1.0, "1080p": 1.5}
REFERENCE_SHARE = 0.04
QUEUE_RANGE = (1.0, 8.0)
QUEUE_PER_TASK = 0.01
NOISE_SIGMA = 0.05
# Create-body keys that hold a callback or other non-reference URL.
_NOT_REFERENCES = {"callback_url", "callbackUrl", "webhookUrl", "webhook_url", "notify_url"}


def per_10s(model: str) -> float:
    """Seconds of render per 10 s of 720p output for `model` (PER_10S)."""
    lowered = model.lower()
    for part, seconds in PER_10S:
        if part in lowered:
            return seconds
    return DEFAULT_PER_10S


def render_seconds(
    *,
    model: str,
    resolution: str,
    duration_s: int,
    references: int,
    rng: random.Random,
    noise_sigma: float = NOISE_SIGMA,
) -> float:
    """One draw of a render's upstream seconds (see the module docstring)."""
    base = OVERHEAD_S + max(duration_s, 1) * per_10s(model) / 10.0
    scaled = base * RESOLUTION.get(resolution, 1.0) * (1.0 + REFERENCE_SHARE * references)
    return scaled * math.exp(rng.gauss(0.0, noise_sigma)) if noise_sigma > 0 else scaled


def queue_seconds(*, in_flight: int, rng: random.Random) -> float:
    """One draw of a task's upstream seconds in the queue, `in_flight` tasks of the same
    gateway already queued or rendering."""
    return rng.uniform(*QUEUE_RANGE) + QUEUE_PER_TASK * in_flight


def count_references(body: Any) -> int:
    """How many reference media a create body carries, whatever the dialect's field names:
    the URLs (http, https, data, asset) in it, callback URLs aside."""
    if isinstance(body, str):
        return int(body.startswith(("http://", "https://", "data:", "asset://")))
    if isinstance(body, Mapping):
        return sum(count_references(v) for k, v in body.items() if k not in _NOT_REFERENCES)
    if isinstance(body, list | tuple):
        return sum(count_references(v) for v in body)
    return 0


class TimeModel:
    """The engine's draws of a new task's queue and render times (a mixin of SimEngine, which
    holds `render_range`, `queue_range`, `noise_sigma`, `tasks`, `now()` and `_rng`)."""

    render_range: tuple[float, float] | None
    queue_range: tuple[float, float] | None
    noise_sigma: float
    tasks: dict[str, Any]
    _rng: random.Random

    def now(self) -> float:
        raise NotImplementedError

    def _queue_draw(self, dialect: str) -> float:
        if self.queue_range is not None:
            return self._rng.uniform(*self.queue_range)
        now = self.now()
        in_flight = sum(
            1 for t in self.tasks.values() if t.dialect == dialect and t.finished_at() > now
        )
        return queue_seconds(in_flight=in_flight, rng=self._rng)

    def _render_draw(self, model: str, resolution: str, duration_s: int, body: Any) -> float:
        if self.render_range is not None:
            return self._rng.uniform(*self.render_range)
        return render_seconds(
            model=model,
            resolution=resolution,
            duration_s=duration_s,
            references=count_references(body),
            rng=self._rng,
            noise_sigma=self.noise_sigma,
        )
