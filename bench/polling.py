"""Benchmark: how often we ask the gateway, and how soon a finished render is ours.

For each task count (default 100 and 1,000) it runs, each in a fresh private deployment
(bench/harness.py: simulator + web + worker on 127.0.0.1):

  polling    our worker with callbacks off (SEEDANCE_CALLBACKS=off): the polling policy alone
  auto       our worker with SEEDANCE_CALLBACKS=auto and SITE_URL on 127.0.0.1 (the default
             on a laptop): no callback URL is sent, so this is polling alone as well
  callbacks  our worker with callbacks on: the gateway calls back, polling is the fallback
  today      (--spread) our worker, callbacks off, the fixed schedule alone
  learned    (--spread) our worker, callbacks off, following the render estimate
  naive-5s   the baseline users complain about: every task asked about every 5 s, one request
             each (no worker, no download; detection time only)

Renders take 60-180 s of gateway time plus 1-8 s of queue (upstream-research.md §5); the
simulator's clock runs `--speed` times faster (1 = real time, the honest default; delays are
printed in gateway seconds, i.e. real seconds x speed). Figures per completed task:

  status requests  requests that answered about the task; a batch request (Ark's list by task
                   ids) counts 1/n for each of its n tasks
  tasks asked      how many status requests named the task at all (a batch counts 1 each)
  delay            from the moment the gateway finished to "succeeded" in our database (the
                   output already stored and checksummed); naive: to the moment it noticed

    .venv/bin/python bench/polling.py                       # 100 and 1000 tasks, real time
    .venv/bin/python bench/polling.py --tasks 200 --speed 4 --provider tokenhub
    .venv/bin/python bench/polling.py --database-url postgres://... --redis-url redis://...
    .venv/bin/python bench/polling.py --spread --provider tokenhub --tasks 1000 --warm 200

`--spread` (bench/spread.py): renders timed by the simulator's model over a realistic mix,
today's fixed schedule beside the one that follows the render estimate, and the naive poller.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Stack, median, percentile  # noqa: E402
from spread import WARM_ENV, mix, run_spread  # noqa: E402

MODELS = {
    "ark": "doubao-seedance-2-0-260128",
    "acedata": "doubao-seedance-1-0-pro-250528",
    "tokenhub": "doubao-seedance-2.0",
    "alltoken": "seedance-2.0",
    "seedance2ink": "seedance-2.0",
}
NAIVE_INTERVAL = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="100,1000", help="comma-separated task counts")
    parser.add_argument("--modes", default="polling,callbacks,naive-5s")
    parser.add_argument("--provider", default="ark", choices=sorted(MODELS))
    parser.add_argument("--speed", type=float, default=1.0, help="simulator clock speed")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the scratch dirs (logs)")
    parser.add_argument("--spread", action="store_true", help="the realistic mix (spread.py)")
    parser.add_argument("--warm", type=int, default=200, help="--spread: history tasks first")
    parser.add_argument("--noise", type=float, default=None, help="--spread: render sigma")
    parser.add_argument("--seed", type=int, default=1, help="--spread: the mix's seed")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one mode in this process
    args = parser.parse_args()
    if args.spread and args.modes == parser.get_default("modes"):
        args.modes = "today,learned,naive-5s"
    if args.run:
        mode, count = args.run.split(":")
        print(json.dumps(run_one(mode, int(count), args)))
        return
    rows = []
    for count in [int(n) for n in args.tasks.split(",")]:
        for mode in args.modes.split(","):
            started = time.monotonic()
            print(
                f"... {count} tasks, {mode} ({args.provider}, speed x{args.speed:g})",
                file=sys.stderr,
                flush=True,
            )
            child = subprocess.run(
                [sys.executable, __file__, "--run", f"{mode}:{count}", *passthrough(args)],
                capture_output=True,
                text=True,
            )
            if child.returncode:
                sys.exit(f"{mode} with {count} tasks failed:\n{child.stderr[-3000:]}")
            output = child.stdout
            row = json.loads(output.strip().splitlines()[-1])
            row["bench_s"] = time.monotonic() - started
            rows.append(row)
    print_table(rows, args)


def passthrough(args: argparse.Namespace) -> list[str]:
    out = (
        [
            "--provider",
            args.provider,
            "--speed",
            repr(args.speed),
            "--workers",
            str(args.workers),
            "--warm",
            str(args.warm),
            "--seed",
            str(args.seed),
        ]
        + (["--keep"] if args.keep else [])
        + (["--spread"] if args.spread else [])
    )
    if args.noise is not None:
        out += ["--noise", repr(args.noise)]
    if args.database_url:
        out += ["--database-url", args.database_url]
    if args.redis_url:
        out += ["--redis-url", args.redis_url]
    return out


def run_one(mode: str, count: int, args: argparse.Namespace) -> dict:
    ours = mode != "naive-5s"
    modelled = {"render": None, "queue": None} if args.spread else {}
    stack = Stack(
        **modelled,
        sim_args=[] if args.noise is None else ["--noise", repr(args.noise)],
        speed=args.speed,
        database_url=args.database_url,
        redis_url=args.redis_url,
        workers=args.workers,
        clusters=1 if ours else 0,
        web=mode in ("callbacks", "auto") or (args.spread and ours),
        keep=args.keep,
        env={
            "SEEDANCE_CALLBACKS": {"callbacks": "on", "auto": "auto"}.get(mode, "off"),
            "SEEDANCE_SWEEP_SECONDS": "55",
            **WARM_ENV.get(mode, {}),
        },
    )
    with stack:
        stack.django_setup()
        seen: dict[str, float] | None = None
        if ours and args.spread:
            upstream, seen = run_spread(
                stack,
                provider=args.provider,
                model=MODELS[args.provider],
                warm=args.warm,
                count=count,
                seed=args.seed,
                funder=_fund,
            )
        elif ours:
            upstream = submit_through_the_app(stack, count, args.provider)
        elif args.spread:
            upstream = naive_poll(stack, count, args.provider, shapes=_naive_shapes(count, args))
        else:
            upstream = naive_poll(stack, count, args.provider)
        stats = stack.sim("/_sim/stats")
        creates = [r for r in stack.sim("/_sim/requests")["requests"] if r["op"] == "create"]
    row = figures(mode, count, upstream, stats, args)
    notice = [
        (t - stats["finished_wall"][u]) * args.speed
        for u, t in (seen if seen is not None else upstream).items()
        if t is not None and u in stats["finished_wall"]
    ]
    row["notice_median"], row["notice_p95"] = median(notice), percentile(notice, 0.95)
    # Which creates carried a callback (Ark/AceData `callback_url`, seedance2.ink `webhookUrl`).
    row["creates_with_callback"] = sum(
        1
        for r in creates
        if isinstance(r["body"], dict) and ({"callback_url", "webhookUrl"} & set(r["body"]))
    )
    return row


def submit_through_the_app(stack: Stack, count: int, provider: str) -> dict[str, float | None]:
    """Create `count` tasks through the service the form uses; wait until all have ended;
    {upstream id: unix time we marked it succeeded, or None}."""
    from django.core.management import call_command

    from projects.models import GenerationTask, Project
    from projects.providers.registry import get_capabilities
    from projects.services.generation import GenerationParams, generation_task_create

    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    project = Project.objects.get(slug="demo")
    user = project.team.memberships.get(role="member").user
    _fund(project.team, count)
    params = GenerationParams(
        provider=provider,
        model=MODELS[provider],
        prompt="A lighthouse in a storm, cinematic",
        ratio="16:9",
        resolution="720p",
        duration=5,
        generate_audio=get_capabilities(provider).model(MODELS[provider]).audio,
    )
    for _ in range(count):
        generation_task_create(project=project, user=user, params=params)
    deadline = time.monotonic() + _longest(stack) / stack.speed * 2 + 180
    while time.monotonic() < deadline:
        if not GenerationTask.objects.filter(status__in=GenerationTask.ACTIVE).exists():
            break
        time.sleep(2)
    return {
        task.upstream_task_id: (
            task.finished_at.timestamp() if task.status == "succeeded" else None
        )
        for task in GenerationTask.objects.exclude(upstream_task_id="")
    }


def _longest(stack: Stack) -> float:
    """Upstream seconds the longest render and queue take (the model's: about 900)."""
    if stack.render is None or stack.queue is None:
        return 900.0
    return stack.render[1] + stack.queue[1]


def _fund(team, count: int) -> None:
    from projects.money.ledger import credit_grant

    credit_grant(team=team, amount_micro=count * 10_000_000, actor=None, memo="bench/polling.py")


def _naive_shapes(count: int, args: argparse.Namespace) -> list[dict]:
    """The measured part of the --spread mix (the naive poller needs no history)."""
    from spread import resolutions_of

    shapes = mix(
        args.warm + count,
        resolutions=resolutions_of(args.provider, MODELS[args.provider]),
        seed=args.seed,
    )
    return shapes[args.warm :]


def naive_poll(
    stack: Stack, count: int, provider: str, shapes: list[dict] | None = None
) -> dict[str, float | None]:
    """The baseline: create `count` upstream tasks (of `shapes`' durations and resolutions,
    without references: it has no library to send them from), then ask about each one every
    5 s until it ends; {upstream id: unix time it was seen finished}."""
    from projects.providers.base import GenerationRequest
    from projects.providers.registry import get_provider

    adapter = get_provider(provider)
    request = GenerationRequest(
        model=MODELS[provider],
        prompt="A lighthouse in a storm",
        ratio="16:9",
        resolution="720p",
        duration=5,
    )
    requests = [
        replace(request, duration=s["duration"], resolution=s["resolution"])
        for s in shapes or [{"duration": 5, "resolution": "720p"}] * count
    ]
    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda r: adapter.submit(r).upstream_id, requests))
        seen: dict[str, float | None] = dict.fromkeys(ids)
        pending = set(ids)
        deadline = time.monotonic() + _longest(stack) / stack.speed * 2 + 60
        while pending and time.monotonic() < deadline:
            round_started = time.monotonic()

            def ask(upstream_id: str) -> tuple[str, bool]:
                try:
                    return upstream_id, adapter.fetch(upstream_id).status.is_terminal
                except Exception:  # the baseline just asks again next round
                    return upstream_id, False

            for upstream_id, done in pool.map(ask, sorted(pending)):
                if done:
                    seen[upstream_id] = time.time()
                    pending.discard(upstream_id)
            time.sleep(max(0.0, NAIVE_INTERVAL / stack.speed - (time.monotonic() - round_started)))
    return seen


