"""Streaming a gateway's output file to local disk in constant memory, hashing as it goes.

Output links are presigned CDN URLs that expire (about 24 h, upstream-research.md §1.13); they
get no API key. A 401/403/404/410 from the CDN means the link is dead: LinkExpired, so the
caller can ask the gateway for a fresh one. A link, or a redirect, to anything but a public
https address is refused before a byte is sent (UnsafeLink; projects/providers/outbound.py).
"""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
from django.conf import settings

from projects.crashpoints import crashpoint
from projects.providers.http import USER_AGENT
from projects.providers.outbound import BlockedURL, GuardedTransport, check_url, guard_redirects

CHUNK = 1 << 20  # bytes read per iteration: memory stays flat whatever the file size
QUEUED_CHUNKS = 8  # chunks received but not yet hashed and written: at most 8 MiB
MAX_REDIRECTS = 5  # CDNs redirect once or twice; each hop is checked like the first link


@dataclass(frozen=True)
class Download:
    """A file on local disk: `size_bytes` bytes whose sha256 hex is `sha256`."""

    path: Path
    sha256: str
    size_bytes: int
    content_type: str


class DownloadError(Exception):
    """The file could not be fetched; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class LinkExpired(DownloadError):
    """The link was refused (401/403/404/410): expired or revoked."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class UnsafeLink(DownloadError):
    """The link, or a redirect it led to, is not a public https address (outbound.py): a
    gateway that gives one is not to be trusted with this task, so it is final."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class HashingWriter:
    """Hashes (sha256) and writes chunks to `out` on a thread of its own, so the next chunk is
    received while the last is hashed and written: hashlib and file writes release the GIL,
    and hashing inline held a fast download to half its speed (bench/download.py). At most
    QUEUED_CHUNKS chunks wait. An error of the writing thread is raised by the next `write`,
    `sync` or `finish`."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hashing-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            try:
                if chunk is None:
                    return
                if self._error is None:
                    self._digest.update(chunk)
                    self._out.write(chunk)
            except BaseException as exc:  # handed to the receiving thread
                self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, chunk: bytes) -> None:
        self._raise()
        self._queue.put(chunk)

    def sync(self) -> None:
        """Wait until every chunk so far is hashed and written, and flush `out`."""
        self._queue.join()
        self._raise()
        self._out.flush()

    def finish(self) -> str:
        """Stop the thread once every chunk is written; the sha256 hex of all of them."""
        self.close()
        self._raise()
        return self._digest.hexdigest()

    def close(self) -> None:
        """Stop the thread (chunks still queued are written first). Safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


def download_to_file(
    url: str,
    *,
    directory: Path,
    timeout: float,
    max_bytes: int,
    transport: httpx.BaseTransport | None = None,
    prefix: str = "dl-",
) -> Download:
    """GET `url` into a new file `<prefix>*.part` in `directory`. `timeout` seconds is the
    longest wait for any byte; `max_bytes` caps the size (a larger Content-Length is refused
    before the body is read). Raises UnsafeLink (a non-public or non-https link or redirect),
    LinkExpired or DownloadError; leaves no file then (only a killed process leaves one: the
    caller's prefix finds it). `transport` replaces the address-checking one in tests; the
    scheme and host of every request are checked either way."""
    try:
        check_url(url)
    except BlockedURL as exc:
        raise UnsafeLink(exc.message) from exc
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")
    path = Path(name)
    size = 0
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.Client(
                timeout=httpx.Timeout(timeout),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                transport=transport or GuardedTransport(),
                event_hooks={"request": [guard_redirects()]},
                trust_env=False,
                headers={"User-Agent": USER_AGENT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code in (401, 403, 404, 410):
                raise LinkExpired(f"The output link was refused (HTTP {response.status_code}).")
            if response.status_code != 200:
                raise DownloadError(
                    f"The output server answered HTTP {response.status_code}.",
                    transient=response.status_code >= 500 or response.status_code == 429,
                )
            # With a Content-Encoding the length counts encoded bytes; we hash decoded ones.
            encoded = bool(response.headers.get("Content-Encoding"))
            expected = None if encoded else response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) > max_bytes:
                raise DownloadError(
                    f"The output is larger than {max_bytes} bytes ({expected} announced).",
                    transient=False,
                )
            writer = HashingWriter(out)
            try:
                for chunk in response.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(
                            f"The output is larger than {max_bytes} bytes.", transient=False
                        )
                    writer.write(chunk)
                    if getattr(settings, "SEEDANCE_CRASHPOINT", ""):
                        writer.sync()  # the partial file a killed worker leaves behind
                        crashpoint("during_download")
                sha256 = writer.finish()
            finally:
                writer.close()  # before `out` closes
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise DownloadError(
                    f"The download stopped after {size} of {expected} bytes.", transient=True
                )
            content_type = response.headers.get("Content-Type", "")
    except BlockedURL as exc:
        path.unlink(missing_ok=True)
        raise UnsafeLink(exc.message) from exc
    except httpx.TooManyRedirects as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"The output link redirected more than {MAX_REDIRECTS} times.", transient=False
        ) from exc
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(f"The download failed ({type(exc).__name__}).", transient=True) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise DownloadError("The output file is empty.", transient=True)
    return Download(path=path, sha256=sha256, size_bytes=size, content_type=content_type)
