"""Callbacks only where a gateway can reach us (projects/callback_reach.py): a loopback,
private or plain-http SITE_URL sends no callback URL and its tasks are polled as a gateway's
without callbacks, said once in the worker log and on /healthz; a lost callback is caught by
1.3x the expected render; polling alone stores a seedance2.ink render within 15 s of the
gateway finishing."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from projects import callback_reach
from projects.callback_reach import callback_setting, site_unreachable_reason
from projects.models import GenerationTask
from projects.providers.registry import uses_callbacks
from projects.services.generation import GenerationParams
from projects.services.sweep import generation_tasks_sweep
from projects.services.sweeper import generation_tasks_sweep_turn
from projects.services.upstream_request import request_for_task
from projects.upstream_sim.server import start_simulator
from tests.conftest import create_task, drive
from tests.factories import GenerationTaskFactory

pytestmark = pytest.mark.django_db
LOOPBACK_SITE = "http://127.0.0.1:8000"
CALLBACK_GATEWAYS = {
    "ark": ("doubao-seedance-2-0-260128", "callback_url"),
    "byteplus": ("dreamina-seedance-2-0-260128", "callback_url"),
    "acedata": ("doubao-seedance-1-0-pro-250528", "callback_url"),
    "seedance2ink": ("seedance-2.0", "webhookUrl"),
}
SPEED = 20.0  # the timing tests' simulator: fine enough to measure a second of gateway time


@pytest.fixture(autouse=True)
def _fresh_notice():
    callback_reach._logged.clear()
    yield
    callback_reach._logged.clear()


@pytest.mark.parametrize(
    ("site", "words"),
    [
        ("http://127.0.0.1:8000", "is a loopback address"),
        ("https://[::1]:8443", "is a loopback address"),
        ("https://10.0.4.2", "is a private address"),
        ("https://192.168.1.20:8000", "is a private address"),
        ("https://100.64.3.9", "is a non-public address"),  # carrier-grade NAT
        ("https://localhost:8000", "is a local name"),
        ("https://studio.local", "is a local name"),
        ("https://seedance", "is a local name"),
        ("http://studio.example.com", "is plain http"),
        ("https://studio.example.com", ""),
        ("https://203.0.113.9", "is a private address"),  # documentation: not global
        ("https://8.8.8.8", ""),
    ],
)
def test_which_sites_a_gateway_can_call_back(site, words):
    reason = site_unreachable_reason(site)
    assert (words in reason) if words else reason == ""


def test_the_setting_reads_auto_on_and_off():
    assert [callback_setting(v) for v in ("auto", "1", "On", "false", True, False)] == [
        "auto",
        "on",
        "on",
        "off",
        "on",
        "off",
    ]
    with pytest.raises(ValueError, match="must be auto, on or off"):
        callback_setting("sometimes")


def test_a_public_https_site_is_called_back(sim, project, member, settings):
    settings.SEEDANCE_CALLBACKS = "auto"
    settings.SITE_URL = "https://studio.example.com"
    task = GenerationTaskFactory(project=project, created_by=member, provider="ark")
    assert uses_callbacks("ark")
    assert request_for_task(task).callback_url.startswith("https://studio.example.com/")


def test_a_loopback_site_sends_no_callback_url_and_polls(sim, project, member, settings):
    settings.SEEDANCE_CALLBACKS = "auto"
    settings.SITE_URL = LOOPBACK_SITE
    for provider, (model, _field) in CALLBACK_GATEWAYS.items():
        assert not uses_callbacks(provider)
        task = drive(
            create_task(
                project=project,
                user=member,
                params=GenerationParams(
                    provider=provider,
                    model=model,
                    prompt="A paper boat on a rainy street",
                    ratio="16:9",
                    resolution="480p",
                    duration=5,
                    generate_audio=False,
                ),
            )
        )
        assert task.status == "succeeded", (provider, task.error_message)
    bodies = {r["dialect"]: r["body"] for r in sim.engine.requests if r["op"] == "create"}
    assert set(bodies) == set(CALLBACK_GATEWAYS)
    for provider, (_model, field) in CALLBACK_GATEWAYS.items():
        assert field not in bodies[provider], provider
    assert sim.engine.callbacks_sent == []


def test_healthz_and_the_worker_log_say_why_once(sim, settings, caplog):
    settings.SEEDANCE_CALLBACKS = "auto"
    settings.SITE_URL = LOOPBACK_SITE
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"  # polling covers it: never a failed check
    callbacks = body["callbacks"]
    assert (callbacks["setting"], callbacks["sent"]) == ("auto", False)
    assert (
        callbacks["reason"]
        == f"SITE_URL {LOOPBACK_SITE} is a loopback address the gateways cannot reach"
    )
    assert set(callbacks["polled"]) == {"Ark", "BytePlus", "AceData Cloud", "seedance2.ink"}
    assert callbacks["notice"].startswith("Callbacks off: SITE_URL http://127.0.0.1:8000 is")
    with caplog.at_level(logging.WARNING, logger="projects.tasks"):
        for _ in range(3):
            generation_tasks_sweep_turn(max_seconds=0.05, chain=False)
    notices = [r.getMessage() for r in caplog.records if "Callbacks off" in r.getMessage()]
    assert notices == [callbacks["notice"]]  # once, however many sweeps
    settings.SITE_URL = "https://studio.example.com"
    assert Client().get("/healthz").json()["callbacks"] == {
        "setting": "auto",
        "sent": True,
        "reason": "",
        "polled": [],
        "notice": "",
    }


# --- timing, against a simulator at 20x -----------------------------------------------------
@pytest.fixture(scope="module")
def sim20_process(tmp_path_factory):
    cache = tmp_path_factory.mktemp("sim20-cache")
    sim = start_simulator(
        cache_dir=cache, speed=SPEED, seed=3, render_range=(60.0, 180.0), queue_range=(1.0, 8.0)
    )
    yield sim
    sim.stop()
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def sim20(sim20_process, settings):
    sim20_process.engine.reset()
    dialects = {dialect.name for dialect in sim20_process.server.dialects}
    settings.SEEDANCE_PROVIDERS = {
        name: (
            {**conf, "api_key": f"{name}-key", "base_url": sim20_process.base_url(name)}
            if name in dialects
            else conf
        )
        for name, conf in settings.SEEDANCE_PROVIDERS.items()
    }
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 1 / SPEED
    return sim20_process


def finish_at(sim, task: GenerationTask, age: float) -> float:
    """Make the gateway finish `task` `age` upstream seconds after its create; returns that
    moment as a unix time."""
    upstream = sim.engine.get_task(task.upstream_task_id)
    upstream.queue_s, upstream.render_s = 0.0, age
    # A gateway has the video ready when it finishes; the simulator encodes it on first
    # demand (~0.4 s, 8 s of gateway time at 20x), so encode it now.
    sim.engine.file_for(upstream, "video.mp4")
    return upstream.created_wall + age / SPEED


@contextmanager
def worker():
    """The worker's sweep on a background thread, every 20 ms: at 20x, a real second is 20 s
    of gateway time, so the loop must not add more than the schedule it is measuring."""
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.is_set():
                generation_tasks_sweep(max_seconds=0.2, concurrency=1, until_idle=True)
                stop.wait(0.02)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="test-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def wait_ended(tasks: list[GenerationTask], timeout: float = 40.0) -> list[GenerationTask]:
    deadline = time.monotonic() + timeout
    ids = [t.pk for t in tasks]
    while time.monotonic() < deadline:
        if not GenerationTask.objects.filter(pk__in=ids, status__in=GenerationTask.ACTIVE):
            break
        time.sleep(0.1)
    return [GenerationTask.objects.get(pk=pk) for pk in ids]


def upstream_age(task: GenerationTask, moment) -> float:
    return (moment - task.submitted_at).total_seconds() * SPEED


@pytest.mark.django_db(transaction=True)
def test_a_lost_callback_is_caught_by_1_3_times_the_expected_render(
    sim20, project, member, settings
):
    settings.SEEDANCE_CALLBACKS = "on"
    settings.SITE_URL = "http://127.0.0.1:9"  # nothing listens: every callback is lost
    tasks = []
    with worker():
        for share in (1.0, 1.75):  # one ends when expected, one well after
            task = create_task(
                project=project,
                user=member,
                params=GenerationParams(
                    provider="ark",
                    model="doubao-seedance-2-0-260128",
                    prompt=f"A red kite, {share} E",
                    ratio="16:9",
                    resolution="480p",
                    duration=4,
                ),
            )
            task = GenerationTask.objects.get(pk=task.pk)
            finish_at(sim20, task, share * task.expected_render_s)  # E: 80.4 s here
            tasks.append(task)
        on_time, late = wait_ended(tasks)
    expected = on_time.expected_render_s
    assert {on_time.status, late.status} == {"succeeded"}
    noticed = upstream_age(on_time, on_time.upstream_finished_at)
    noticed_late = upstream_age(late, late.upstream_finished_at)
    # The fallback poll at 1.3 E found it (the 50 ms sweep loop: ~1 s of gateway time).
    assert 1.3 * expected - 0.5 <= noticed <= 1.3 * expected + 4.0
    # A later one within 0.3 E of ending.
    assert noticed_late - 1.75 * expected <= 0.3 * expected + 4.0
    assert all(c["status"] is None for c in sim20.engine.callbacks_sent)  # all lost
    print(
        f"\nlost callback: E={expected:.1f} s, ended at 1.0 E, caught at {noticed:.1f} s = "
        f"{noticed / expected:.2f} E; ended at 1.75 E, caught {noticed_late - 1.75 * expected:.1f}"
        " s later"
    )


@pytest.mark.django_db(transaction=True)
def test_polling_alone_stores_a_seedance2ink_render_within_about_15_s(
    sim20, project, member, settings
):
    settings.SEEDANCE_CALLBACKS = "auto"
    settings.SITE_URL = LOOPBACK_SITE  # so: no webhookUrl, polling alone
    ages = (61.0, 83.0, 104.0, 131.0, 159.0, 188.0)  # across §5's 60-180 s (+ queue)
    tasks, finished = [], []
    with worker():
        for age in ages:
            task = create_task(
                project=project,
                user=member,
                params=GenerationParams(
                    provider="seedance2ink",
                    model="seedance-2.0",
                    prompt=f"A lighthouse, {age:g} s",
                    ratio="16:9",
                    resolution="720p",
                    duration=5,
                    generate_audio=False,
                ),
            )
            task = GenerationTask.objects.get(pk=task.pk)
            finished.append(finish_at(sim20, task, age))
            tasks.append(task)
        tasks = wait_ended(tasks)
    lags = []
    for task, done_wall in zip(tasks, finished, strict=True):
        assert task.status == "succeeded", task.error_message
        # Noticing is paced by the poll schedule, in gateway seconds (the clock runs 20x);
        # storing the video is our own work, in real seconds.
        noticing = (task.upstream_finished_at.timestamp() - done_wall) * SPEED
        storing = (task.finished_at - task.upstream_finished_at).total_seconds()
        lags.append(noticing + storing)
    assert all("webhookUrl" not in r["body"] for r in sim20.engine.requests if r["op"] == "create")
    # The schedule's promise is a lag of 15 s or less (12.6 s at most on a quiet machine); on
    # a loaded one each real second the poller is late counts 20 gateway seconds, so the test
    # holds the median to it and every task to twice it (a schedule that waited for the 60 s
    # maximum interval fails both). bench/polling.py measures the figure itself.
    assert sorted(lags)[len(lags) // 2] <= 15.0 and max(lags) <= 30.0, lags
    print("\nseedance2.ink finish -> stored, s: " + ", ".join(f"{lag:.1f}" for lag in lags))
