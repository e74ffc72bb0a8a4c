"""The simulator's HTTP server: every gateway dialect at its own path prefix, plus expiring
output files and a control API for tests and benchmarks.

    /ark/api/v3/...             official Ark (dialects/ark.py)
    /byteplus/api/v3/...        BytePlus ModelArk, Ark with BytePlus ids (dialects/byteplus.py)
    /acedata/seedance/...       AceData Cloud (dialects/acedata.py)
    /alltoken/v1/...            AllToken (dialects/alltoken.py)
    /seedance2ink/api/open/...  seedance2.ink (dialects/seedance2ink.py)
    /tokenhub/api/v1/...        TokenHub (dialects/tokenhub.py)
    /_files/<task>/<name>       output files behind expiring signed links (403 once expired)
    /_sim/faults   POST         inject a fault: {"kind", "op", "dialect", "count", ...}
    /_sim/stats    GET          counters, task states
    /_sim/tasks    GET          every task created, with its create body
    /_sim/requests GET          every request body received (field-for-field assertions)
    /_sim/media    GET          reference URLs fetched and what came back
    /_sim/reset    POST         forget everything

`start_simulator()` runs it on a background thread (tests); `manage.py simulate_upstream`
runs it in the foreground.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from projects.upstream_sim.dialects.acedata import AceDataDialect
from projects.upstream_sim.dialects.alltoken import AllTokenDialect
from projects.upstream_sim.dialects.ark import ArkDialect
from projects.upstream_sim.dialects.base import Dialect, SimResponse
from projects.upstream_sim.dialects.byteplus import BytePlusDialect
from projects.upstream_sim.dialects.seedance2ink import Seedance2InkDialect
from projects.upstream_sim.dialects.tokenhub import TokenHubDialect
from projects.upstream_sim.engine import SimEngine
from projects.upstream_sim.faults import FAULT_KINDS, Fault

logger = logging.getLogger(__name__)


def all_dialects() -> list[Dialect]:
    return [
        ArkDialect(),
        BytePlusDialect(),
        AllTokenDialect(),
        Seedance2InkDialect(),
        AceDataDialect(),
        TokenHubDialect(),
    ]


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], engine: SimEngine) -> None:
        super().__init__(address, SimulatorHandler)
        self.engine = engine
        self.dialects = sorted(all_dialects(), key=lambda d: len(d.prefix), reverse=True)
        for dialect in self.dialects:
            engine.register_dialect(dialect)
        host, port = self.server_address[:2]
        engine.public_url = f"http://{host}:{port}"


class SimulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY a kept-alive connection
    # waits for the client's delayed ACK (~40 ms) between them.
    disable_nagle_algorithm = True
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("sim %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        raw = self._read_body()
        try:
            if url.path.startswith("/_files/"):
                return self._serve_file(url.path, query)
            if url.path.startswith("/_sim/"):
                return self._send(self._control(method, url.path, raw))
            if url.path == "/healthz":
                return self._send(SimResponse(body={"ok": True}))
            for dialect in self.server.dialects:
                if url.path == dialect.prefix or url.path.startswith(dialect.prefix + "/"):
                    return self._send(self._dialect(dialect, method, url.path, query, raw))
            self._send(
                SimResponse(
                    status=404, body={"error": {"code": "NotFound", "message": "No such gateway."}}
                )
            )
        except Exception:
            logger.exception("simulator failed on %s %s", method, self.path)
            self._send(
                SimResponse(
                    status=500,
                    body={"error": {"code": "SimulatorBug", "message": "Simulator error."}},
                )
            )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dialect(self, dialect: Dialect, method: str, path: str, query, raw: bytes) -> SimResponse:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return dialect.error(401, "AuthenticationError", "Missing or malformed API key.")
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                # ValueError: not JSON, not UTF-8, or an int past int()'s 4300 digits;
                # RecursionError: nested deeper than the decoder recurses.
                return dialect.error(400, "InvalidParameter", "The request body is not JSON.")
        headers = {k.lower(): v for k, v in self.headers.items()}
        return dialect.handle(
            self.server.engine, method, path[len(dialect.prefix) :], query, body, headers
        )

    def _control(self, method: str, path: str, raw: bytes) -> SimResponse:
        engine = self.server.engine
        if path == "/_sim/faults" and method == "POST":
            spec = json.loads(raw or b"{}")
            if spec.get("kind") not in FAULT_KINDS:
                return SimResponse(
                    status=400, body={"error": f"kind must be one of {sorted(FAULT_KINDS)}"}
                )
            engine.inject(Fault(**spec))
            return SimResponse(body={"ok": True})
        if path == "/_sim/reset" and method == "POST":
            engine.reset()
            return SimResponse(body={"ok": True})
        if path == "/_sim/stats":
            return SimResponse(body=engine.snapshot())
        if path == "/_sim/tasks":
            return SimResponse(body={"tasks": engine.task_list()})
        if path == "/_sim/requests":
            return SimResponse(body={"requests": engine.requests})
        if path == "/_sim/media":
            return SimResponse(body={"fetches": engine.media_fetches})
        return SimResponse(status=404, body={"error": "unknown control path"})

    def _serve_file(self, path: str, query: dict[str, list[str]]) -> None:
        engine = self.server.engine
        parts = path.split("/")
        if len(parts) != 4:
            return self._send(SimResponse(status=404, body={"error": "not found"}))
        task_id, name = parts[2], parts[3]
        task = engine.get_task(task_id)
        engine.record(
            dialect=task.dialect if task else "?", op="file", method="GET", path=path, body=None
        )
        problem = engine.check_signature(
            task_id, name, query.get("expires", [""])[0], query.get("sig", [""])[0]
        )
        if task is None or problem:
            # TOS answers 403 for an expired or tampered presigned URL.
            detail = problem or "no such object"
            return self._send(
                SimResponse(
                    status=403,
                    raw=f"AccessDenied: {detail}".encode(),
                    headers={"Content-Type": "text/plain"},
                )
            )
        fault = engine.take_fault(op="file", dialect=task.dialect, kinds={"http_500", "drop"})
        if fault is not None:
            return self._send(
                SimResponse(status=500, raw=b"InternalError")
                if fault.kind == "http_500"
                else SimResponse(action="drop")
            )
        file_path: Path | None = engine.file_for(task, name)
        if file_path is None:
            return self._send(SimResponse(status=404, raw=b"NoSuchKey"))
        content_type = {"mp4": "video/mp4", "jpg": "image/jpeg", "png": "image/png"}.get(
            name.rsplit(".", 1)[-1], "application/octet-stream"
        )
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(file_path.stat().st_size))
        self.end_headers()
        with open(file_path, "rb") as handle:
            shutil.copyfileobj(handle, self.wfile, 1 << 20)

    def _send(self, response: SimResponse) -> None:
        if response.action in ("drop", "hang"):
            if response.action == "hang":
                time.sleep(response.hang_s)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if response.raw is not None:
            payload = response.raw
            content_type = response.headers.get("Content-Type", "application/octet-stream")
        else:
            payload = json.dumps(response.body if response.body is not None else {}).encode()
            content_type = "application/json"
        self.send_response(response.status)
        for key, value in response.headers.items():
            if key.lower() != "content-type":
                self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@dataclass
class RunningSimulator:
    """A simulator serving on a background thread; `url` is its base, e.g. http://127.0.0.1:8765."""

    server: SimulatorServer
    thread: threading.Thread

    @property
    def engine(self) -> SimEngine:
        return self.server.engine

    @property
    def url(self) -> str:
        return self.server.engine.public_url

    def base_url(self, dialect: str) -> str:
        """The *_BASE_URL to give an adapter to talk to this simulator's `dialect`."""
        prefix = next(d.prefix for d in self.server.dialects if d.name == dialect)
        return self.url + prefix

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.engine.stop()


def build_server(host: str, port: int, **engine_options: Any) -> SimulatorServer:
    engine = SimEngine(**engine_options)
    server = SimulatorServer((host, port), engine)
    engine.start()
    return server


def start_simulator(
    host: str = "127.0.0.1", port: int = 0, **engine_options: Any
) -> RunningSimulator:
    """Start a simulator on a daemon thread and return it once it accepts connections."""
    server = build_server(host, port, **engine_options)
    thread = threading.Thread(target=server.serve_forever, name="simulator", daemon=True)
    thread.start()
    return RunningSimulator(server=server, thread=thread)
