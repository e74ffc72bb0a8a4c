"""`manage.py simulate_upstream`: the gateways' simulator as a real HTTP server."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from projects.upstream_sim.server import build_server


class Command(BaseCommand):
    help = (
        "Serve every gateway dialect (TokenHub, ...) on one port, with real MP4 outputs, "
        "callbacks and fault injection. Ctrl-C stops it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--speed",
            type=float,
            default=10.0,
            help="Upstream seconds per real second (default 10).",
        )
        parser.add_argument(
            "--render-min",
            type=float,
            default=None,
            help="Shortest render, upstream seconds: with --render-max, a uniform draw in place "
            "of the render-time model (projects/upstream_sim/render_time.py).",
        )
        parser.add_argument(
            "--render-max", type=float, default=None, help="Longest render, upstream seconds."
        )
        parser.add_argument("--queue-min", type=float, default=None)
        parser.add_argument("--queue-max", type=float, default=None)
        parser.add_argument(
            "--noise",
            type=float,
            default=None,
            help="The render-time model's lognormal sigma (default 0.05).",
        )
        parser.add_argument(
            "--fault-rate",
            type=float,
            default=0.0,
            help="Share of requests that get a random injected fault (0-1).",
        )
        parser.add_argument(
            "--link-ttl",
            type=float,
            default=3600.0,
            help="Real seconds an output link stays valid (default 3600).",
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")
        parser.add_argument(
            "--no-fetch-media",
            action="store_true",
            help="Do not download reference URLs before accepting a task.",
        )
        parser.add_argument("--cache-dir", default=str(Path(settings.VAR_DIR) / "simulator"))

    def handle(self, *args, **options) -> None:
        server = build_server(
            options["host"],
            options["port"],
            speed=options["speed"],
            render_range=_pinned(options["render_min"], options["render_max"]),
            queue_range=_pinned(options["queue_min"], options["queue_max"]),
            **({} if options["noise"] is None else {"noise_sigma": options["noise"]}),
            cache_dir=Path(options["cache_dir"]),
            seed=options["seed"],
            link_ttl=options["link_ttl"],
            fault_rate=options["fault_rate"],
            fetch_media=not options["no_fetch_media"],
        )
        base = server.engine.public_url
        self.stdout.write(f"Upstream simulator on {base} (speed x{options['speed']:g})")
        for dialect in server.dialects:
            variable = f"{dialect.name.upper()}_BASE_URL"
            self.stdout.write(f"  {dialect.label:<12} {variable}={base}{dialect.prefix}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            server.engine.stop()


def _pinned(low: float | None, high: float | None) -> tuple[float, float] | None:
    """A uniform draw's range when both ends are given, else None (the model)."""
    return None if low is None or high is None else (low, high)
