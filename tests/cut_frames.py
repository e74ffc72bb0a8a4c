"""Decoding helpers for the cut's tests (issue 15): frame counts and chosen frames of an MP4,
and the mean absolute difference of two frames' luma, with PyAV only (no ffmpeg, no numpy)."""

from __future__ import annotations

from pathlib import Path

import av


def frame_count(path: Path | str) -> int:
    """Number of video frames in `path`, counted from packets (no decode)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def frames_at(path: Path | str, indices: set[int], *, width: int, height: int) -> dict:
    """{index: luma bytes} of the decoded frames at `indices` (0-based, display order), each
    scaled to (width, height); decodes in one streaming pass."""
    found = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in indices:
                found[index] = luma(frame, width=width, height=height)
    return found


def luma(frame, *, width: int, height: int) -> bytes:
    """The Y plane of `frame` at (width, height), rows without padding."""
    image = frame.reformat(width=width, height=height, format="gray")
    plane = image.planes[0]
    data = bytes(plane)
    return b"".join(
        data[row * plane.line_size : row * plane.line_size + width] for row in range(height)
    )


def mad(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two equal-length luma buffers, 0-255."""
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def boundary_checks(cut: Path, takes: list[Path], *, width: int, height: int) -> list[tuple]:
    """For each take, (take index, which end, MAD of the cut's frame against the take's): its
    first and last frame against the cut's frames at the same place, the cut's frame grid
    being the takes' frames laid end to end."""
    counts = [frame_count(take) for take in takes]
    checks, start = [], 0
    for number, (take, count) in enumerate(zip(takes, counts, strict=True)):
        mine = frames_at(take, {0, count - 1}, width=width, height=height)
        cut_frames = frames_at(cut, {start, start + count - 1}, width=width, height=height)
        checks.append((number, "first", mad(mine[0], cut_frames[start])))
        checks.append((number, "last", mad(mine[count - 1], cut_frames[start + count - 1])))
        start += count
    return checks
