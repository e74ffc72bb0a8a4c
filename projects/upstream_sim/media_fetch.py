"""Downloading a reference URL as a gateway does before it accepts a task (research §1.6: the
whole request, references included, is at most 64 MB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

MAX_BYTES = 64 << 20  # nothing is read past Ark's 64 MB request limit


@dataclass
class Fetched:
    """One download: `ok` (HTTP 200, 1 byte to MAX_BYTES), why not (`detail`), the bytes when
    asked to keep them, and `info` for the simulator's fetch log (status, size, type)."""

    ok: bool
    detail: str = ""
    data: bytes = b""
    info: dict[str, Any] = field(default_factory=dict)


def download(client: httpx.Client, url: str, *, keep: bool) -> Fetched:
    """GET `url` with `client`, streaming; the bytes are kept only when `keep`."""
    chunks: list[bytes] = []
    try:
        with client.stream("GET", url) as response:
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    break
                if keep:
                    chunks.append(chunk)
            ok = response.status_code == 200 and 0 < size <= MAX_BYTES
            detail = ""
            if not ok:
                detail = "over 64 MB" if size > MAX_BYTES else f"HTTP {response.status_code}"
            info = {
                "status": response.status_code,
                "size": size,
                "content_type": response.headers.get("content-type", ""),
            }
            return Fetched(ok, detail, b"".join(chunks) if ok else b"", info)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        # InvalidURL and ValueError: a URL httpx cannot even parse ("http://", "http://[").
        return Fetched(False, type(exc).__name__, info={"status": None, "size": 0})


class ReferenceFetcher:
    """Reference URLs fetched like a gateway would, recorded in `media_fetches` (a mixin of
    `SimEngine`, whose lock, client and `fetch_media` switch it uses)."""

    def fetch_media_url(self, url: str) -> tuple[bool, str]:
        """GET a reference URL like a gateway would; (ok, detail). Recorded for tests."""
        ok, detail, _data = self.fetch_media_bytes(url, keep=False)
        return ok, detail

    def fetch_media_bytes(self, url: str, *, keep: bool = True) -> tuple[bool, str, bytes]:
        """GET a reference URL like a gateway would (media_fetch.download): (ok, detail, the
        bytes when `keep`). asset:// references and `fetch_media=False` fetch nothing (ok, no
        bytes). Recorded in `media_fetches`."""
        if url.startswith("asset://"):
            self._record_fetch(url, ok=True, status=None, size=0, detail="asset reference")
            return True, "", b""
        if not self.fetch_media:
            return True, "", b""
        fetched = download(self._media_client, url, keep=keep)
        self._record_fetch(url, ok=fetched.ok, detail=fetched.detail, **fetched.info)
        return fetched.ok, fetched.detail, fetched.data

    def _record_fetch(self, url: str, **info: Any) -> None:
        with self._lock:
            self.media_fetches.append({"url": url, **info})
