"""How long a reference video is: Ark bills input video seconds (research §1.14) and limits
them (§1.6), so the simulator reads the duration of each reference video it downloads."""

from __future__ import annotations

import io

import av


def video_seconds(data: bytes) -> float | None:
    """The playing time in seconds of the video in `data` (any container PyAV reads), or
    None when it is not a video PyAV can open or has no video stream."""
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = next(iter(container.streams.video), None)
            if stream is None:
                return None
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / av.time_base
    except (av.FFmpegError, ValueError, OSError):
        return None
    return None
