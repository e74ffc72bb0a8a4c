"""A local webhook receiver for the notification tests: a tiny http.server thread on
127.0.0.1 that records each POST's raw body and headers and answers with `status`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    """`url` to give as a json:// webhook; `posts` [(headers dict, raw body)]; set
    `status` to answer something else than 200."""

    port: int
    status: int = 200
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A Receiver serving on a free port until the block ends. The caller allows 127.0.0.1
    for webhooks (SEEDANCE_WEBHOOK_ALLOW_HOSTS: tests/settings.py lists it for the gateways'
    links only; the webhook guard has its own list)."""
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.posts.append(
                ({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
