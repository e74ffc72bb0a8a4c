"""Probing media files with PyAV: what they are, how long, how large.

Used on every stored output (duration and pixel size recorded beside the sha256) and on every
uploaded reference. Raises MediaInvalid with a message a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from projects.exceptions import ApplicationError


class MediaInvalid(ApplicationError):
    """The file is empty, corrupt, truncated or not the media it claims to be."""


@dataclass(frozen=True)
class VideoInfo:
    """Probed facts: `duration_s` seconds, `width`/`height` pixels, `fps` frames per second."""

    container: str
    codec: str
    width: int
    height: int
    duration_s: float
    fps: float | None
    has_audio: bool


def probe_video(path: Path) -> VideoInfo:
    """Open `path`, decode its first frame and report its shape. Raises MediaInvalid."""
    if not path.exists() or path.stat().st_size == 0:
        raise MediaInvalid("The video file is empty.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaInvalid("The file has no video stream.")
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            if duration <= 0:
                raise MediaInvalid("The video has no duration.")
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaInvalid("The video has no decodable frame.")
            return VideoInfo(
                container=container.format.name,
                codec=stream.codec_context.name,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration_s=round(duration, 3),
                fps=float(stream.average_rate) if stream.average_rate else None,
                has_audio=bool(container.streams.audio),
            )
    except av.FFmpegError as exc:
        raise MediaInvalid(f"The video cannot be read ({exc.__class__.__name__}).") from exc


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
