"""Benchmark: the team API's create and get, against a trivial view served by the same server
in the same run, with concurrent clients.

It starts a private deployment on 127.0.0.1 (bench/harness.py: migrated scratch database,
simulator; no worker unless `--worker`, so the creates' submit jobs wait in the queue and the
worker's sweeps do not compete for the CPU) and serves it with gunicorn (`--workers`
processes, DEBUG off, a test secret) and bench/api_urls.py as URLconf: the site's URLs plus
`/bench-trivial/`, a view that only says "ok" behind the same middleware. It makes a team
with a project (tests/page_rows.py: ten generations, one succeeded with its video, cover and
last frame), $1,000,000 of credit, and a member's API key, then times, with `--clients`
concurrent loopback clients (threads, each its own connection) and rows interleaved in
rounds so drift hits every row alike:

  trivial view   GET /bench-trivial/ (no key, no query): the yardstick
  trivial + key  GET /bench-trivial-key/: the API's key check and rate counter, then "ok"
                 (the analogue of bench/pages.py's logged-in trivial view)
  create         POST /api/v3/contents/generations/tasks, text-to-video, Ark's model id
                 (Ark's gateway, priced per token): key check, rate counters, validation,
                 the task, its hold under the account lock, its audit row, its queued job
  form submit    the same generation through the web form (POST /p/<project>/generate/ as
                 the member, logged in): what the API's create is measured against at home
  get            GET /api/v3/contents/generations/tasks/{id} of the succeeded task: key
                 check, rate counter, access check, ledger read, two signed links

  x trivial      the row's p95 over the trivial view's p95 (target: at most 3x)
  x key          the row's p95 over the trivial + key view's p95

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --requests 400 --clients 10 --workers 4
    .venv/bin/python bench/api.py --database-url postgres://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/api.py --redis-url redis://127.0.0.1:6379/11
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from harness import Stack, median, percentile  # noqa: E402
from pages import session_cookie, start_gunicorn  # noqa: E402

ROUNDS = 8
TARGET_RATIO = 3.0
MODEL = "doubao-seedance-2-0-260128"


@dataclass
class Row:
    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | None = None
    form: dict | None = None
    expect: int = 200
    latencies: list[float] = field(default_factory=list)
    busy_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per row")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--database-url", default="", help="PostgreSQL instead of SQLite")
    parser.add_argument("--redis-url", default="", help="Redis for the cache and the broker")
    parser.add_argument("--worker", action="store_true", help="also run the django-q2 worker")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    args = parser.parse_args()

    stack = Stack(
        web=False,
        clusters=1 if args.worker else 0,
        database_url=args.database_url,
        redis_url=args.redis_url,
        keep=args.keep,
        env={
            "DJANGO_SETTINGS_MODULE": "bench.api_settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-api-only-secret-" + "k" * 40,
            "DJANGO_SECURE_COOKIES": "0",
            "SEEDANCE_API_RATE": "1000000/m",
            "SEEDANCE_API_CREATE_RATE": "1000000/m",
            "SEEDANCE_SUBMIT_RATE": "1000000/m",
        },
    )
    with stack:
        stack.django_setup()
        rows = build_rows()
        base_url = start_gunicorn(stack, args.workers)
        time_rows(base_url, rows, requests=args.requests, clients=args.clients)
    print_table(rows, args)


def build_rows() -> list[Row]:
    from datetime import timedelta

    from django.utils import timezone

    from projects.api.keys import api_key_create
    from projects.models import GenerationTask
    from projects.money.ledger import credit_grant
    from tests.page_rows import page_world

    world = page_world(count=10, label="api")
    credit_grant(team=world.team, amount_micro=10**12, actor=None, memo="bench")
    key = api_key_create(
        user=world.member,
        name="bench",
        projects=[world.project],
        expires_at=timezone.now() + timedelta(days=1),
    )
    # The made-up renders are left alone by any worker (the simulator never heard of them).
    GenerationTask.objects.filter(status__in=GenerationTask.ACTIVE).update(
        next_poll_at=timezone.now() + timedelta(days=1)
    )
    auth = {"Authorization": f"Bearer {key.secret}"}
    session = session_cookie(world.member)
    csrf = "b" * 32  # any 32 characters: the form's token must match the cookie's
    browser = {"Cookie": f"{session}; csrftoken={csrf}", "X-CSRFToken": csrf}
    form = {
        "provider": "ark",
        "model": MODEL,
        "prompt": "A red fox trotting through fresh snow",
        "ratio": "16:9",
        "resolution": "480p",
        "duration": "5",
        "generate_audio": "on",
        "service_tier": "default",
    }
    body = {
        "model": MODEL,
        "content": [{"type": "text", "text": "A red fox trotting through fresh snow"}],
        "resolution": "480p",
        "duration": 5,
    }
    tasks = "/api/v3/contents/generations/tasks"
    return [
        Row("trivial view", "GET", "/bench-trivial/"),
        Row("trivial + key", "GET", "/bench-trivial-key/", auth),
        Row("create", "POST", tasks, auth, body),
        Row(
            "form submit",
            "POST",
            f"/p/{world.project.pk}/generate/",
            browser,
            form=form,
            expect=302,
        ),
        Row("get", "GET", f"{tasks}/{world.succeeded.pk}", auth),
    ]


def time_rows(base_url: str, rows: list[Row], *, requests: int, clients: int) -> None:
    for row in rows:
        burst(base_url, row, requests=clients * 2, clients=clients, record=False)
    per_round = max(clients, requests // ROUNDS)
    for round_number in range(ROUNDS):
        for row in rows if round_number % 2 == 0 else reversed(rows):
            burst(base_url, row, requests=per_round, clients=clients, record=True)


def burst(base_url: str, row: Row, *, requests: int, clients: int, record: bool) -> None:
    lock = threading.Lock()
    remaining = [requests]

    def client_loop() -> None:
        with httpx.Client(base_url=base_url, headers=row.headers, timeout=60) as http:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                response = http.request(row.method, row.path, json=row.body, data=row.form)
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code != row.expect:
                        row.errors.append(f"HTTP {response.status_code} {response.text[:120]}")
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


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    trivial = percentile(rows[0].latencies, 0.95)
    trivial_p50 = median(rows[0].latencies)
    engine = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    engine += " + Redis (cache, broker)" if args.redis_url else " (database cache, ORM broker)"
    print(
        f"gunicorn {args.workers} workers, DEBUG off, {engine}, worker "
        f"{'on' if args.worker else 'off'}; {args.clients} concurrent clients, {args.requests} "
        f"requests per row; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at "
        "the end (anything else running skews the times)"
    )
    keyed = percentile(rows[1].latencies, 0.95)
    print(
        f"{'row':<14}{'p50 ms':>9}{'p95 ms':>9}{'x trivial':>11}{'p50 x':>7}{'x key':>7}"
        f"{'req/s':>7}"
    )
    verdicts = []
    for row in rows:
        p95 = percentile(row.latencies, 0.95)
        ratio = p95 / trivial if trivial else float("nan")
        if row.name in ("create", "get"):
            verdicts.append(f"{row.name} {ratio:.2f}x")
        errors = f"  {len(row.errors)} errors ({row.errors[0]})" if row.errors else ""
        print(
            f"{row.name:<14}{median(row.latencies) * 1000:>9.1f}{p95 * 1000:>9.1f}"
            f"{ratio:>10.2f}x{median(row.latencies) / trivial_p50:>6.2f}x{p95 / keyed:>6.2f}x"
            f"{len(row.latencies) / row.busy_s if row.busy_s else 0:>7.0f}{errors}"
        )
    print(
        "p95 over the trivial view: "
        + ", ".join(
            f"{v} ({'met' if float(v.split()[1][:-1]) <= TARGET_RATIO else 'MISSED'})"
            for v in verdicts
        )
        + f" (target <= {TARGET_RATIO:g}x)"
    )


if __name__ == "__main__":
    main()
