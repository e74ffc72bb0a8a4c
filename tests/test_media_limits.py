"""Probing is bounded (issue 19): pictures and video frames above 36 MP (Ark's 6000 px a side,
upstream-research §1.6) are refused from the header before any decode, and at most
PROBE_CONCURRENCY probes decode at once."""

from __future__ import annotations

import struct
import threading
import time
import tracemalloc
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import av
import pytest

from projects import media
from projects.media import MediaInfo, MediaInvalid, make_poster, probe_media, probe_video
from tests import media_files


def zero_png(path: Path, width: int, height: int) -> Path:
    """An RGBA PNG of zeros, written row by row (never `width*height*4` bytes in memory):
    9999 x 9999 compresses to about 388 KB."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + width * 4)  # filter byte 0 + RGBA zeros
    parts = [compressor.compress(row) for _ in range(height)]
    data = b"".join(parts) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def one_frame_video(path: Path, width: int, height: int) -> Path:
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=1)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frame = av.VideoFrame(width, height, "yuv420p")
        frame.pts, frame.time_base = 0, Fraction(1, 1)
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return zero_png(tmp_path_factory.mktemp("bomb") / "bomb.png", 9999, 9999)


def test_9999_png_refused_from_header_with_little_memory(bomb: Path) -> None:
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(MediaInvalid) as refused:
            probe_media(bomb, name="bomb.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Pillow's own check (Image.MAX_IMAGE_PIXELS, set to our cap) refuses it while opening.
    assert refused.value.message.startswith("“bomb.png” is larger than 36 megapixels")
    assert peak < 100 * 1024 * 1024, peak
    assert peak < 5 * 1024 * 1024, peak  # in fact: nothing was decoded


def test_poster_of_oversized_image_refused(bomb: Path, tmp_path: Path) -> None:
    info = MediaInfo(kind="image", format="png", extension="png", content_type="image/png")
    with pytest.raises(MediaInvalid, match="megapixels"):
        make_poster(bomb, info, tmp_path / "poster.jpg")
    assert not (tmp_path / "poster.jpg").exists()


def test_pillow_bomb_check_gives_the_same_refusal(tmp_path: Path, monkeypatch) -> None:
    # A picture under our header check but past Pillow's own limit (as a GIF frame larger
    # than its screen would be): Pillow's DecompressionBombWarning becomes MediaInvalid.
    path = media_files.image(tmp_path, "a.png", width=400, height=400)
    monkeypatch.setattr(media.Image, "MAX_IMAGE_PIXELS", 100_000)  # warns past 1x, raises 2x
    with warnings.catch_warnings():
        # media sets this filter process-wide at import; pytest resets filters for each test.
        warnings.simplefilter("error", media.Image.DecompressionBombWarning)
        with pytest.raises(MediaInvalid, match="megapixels"):
            probe_media(path, name="a.png")
    monkeypatch.setattr(media.Image, "MAX_IMAGE_PIXELS", 50_000)
    with pytest.raises(MediaInvalid, match="megapixels"):
        probe_media(path, name="a.png")


def test_image_at_the_cap_is_accepted(tmp_path: Path) -> None:
    info = probe_media(zero_png(tmp_path / "edge.png", 6000, 6000), name="edge.png")
    assert (info.width, info.height) == (6000, 6000)


def test_large_jpeg_poster_is_small(tmp_path: Path) -> None:
    path = media_files.image(tmp_path, "big.jpg", width=5000, height=4000, fmt="JPEG")
    info = probe_media(path, name="big.jpg")
    tracemalloc.start()
    try:
        assert make_poster(path, info, tmp_path / "poster.jpg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Full-size RGB would be 60 MB; draft mode decodes at 1/8 scale.
    assert peak < 10 * 1024 * 1024, peak
    with media.Image.open(tmp_path / "poster.jpg") as poster:
        assert max(poster.size) == 480


def test_video_frame_over_cap_refused(tmp_path: Path) -> None:
    path = one_frame_video(tmp_path / "big.mp4", 6400, 6000)
    with pytest.raises(MediaInvalid) as refused:
        probe_media(path, name="big.mp4")
    assert "“big.mp4” is 6400×6000 px" in refused.value.message
    assert "36 megapixels" in refused.value.message
    with pytest.raises(MediaInvalid, match="6400×6000 px"):
        probe_video(path)


def test_check_frame_size_on_header_values() -> None:
    media.check_frame_size(6000, 6000, label="x", limit=media.MAX_VIDEO_PIXELS)
    with pytest.raises(MediaInvalid, match="6001×6000 px"):
        media.check_frame_size(6001, 6000, label="x", limit=media.MAX_VIDEO_PIXELS)


def test_video_poster_is_scaled(tmp_path: Path) -> None:
    path = media_files.video(tmp_path, "v.mp4", seconds=1, width=1920, height=1080)
    info = probe_media(path, name="v.mp4")
    assert make_poster(path, info, tmp_path / "poster.jpg")
    with media.Image.open(tmp_path / "poster.jpg") as poster:
        assert poster.size == (480, 270)


def test_at_most_n_probes_at_once(tmp_path: Path, monkeypatch) -> None:
    slots = media.PROBE_CONCURRENCY
    assert slots == 2  # SEEDANCE_PROBE_CONCURRENCY default
    path = media_files.image(tmp_path, "a.png", width=64, height=64)
    inside, most, lock = 0, 0, threading.Lock()
    real = media._probe_image

    def slow_probe(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.2)
        with lock:
            inside -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "_probe_image", slow_probe)
    results: list[MediaInfo] = []
    threads = [
        threading.Thread(target=lambda: results.append(probe_media(path))) for _ in range(slots + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == slots
    assert len(results) == slots + 1  # the one that waited was served, not refused
