"""Benchmark: the gallery, generation-detail and review-queue pages with 10, 100 and 1,000
generations: SQL queries per page, and latency under concurrent clients against a trivial
view served by the same server in the same run.

It starts a private deployment on 127.0.0.1 (bench/harness.py: migrated scratch database,
simulator, worker) and a production-like web server: gunicorn with `--workers` processes,
DEBUG off, a test secret, whitenoise for static files, and bench/pages_urls.py as URLconf
(the app's URLs plus `/bench-trivial/`, a view that only says "ok" behind the same
middleware and login). For each count it makes a team with a member, a reviewer and a
project holding that many generations (tests/page_rows.py: seven in ten succeeded with
covers, awaiting review, approved or rejected; the rest rendering, queued or failed; each
with references, history and ledger entries).

  queries   SQL statements for one request of the page, counted in this process with
            Django's test client and CaptureQueriesContext after one warm-up request:
            "kept/new", with the page's fragment kept from the warm-up and rendered anew
            (projects/page_cache.py)
  p50, p95  latency of the page over HTTP with `--clients` concurrent loopback clients
            (threads, each with its own logged-in session cookie), `--requests` requests
            per row, rows interleaved in rounds so drift hits every row alike
  x trivial the page's p95 divided by the trivial view's p95

Nothing changes while the pages are timed (the worker leaves the made-up renders alone), so
they are served from kept fragments, as a page is between changes to its generations;
`--no-keep` turns the page cache off in the server (SEEDANCE_PAGE_CACHE=0) and times every
page rendered anew.

    .venv/bin/python bench/pages.py
    .venv/bin/python bench/pages.py --counts 10,100,1000 --requests 400 --clients 10
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/pages.py --no-keep
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from harness import ROOT, Stack, free_port, median, percentile, wait_http  # noqa: E402

PAGES = ("gallery", "detail", "review")
ROUNDS = 8
TARGET_RATIO = 3.0


@dataclass
class Row:
    """One line of the table: a page at a generation count."""

    page: str
    count: int | None
    path: str
    cookie: str
    queries: int | None = None  # with the page's fragment kept
    queries_new: int | None = None  # rendered anew
    size: int = 0  # bytes of the page
    latencies: list[float] = field(default_factory=list)
    busy_s: float = 0.0  # wall time of the timed bursts
    errors: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="10,100,1000", help="generations per project")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per row")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    parser.add_argument(
        "--no-keep", action="store_true", help="page cache off: every page rendered anew"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=sys.getswitchinterval(),
        help="seconds between GIL hand-overs among the client threads (Python's default 0.005)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    sys.setswitchinterval(args.switch_interval)

    stack = Stack(
        web=False,
        database_url=args.database_url,
        keep=args.keep,
        env={
            "DJANGO_SETTINGS_MODULE": "bench.pages_settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-pages-only-secret-" + "k" * 40,
            "DJANGO_SECURE_COOKIES": "0",
            "SEEDANCE_PAGE_CACHE": "0" if args.no_keep else "1",
        },
    )
    with stack:
        stack.django_setup()
        started = time.monotonic()
        rows = build_rows(counts)
        print(f"... rows created in {time.monotonic() - started:.1f} s", file=sys.stderr)
        count_queries(rows)
        base_url = start_gunicorn(stack, args.workers)
        time_rows(base_url, rows, requests=args.requests, clients=args.clients)
    print_table(rows, args, database=args.database_url)


def build_rows(counts: list[int]) -> list[Row]:
    """The worlds (tests/page_rows.py) and, for each, the three pages as its reviewer sees
    them; the trivial view first, with the first world's reviewer."""
    from django.urls import reverse
    from django.utils import timezone

    from projects.models import GenerationTask
    from tests.page_rows import page_world

    rows: list[Row] = []
    for count in counts:
        world = page_world(count=count)
        cookie = session_cookie(world.reviewer)
        if not rows:
            rows.append(Row("trivial view", None, "/bench-trivial/", cookie))
        paths = {
            "gallery": reverse("projects:project_detail", args=[world.project.pk]),
            "detail": reverse("projects:generation_detail", args=[world.succeeded.pk]),
            "review": reverse("projects:review_queue"),
        }
        rows += [Row(page, count, paths[page], cookie) for page in PAGES]
    # The worlds' renders are made up (the simulator never heard of them): the worker leaves
    # them alone, so nothing changes while the pages are timed. (A scheduling-only update:
    # it does not change what a page shows, nor any version.)
    GenerationTask.objects.filter(status__in=GenerationTask.ACTIVE).update(
        next_poll_at=timezone.now() + timedelta(days=1)
    )
    return rows


