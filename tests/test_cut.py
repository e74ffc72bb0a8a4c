"""The cut engine (projects/cut.py, issue 15), checked by decoding with PyAV: the cut lasts the
sum of its takes within one frame, its frames at every boundary are the takes' own, identical
takes are remuxed and differing ones re-encoded to the first take's shape, and sound is kept
(silence where a take has none)."""

from fractions import Fraction

import av
import pytest

from projects.cut import CutError, assemble, video_seconds
from projects.upstream_sim.render import render_video
from tests.cut_frames import boundary_checks, frame_count, frames_at, mad
from tests.media_files import video

FRAME = 1 / 24


@pytest.fixture
def takes(tmp_path):
    """Simulator renders: the frames drift in hue and a bar sweeps, so a frame is recognisable
    by its index; lengths differ so each boundary joins two different frames."""

    def make(seconds: int, width: int = 320, height: int = 180, audio: bool = True):
        return render_video(
            tmp_path / "renders", duration_s=seconds, width=width, height=height, audio=audio
        )

    return make


def test_same_shape_takes_are_remuxed_and_last_the_sum(takes, tmp_path):
    sources = [takes(2), takes(3), takes(4)]
    seen = []
    result = assemble(sources, tmp_path / "cut.mp4", progress=seen.append)
    assert result.reencoded is False
    assert abs(result.duration_s - 9.0) <= FRAME
    assert abs(video_seconds(tmp_path / "cut.mp4") - sum(map(video_seconds, sources))) <= FRAME
    assert frame_count(tmp_path / "cut.mp4") == sum(map(frame_count, sources))
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) > 3
    assert (result.width, result.height, result.fps) == (320, 180, Fraction(24))
    with av.open(str(tmp_path / "cut.mp4")) as cut:
        assert cut.streams.audio, "the takes' sound is kept"
        sound = cut.streams.audio[0]
        assert abs(float(sound.duration * sound.time_base) - 9.0) < 0.05


def test_boundary_frames_are_the_takes_own(takes, tmp_path):
    sources = [takes(2), takes(3), takes(2)]
    cut = tmp_path / "cut.mp4"
    assemble(sources, cut)
    for number, end, difference in boundary_checks(cut, sources, width=320, height=180):
        assert difference < 1.0, (number, end, difference)
    # The check can tell takes apart: the last frame of take 0 is not the first of take 1.
    a = frames_at(sources[0], {47}, width=320, height=180)[47]
    b = frames_at(sources[1], {0}, width=320, height=180)[0]
    assert mad(a, b) > 20


def test_mismatched_sizes_are_reencoded_to_the_first_take(takes, tmp_path):
    sources = [takes(2), takes(3, width=256, height=144), takes(2)]
    cut = tmp_path / "cut.mp4"
    result = assemble(sources, cut)
    assert result.reencoded is True
    assert abs(result.duration_s - 7.0) <= FRAME
    with av.open(str(cut)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.format.name == "yuv420p"
    for number, end, difference in boundary_checks(cut, sources, width=320, height=180):
        assert difference < 4.0, (number, end, difference)


def test_a_take_without_sound_gets_silence_so_sync_holds(takes, tmp_path):
    sources = [takes(2), takes(3, audio=False), takes(2)]
    cut = tmp_path / "cut.mp4"
    result = assemble(sources, cut)
    assert result.reencoded is True
    with av.open(str(cut)) as container:
        sound = container.streams.audio[0]
        seconds = float(sound.duration * sound.time_base)
        assert abs(seconds - 7.0) < 0.05
        # The middle three seconds are silent, the tone either side is not.
        loud = {}
        for frame in container.decode(sound):
            t = float(frame.pts * frame.time_base)
            peak = max(
                abs(x) for x in memoryview(bytes(frame.planes[0])).cast("f")[: frame.samples]
            )
            loud.setdefault(round(t), []).append(peak)
    assert max(loud[1]) > 0.1 and max(loud[3]) < 0.01 and max(loud[6]) > 0.1


def test_a_different_frame_rate_is_resampled_to_the_first_takes(takes, tmp_path):
    other = video(tmp_path, "thirty.mp4", seconds=2, width=320, height=180, fps=30)
    cut = tmp_path / "cut.mp4"
    result = assemble([takes(2), other], cut)
    assert result.reencoded is True and result.fps == Fraction(24)
    assert abs(result.duration_s - 4.0) <= FRAME
    assert frame_count(cut) == 96


def test_no_takes_or_no_video_is_refused(tmp_path):
    with pytest.raises(CutError):
        assemble([], tmp_path / "cut.mp4")
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"not a video")
    with pytest.raises(CutError, match="bogus.mp4"):
        assemble([bogus], tmp_path / "cut.mp4")


def _b_frame_take(path, frames: int, first: int):
    """A take as gateways encode them: x264 with B-frames (dts before pts) and AAC sound."""
    from projects.upstream_sim.render import _frame, _write_tone

    with av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "medium", "bf": "3"}
        sound = out.add_stream("aac", rate=48_000, layout="mono")
        for index in range(frames):
            frame = _frame(first + index, 320, 180)
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        _write_tone(out, sound, frames * 2000)
    return path


def test_takes_with_b_frames_are_remuxed_frame_exact(tmp_path):
    a = _b_frame_take(tmp_path / "a.mp4", 50, 0)
    b = _b_frame_take(tmp_path / "b.mp4", 73, 30)
    with av.open(str(a)) as container:
        assert container.streams.video[0].codec_context.has_b_frames
    cut = tmp_path / "cut.mp4"
    result = assemble([a, b, a], cut)
    assert result.reencoded is False
    assert frame_count(cut) == 50 + 73 + 50
    assert abs(result.duration_s - 173 / 24) <= FRAME
    for number, end, difference in boundary_checks(cut, [a, b, a], width=320, height=180):
        assert difference < 1.0, (number, end, difference)


def test_sound_longer_than_its_take_is_cut_at_the_take_end(tmp_path):
    from projects.upstream_sim.render import _frame, _write_tone

    long_sound = tmp_path / "long.mp4"
    with av.open(str(long_sound), mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 256, 144, "yuv420p"
        sound = out.add_stream("aac", rate=48_000, layout="mono")
        for index in range(48):
            for packet in stream.encode(_frame(index, 256, 144)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        _write_tone(out, sound, 48_000 * 3)  # 3 s of sound under 2 s of picture
    other = _b_frame_take(tmp_path / "b.mp4", 48, 0)
    cut = tmp_path / "cut.mp4"
    result = assemble([other, long_sound, other], cut)
    assert result.reencoded is True and abs(result.duration_s - 6.0) <= FRAME
    with av.open(str(cut)) as container:
        audio = container.streams.audio[0]
        assert abs(float(audio.duration * audio.time_base) - 6.0) < 0.05
