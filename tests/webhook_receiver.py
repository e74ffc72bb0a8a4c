"""A local webhook receiver for the notification tests: a tiny http.server thread on
127.0.0.1 that records each POST's raw body and headers and answers with `status`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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


@pytest.fixture
def webhook_receiver(settings):
    """A Receiver, with 127.0.0.1 allowed for webhooks (tests/settings.py lists it for the
    gateways' links only; the webhook guard has its own list)."""
    settings.SEEDANCE_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.posts.append(({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)))
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
