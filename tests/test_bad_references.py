"""Bad reference files and bad reference combinations, one table: each is refused with its own
message, and leaves nothing behind: no Asset row, no stored file, no scratch file, no
generation task, no ledger entry, no request upstream.

Each row uploads its files in place (as the form's file inputs and `generate --first-frame PATH`
do) or picks library assets, for TokenHub's doubao-seedance-2.0, which is held to Ark's media
limits (upstream-research §1.6).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

from projects.exceptions import InvalidRequest
from projects.models import Asset, GenerationTask
from projects.services.assets import asset_create, asset_update
from projects.services.generation import GenerationParams, ReferenceInput, generation_task_create
from projects.storage import temp_dir
from tests import media_files as mf
from tests import stubs
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def up(role: str, path: Path) -> ReferenceInput:
    return ReferenceInput(role=role, upload=path)


@dataclass
class Library:
    """Makes library assets for rows that pick from the library."""

    project: object
    user: object
    directory: Path

    def asset(self, path: Path, *, project=None, **fields) -> Asset:
        asset = asset_create(project=project or self.project, user=self.user, upload=path)
        if fields:
            asset_update(asset=asset, user=asset.uploaded_by, name=asset.name, **fields)
        return asset


@dataclass
class Row:
    id: str
    build: Callable[[Path, Library], tuple[list[ReferenceInput], dict]]
    expected: str


def refs(*references: ReferenceInput, **overrides):
    return lambda: (list(references), overrides)


def empty(d: Path, name: str) -> Path:
    (d / name).write_bytes(b"")
    return d / name


def text(d: Path, name: str, body: bytes) -> Path:
    (d / name).write_bytes(body)
    return d / name


def m4v(d: Path) -> Path:
    path = mf.video(d, "clip.m4v", seconds=3)
    data = bytearray(path.read_bytes())
    data[8:12] = b"M4V "  # the ftyp major brand an .m4v carries
    path.write_bytes(bytes(data))
    return path


def image(d: Path, name: str = "frame.png", **kw) -> Path:
    return mf.image(d, name, **kw)


ROWS = [
    Row(
        "zero-bytes",
        lambda d, lib: ([up("first_frame", empty(d, "empty.png"))], {}),
        "“empty.png” is empty (0 bytes).",
    ),
    Row(
        "html-named-jpg",
        lambda d, lib: (
            [up("first_frame", text(d, "photo.jpg", b"<!doctype html><html>nope</html>"))],
            {},
        ),
        "“photo.jpg” is an HTML page; we accept images",
    ),
    Row(
        "random-bytes-named-wav",
        lambda d, lib: (
            [
                up("reference_image", image(d)),
                up("reference_audio", text(d, "beat.wav", os.urandom(4096))),
            ],
            {},
        ),
        "“beat.wav” is not any media type we know",
    ),
    Row(
        "png-renamed-mp4",
        lambda d, lib: (
            [up("reference_video", mf.renamed(image(d), d, "motion.mp4"))],
            {},
        ),
        "“motion.mp4” is an image; reference_video needs a video.",
    ),
    Row(
        "image-as-audio",
        lambda d, lib: (
            [up("reference_image", image(d)), up("reference_audio", image(d, "song.png"))],
            {},
        ),
        "“song.png” is an image; reference_audio needs an audio file.",
    ),
    Row(
        "truncated-mp4",
        lambda d, lib: (
            [up("reference_video", mf.truncated(mf.sim_video(d), d, "cut.mp4", keep=0.6))],
            {},
        ),
        "“cut.mp4” looks like an MP4 video but is truncated",
    ),
    Row(
        "truncated-png",
        lambda d, lib: (
            [up("first_frame", mf.truncated(image(d, width=900, height=900), d, "half.png"))],
            {},
        ),
        "“half.png” looks like a PNG image but is truncated: its data ends early.",
    ),
    Row(
        "truncated-wav",
        lambda d, lib: (
            [
                up("reference_image", image(d)),
                up("reference_audio", mf.truncated(mf.audio(d, "a.wav"), d, "cut.wav")),
            ],
            {},
        ),
        "“cut.wav” looks like WAV audio but is truncated: its header announces",
    ),
    Row(
        "truncated-mp3",
        lambda d, lib: (
            [
                up("reference_image", image(d)),
                up(
                    "reference_audio",
                    mf.truncated(mf.audio(d, "a.mp3", seconds=6, fmt="mp3"), d, "cut.mp3"),
                ),
            ],
            {},
        ),
        "“cut.mp3” looks like MP3 audio but is truncated: it announces 6.0 s but holds",
    ),
    Row(
        "webm",
        lambda d, lib: (
            [up("reference_video", mf.video(d, "clip.webm", container="webm", codec="libvpx"))],
            {},
        ),
        "“clip.webm” is a WebM/Matroska video",
    ),
    Row(
        "audio-only-mp4",
        lambda d, lib: ([up("reference_video", mf.m4a(d, "music.mp4"))], {}),
        "“music.mp4” has no video stream",
    ),
    Row(
        "m4v-for-ark",
        lambda d, lib: ([up("reference_video", m4v(d))], {}),
        "Video “clip.m4v” is M4V; TokenHub accepts MP4, MOV video (Seedance's input limits, "
        "Ark API reference).",
    ),
    Row(
        "one-pixel-image",
        lambda d, lib: ([up("first_frame", image(d, "dot.png", width=1, height=1))], {}),
        "Image “dot.png” is 1 px wide, 299 px too narrow; TokenHub accepts 300-6000 px",
    ),
    Row(
        "7000px-image",
        lambda d, lib: ([up("first_frame", image(d, "huge.png", width=7000, height=4000))], {}),
        "Image “huge.png” is 7000 px wide, 1000 px too wide; TokenHub accepts 300-6000 px "
        "(Seedance's input limits, Ark API reference).",
    ),
    Row(
        "ratio-too-wide",
        lambda d, lib: ([up("first_frame", image(d, "banner.png", width=1500, height=400))], {}),
        "a width/height ratio of 3.75, 1.25 above the range; TokenHub accepts 0.4-2.5",
    ),
    Row(
        "image-over-30mb",
        lambda d, lib: (
            [up("first_frame", image(d, "scan.bmp", width=3400, height=3100, fmt="BMP"))],
            {},
        ),
        "Image “scan.bmp” is 30.2 MB, 0.2 MB too large; TokenHub accepts files under 30 MB",
    ),
    Row(
        "20s-audio",
        lambda d, lib: (
            [
                up("reference_image", image(d)),
                up("reference_audio", mf.audio(d, "song.wav", seconds=20)),
            ],
            {},
        ),
        "Audio “song.wav” is 20.0 s long, 5.0 s too long; TokenHub accepts 2-15 s",
    ),
    Row(
        "1s-video",
        lambda d, lib: ([up("reference_video", mf.video(d, "blink.mp4", seconds=1))], {}),
        "Video “blink.mp4” is 1.0 s long, 1.0 s too short; TokenHub accepts 2-15 s",
    ),
    Row(
        "12fps-video",
        lambda d, lib: ([up("reference_video", mf.video(d, "slow.mp4", fps=12))], {}),
        "Video “slow.mp4” runs at 12 fps, 12 fps too few; TokenHub accepts 24-60 fps",
    ),
    Row(
        "too-few-pixels-video",
        lambda d, lib: (
            [up("reference_video", mf.video(d, "tiny.mp4", width=320, height=320))],
            {},
        ),
        "Video “tiny.mp4” has 102,400 pixels (320×320), 307,200 too few; TokenHub accepts "
        "409,600-927,408 pixels per frame for 720p output",
    ),
    Row(
        "videos-over-15s-in-all",
        lambda d, lib: (
            [up("reference_video", mf.video(d, f"v{i}.mp4", seconds=6)) for i in range(3)],
            {},
        ),
        "The reference video files add up to 18.0 s, 3.0 s too long; TokenHub accepts at most 15 s",
    ),
    Row(
        "four-reference-videos",
        lambda d, lib: (
            [up("reference_video", mf.video(d, f"v{i}.mp4", seconds=2)) for i in range(4)],
            {},
        ),
        "doubao-seedance-2.0 takes at most 3 reference videos; 4 given (TokenHub guide).",
    ),
    Row(
        "audio-alone",
        lambda d, lib: ([up("reference_audio", mf.audio(d, "beat.mp3", fmt="mp3"))], {}),
        "Reference audio cannot be the only reference; add an image or a video",
    ),
    Row(
        "two-first-frames",
        lambda d, lib: (
            [up("first_frame", image(d, "a.png")), up("first_frame", image(d, "b.png"))],
            {},
        ),
        "At most one first_frame image (TokenHub guide).",
    ),
    Row(
        "last-frame-alone",
        lambda d, lib: ([up("last_frame", image(d, "end.png"))], {}),
        "A last frame needs a first frame too.",
    ),
    Row(
        "frames-and-references-mixed",
        lambda d, lib: (
            [up("first_frame", image(d, "a.png")), up("reference_image", image(d, "b.png"))],
            {},
        ),
        "First/last-frame and reference modes are mutually exclusive",
    ),
    Row(
        "portrait-on-a-model-that-rejects-it",
        lambda d, lib: (
            [
                ReferenceInput(
                    role="first_frame",
                    asset=lib.asset(image(d, "mia.png"), alltoken_asset_id="ast-mia-01"),
                )
            ],
            {"provider": "alltoken", "model": "doubao-seedance-2.0-fast"},
        ),
        "“mia.png” is a portrait (asset://ast-mia-01): doubao-seedance-2.0-fast rejects asset:// "
        "portrait references",
    ),
    Row(
        "asset-of-another-project",
        lambda d, lib: (
            [ReferenceInput(role="first_frame", asset=lib.asset(image(d), project=lib.other))],
            {},
        ),
        "“frame.png” is not in this project's library.",
    ),
    Row(
        "over-the-upload-cap",
        lambda d, lib: (
            [up("first_frame", image(d, "raw.bmp", width=1000, height=700, fmt="BMP"))],
            {"_upload_max_mb": 1},
        ),
        "“raw.bmp” is larger than 1 MB, the most an upload may be.",
    ),
]


def stored_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def ledger_entries() -> int:
    """Ledger rows, once the credit ledger exists (a hold is written with the task)."""
    names = {"CreditEntry", "LedgerEntry"}
    models = [m for m in apps.get_app_config("projects").get_models() if m.__name__ in names]
    return sum(model.objects.exclude(kind="grant").count() for model in models)


def test_the_table_has_twenty_rows_each_with_its_own_message():
    assert len(ROWS) >= 20
    assert len({row.expected for row in ROWS}) == len(ROWS)
    assert len({row.id for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_a_bad_reference_is_refused_and_leaves_nothing(
    row, project, member, settings, tmp_path, sim
):
    stubs.register(settings, sim)
    library = Library(project=project, user=member, directory=tmp_path)
    library.other = ProjectFactory(team=project.team)
    references, overrides = row.build(tmp_path, library)
    if "_upload_max_mb" in overrides:
        settings.SEEDANCE_UPLOAD_MAX_MB = overrides.pop("_upload_max_mb")
    assets_before = set(Asset.objects.values_list("pk", flat=True))
    files_before = stored_files(settings)
    params = GenerationParams(
        provider=overrides.get("provider", "tokenhub"),
        model=overrides.get("model", "doubao-seedance-2.0"),
        prompt="A paper boat on a rainy street",
        ratio="16:9",
        resolution="720p",
        duration=5,
        references=tuple(references),
    )
    with pytest.raises(InvalidRequest) as refused:
        generation_task_create(project=project, user=member, params=params)
    message = " ".join(refused.value.errors.values())
    assert row.expected in message, message
    assert set(Asset.objects.values_list("pk", flat=True)) == assets_before
    assert stored_files(settings) == files_before
    assert [p for p in temp_dir().iterdir() if p.is_file()] == []
    assert GenerationTask.objects.count() == 0
    assert ledger_entries() == 0
    assert sim.engine.requests == [] and sim.engine.media_fetches == []


def test_ark_and_acedata_hold_references_to_the_ark_media_limits():
    from projects.providers.acedata import CAPABILITIES as ACEDATA
    from projects.providers.ark import CAPABILITIES as ARK
    from projects.providers.capabilities import ARK_MEDIA_LIMITS

    assert {m.media_limits for m in ARK.models} == {ARK_MEDIA_LIMITS}
    assert {m.media_limits for m in ACEDATA.models} == {ARK_MEDIA_LIMITS}
