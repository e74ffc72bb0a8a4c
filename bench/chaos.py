"""Chaos run: many tasks through the simulator with random faults of every kind, two worker
clusters at once (one SIGKILLed mid-run and restarted), then the books are checked.

A private deployment (bench/harness.py: simulator + web + two `qcluster` processes on
127.0.0.1) takes `--tasks` generations spread over all five gateways (ark, alltoken,
seedance2ink, acedata, tokenhub). The simulator answers `--fault-rate` of the requests with a
random fault, drawn from every kind in FAULT_KINDS (429, 5xx, 4xx, timeouts, dropped
connections, malformed bodies, lost create answers, moderation, failed / expired renders,
expired output links). Its clock runs `--speed` times faster, so the run takes minutes.

Every prompt carries a marker "[chaos #n]", so each task the simulator created is attributed
to the task of ours whose request made it. A lost submit that the gateway cannot be searched
for (AceData, AllToken, seedance2.ink, TokenHub; Ark when several candidates match) waits for
an admin; this script plays that admin as the product asks one to: it looks the request up
at the gateway (the simulator's task list), adopts the id if the lost create made a task, and
resends it only if it made none.

At the end it runs `manage.py ledger_check` and prints: tasks by final state, tasks left
non-terminal, duplicate upstream tasks (more than one created for one task of ours), tasks
following an upstream task that is not theirs, ledger discrepancies, injected faults by kind,
admin actions and the elapsed time. Done when: no duplicate, no task left non-terminal, no
ledger discrepancy.

    .venv/bin/python bench/chaos.py                                  # SQLite + ORM broker
    .venv/bin/python bench/chaos.py --tasks 500 --fault-rate 0.1 --seed 7 \\
        --database-url postgres://postgres@127.0.0.1:5432/seedance_chaos \\
        --redis-url redis://127.0.0.1:6379/8                            # the scale-out setup
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, Stack  # noqa: E402

MODELS = {
    "ark": "doubao-seedance-2-0-260128",
    "alltoken": "seedance-2.0",
    "seedance2ink": "seedance-2.0",
    "acedata": "doubao-seedance-1-0-pro-250528",
    "tokenhub": "doubao-seedance-2.0",
}
MARKER = re.compile(r"\[chaos #(\d+)\]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--speed", type=float, default=30.0, help="simulator clock speed")
    parser.add_argument("--seed", type=int, default=1, help="simulator's random seed")
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite)")
    parser.add_argument("--redis-url", default="", help="Redis broker (default: ORM broker)")
    parser.add_argument("--workers", type=int, default=2, help="workers per cluster")
    parser.add_argument(
        "--kill-at",
        type=float,
        default=30.0,
        help="SIGKILL cluster 0 this many seconds after the tasks are created, then restart "
        "it (0: never)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after (s)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch dir (logs)")
    args = parser.parse_args()

    started = time.monotonic()
    stack = Stack(
        speed=args.speed,
        clusters=2,
        workers=args.workers,
        fault_rate=args.fault_rate,
        database_url=args.database_url,
        redis_url=args.redis_url,
        keep=args.keep,
        sim_seed=args.seed,
        env={
            "SEEDANCE_SWEEPERS": "2",
            "SEEDANCE_SWEEP_SECONDS": "20",
            # Gateway-time waits scaled to the fast clock (lists do not lag in the simulator).
            "SEEDANCE_RECONCILE_AFTER": repr(max(3.0, 120.0 / args.speed)),
        },
    )
    with stack:
        stack.django_setup()
        run = chaos_run(stack, args)
        run["ledger"] = ledger_check(stack)
        run["sim"] = stack.sim("/_sim/stats")
        run["sim_tasks"] = stack.sim("/_sim/tasks")["tasks"]
        run["elapsed"] = time.monotonic() - started
        print_report(run, args, stack)


def chaos_run(stack: Stack, args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from projects.exceptions import InvalidRequest
    from projects.models import GenerationTask, Project
    from projects.money.ledger import credit_grant
    from projects.services.generation import GenerationParams, generation_task_create

    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    project = Project.objects.get(slug="demo")
    user = project.team.memberships.get(role="member").user
    admin, _ = get_user_model().objects.get_or_create(
        username="chaos-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    credit_grant(team=project.team, amount_micro=args.tasks * 10_000_000, actor=None, memo="chaos")
    providers = list(MODELS)
    numbers: dict[str, int] = {}
    for n in range(args.tasks):
        provider = providers[n % len(providers)]
        params = GenerationParams(
            provider=provider,
            model=MODELS[provider],
            prompt=f"A lighthouse in a storm, cinematic [chaos #{n}]",
            ratio="16:9",
            resolution="720p",
            duration=5,
        )
        try:
            task = generation_task_create(project=project, user=user, params=params)
        except InvalidRequest:  # a gateway with no audio switch (AllToken, seedance2.ink)
            params = dataclasses.replace(params, generate_audio=False)
            task = generation_task_create(project=project, user=user, params=params)
        numbers[str(task.pk)] = n
    created = time.monotonic()
    print(f"... {args.tasks} tasks created", file=sys.stderr, flush=True)

    kills = 0
    admin_actions: Counter[str] = Counter()
    deadline = time.monotonic() + args.timeout
    active = GenerationTask.objects.filter(status__in=GenerationTask.ACTIVE)
    while time.monotonic() < deadline:
        if args.kill_at and not kills and time.monotonic() - created >= args.kill_at:
            restart_cluster(stack, 0)
            kills += 1
            print("... cluster 0 SIGKILLed and restarted", file=sys.stderr, flush=True)
        play_admin(stack, admin, admin_actions)
        left = active.count()
        if not left:
            break
        print(f"... {left} active", file=sys.stderr, flush=True)
        time.sleep(3)
    return {
        "numbers": numbers,
        "kills": kills,
        "admin": admin_actions,
        "states": Counter(GenerationTask.objects.values_list("status", flat=True)),
        "upstream": dict(GenerationTask.objects.values_list("pk", "upstream_task_id")),
        "active": list(active.values_list("pk", "status")),
    }


def restart_cluster(stack: Stack, index: int) -> None:
    """SIGKILL worker cluster `index` (the whole process group) and start a new one."""
    import os
    import signal

    for name, process in stack.processes:
        if name.startswith(f"worker{index}") and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    time.sleep(1.0)
    stack.spawn(f"worker{index}-restarted", "qcluster")


def play_admin(stack: Stack, admin, actions: Counter) -> None:
    """What an admin does for a lost submit the product cannot reconcile itself: look at the
    gateway (the simulator's task list) for the task that request made; adopt it if there
    is exactly one, resend if there is none."""
    from projects.models import GenerationTask
    from projects.services.recovery import (
        generation_task_adopt_upstream,
        generation_task_resubmit,
    )

    waiting = GenerationTask.objects.filter(
        status=GenerationTask.Status.SUBMIT_UNKNOWN, events__kind="needs_admin"
    ).distinct()
    if not waiting.exists():
        return
    made = made_upstream(stack.sim("/_sim/tasks")["tasks"])
    for task in waiting:
        match = MARKER.search(task.prompt)
        found = made.get(int(match.group(1)), []) if match else []
        try:
            if len(found) == 1:
                generation_task_adopt_upstream(task=task, upstream_task_id=found[0], actor=admin)
                actions["adopted"] += 1
            elif not found:
                generation_task_resubmit(task=task, actor=admin)
                actions["resent"] += 1
            else:
                actions["ambiguous"] += 1
        except Exception as exc:  # raced with the worker: it moved on by itself
            actions[f"skipped ({type(exc).__name__})"] += 1


def made_upstream(sim_tasks: list[dict]) -> dict[int, list[str]]:
    """{chaos number: ids of the upstream tasks its requests made}."""
    made: dict[int, list[str]] = defaultdict(list)
    for item in sim_tasks:
        match = MARKER.search(json.dumps(item["body"]))
        if match:
            made[int(match.group(1))].append(item["id"])
    return made


def ledger_check(stack: Stack) -> dict:
    result = subprocess.run(
        [sys.executable, "manage.py", "ledger_check"],
        cwd=ROOT,
        env=stack.environment(),
        capture_output=True,
        text=True,
    )
    problems = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("ledger_check")
    ]
    lines = (result.stdout + "\n" + result.stderr).splitlines()
    summary = next((line for line in lines if line.startswith("ledger_check")), "no summary")
    return {"ok": result.returncode == 0, "problems": problems, "summary": summary}


def print_report(run: dict, args: argparse.Namespace, stack: Stack) -> None:
    from projects.models import GenerationTask
    from projects.upstream_sim.faults import FAULT_KINDS

    made = made_upstream(run["sim_tasks"])
    numbers = run["numbers"]
    duplicates = sum(max(0, len(ids) - 1) for ids in made.values())
    tasks_duplicated = sum(1 for ids in made.values() if len(ids) > 1)
    unattributed = sum(
        1 for item in run["sim_tasks"] if not MARKER.search(json.dumps(item["body"]))
    )
    wrong = []
    followers: Counter[str] = Counter()
    for pk, upstream_id in run["upstream"].items():
        if not upstream_id:
            continue
        followers[upstream_id] += 1
        if upstream_id not in made.get(numbers.get(str(pk), -1), []):
            wrong.append(str(pk))
    shared = sum(1 for count in followers.values() if count > 1)
    terminal = set(GenerationTask.TERMINAL)
    left = sum(count for status, count in run["states"].items() if status not in terminal)
    faults = run["sim"].get("faults_injected", {})
    broker = "Redis" if args.redis_url else "ORM"
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"

    print(
        f"\nbench/chaos.py  {args.tasks} tasks over {', '.join(MODELS)}  "
        f"fault rate {args.fault_rate:g}  seed {args.seed}  speed x{args.speed:g}\n"
        f"{database} + {broker} broker, 2 clusters x {args.workers} workers, "
        f"cluster 0 SIGKILLed and restarted: {run['kills']}x"
    )
    print("\ntasks by final state")
    for status, count in sorted(run["states"].items(), key=lambda kv: -kv[1]):
        print(f"  {status:<16} {count:>5}")
    print("\nchecks")
    rows = [
        ("tasks left non-terminal", left),
        ("duplicate upstream tasks", duplicates),
        ("  (tasks of ours with >1 upstream)", tasks_duplicated),
        ("tasks following another's upstream", len(wrong)),
        ("upstream tasks followed by >1 task", shared),
        ("upstream tasks not attributable", unattributed),
        ("ledger discrepancies", len(run["ledger"]["problems"])),
    ]
    for label, value in rows:
        print(f"  {label:<38} {value:>5}")
    print(f"  ledger_check: {run['ledger']['summary']}")
    for problem in run["ledger"]["problems"][:10]:
        print(f"    {problem}")
    for pk, status in run["active"][:10]:
        print(f"    still active: {pk} {status}")
    by_dialect = run["sim"].get("faults_by_dialect", {})
    dialects = list(MODELS)
    print(f"\ninjected faults by kind and gateway dialect ({sum(faults.values())} in all)")
    print(f"  {'kind':<18} {'all':>5}" + "".join(f" {name[:12]:>12}" for name in dialects))
    for kind in sorted(FAULT_KINDS):
        cells = "".join(f" {by_dialect.get(name, {}).get(kind, 0):>12}" for name in dialects)
        print(f"  {kind:<18} {faults.get(kind, 0):>5}{cells}")
    counters = run["sim"].get("counters", {})
    creates = sum(v for k, v in counters.items() if k.endswith(":create"))
    print(
        f"\nupstream: {len(run['sim_tasks'])} tasks created from {creates} create requests; "
        f"{sum(v for k, v in counters.items() if k.endswith((':get', ':list')))} status "
        f"requests; {run['sim'].get('callbacks_sent', 0)} callbacks sent"
    )
    admin = ", ".join(f"{k} {v}" for k, v in sorted(run["admin"].items())) or "none"
    print(f"admin actions on lost submits: {admin}")
    print(f"elapsed: {run['elapsed']:.0f} s")
    if args.keep:
        print(f"logs: {stack.var_dir}")
    ok = not (left or duplicates or wrong or shared or run["ledger"]["problems"])
    print("\nRESULT:", "OK" if ok else "PROBLEMS FOUND")


if __name__ == "__main__":
    main()
