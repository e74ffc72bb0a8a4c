"""Running the real worker loop in a separate process against the test database and the
simulator, for the fault tests (tests/test_kill_points.py, tests/test_outages.py).

The test database must be committed to (`django_db(transaction=True)`), so the child sees
the rows; SQLite is shared through its file, PostgreSQL through the test database's name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditEntry, GenerationTask
from projects.storage import temp_dir

REPO = Path(__file__).resolve().parent.parent
LEASE_S = 1.0  # real seconds a dead worker keeps a task from the next one


def database_url() -> str:
    """A DATABASE_URL naming the database this test runs on."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    if connection.vendor == "postgresql":
        user = quote(conf["USER"] or "", safe="")
        password = quote(conf["PASSWORD"] or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        port = f":{conf['PORT']}" if conf["PORT"] else ""
        return f"postgres://{auth}{conf['HOST'] or '127.0.0.1'}{port}/{conf['NAME']}"
    raise NotImplementedError(connection.vendor)


def worker_env(sim, *, crashpoint: str = "", database_url_: str = "", **extra: str) -> dict:
    """The environment of a worker process: this test's database and media, every gateway
    pointed at the simulator, short leases, and `crashpoint` armed."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url_ or database_url(),
        WORKER_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        SEEDANCE_SUBMIT_LEASE=str(LEASE_S),
        SEEDANCE_POLL_LEASE=str(LEASE_S),
        SEEDANCE_DOWNLOAD_LEASE=str(LEASE_S),
        SEEDANCE_STORE_PICKUP=str(LEASE_S),
        SEEDANCE_CRASHPOINT=crashpoint,
        WORKER_MAX_SECONDS="40",
    )
    for name in settings.SEEDANCE_PROVIDERS:
        env[f"{name.upper()}_API_KEY"] = f"{name}-test-key"
        env[f"{name.upper()}_BASE_URL"] = sim.base_url(name)
    env.update(extra)
    return env


@dataclass
class WorkerRun:
    returncode: int
    seconds: float
    output: str


def run_worker(task_ids: list, env: dict, *, timeout: float = 60.0) -> WorkerRun:
    """Run tests/worker_proc.py for `task_ids` until they end, it dies, or `timeout`."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.worker_proc", *map(str, task_ids)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return WorkerRun(done.returncode, time.monotonic() - started, done.stdout + done.stderr)


def start_worker(task_ids: list, env: dict) -> subprocess.Popen:
    """Start tests/worker_proc.py for `task_ids` in the background (output piped, text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker_proc", *map(str, task_ids)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def unsent(task: GenerationTask) -> GenerationTask:
    """Make a freshly created (pending) task due at once, for the worker to send."""
    GenerationTask.objects.filter(pk=task.pk).update(next_poll_at=timezone.now())
    return task


def ledger_kinds(task: GenerationTask) -> Counter:
    """How many hold, release and charge entries the task has."""
    return Counter(CreditEntry.objects.filter(task=task).values_list("kind", flat=True))


def assert_settled_once(task: GenerationTask) -> None:
    """One hold, one release and (succeeded only) one charge; the whole ledger consistent."""
    kinds = ledger_kinds(task)
    charged = 1 if task.status == GenerationTask.Status.SUCCEEDED else 0
    assert kinds == Counter({"hold": 1, "release": 1, **({"charge": 1} if charged else {})}), kinds
    problems, _counts = ledger_problems()
    assert problems == []


def partial_files() -> list[Path]:
    """Download scratch files left in the temporary directory."""
    return sorted(temp_dir().glob("dl-*.part"))


def creates(sim) -> int:
    """Create requests the simulator received, over every gateway."""
    return sum(1 for r in list(sim.engine.requests) if r["op"] == "create")
