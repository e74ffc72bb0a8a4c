"""Probing by content: what a file is does not depend on its name."""

from pathlib import Path

import pytest

from projects.media import MediaInvalid, make_poster, probe_media
from projects.media_types import sniff
from tests import media_files as mf


@pytest.mark.parametrize(
    ("build", "kind", "fmt", "extension"),
    [
        (lambda d: mf.image(d, "x.bin", fmt="JPEG"), "image", "jpeg", "jpg"),
        (lambda d: mf.image(d, "x.jpg", fmt="PNG"), "image", "png", "png"),
        (lambda d: mf.image(d, "x.png", fmt="WEBP"), "image", "webp", "webp"),
        (lambda d: mf.image(d, "x.gif", fmt="GIF"), "image", "gif", "gif"),
        (lambda d: mf.image(d, "x", fmt="BMP"), "image", "bmp", "bmp"),
        (lambda d: mf.image(d, "x.tif", fmt="TIFF"), "image", "tiff", "tiff"),
        (lambda d: mf.video(d, "x.mov", container="mp4"), "video", "mp4", "mp4"),
        (lambda d: mf.video(d, "x.mp4", container="mov"), "video", "mov", "mov"),
        (lambda d: mf.audio(d, "x.mp3", fmt="wav"), "audio", "wav", "wav"),
        (lambda d: mf.audio(d, "x.wav", fmt="mp3"), "audio", "mp3", "mp3"),
    ],
)
def test_the_type_comes_from_the_bytes_not_the_name(tmp_path, build, kind, fmt, extension):
    info = probe_media(build(tmp_path), name="whatever")
    assert (info.kind, info.format, info.extension) == (kind, fmt, extension)


def test_video_and_audio_are_measured(tmp_path):
    video = probe_media(mf.video(tmp_path, "v.mp4", seconds=2.5, width=800, height=600, fps=30))
    assert (video.width, video.height, video.fps, video.codec) == (800, 600, 30.0, "h264")
    assert video.duration_s == pytest.approx(2.5, abs=0.05)
    sound = probe_media(mf.audio(tmp_path, "a.mp3", seconds=4, fmt="mp3"))
    assert sound.duration_s == pytest.approx(4.0, abs=0.1) and sound.codec.startswith("mp3")
    picture = probe_media(mf.image(tmp_path, "p.png", width=1234, height=567))
    assert (picture.width, picture.height, picture.duration_s) == (1234, 567, None)


def test_sniff_names_what_a_refused_file_is():
    assert sniff(b"%PDF-1.7 ...") == ("other", "a PDF document")
    assert sniff(b"\x1a\x45\xdf\xa3....") == ("other", "a WebM/Matroska video")
    assert sniff(b"\x00\x00\x00\x18ftypheic") == ("other", "a HEIC/HEIF image")
    assert sniff(b"\x00\x00\x00\x18ftypM4V \x00") == ("video", "m4v")
    assert sniff(b"hello world\n") == ("other", "a text file")


def test_a_truncated_faststart_mp4_is_caught_by_its_boxes(tmp_path):
    # moov first (faststart), so the index survives the cut: only the box walk notices.
    source = mf.video(tmp_path, "fs.mp4", seconds=2)
    import av

    faststart = tmp_path / "faststart.mp4"
    with (
        av.open(str(source)) as src,
        av.open(str(faststart), "w", format="mp4", options={"movflags": "faststart"}) as out,
    ):
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    cut = mf.truncated(faststart, tmp_path, "cut.mp4", keep=0.7)
    with pytest.raises(MediaInvalid, match=r"“cut.mp4” looks like an MP4 video but is truncated"):
        probe_media(cut, name="cut.mp4")


def test_posters_are_small_jpegs(tmp_path):
    from PIL import Image

    for source in (
        mf.image(tmp_path, "big.png", width=2000, height=1000),
        mf.video(tmp_path, "v.mp4", width=640, height=640),
    ):
        out = tmp_path / f"{source.stem}-poster.jpg"
        assert make_poster(source, probe_media(source), out)
        with Image.open(out) as poster:
            assert poster.format == "JPEG" and max(poster.size) == 480
    sound = mf.audio(tmp_path, "a.wav")
    assert not make_poster(sound, probe_media(sound), tmp_path / "none.jpg")


def test_missing_file_is_refused_as_empty(tmp_path):
    with pytest.raises(MediaInvalid, match="is empty"):
        probe_media(Path(tmp_path / "nope.png"), name="nope.png")
