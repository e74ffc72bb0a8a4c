"""A video's last frame as a picture of its own, for the gateways that return none.

Ark and BytePlus (and AceData) hand back `content.last_frame_url` when asked
(`return_last_frame`, upstream-research §1.3: "PNG, same size, no watermark; for chaining
clips"); AllToken, seedance2.ink and TokenHub document no such output. For those the stored
video's own last frame stands in, at full size, so "Use as first frame of a new generation"
works whichever gateway made the clip (a first frame must be 300-6000 px a side on Ark, §1.6).
"""

from __future__ import annotations

from pathlib import Path

import av

from projects.media import MAX_VIDEO_PIXELS, check_frame_size

# Seek this far before the end, then decode forward: past the last keyframe of any usual
# encoder's GOP (the simulator's is 1 s, gateways' a few seconds), so only a few seconds of
# frames are decoded whatever the length.
SEEK_BACK_S = 5.0


def write_last_frame(video: Path, out: Path) -> bool:
    """Write the last decodable frame of `video` as a PNG of its full size to `out`; False
    when the file has no frame. Raises MediaInvalid past the pixel caps, av.FFmpegError on a
    file PyAV cannot read."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        check_frame_size(
            stream.codec_context.width,
            stream.codec_context.height,
            label="The video",
            limit=MAX_VIDEO_PIXELS,
        )
        last = _last_frame(container, stream)
    if last is None:
        return False
    last.to_image().save(out, format="PNG")
    return True


def _last_frame(container, stream):
    end = float(container.duration / av.time_base) if container.duration else None
    if end is not None and end > SEEK_BACK_S and stream.time_base:
        target = int((end - SEEK_BACK_S) / stream.time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
    last = None
    for frame in container.decode(stream):
        last = frame
    return last
