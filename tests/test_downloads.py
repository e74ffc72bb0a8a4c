"""download_to_file: the bytes on disk and their sha256, the size cap, a cut transfer and a
failing disk, each leaving no file behind (projects/providers/downloads.py)."""

from __future__ import annotations

import hashlib
import io

import httpx
import pytest

from projects.providers.downloads import (
    CHUNK,
    DownloadError,
    HashingWriter,
    LinkExpired,
    download_to_file,
)

BODY = bytes(range(256)) * (CHUNK // 256) * 3 + b"tail"  # three chunks and a bit


def serve(body: bytes, *, status: int = 200, length: int | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Length": str(len(body) if length is None else length)}
        return httpx.Response(status, content=body, headers=headers)

    return httpx.MockTransport(handler)


def fetch(tmp_path, transport, *, max_bytes: int = 1 << 30):
    return download_to_file(
        "https://cdn.test/video.mp4",
        directory=tmp_path,
        timeout=5,
        max_bytes=max_bytes,
        transport=transport,
    )


def test_the_file_holds_the_bytes_and_their_sha256(tmp_path):
    download = fetch(tmp_path, serve(BODY))
    assert download.path.read_bytes() == BODY
    assert download.sha256 == hashlib.sha256(BODY).hexdigest()
    assert download.size_bytes == len(BODY)
    assert list(tmp_path.iterdir()) == [download.path]


def test_a_file_over_the_cap_is_refused_and_removed(tmp_path):
    with pytest.raises(DownloadError) as refused:
        fetch(tmp_path, serve(BODY), max_bytes=CHUNK)
    assert not refused.value.transient and "larger than" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_transfer_cut_short_is_transient_and_removed(tmp_path):
    with pytest.raises(DownloadError) as cut:
        fetch(tmp_path, serve(BODY[:1000], length=len(BODY)))
    assert cut.value.transient
    assert list(tmp_path.iterdir()) == []


def test_a_refused_link_is_expired(tmp_path):
    with pytest.raises(LinkExpired):
        fetch(tmp_path, serve(b"gone", status=403))
    assert list(tmp_path.iterdir()) == []


def test_a_failing_disk_is_raised_by_the_receiving_thread():
    class FullDisk(io.BytesIO):
        def write(self, data):
            raise OSError(28, "No space left on device")

    writer = HashingWriter(FullDisk())
    with pytest.raises(OSError, match="No space left"):
        for _ in range(100):  # the error surfaces at a later write, sync or finish
            writer.write(b"x" * 4096)
        writer.finish()
    writer.close()


def test_the_writer_hashes_in_order():
    out = io.BytesIO()
    writer = HashingWriter(out)
    parts = [bytes([n]) * (n + 1) for n in range(200)]
    for part in parts:
        writer.write(part)
    writer.sync()
    assert out.getvalue() == b"".join(parts)
    assert writer.finish() == hashlib.sha256(b"".join(parts)).hexdigest()
