"""What the benchmarks share: a private deployment on 127.0.0.1 (simulator, web, worker) in a
scratch directory, started as real processes and stopped afterwards.

A benchmark builds a `Stack`, calls `start()`, sets this process up as one more Django client
of the same database (`django_setup()`), does its work, reads figures, and `stop()`s.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PREFIXES = {
    "ark": "/ark/api/v3",
    "alltoken": "/alltoken/v1",
    "seedance2ink": "/seedance2ink",
    "acedata": "/acedata",
    "tokenhub": "/tokenhub/api/v1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile (0-1) by nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Stack:
    """One private deployment. `speed` is the simulator's clock (1 = real gateway time);
    `env` extra variables for every process; `database_url`/`redis_url` switch from the
    embedded SQLite + ORM broker to PostgreSQL / Redis."""

    speed: float = 1.0
    # Uniform draws of render and queue times (upstream seconds); None: the simulator's model
    # (projects/upstream_sim/render_time.py), with `sim_args` such as ["--noise", "0.1"].
    render: tuple[float, float] | None = (60.0, 180.0)
    queue: tuple[float, float] | None = (1.0, 8.0)
    sim_args: list[str] = field(default_factory=list)
    workers: int = 4
    clusters: int = 1
    fault_rate: float = 0.0
    sim_seed: int = 1
    database_url: str = ""
    redis_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    web: bool = True
    keep: bool = False
    var_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="seedance-bench-")))
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    sim_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("DATABASE_URL", "REDIS_URL", "SEEDANCE_S3_BUCKET"):
            env.pop(key, None)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "seedance_web.settings",
                "DJANGO_DEBUG": "1",
                "SEEDANCE_VAR_DIR": str(self.var_dir),
                "SITE_URL": self.web_url,
                # The simulator's output links are plain http on loopback (outbound.py).
                "SEEDANCE_FETCH_ALLOW_HOSTS": "127.0.0.1,localhost",
                "SEEDANCE_UPSTREAM_TIME_SCALE": repr(1.0 / self.speed),
                "SEEDANCE_Q_WORKERS": str(self.workers),
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        for name, prefix in PREFIXES.items():
            env[f"{name.upper()}_API_KEY"] = f"bench-{name}"
            env[f"{name.upper()}_BASE_URL"] = self.sim_url + prefix
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.env)
        return env

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.var_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process

    def start(self) -> Stack:
        """Migrate a fresh database, then start the simulator, the web server and the
        worker cluster(s); returns once they answer."""
        if self.database_url.startswith("postgres"):
            # A fresh schema, so migrate also re-seeds data (price rules) that `flush` drops.
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        self.manage("migrate")
        self.manage("createcachetable")
        self.manage("setup_schedules")
        sim = self.spawn(
            "simulator",
            "simulate_upstream",
            "--port",
            str(self.sim_port),
            "--speed",
            repr(self.speed),
            *_range_args("render", self.render),
            *_range_args("queue", self.queue),
            *self.sim_args,
            "--fault-rate",
            repr(self.fault_rate),
            "--seed",
            str(self.sim_seed),
            "--cache-dir",
            str(self.var_dir / "sim-cache"),
        )
        wait_http(f"{self.sim_url}/healthz", sim)
        if self.web:
            web = self.spawn(
                "web", "runserver", f"127.0.0.1:{self.web_port}", "--noreload", "--skip-checks"
            )
            wait_http(f"{self.web_url}/login/", web)
        for index in range(self.clusters):
            self.spawn(f"worker{index}", "qcluster")
        return self

    def django_setup(self) -> None:
        """Make this process a Django client of the stack's database and settings."""
        os.environ.update(self.environment())
        os.environ["SEEDANCE_JOBS_INLINE"] = "0"
        import django

        django.setup()

    def sim(self, path: str) -> dict:
        return httpx.get(self.sim_url + path, timeout=60).json()

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _range_args(name: str, bounds: tuple[float, float] | None) -> list[str]:
    """simulate_upstream's --NAME-min/--NAME-max for a pinned range, [] for the model."""
    if bounds is None:
        return []
    return [f"--{name}-min", repr(bounds[0]), f"--{name}-max", repr(bounds[1])]
