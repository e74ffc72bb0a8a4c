"""Shared fixtures: people and projects, the upstream simulator over real HTTP, and a helper
that drives a task the way the worker would."""

from __future__ import annotations

import io
import json
import shutil
import time
import uuid
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import TestCase
from django.utils import timezone

from projects.models import GenerationTask, Membership
from projects.services.generation import GenerationParams
from projects.services.render_estimate import render_estimate_cache_clear
from projects.services.sweep import generation_tasks_sweep
from projects.upstream_sim.server import RunningSimulator, start_simulator
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    yield


@pytest.fixture(autouse=True)
def _price_rules(request):
    """Transactional tests (the marker's transaction=True, live_server, transactional_db)
    flush every table after each test, the seeded price rules too: seed them again with the
    data migration's own function."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"live_server", "transactional_db"} & set(request.fixturenames) or (
        marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    )
    if transactional:
        from django.apps import apps

        from projects.models import PriceRule

        request.getfixturevalue("transactional_db")
        if not PriceRule.objects.exists():
            # The newest migration that can seed the whole price table for the current schema
            # (`seed_current`); found by content, as migrations get renumbered on merges.
            migrations = Path(__file__).resolve().parent.parent / "projects" / "migrations"
            modules = [
                import_module(f"projects.migrations.{path.stem}")
                for path in sorted(migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
            ]
            [*_, seeder] = [m for m in modules if hasattr(m, "seed_current")]
            seeder.seed_current(apps, None)
    yield


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts its own logins and submits: the counters sit in the shared cache
    (a database table, or Redis in CI), which neither rollback nor flush empties."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Kept page fragments (projects/page_cache.py) start empty in each test: their keys hold
    task versions, which start again at 1 in every test's database."""
    caches["pages"].clear()
    # Render estimates are kept per process for a while (services/render_estimate.py).
    render_estimate_cache_clear()


# The session simulator's render and queue times, upstream seconds (research §5).
SIM_RENDER_RANGE = (60.0, 180.0)
SIM_QUEUE_RANGE = (1.0, 8.0)


@pytest.fixture(scope="session")
def simulator_process() -> RunningSimulator:
    cache = Path(django_settings.VAR_DIR) / "sim-cache"
    sim = start_simulator(
        cache_dir=cache,
        speed=200.0,
        seed=7,
        render_range=SIM_RENDER_RANGE,
        queue_range=SIM_QUEUE_RANGE,
    )
    yield sim
    sim.stop()
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def sim(simulator_process, settings) -> RunningSimulator:
    """The simulator, emptied, with every provider pointed at it."""
    simulator_process.engine.reset()
    simulator_process.engine.fault_rate = 0.0
    # A test that reshaped renders must not slow every later test on this worker.
    simulator_process.engine.render_range = SIM_RENDER_RANGE
    simulator_process.engine.queue_range = SIM_QUEUE_RANGE
    providers = {}
    dialects = {dialect.name for dialect in simulator_process.server.dialects}
    for name, conf in settings.SEEDANCE_PROVIDERS.items():
        if name not in dialects:  # a gateway the simulator does not speak yet stays unset
            providers[name] = conf
            continue
        providers[name] = {
            **conf,
            "api_key": f"{name}-test-key",
            "base_url": simulator_process.base_url(name),
        }
    settings.SEEDANCE_PROVIDERS = providers
    return simulator_process


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def team(db):
    """A team with $1,000 of credit (TeamFactory's default) and no budgets."""
    return TeamFactory(name="Studio", slug="studio")


def funded_team(*, usd: int = 1000, **fields):
    """A team granted exactly `usd` dollars of credit."""
    return TeamFactory(credit_usd=usd, **fields)


@pytest.fixture
def project(team, member):
    MembershipFactory(team=team, user=member, role=Membership.Role.MEMBER)
    return ProjectFactory(team=team, name="Demo", slug="demo")


def tokenhub_params(**overrides) -> GenerationParams:
    """A 5 s 720p TokenHub text-to-video request ("A red kite"), with `overrides`."""
    values = dict(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        prompt="A red kite",
        ratio="16:9",
        resolution="720p",
        duration=5,
    )
    values.update(overrides)
    return GenerationParams(**values)


def create_task(*, project, user, params) -> GenerationTask:
    """generation_task_create with its on-commit jobs run, as after a real commit."""
    from projects.services.generation import generation_task_create

    with TestCase.captureOnCommitCallbacks(execute=True):
        return generation_task_create(project=project, user=user, params=params)


def make_due(task: GenerationTask) -> None:
    """Make the sweep take `task` on its next pass."""
    GenerationTask.objects.filter(pk=task.pk).update(next_poll_at=timezone.now())


def generate_json(*args: str) -> dict:
    """Seed the demo team, run `manage.py generate --project demo --user mia ARGS --wait
    --json` and return the JSON it printed."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "generate",
        "--project=demo",
        "--user=mia",
        *args,
        "--wait",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    return json.loads(out.getvalue())


def drive(task: GenerationTask, *, timeout: float = 30.0) -> GenerationTask:
    """Run the worker's sweep for this task until it ends (or `timeout` seconds pass)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.is_terminal:
            return task
        with TestCase.captureOnCommitCallbacks(execute=True):
            generation_tasks_sweep(
                max_seconds=0.5, concurrency=1, until_idle=True, only=[str(task.pk)]
            )
        time.sleep(0.05)
    task.refresh_from_db()
    return task
