"""Probing media files: what they are (decided by their bytes, never by their name), and their
shape (pixels, seconds, frames per second, codec), with PyAV for video and audio and Pillow for
images.

Used on every stored output (`probe_video`: duration and pixel size recorded beside the sha256)
and on every uploaded reference (`probe_media`). Accepted reference types are the union of what
the gateways document: images jpg/jpeg/png/webp/gif/bmp (+ tiff for Ark), video mp4/mov/m4v,
audio mp3/wav (seedance2.ink image-to-video reference; upstream-research.md §1.6). Whether a
given gateway takes a given file is checked later, against its `MediaLimits`, when the file is
used. Everything refused here raises MediaInvalid with a message that names the file and says
what is wrong with it.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from projects.exceptions import ApplicationError
from projects.media_types import (
    ACCEPTED,
    AUDIO_FORMATS,
    IMAGE_FORMATS,
    VIDEO_FORMATS,
    iso_boxes,
    sniff,
)

# The largest picture any gateway takes: Ark documents each side (300, 6000) px for images and
# reference video (upstream-research.md §1.6), so 6000 x 6000 = 36 MP. A decoded image costs up
# to width*height*4 bytes (144 MB here); past this we refuse from the header, before decoding.
MAX_IMAGE_PIXELS = 6000 * 6000
# Video frames: same bound (Ark's reference video side [300, 6000]; 2.5 outputs up to 8.3 MP).
MAX_VIDEO_PIXELS = 6000 * 6000
# Pillow raises DecompressionBombError past 2x its MAX_IMAGE_PIXELS and only warns between 1x
# and 2x; we turn both into MediaInvalid (a size a header lies about is caught on decode).
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# Process-wide, not per call: warnings.catch_warnings is not thread-safe.
warnings.simplefilter("error", Image.DecompressionBombWarning)
# At most this many probes/posters decode at once in one process; more wait their turn.
PROBE_CONCURRENCY = max(1, int(os.environ.get("SEEDANCE_PROBE_CONCURRENCY", "2") or 2))
_probe_slots = threading.BoundedSemaphore(PROBE_CONCURRENCY)
# ISO base media (MP4/MOV) top-level boxes a QuickTime file may start with when it has no ftyp.


class MediaInvalid(ApplicationError):
    """The file is empty, corrupt, truncated, or not a type we accept; `message` says which."""


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


@dataclass(frozen=True)
class MediaInfo:
    """What an uploaded file is. `kind` image|video|audio; `format` one of jpeg png webp gif bmp
    tiff mp4 mov m4v mp3 wav; `extension` the one its stored name gets; `width`/`height` pixels
    (images, video), `duration_s` seconds and `codec` (video, audio), `fps` (video)."""

    kind: str
    format: str
    extension: str
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None
    codec: str = ""
    has_audio: bool = False
    frames: int | None = None

    @property
    def format_label(self) -> str:
        """'PNG image', 'MP4 video', 'WAV audio'."""
        return f"{self.format.upper()} {self.kind}"


def _one_probe_slot[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` holding one of PROBE_CONCURRENCY slots: a caller waits (never fails) while
    the others decode, so N concurrent uploads cost at most PROBE_CONCURRENCY decodes' memory."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _probe_slots:
            return func(*args, **kwargs)

    return wrapper


def check_frame_size(width: int, height: int, *, label: str, limit: int) -> None:
    """Refuse a `width` x `height` px picture above `limit` pixels, with MediaInvalid; called on
    header values, before any decode. Limit from Ark's 6000 px a side (upstream-research §1.6)."""
    if width * height > limit:
        raise MediaInvalid(
            f"{label} is {width}×{height} px ({width * height / 1_000_000:.1f} megapixels); "
            f"pictures above {limit / 1_000_000:g} megapixels (6000×6000) are refused, the "
            "most any gateway takes."
        )


