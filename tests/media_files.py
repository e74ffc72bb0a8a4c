"""Real media files for tests, made on the spot with Pillow and PyAV (no fixtures on disk)."""

from __future__ import annotations

import math
from array import array
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from projects.upstream_sim import render


def image(
    directory: Path, name: str, *, width: int = 640, height: int = 360, fmt: str = "PNG"
) -> Path:
    """An image of (width, height) pixels in Pillow format `fmt` (PNG, JPEG, BMP, ...)."""
    path = directory / name
    Image.new("RGB", (width, height), (30, 120, 200)).save(path, format=fmt)
    return path


def video(
    directory: Path,
    name: str,
    *,
    seconds: float = 3,
    width: int = 640,
    height: int = 640,
    fps: int = 24,
    container: str = "mp4",
    codec: str = "libx264",
    audio: bool = False,
) -> Path:
    """A video of `seconds` at `fps`; 640x640 by default (409,600 px: the smallest Ark takes
    for 480p/720p reference video, upstream-research §1.6)."""
    path = directory / name
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=48_000, layout="mono") if audio else None
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(index * 3) % 256]) * plane.buffer_size)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            _tone(out, sound, seconds, 48_000, "fltp")
    return path


def audio(directory: Path, name: str, *, seconds: float = 3, fmt: str = "wav") -> Path:
    """A mono 440 Hz tone of `seconds`, as WAV (pcm_s16le) or MP3 (libmp3lame)."""
    path = directory / name
    rate = 44_100 if fmt == "mp3" else 16_000
    with av.open(str(path), mode="w", format=fmt) as out:
        if fmt == "wav":
            stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
            _tone(out, stream, seconds, rate, "s16")
        else:
            stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
            _tone(out, stream, seconds, rate, "fltp")
    return path


def m4a(directory: Path, name: str, *, seconds: float = 3) -> Path:
    """AAC audio in an MP4 container with no video stream."""
    path = directory / name
    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48_000, layout="mono")
        _tone(out, stream, seconds, 48_000, "fltp")
    return path


def sim_video(directory: Path, *, seconds: int = 3) -> Path:
    """The simulator's own render: H.264 with an AAC tone, moov at the end."""
    return render.render_video(directory, duration_s=seconds, width=640, height=640, audio=True)


def truncated(source: Path, directory: Path, name: str, *, keep: float = 0.5) -> Path:
    """The first `keep` share of `source`'s bytes under `name`."""
    data = source.read_bytes()
    path = directory / name
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def renamed(source: Path, directory: Path, name: str) -> Path:
    """`source`'s bytes under another name (a disguised file)."""
    path = directory / name
    path.write_bytes(source.read_bytes())
    return path


def _tone(out, stream, seconds: float, rate: int, sample_format: str) -> None:
    total = int(seconds * rate)
    chunk = 1152
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        values = [0.2 * math.sin(2 * math.pi * 440 * (start + i) / rate) for i in range(count)]
        if sample_format == "s16":
            data = array("h", (int(v * 32767) for v in values)).tobytes()
        else:
            data = array("f", values).tobytes()
        frame = av.AudioFrame(format=sample_format, layout="mono", samples=count)
        frame.planes[0].update(data + b"\x00" * (frame.planes[0].buffer_size - len(data)))
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
