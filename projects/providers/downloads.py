"""Streaming a gateway's output file to local disk in constant memory, hashing as it goes.

Output links are presigned CDN URLs that expire (about 24 h, upstream-research.md §1.13); they
get no API key. A 401/403/404/410 from the CDN means the link is dead: LinkExpired, so the
caller can ask the gateway for a fresh one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings

from projects.crashpoints import crashpoint
from projects.providers.http import USER_AGENT

CHUNK = 1 << 20  # bytes read per iteration: memory stays flat whatever the file size


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
    longest wait for any byte; `max_bytes` caps the size. Raises LinkExpired or DownloadError;
    leaves no file then (only a killed process leaves one: the caller's prefix finds it)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.Client(
                timeout=httpx.Timeout(timeout),
                follow_redirects=True,
                transport=transport,
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
            for chunk in response.iter_bytes(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(
                        f"The output is larger than {max_bytes} bytes.", transient=False
                    )
                digest.update(chunk)
                out.write(chunk)
                if settings.SEEDANCE_CRASHPOINT:
                    out.flush()  # the partial file a killed worker leaves behind
                    crashpoint("during_download")
            if expected is not None and expected.isdigit() and int(expected) != size:
                raise DownloadError(
                    f"The download stopped after {size} of {expected} bytes.", transient=True
                )
            content_type = response.headers.get("Content-Type", "")
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(f"The download failed ({type(exc).__name__}).", transient=True) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise DownloadError("The output file is empty.", transient=True)
    return Download(
        path=path, sha256=digest.hexdigest(), size_bytes=size, content_type=content_type
    )
