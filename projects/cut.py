"""The cut: chosen takes concatenated, in order, into one MP4 (issue 15), with PyAV only.

`assemble(sources, out)` takes local MP4 paths and writes one MP4 to `out`:

- **remux** (no re-encode) when every take has the same video codec, width, height, frame
  rate, pixel format and codec extradata (the avcC: one file has one set of parameter sets),
  and the same audio (codec, sample rate, layout, extradata) or no audio at all. Packets are
  copied with their timestamps shifted by the length of the takes before them; the cost is
  I/O, like `ffmpeg -f concat -c copy`.
- **re-encode** otherwise, to the first take's width, height and frame rate (H.264, yuv420p;
  AAC at the first audio-bearing take's rate and layout). Each take fills a whole number of
  output frames on the first take's frame grid (a frame shown until the next is due, so a
  different fps is resampled, not stretched), and its audio is padded with silence or cut to
  the take's own video length, so a take without audio is silence and sync holds.

Memory is flat in the cut's length: packets and frames stream from demuxer to muxer one at
a time; nothing holds a whole take. The muxer's sample index (a few bytes a frame) is all that
grows. The sha256 is read back from the written file in 1 MiB blocks.

Knows no Django and no models: callers (projects/services/storyboards.py, bench/assemble.py)
hand it paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

ProgressFn = Callable[[int], None]
AUDIO_FRAME = 1024  # samples per AAC frame
VIDEO_BIT_RATE = 4_000_000  # bits per second when re-encoding (720p H.264, gateway-like)


class CutError(Exception):
    """A take cannot be read or has no video stream; `str()` names the take."""


@dataclass(frozen=True, kw_only=True)
class CutResult:
    """What `assemble` wrote: the file's sha256 (hex), its length in seconds (the sum of the
    takes' video lengths), whether it was re-encoded, its size in bytes and pixels and fps."""

    sha256: str
    duration_s: float
    reencoded: bool
    size_bytes: int
    width: int
    height: int
    fps: Fraction


@dataclass(frozen=True)
class _Shape:
    path: Path
    video: tuple  # what must match for a remux: codec, size, fps, extradata
    audio: tuple | None  # codec, sample rate, layout name, extradata; None without sound
    fps: Fraction
    start_s: Fraction  # the first video frame's time
    duration_s: Fraction  # first frame's start to last frame's end


def assemble(
    sources: Sequence[Path | str], out: Path | str, progress: ProgressFn | None = None
) -> CutResult:
    """Concatenate the MP4s `sources` (at least one) in order into `out` (overwritten).

    `progress(percent)` is called with rising values 0..100 as the cut advances (seconds
    written over the takes' total), 100 once at the end. Raises CutError when there is no
    take, a take cannot be opened or has no video; av.FFmpegError on a take broken mid-stream.
    """
    if not sources:
        raise CutError("A cut needs at least one take.")
    out = Path(out)
    shapes = [_probe(Path(p)) for p in sources]
    report = _Progress(progress, float(sum(s.duration_s for s in shapes)) or 1.0)
    same = all(s.video == shapes[0].video and s.audio == shapes[0].audio for s in shapes)
    if same:
        _remux(shapes, out, report)
    else:
        _reencode(shapes, out, report)
    report.done()
    _, width, height, fps, *_ = shapes[0].video
    return CutResult(
        sha256=_sha256(out),
        duration_s=video_seconds(out),
        reencoded=not same,
        size_bytes=out.stat().st_size,
        width=width,
        height=height,
        fps=fps,
    )


def video_seconds(path: Path | str) -> float:
    """Length in seconds of the first video stream of `path`: the first frame's start to the
    last frame's end, from the container's index (or its packets' timestamps where the index
    has no length; no decode). 0.0 for a stream with no packet."""
    with _open_take(Path(path)) as container:
        start, length = _span(container, container.streams.video[0])
    return float(length)


class _Progress:
    def __init__(self, callback: ProgressFn | None, total: float) -> None:
        self.callback, self.total, self.last = callback, total, -1

    def at(self, seconds: float) -> None:
        percent = max(0, min(99, int(100 * seconds / self.total)))
        if self.callback is not None and percent > self.last:
            self.last = percent
            self.callback(percent)

    def done(self) -> None:
        if self.callback is not None:
            self.callback(100)