def session_cookie(user) -> str:
    """A logged-in session for `user`, as a Cookie header value."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def count_queries(rows: list[Row]) -> None:
    """SQL statements per request of each row's path, in this process."""
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for row in rows:
        client = Client(SERVER_NAME="127.0.0.1", HTTP_COOKIE=row.cookie)
        client.get(row.path)  # warm-up: template loading, first-use caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(row.path)
        caches["pages"].clear()
        with CaptureQueriesContext(connection) as queries_new:
            client.get(row.path)
        if response.status_code != 200:
            raise SystemExit(f"{row.path}: HTTP {response.status_code}")
        row.queries = len(queries.captured_queries)
        row.queries_new = len(queries_new.captured_queries)
        row.size = len(response.content)


def start_gunicorn(stack: Stack, workers: int) -> str:
    """gunicorn serving seedance_web.wsgi with the bench settings; returns its base URL."""
    port = free_port()
    log = open(stack.var_dir / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "seedance_web.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--chdir",
            str(ROOT),
        ],
        cwd=ROOT,
        env={**stack.environment(), "LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.processes.append(("gunicorn", process))
    base_url = f"http://127.0.0.1:{port}"
    wait_http(f"{base_url}/login/", process)
    return base_url


def time_rows(base_url: str, rows: list[Row], *, requests: int, clients: int) -> None:
    """`requests` timed requests per row from `clients` threads, in ROUNDS interleaved
    rounds; each row warmed up first (every worker process renders it once or more)."""
    for row in rows:
        burst(base_url, row, requests=clients * 2, clients=clients, record=False)
    per_round = max(clients, requests // ROUNDS)
    for round_number in range(ROUNDS):
        for row in rows if round_number % 2 == 0 else reversed(rows):
            burst(base_url, row, requests=per_round, clients=clients, record=True)


def burst(base_url: str, row: Row, *, requests: int, clients: int, record: bool) -> None:
    """`requests` GETs of the row's page shared by `clients` threads, back to back."""
    lock = threading.Lock()
    remaining = [requests]

    def client_loop() -> None:
        with httpx.Client(base_url=base_url, headers={"Cookie": row.cookie}, timeout=60) as http:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                response = http.get(row.path)
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code != 200:
                        row.errors.append(f"HTTP {response.status_code}")
                    elif record:
                        row.latencies.append(elapsed)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if record:
        row.busy_s += time.perf_counter() - started


def print_table(rows: list[Row], args: argparse.Namespace, *, database: str) -> None:
    trivial = percentile(rows[0].latencies, 0.95)
    trivial_p50 = median(rows[0].latencies)
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(
        f"gunicorn {args.workers} workers, DEBUG off, {engine}; {args.clients} concurrent "
        f"clients, {args.requests} requests per row; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end (anything else running skews the times); pages "
        + ("rendered anew (--no-keep)" if args.no_keep else "served from kept fragments")
    )
    print(
        f"{'page':<14}{'generations':>12}{'queries':>12}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'x trivial':>11}{'p50 x':>7}{'req/s':>7}  {'bytes':>7}"
    )
    worst = 0.0
    for row in rows:
        p95 = percentile(row.latencies, 0.95)
        ratio = p95 / trivial if trivial else float("nan")
        if row.count is not None:
            worst = max(worst, ratio)
        errors = f"  {len(row.errors)} errors ({row.errors[0]})" if row.errors else ""
        queries = f"{row.queries}/{row.queries_new}" if row.queries is not None else "-"
        print(
            f"{row.page:<14}{row.count if row.count is not None else '-':>12}{queries:>12}"
            f"{median(row.latencies) * 1000:>9.1f}{p95 * 1000:>9.1f}{ratio:>10.2f}x"
            f"{median(row.latencies) / trivial_p50:>6.2f}x"
            f"{len(row.latencies) / row.busy_s if row.busy_s else 0:>7.0f}  {row.size:>7}{errors}"
        )
    by_page: dict[str, set[tuple]] = {}
    for row in rows[1:]:
        by_page.setdefault(row.page, set()).add((row.queries, row.queries_new))
    constant = all(len(counts) == 1 for counts in by_page.values())
    verdict = "met" if worst <= TARGET_RATIO else "MISSED"
    print(
        f"queries (kept/new) constant across counts: {'yes' if constant else 'NO'}; "
        f"worst p95 ratio {worst:.2f}x (target <= {TARGET_RATIO:g}x: {verdict})"
    )


if __name__ == "__main__":
    main()
