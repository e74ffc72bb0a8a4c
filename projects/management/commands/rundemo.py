"""`manage.py rundemo`: the whole product on this machine with its embedded defaults.

Migrates the database, creates the cache table, seeds the demo team, declares the schedules,
then runs three processes until Ctrl-C: the upstream simulator, the django-q2 worker and the
web server, with every gateway pointed at the simulator (no keys, no network needed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from projects.management.commands.seed_demo import DEMO_PASSWORD
from projects.models import WorkerLease
from projects.upstream_sim.server import all_dialects

DEMO_ENV = settings.VAR_DIR / "demo.env"


class Command(BaseCommand):
    help = "Run web + worker + upstream simulator with the demo data (Ctrl-C stops all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web port (default 8000).")
        parser.add_argument(
            "--sim-port", type=int, default=8765, help="Simulator port (default 8765)."
        )
        parser.add_argument(
            "--speed",
            type=float,
            default=10.0,
            help="Simulator clock speed (default 10: a 2 min render takes 12 s).",
        )
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="Use the gateways configured in the environment instead.",
        )

    def handle(self, *args, **options) -> None:
        # Stop the children on SIGTERM too (a supervisor, `timeout`), not only on Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)  # rate-limit counters (no REDIS_URL)
        call_command("seed_demo")
        # This command runs the whole deployment: sweeper leases left by the workers of a
        # previous run are void, and waiting for them to run out would pause polling.
        WorkerLease.objects.filter(name__startswith="sweeper-").delete()
        call_command("setup_schedules", verbosity=0)
        port, sim_port = options["port"], options["sim_port"]
        env = dict(
            os.environ,
            DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"),
            SITE_URL=f"http://127.0.0.1:{port}",
            PYTHONUNBUFFERED="1",
        )
        manage = [sys.executable, "manage.py"]
        processes: list[tuple[str, subprocess.Popen]] = []
        try:
            if not options["no_simulator"]:
                sim_url = f"http://127.0.0.1:{sim_port}"
                for dialect in all_dialects():
                    env[f"{dialect.name.upper()}_API_KEY"] = f"sim-{dialect.name}-key"
                    env[f"{dialect.name.upper()}_BASE_URL"] = sim_url + dialect.prefix
                # The simulator serves its outputs over plain http on loopback, which the
                # worker refuses from any host not listed (projects/providers/outbound.py).
                listed = [h for h in env.get("SEEDANCE_FETCH_ALLOW_HOSTS", "").split(",") if h]
                env["SEEDANCE_FETCH_ALLOW_HOSTS"] = ",".join([*listed, f"127.0.0.1:{sim_port}"])
                # The worker polls on the simulator's clock: a render of 2 simulated minutes
                # is followed in 12 real seconds, not polled as if it took 2 real minutes.
                env.setdefault("SEEDANCE_UPSTREAM_TIME_SCALE", repr(1.0 / options["speed"]))
                processes.append(
                    (
                        "simulator",
                        _start(
                            [
                                *manage,
                                "simulate_upstream",
                                "--port",
                                str(sim_port),
                                "--speed",
                                str(options["speed"]),
                            ],
                            env=env,
                        ),
                    )
                )
                self._wait_ready(f"{sim_url}/healthz", processes[-1][1], "simulator")
            processes.append(("worker", _start([*manage, "qcluster"], env=env)))
            processes.append(
                (
                    "web",
                    _start([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env),
                )
            )
            self._wait_ready(f"http://127.0.0.1:{port}/login/", processes[-1][1], "web")
            self._write_demo_env(env)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nseedance-web is running: http://127.0.0.1:{port}/\n"
                    f"  log in as mia (member), rey (reviewer) or ada (admin), "
                    f"password {DEMO_PASSWORD}\n"
                    f"  Django admin: http://127.0.0.1:{port}/admin/ (ada)\n"
                    + (
                        ""
                        if options["no_simulator"]
                        else f"  upstream simulator: http://127.0.0.1:{sim_port} "
                        f"(speed x{options['speed']:g})\n"
                    )
                    + "Press Ctrl-C to stop.\n"
                )
            )
            while all(process.poll() is None for _, process in processes):
                time.sleep(0.5)
            name = next(name for name, process in processes if process.poll() is not None)
            raise CommandError(f"The {name} process stopped; shutting down.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            # Already stopping: a second Ctrl-C or SIGTERM must not cut the children's
            # shutdown short and leave them running.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            DEMO_ENV.unlink(missing_ok=True)
            # Each child leads a process group of its own (qcluster forks workers): stop the
            # whole group, so no worker outlives the demo.
            for _, process in reversed(processes):
                _signal_group(process, signal.SIGTERM)
            deadline = time.monotonic() + 10
            for _, process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                _signal_group(process, signal.SIGKILL)

    def _write_demo_env(self, env: dict[str, str]) -> None:
        """Let a `manage.py` run beside the demo (`generate`, `ledger_check`) reach the same
        site and simulator: settings.py reads var/demo.env while it exists (the real
        environment still wins). Removed when the demo stops."""
        names = ("SITE_URL", "DJANGO_DEBUG", "SEEDANCE_FETCH_ALLOW_HOSTS", "SEEDANCE_UPSTREAM_")
        lines = [
            f"{key}={value}"
            for key, value in sorted(env.items())
            if key.startswith(names) or key.endswith(("_API_KEY", "_BASE_URL"))
        ]
        DEMO_ENV.parent.mkdir(parents=True, exist_ok=True)
        header = "# Written by manage.py rundemo while it runs; removed when it stops.\n"
        DEMO_ENV.write_text(header + "\n".join(lines) + "\n")

    def _wait_ready(self, url: str, process: subprocess.Popen, name: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise CommandError(f"The {name} did not start (is its port already in use?).")
            try:
                httpx.get(url, timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise CommandError(f"The {name} did not answer on {url} within 60 s.")


def _start(command: list[str], *, env: dict[str, str]) -> subprocess.Popen:
    # A session (and process group) of its own: Ctrl-C reaches only this command, which
    # then stops each child's whole group itself.
    return subprocess.Popen(command, env=env, start_new_session=True)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