def _open_take(path: Path):
    # Open without decoding: an MP4's moov (and the avcC in it) says what find_stream_info
    # would decode a frame to learn, and that decode cost as much as remuxing a 15 s take.
    # (skip_frame binds find_stream_info's decoders only; decoding later is unaffected.)
    try:
        return av.open(str(path), options={"probesize": "32", "skip_frame": "all"})
    except (av.FFmpegError, OSError) as exc:
        raise CutError(f"Take {path.name} cannot be read: {exc}") from exc


def _span(container, stream) -> tuple[Fraction, Fraction]:
    """(start, length) in seconds of `stream`: from the index, else from its packets."""
    if stream.duration and stream.start_time is not None:
        return stream.start_time * stream.time_base, stream.duration * stream.time_base
    start, end = _packet_span(container, stream)
    container.seek(0)
    return start, end - start


def _packet_span(container, stream) -> tuple[Fraction, Fraction]:
    """(start, end) in seconds of `stream`'s packets: smallest pts, largest pts + duration."""
    start = end = None
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        start = packet.pts if start is None else min(start, packet.pts)
        finish = packet.pts + (packet.duration or 0)
        end = finish if end is None else max(end, finish)
    if start is None:
        return Fraction(0), Fraction(0)
    return start * stream.time_base, end * stream.time_base


def _probe(path: Path) -> _Shape:
    """The shape of the take at `path`. The pixel format is not decoded: for H.264/H.265 the
    extradata (SPS) compared with it fixes chroma format and bit depth."""
    with _open_take(path) as container:
        if not container.streams.video:
            raise CutError(f"Take {path.name} has no video.")
        video = container.streams.video[0]
        ctx = video.codec_context
        fps = Fraction(video.average_rate or video.guessed_rate or 24)
        audio = None
        if container.streams.audio:
            actx = container.streams.audio[0].codec_context
            audio = (actx.name, actx.sample_rate, actx.layout.name, bytes(actx.extradata or b""))
        key = (ctx.name, ctx.width, ctx.height, fps, bytes(ctx.extradata or b""))
        start, length = _span(container, video)
    return _Shape(path, key, audio, fps, start, length)


def _open_out(out: Path):
    # faststart: the index goes before the media, so a browser plays the cut while loading.
    return av.open(str(out), mode="w", format="mp4", options={"movflags": "+faststart"})


def _remux(shapes: list[_Shape], out: Path, report: _Progress) -> None:
    offset = Fraction(0)  # seconds: the length of the takes already written
    with _open_out(out) as output:
        with _open_take(shapes[0].path) as first:
            targets = [output.add_stream_from_template(first.streams.video[0])]
            if first.streams.audio:
                targets.append(output.add_stream_from_template(first.streams.audio[0]))
        last_dts: list[float | None] = [None] * len(targets)
        for shape in shapes:
            with _open_take(shape.path) as take:
                inputs = [take.streams.video[0], *take.streams.audio[:1]]
                shift_s = offset - shape.start_s
                _remux_take(take, inputs, targets, output, shift_s, last_dts, report)
            offset += shape.duration_s


def _remux_take(take, inputs, targets, output, shift_s, last_dts, report) -> None:
    """Copy one take's packets `shift_s` seconds later. `last_dts` (per output stream, in
    seconds) keeps decode times rising across a boundary: an audio packet overlapping the
    previous take's tail (AAC priming) is dropped, a video one nudged one tick later."""
    # Per stream: (output stream, time base, shift in its ticks, seconds per tick); plain ints
    # and floats in the loop, which runs once per packet.
    plan = {
        s.index: (i, targets[i], s.time_base, round(shift_s / s.time_base), float(s.time_base))
        for i, s in enumerate(inputs)
    }
    for packet in take.demux(inputs):
        if packet.dts is None or packet.pts is None:
            continue  # the demuxer's end-of-stream marker
        index, target, tb, shift, tick = plan[packet.stream.index]
        packet.pts += shift
        packet.dts += shift
        previous = last_dts[index]
        if previous is not None and packet.dts * tick <= previous:
            if index > 0:
                continue
            packet.dts = int(previous / tick) + 1
            packet.pts = max(packet.pts, packet.dts)
        last_dts[index] = packet.dts * tick
        packet.stream = target
        packet.time_base = tb
        output.mux(packet)
        if index == 0:
            report.at(packet.pts * tick)