def figures(
    mode: str, count: int, upstream: dict[str, float | None], stats: dict, args: argparse.Namespace
) -> dict:
    finished = stats["finished_wall"]
    done = {u: t for u, t in upstream.items() if t is not None and u in finished}
    delays = [(t - finished[u]) * args.speed for u, t in done.items()]
    shares = [stats["status_share"].get(u, 0.0) for u in done]
    asks = [stats["status_asks"].get(u, 0) for u in done]
    total = sum(v for k, v in stats["counters"].items() if k.endswith((":get", ":list")))
    return {
        "mode": mode,
        "tasks": count,
        "completed": len(done),
        "not_completed": count - len(done),
        "share_median": median(shares),
        "share_p95": percentile(shares, 0.95),
        "asks_median": median(asks),
        "asks_p95": percentile(asks, 0.95),
        "delay_median": median(delays),
        "delay_p95": percentile(delays, 0.95),
        "delay_max": max(delays, default=0.0),
        "status_requests_total": total,
    }


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    renders = "renders 60-180 s + 1-8 s queue"
    if args.spread:
        sigma = "0.05" if args.noise is None else f"{args.noise:g}"
        renders = (
            f"renders by the model (render_time.py, noise sigma {sigma}), mix seed {args.seed}, "
            f"{args.warm} tasks of history first"
        )
    print(
        f"\nbench/polling.py  provider={args.provider}  speed=x{args.speed:g}  "
        f"{renders}  (delays in gateway seconds)"
    )
    header = (
        f"{'tasks':>5}  {'mode':<10} {'done':>5}  {'status req/task':>17}  "
        f"{'asked/task':>11}  {'delay s':>23}  {'requests':>8}  {'bench':>7}"
    )
    print(header)
    print(
        f"{'':>5}  {'':<10} {'':>5}  {'median    p95':>17}  {'med  p95':>11}  "
        f"{'median   p95     max':>23}"
    )
    for r in rows:
        print(
            f"{r['tasks']:>5}  {r['mode']:<10} {r['completed']:>5}  "
            f"{r['share_median']:>8.2f} {r['share_p95']:>8.2f}  "
            f"{r['asks_median']:>5.0f} {r['asks_p95']:>5.0f}  "
            f"{r['delay_median']:>7.1f} {r['delay_p95']:>7.1f} {r['delay_max']:>7.1f}  "
            f"{r['status_requests_total']:>8}  {r['bench_s']:>6.0f}s"
            + (
                f"  noticed {r['notice_median']:.1f} / {r['notice_p95']:.1f}"
                if args.spread
                else f"  ({r['creates_with_callback']} creates with a callback URL)"
            )
        )


if __name__ == "__main__":
    main()