@_one_probe_slot
def probe_media(path: Path, *, name: str = "") -> MediaInfo:
    """Decide what the file at `path` is from its content and measure it.

    `name` is how the user knows the file (its original filename), used in messages only.
    Refuses, with MediaInvalid: empty files, pictures or video frames above 36 MP (checked from
    the header, before decoding), unknown or unaccepted types (whatever the name
    says), undecodable or truncated images, video without a video stream, without an index
    (moov) or cut short, audio without an audio stream or cut short.
    """
    label = f"“{name}”" if name else "The file"
    size = path.stat().st_size if path.exists() else 0
    if size == 0:
        raise MediaInvalid(f"{label} is empty (0 bytes).")
    with open(path, "rb") as handle:
        head = handle.read(64)
    kind, fmt = sniff(head)
    if kind == "other":
        what = f"is {fmt}" if fmt else "is not any media type we know"
        raise MediaInvalid(
            f"{label} {what}; we accept {ACCEPTED} (the type is read from the content, not the "
            "name)."
        )
    if kind == "image":
        return _probe_image(path, fmt, label)
    if kind == "video":
        return _probe_video_file(path, fmt, label, size)
    return _probe_audio(path, fmt, label, size)


@_one_probe_slot
def probe_video(path: Path) -> VideoInfo:
    """Open `path`, decode its first frame and report its shape. Raises MediaInvalid (also for
    frames above MAX_VIDEO_PIXELS, read from the stream header before decoding)."""
    if not path.exists() or path.stat().st_size == 0:
        raise MediaInvalid("The video file is empty.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaInvalid("The file has no video stream.")
            stream = container.streams.video[0]
            check_frame_size(
                stream.codec_context.width,
                stream.codec_context.height,
                label="The video",
                limit=MAX_VIDEO_PIXELS,
            )
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


@_one_probe_slot
def make_poster(path: Path, info: MediaInfo, out: Path, *, max_side: int = 480) -> bool:
    """Write a JPEG thumbnail (images) or first-frame poster (video) of at most `max_side`
    pixels to `out`. Returns False when the kind has no picture (audio). Raises MediaInvalid
    for a picture above the pixel caps (the file should have been probed first)."""
    if info.kind == "image":
        with _bomb_refused("The image"), Image.open(path) as image:
            check_frame_size(*image.size, label="The image", limit=MAX_IMAGE_PIXELS)
            image.seek(0)
            # JPEG decodes at 1/2..1/8 scale straight away; others reduce while decoding.
            image.draft("RGB", (max_side, max_side))
            image.thumbnail((max_side, max_side), reducing_gap=2.0)
            picture = image.convert("RGB")
    elif info.kind == "video":
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            check_frame_size(
                stream.codec_context.width,
                stream.codec_context.height,
                label="The video",
                limit=MAX_VIDEO_PIXELS,
            )
            frame = next(container.decode(stream))
            # Scale in the decoder's own pixel format: no full-size RGB copy.
            scale = max_side / max(frame.width, frame.height, 1)
            if scale < 1:
                frame = frame.reformat(
                    width=max(1, round(frame.width * scale)),
                    height=max(1, round(frame.height * scale)),
                )
            picture = frame.to_image()
    else:
        return False
    picture.thumbnail((max_side, max_side))
    picture.save(out, format="JPEG", quality=82)
    return True


# --- images ---------------------------------------------------------------------------------
class _bomb_refused:
    """Context: Pillow's DecompressionBombWarning/Error (a header past Image.MAX_IMAGE_PIXELS,
    e.g. a GIF frame bigger than its screen) become the MediaInvalid the size check gives."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, (Image.DecompressionBombWarning, Image.DecompressionBombError)):
            raise MediaInvalid(
                f"{self.label} is larger than {MAX_IMAGE_PIXELS / 1_000_000:g} megapixels "
                "(6000×6000), the most any gateway takes; it is refused."
            ) from exc
        return False


def _probe_image(path: Path, fmt: str, label: str) -> MediaInfo:
    what = f"{label} looks like {_a(fmt)} {fmt.upper()} image but"
    try:
        with _bomb_refused(label), Image.open(path, formats=list(IMAGE_FORMATS)) as image:
            # Image.open reads the header only: the size is known before any pixel is decoded.
            width, height = image.size
            if width < 1 or height < 1:
                raise MediaInvalid(f"{what} has no pixels.")
            check_frame_size(width, height, label=label, limit=MAX_IMAGE_PIXELS)
            our_format, extension, content_type = IMAGE_FORMATS[image.format]
            frames = getattr(image, "n_frames", 1)
            image.load()  # decodes every byte: a truncated or corrupt file fails here
    except MediaInvalid:
        raise
    except UnidentifiedImageError as exc:
        raise MediaInvalid(f"{what} cannot be decoded.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        detail = str(exc) or type(exc).__name__
        if "truncated" in detail:
            raise MediaInvalid(f"{what} is truncated: its data ends early.") from exc
        raise MediaInvalid(f"{what} cannot be decoded ({detail}).") from exc
    return MediaInfo(
        kind="image",
        format=our_format,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        frames=frames,
    )


# --- video ----------------------------------------------------------------------------------
def _probe_video_file(path: Path, fmt: str, label: str, size: int) -> MediaInfo:
    what = f"{label} looks like {_a(fmt)} {fmt.upper()} video but"
    boxes = iso_boxes(path, size)
    if boxes.truncated_by:
        raise MediaInvalid(
            f"{what} is truncated: it ends {boxes.truncated_by} bytes before the end of its "
            f"“{boxes.truncated_box}” box (the upload was probably cut off)."
        )
    if b"moov" not in boxes.types:
        raise MediaInvalid(
            f"{what} has no index (no “moov” box); it was probably cut off or is not finished."
        )
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaInvalid(f"{label} has no video stream (audio only?).")
            stream = container.streams.video[0]
            check_frame_size(
                stream.codec_context.width,
                stream.codec_context.height,
                label=label,
                limit=MAX_VIDEO_PIXELS,
            )
            duration = _duration(container, stream)
            if duration <= 0:
                raise MediaInvalid(f"{what} has no duration.")
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaInvalid(f"{what} has no decodable frame.")
            rate = stream.average_rate or stream.guessed_rate
            extension, content_type = VIDEO_FORMATS[fmt]
            return MediaInfo(
                kind="video",
                format=fmt,
                extension=extension,
                content_type=content_type,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration_s=round(duration, 3),
                fps=round(float(rate), 3) if rate else None,
                codec=stream.codec_context.name,
                has_audio=bool(container.streams.audio),
            )
    except av.FFmpegError as exc:
        raise MediaInvalid(f"{what} cannot be decoded ({exc.__class__.__name__}).") from exc


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


# --- audio ----------------------------------------------------------------------------------
def _probe_audio(path: Path, fmt: str, label: str, size: int) -> MediaInfo:
    what = f"{label} looks like {fmt.upper()} audio but"
    if fmt == "wav":
        with open(path, "rb") as handle:
            declared = int.from_bytes(handle.read(8)[4:8], "little") + 8
        # 0 and 0xFFFFFFFF mean "unknown length" (written by streaming encoders).
        if declared not in (8, 0xFFFFFFFF + 8) and declared > size:
            raise MediaInvalid(
                f"{what} is truncated: its header announces {declared} bytes, the file has {size}."
            )
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaInvalid(f"{what} has no audio stream.")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            announced = _duration(container, stream)
            if announced <= 0:
                raise MediaInvalid(f"{what} has no duration.")
            if next(container.decode(stream), None) is None:
                raise MediaInvalid(f"{what} has no decodable sound.")
        held = _packet_seconds(path)
    except av.FFmpegError as exc:
        raise MediaInvalid(f"{what} cannot be decoded ({exc.__class__.__name__}).") from exc
    # Headers (an MP3's Xing frame count, a bitrate estimate) can promise more than the file
    # holds: a cut-off file still announces its full length.
    if held and announced - held > max(0.5, 0.1 * announced):
        raise MediaInvalid(
            f"{what} is truncated: it announces {announced:.1f} s but holds {held:.1f} s."
        )
    extension, content_type = AUDIO_FORMATS[fmt]
    return MediaInfo(
        kind="audio",
        format=fmt,
        extension=extension,
        content_type=content_type,
        duration_s=round(min(announced, held) if held else announced, 3),
        codec=codec,
        has_audio=True,
    )


def _packet_seconds(path: Path) -> float:
    """Seconds of audio the file's packets really cover (demuxed, not decoded: cheap)."""
    end = 0.0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


def _a(word: str) -> str:
    """The article for an upper-cased format name: 'an MP4', 'a PNG'."""
    return "an" if word.upper()[:1] in "AEFHILMNORSX" else "a"
