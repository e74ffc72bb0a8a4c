"""The simulator's render-time model (projects/upstream_sim/render_time.py)."""

import math
import random
import statistics

import pytest

from projects.upstream_sim import render_time
from projects.upstream_sim.engine import SimEngine


def draw(**overrides):
    args = {
        "model": "doubao-seedance-2.0",
        "resolution": "720p",
        "duration_s": 5,
        "references": 0,
        "rng": random.Random(1),
        "noise_sigma": 0.0,
    }
    return render_time.render_seconds(**(args | overrides))


def test_a_5_s_720p_2_0_render_sits_in_the_middle_of_the_quoted_range():
    assert draw() == pytest.approx(110.0)  # §5: 60-180 s for 4-5 s at 720p


def test_render_time_grows_with_seconds_resolution_and_references():
    assert draw(duration_s=10) - draw(duration_s=5) == pytest.approx(100.0)
    assert draw(resolution="1080p") == pytest.approx(1.5 * draw())
    assert draw(resolution="480p") == pytest.approx(0.75 * draw())
    assert draw(references=2) == pytest.approx(1.08 * draw())


def test_models_have_their_own_pace():
    assert draw(model="doubao-seedance-1-0-pro-fast-251015") < draw(model="seedance-1-0-pro")
    assert draw(model="doubao-seedance-2.0-fast") < draw() < draw(model="seedance-2-5")


def test_noise_is_lognormal_around_the_shape():
    rng = random.Random(3)
    draws = [draw(rng=rng, noise_sigma=0.05) for _ in range(4000)]
    assert statistics.median(draws) == pytest.approx(110.0, rel=0.01)
    logs = [math.log(d / 110.0) for d in draws]
    assert statistics.stdev(logs) == pytest.approx(0.05, rel=0.1)


def test_the_queue_grows_with_load():
    idle = [render_time.queue_seconds(in_flight=0, rng=random.Random(i)) for i in range(50)]
    busy = [render_time.queue_seconds(in_flight=1000, rng=random.Random(i)) for i in range(50)]
    assert all(1.0 <= q <= 8.0 for q in idle)
    assert [b - i for b, i in zip(busy, idle, strict=True)] == pytest.approx([10.0] * 50)


def test_references_are_counted_in_any_dialect():
    ark = {
        "content": [
            {"type": "text", "text": "a cat"},
            {"type": "image_url", "image_url": {"url": "https://x/a.png"}},
        ],
        "callback_url": "https://us/cb",
    }
    assert render_time.count_references(ark) == 1
    tokenhub = {"prompt": "a cat", "image_urls": ["https://x/a.png", "data:image/png;base64,x"]}
    assert render_time.count_references(tokenhub) == 2
    assert render_time.count_references({"prompt": "no media", "webhookUrl": "https://x"}) == 0


def task_times(engine, **spec):
    task = engine.create_task(
        dialect="tokenhub",
        task_id=f"t{len(engine.tasks)}",
        model="doubao-seedance-2.0",
        body={},
        duration_s=spec.get("duration_s", 5),
        resolution=spec.get("resolution", "720p"),
        ratio="16:9",
        audio=False,
    )
    return task.queue_s, task.render_s


def test_the_engine_uses_the_model_unless_ranges_are_pinned(tmp_path):
    engine = SimEngine(cache_dir=tmp_path, seed=1)
    queue, render = task_times(engine)
    assert 1.0 <= queue <= 8.0 + 0.01
    assert 80.0 < render < 150.0
    _, long = task_times(engine, duration_s=15, resolution="720p")
    assert long > 250.0
    pinned = SimEngine(cache_dir=tmp_path, seed=1, render_range=(5.0, 5.0), queue_range=(0, 0))
    assert task_times(pinned, duration_s=15) == (0.0, 5.0)
    engine.render_range = (7.0, 7.0)  # a test reshaping the shared simulator
    assert task_times(engine)[1] == 7.0