class _Encoder:
    """The re-encode path's output: H.264 at the first take's size and fps, AAC at the first
    audio-bearing take's rate and layout. Counts output frames and queued samples across takes;
    samples go through one FIFO so every AAC frame but the last has its full 1024 samples."""

    def __init__(self, output, shapes: list[_Shape]) -> None:
        _, width, height, fps, *_ = shapes[0].video
        self.output, self.fps = output, fps
        self.video = output.add_stream("libx264", rate=fps)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.bit_rate = VIDEO_BIT_RATE
        self.video.options = {"preset": "veryfast"}
        sound = next((s.audio for s in shapes if s.audio is not None), None)
        self.audio = None
        if sound is not None:
            _, self.rate, self.layout, _ = sound
            self.audio = output.add_stream("aac", rate=self.rate, layout=self.layout)
            self.fifo = av.AudioFifo()
        self.frames = 0  # video frames written
        self.queued = 0  # audio samples put in the FIFO
        self.samples = 0  # audio samples encoded
        self.end_s = Fraction(0)  # where the current take ends

    def frame(self, frame) -> None:
        image = frame.reformat(width=self.video.width, height=self.video.height, format="yuv420p")
        image.pts, image.time_base = self.frames, 1 / self.fps
        self._mux(self.video.encode(image))
        self.frames += 1

    def sound(self, frame, stop: int) -> None:
        """Queue `frame` (resampled to the cut's format) up to sample `stop`, then encode."""
        room = stop - self.queued
        if room <= 0:
            return
        if frame.samples > room:
            clip = av.AudioFifo()
            frame.pts = None
            clip.write(frame)
            frame = clip.read(room)
        frame.pts = None
        self.fifo.write(frame)
        self.queued += frame.samples
        self._encode_audio(final=False)

    def silence_to(self, stop: int) -> None:
        while self.queued < stop:
            count = min(AUDIO_FRAME, stop - self.queued)
            frame = av.AudioFrame(format="fltp", layout=self.layout, samples=count)
            for plane in frame.planes:
                plane.update(b"\x00" * plane.buffer_size)
            frame.sample_rate = self.rate
            self.fifo.write(frame)
            self.queued += count
        self._encode_audio(final=False)

    def _encode_audio(self, *, final: bool) -> None:
        while self.fifo.samples >= AUDIO_FRAME or (final and self.fifo.samples):
            frame = self.fifo.read(min(AUDIO_FRAME, self.fifo.samples))
            frame.pts, frame.time_base = self.samples, Fraction(1, self.rate)
            self.samples += frame.samples
            self._mux(self.audio.encode(frame))

    def close(self) -> None:
        self._mux(self.video.encode())
        if self.audio is not None:
            self._encode_audio(final=True)
            self._mux(self.audio.encode())

    def _mux(self, packets) -> None:
        for packet in packets:
            self.output.mux(packet)


def _reencode(shapes: list[_Shape], out: Path, report: _Progress) -> None:
    with _open_out(out) as output:
        enc = _Encoder(output, shapes)
        for shape in shapes:
            enc.end_s += shape.duration_s
            with _open_take(shape.path) as take:
                _reencode_take(take, shape, enc, report)
        enc.close()


def _reencode_take(take, shape: _Shape, enc: _Encoder, report: _Progress) -> None:
    # Output frame n shows the take's latest frame due at or before it; the take fills the
    # frames up to round(end_s * fps), so every boundary falls on the first take's grid.
    begin, stop = enc.frames, round(enc.end_s * enc.fps)
    audio_stop = round(enc.end_s * enc.rate) if enc.audio is not None else 0
    source = take.streams.video[0]
    inputs = [source, *take.streams.audio[:1]]
    resampler = None
    if enc.audio is not None and take.streams.audio:
        resampler = av.AudioResampler(format="fltp", layout=enc.layout, rate=enc.rate)
    held = None
    for packet in take.demux(inputs):
        for frame in packet.decode():
            if packet.stream.type == "audio":
                for converted in resampler.resample(frame) if resampler else ():
                    enc.sound(converted, audio_stop)
                continue
            if frame.pts is None:
                continue
            due = begin + round((frame.pts * source.time_base - shape.start_s) * enc.fps)
            while held is not None and enc.frames < min(due, stop):
                enc.frame(held)
            held = frame
            report.at(float(enc.frames / enc.fps))
    while held is not None and enc.frames < stop:
        enc.frame(held)
    if enc.audio is not None:
        for converted in resampler.resample(None) if resampler else ():
            enc.sound(converted, audio_stop)
        enc.silence_to(audio_stop)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
