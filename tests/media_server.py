"""A small local HTTP server for simulator tests: reference media a gateway fetches (with and
without a file extension, with a given Content-Type) and a webhook receiver that records
every POST. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 320), (200, 80, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class MediaServer:
    """`files` maps a path to (Content-Type, bytes), `redirects` a path to the URL a 302
    sends to; `gets` records the paths asked for, `posts` the (path, body) received."""

    server: ThreadingHTTPServer
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    gets: list[str] = field(default_factory=list)
    posts: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


def start_media_server() -> MediaServer:
    """Serve on a free port of 127.0.0.1 from a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            media.gets.append(self.path)
            if self.path in media.redirects:
                self.send_response(302)
                self.send_header("Location", media.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            found = media.files.get(self.path)
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type, payload = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            media.posts.append((self.path, self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    media = MediaServer(server=server)
    media.files.update(
        {
            "/photo.jpg": ("image/jpeg", jpeg_bytes()),
            "/second.png": ("image/png", jpeg_bytes()),
            "/third.webp": ("image/webp", jpeg_bytes()),
            "/photo.tiff": ("image/tiff", jpeg_bytes()),
            "/clip.mp4": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
            "/song.mp3": ("audio/mpeg", b"ID3" + b"\x00" * 64),
            # Signed links have no extension: the Content-Type says what they are.
            "/signed/a1b2c3": ("image/jpeg", jpeg_bytes()),
            "/signed/v9x8": ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
            "/signed/blob": ("application/octet-stream", b"\x00" * 64),
        }
    )
    threading.Thread(target=server.serve_forever, name="media-server", daemon=True).start()
    return media


@pytest.fixture(scope="module", name="media_server")
def media_server_fixture():
    server = start_media_server()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(name="media")
def media_fixture(media_server):
    """The media server with its webhook log emptied."""
    media_server.posts.clear()
    return media_server
