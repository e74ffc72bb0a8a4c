"""`generate` with references: file paths join the library through the same checks as an
upload; asset ids pick from it; refusals name the flag's role and store nothing."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from projects.models import Asset, GenerationTask
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def generate(*args: str) -> dict:
    out = io.StringIO()
    call_command(
        "generate",
        "--project",
        "demo",
        "--user",
        "member",
        "--prompt",
        "The boat from the photo drifts away",
        "--duration",
        "4",
        "--resolution",
        "480p",
        *args,
        stdout=out,
        stderr=io.StringIO(),
    )
    return json.loads(out.getvalue())


@pytest.fixture
def site(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server


def test_first_frame_from_a_path_then_reuse_it_by_asset_id(site, sim, project, tmp_path):
    path = mf.image(tmp_path, "boat.png")
    result = generate("--first-frame", str(path), "--wait", "--json")
    assert result["status"] == "succeeded", result["error"]
    asset = Asset.objects.get()
    assert result["references"] == [
        {"role": "first_frame", "asset_id": str(asset.pk), "name": "boat.png"}
    ]
    assert path.exists()  # the user's file is copied, never moved
    assert sim.engine.media_fetches[0]["status"] == 200

    again = generate("--first-frame", str(asset.pk), "--json")
    assert again["references"][0]["asset_id"] == str(asset.pk)
    assert Asset.objects.count() == 1 and GenerationTask.objects.count() == 2


def test_repeatable_reference_flags_and_billed_video_seconds(sim, project, tmp_path):
    result = generate(
        "--reference-image",
        str(mf.image(tmp_path, "a.png")),
        "--reference-image",
        str(mf.image(tmp_path, "b.png")),
        "--reference-video",
        str(mf.video(tmp_path, "m.mp4", seconds=3)),
        "--reference-audio",
        str(mf.audio(tmp_path, "s.wav")),
        "--json",
    )
    assert [r["role"] for r in result["references"]] == [
        "reference_image",
        "reference_image",
        "reference_video",
        "reference_audio",
    ]
    assert result["input_video_seconds"] == pytest.approx(3.0, abs=0.05)


def test_a_refused_reference_names_its_role_and_stores_nothing(sim, project, settings, tmp_path):
    with pytest.raises(CommandError) as refused:
        generate(
            "--reference-image",
            str(mf.image(tmp_path, "a.png")),
            "--reference-audio",
            str(mf.audio(tmp_path, "long.mp3", seconds=20, fmt="mp3")),
        )
    text = str(refused.value)
    assert text.startswith("The request was refused:\n  references: Audio “long.mp3” is 20.0 s")
    assert not Asset.objects.exists() and not GenerationTask.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_unknown_paths_and_foreign_assets_are_refused(project, member, tmp_path):
    with pytest.raises(CommandError, match=r"--first-frame /nope.png: no such file \(or asset"):
        generate("--first-frame", "/nope.png")
    foreign = asset_create(
        project=ProjectFactory(), user=member, upload=mf.image(tmp_path, "theirs.png")
    )
    with pytest.raises(CommandError, match="no such asset in your teams"):
        generate("--reference-image", str(foreign.pk))
    same_team = asset_create(
        project=ProjectFactory(team=project.team), user=member, upload=mf.image(tmp_path, "x.png")
    )
    with pytest.raises(CommandError, match="“x.png” is not in this project's library"):
        generate("--first-frame", str(same_team.pk))
