"""Real media files for the upstream simulator: an H.264 MP4 and a JPEG cover, made with PyAV.

The pixel size is the gateway's own output size (§1.7: 1280x720 for 2.0 at 720p 16:9), at
24 fps, so what a test stores is what a gateway would hand over: a last frame is big enough
to be an Ark first frame (300 px a side at least, §1.6). Cheap anyway: x264 ultrafast at a
low bitrate (BIT_RATE, ~75 kB for 5 s) with a keyframe every second (GOP) so the last frame is
one short decode away; a 720p 5 s clip encodes in about 0.2 s. Renders are cached on disk by
their parameters, so a thousand simulated tasks of the same shape cost one encode.
"""

import math
import os
import tempfile
from array import array
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from projects.upstream_sim.tokens import FPS, output_size

AUDIO_RATE = 48_000
BIT_RATE = 120_000  # bits per second: the picture is a test card, not worth more
GOP = FPS  # a keyframe every second


def render_size(model: str, resolution: str, ratio: str) -> tuple[int, int]:
    """The (width, height) the simulator encodes: the model's output size (tokens.output_size,
    §1.7), rounded down to even numbers (yuv420p needs them; every §1.7 size already is)."""
    width, height = output_size(model, resolution, ratio)
    return max(16, width // 2 * 2), max(16, height // 2 * 2)


def _cached(cache_dir: Path, name: str, build) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / name
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=target.suffix)
        os.close(fd)
        try:
            build(Path(tmp))
            os.replace(tmp, target)  # atomic: concurrent renders of one shape never see halves
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def render_video(
    cache_dir: Path,
    *,
    duration_s: int,
    width: int,
    height: int,
    audio: bool,
    pad_bytes: int = 0,
    frames: int | None = None,
) -> Path:
    """Path of an MP4 (H.264 yuv420p, 24 fps, optional mono AAC tone) of exactly `duration_s`,
    or of exactly `frames` frames when given (an Ark `frames` request, (frames - 1) / 24 s+).

    `pad_bytes` appends an MP4 `free` box of that many bytes: the file stays valid and plays the
    same, but is as large as a benchmark needs without encoding noise.
    """
    count = frames if frames is not None else duration_s * FPS
    name = f"v_{count}f_{width}x{height}_{'a' if audio else 'n'}_{pad_bytes}.mp4"
    return _cached(cache_dir, name, lambda p: _encode(p, count, width, height, audio, pad_bytes))


def render_cover(cache_dir: Path, *, width: int, height: int) -> Path:
    """Path of a JPEG cover image of (width, height) pixels."""

    def build(path: Path) -> None:
        Image.new("RGB", (width, height), (40, 90, 160)).save(path, format="JPEG", quality=80)

    return _cached(cache_dir, f"c_{width}x{height}.jpg", build)


def render_last_frame(cache_dir: Path, *, width: int, height: int) -> Path:
    """Path of a PNG 'last frame' of (width, height) pixels (Ark `return_last_frame`)."""

    def build(path: Path) -> None:
        Image.new("RGB", (width, height), (160, 60, 60)).save(path, format="PNG")

    return _cached(cache_dir, f"l_{width}x{height}.png", build)


def _encode(path: Path, frames: int, width: int, height: int, audio: bool, pad: int) -> None:
    with av.open(str(path), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = BIT_RATE
        video.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(GOP)}
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        for index in range(frames):
            for packet in video.encode(_frame(index, width, height)):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            _write_tone(container, sound, frames * AUDIO_RATE // FPS)
    if pad:
        with open(path, "ab") as handle:
            _append_free_box(handle, pad)


def _frame(index: int, width: int, height: int) -> av.VideoFrame:
    # A hue that drifts with time and a bright bar sweeping left to right: visibly moving.
    frame = av.VideoFrame(width, height, "yuv420p")
    bar = (index * 4) % width
    row = bytearray([60 + (index % 120)] * width)
    row[bar : bar + max(2, width // 16)] = b"\xeb" * len(row[bar : bar + max(2, width // 16)])
    frame.planes[0].update(_plane_bytes(frame.planes[0], bytes(row), height))
    u = bytes([(128 + index * 2) % 256]) * (width // 2)
    v = bytes([(200 - index) % 256]) * (width // 2)
    frame.planes[1].update(_plane_bytes(frame.planes[1], u, height // 2))
    frame.planes[2].update(_plane_bytes(frame.planes[2], v, height // 2))
    frame.pts = index
    frame.time_base = Fraction(1, FPS)
    return frame


def _plane_bytes(plane, row: bytes, rows: int) -> bytes:
    # Planes may be padded to a line size wider than the picture.
    padded = row + b"\x00" * (plane.line_size - len(row))
    return padded * rows


def _write_tone(container, stream, total: int) -> None:
    chunk = 1024
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        samples = array(
            "f",
            (0.2 * math.sin(2 * math.pi * 440 * (start + i) / AUDIO_RATE) for i in range(count)),
        )
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(
            samples.tobytes() + b"\x00" * (frame.planes[0].buffer_size - count * 4)
        )
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def _append_free_box(handle, size: int) -> None:
    size = max(size, 16)
    handle.write((1).to_bytes(4, "big") + b"free" + size.to_bytes(8, "big"))
    block = b"\x00" * (1 << 20)
    remaining = size - 16
    while remaining > 0:
        handle.write(block[: min(len(block), remaining)])
        remaining -= min(len(block), remaining)
