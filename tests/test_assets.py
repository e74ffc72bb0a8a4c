"""The asset library service: uploads, probing, storage keys, edits, deletion, last frames."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse

from projects.access import access_asset, access_generation_task
from projects.exceptions import ApplicationError
from projects.media import MediaInvalid
from projects.models import Asset, GenerationReference
from projects.services.assets import (
    asset_create,
    asset_delete,
    asset_from_last_frame,
    asset_update,
    assets_purge_released,
)
from projects.services.deletion import generation_task_delete
from projects.storage import temp_dir
from tests import media_files as mf
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def scratch_files() -> list[Path]:
    return [p for p in temp_dir().iterdir() if p.is_file()]


def test_an_upload_is_probed_stored_under_the_team_and_recorded(project, member, tmp_path):
    path = mf.image(tmp_path, "Hero Shot.PNG", width=1280, height=720)
    upload = SimpleUploadedFile("Hero Shot.PNG", path.read_bytes(), content_type="video/mp4")
    asset = asset_create(project=project, user=member, upload=upload)
    assert asset.kind == "image" and asset.container == "png"
    assert asset.content_type == "image/png"  # from the bytes, not the browser's claim
    assert (asset.width, asset.height) == (1280, 720)
    assert asset.file.name == f"teams/{project.team_id}/assets/{asset.pk}/hero-shot.png"
    assert asset.poster.name == f"teams/{project.team_id}/assets/{asset.pk}/poster.jpg"
    assert asset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert asset.size_bytes == path.stat().st_size
    assert default_storage.open(asset.file.name).read() == path.read_bytes()
    assert asset.name == "Hero Shot.PNG" and asset.uploaded_by == member
    assert scratch_files() == []


def test_video_and_audio_uploads_record_their_shape(project, member, tmp_path):
    video = asset_create(
        project=project, user=member, upload=mf.video(tmp_path, "clip.mov", seconds=3, fps=30)
    )
    assert (video.kind, video.container, video.fps, video.codec) == ("video", "mp4", 30.0, "h264")
    assert video.duration_s == pytest.approx(3.0, abs=0.05)
    assert video.file.name.endswith("/clip.mp4") and video.poster
    sound = asset_create(project=project, user=member, upload=mf.audio(tmp_path, "beat.wav"))
    assert (sound.kind, sound.poster.name, sound.duration_s) == ("audio", "", 3.0)


def test_a_refused_upload_leaves_no_row_no_file_no_scratch(project, member, settings, tmp_path):
    cut = mf.truncated(mf.video(tmp_path, "v.mp4"), tmp_path, "cut.mp4")
    with pytest.raises(MediaInvalid, match="truncated"):
        asset_create(project=project, user=member, upload=cut)
    assert Asset.objects.count() == 0
    assert stored_files(settings) == []
    assert scratch_files() == []


def test_when_recording_fails_the_stored_files_are_deleted(
    project, member, settings, tmp_path, monkeypatch
):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Asset, "save", broken_save)
    with pytest.raises(RuntimeError):
        asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    assert stored_files(settings) == []
    assert scratch_files() == []


def test_uploads_over_the_size_cap_are_refused(project, member, settings, tmp_path):
    settings.SEEDANCE_UPLOAD_MAX_MB = 1
    big = mf.image(tmp_path, "big.bmp", width=1000, height=600, fmt="BMP")  # 1.8 MB
    with pytest.raises(MediaInvalid, match="larger than 1 MB, the most an upload may be"):
        asset_create(project=project, user=member, upload=big)
    assert stored_files(settings) == [] and scratch_files() == []


def test_rename_and_portrait_id(project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    asset_update(
        asset=asset,
        user=asset.uploaded_by,
        name="  Mia, front  ",
        alltoken_asset_id="asset://ast-01H9.x_y",
    )
    asset.refresh_from_db()
    assert (asset.name, asset.alltoken_asset_id) == ("Mia, front", "ast-01H9.x_y")
    with pytest.raises(ApplicationError, match="letters, digits"):
        asset_update(
            asset=asset, user=asset.uploaded_by, name="x", alltoken_asset_id="has spaces in it"
        )
    with pytest.raises(ApplicationError, match="Give the asset a name"):
        asset_update(asset=asset, user=asset.uploaded_by, name="   ")


def test_deleting_an_unused_asset_removes_row_and_files(
    project, member, settings, tmp_path, django_capture_on_commit_callbacks
):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    with django_capture_on_commit_callbacks(execute=True):
        message = asset_delete(asset=asset, user=asset.uploaded_by)
    assert message == "Deleted “a.png”."
    assert not Asset.objects.exists() and stored_files(settings) == []


def test_an_asset_in_use_is_kept_until_its_generation_is_deleted(
    project, member, settings, tmp_path, django_capture_on_commit_callbacks
):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    task = GenerationTaskFactory(project=project, created_by=member)
    GenerationReference.objects.create(task=task, asset=asset, role="first_frame", position=0)
    with django_capture_on_commit_callbacks(execute=True):
        message = asset_delete(asset=asset, user=asset.uploaded_by)
    assert "1 generation uses it, so its file is kept until they are deleted" in message
    asset.refresh_from_db()
    assert asset.is_deleted and default_storage.exists(asset.file.name)
    with pytest.raises(Http404):
        access_asset(member, asset.pk)  # gone from the library
    assert access_asset(member, asset.pk, include_deleted=True) == asset
    assert assets_purge_released() == 0  # still used
    task.delete()
    assert assets_purge_released() == 1
    assert not Asset.objects.exists() and stored_files(settings) == []


def with_last_frame(task, settings):
    """`task` with a stored 640x360 last frame."""
    png = mf.image(Path(settings.MEDIA_ROOT).parent, "lf.png", width=640, height=360)
    task.last_frame.save(
        f"teams/{task.project.team_id}/outputs/{task.pk}/last_frame.png",
        ContentFile(png.read_bytes()),
        save=True,
    )
    return task


def test_last_frame_becomes_an_image_asset_once(project, member, settings):
    task = with_last_frame(GenerationTaskFactory(project=project, created_by=member), settings)
    asset = asset_from_last_frame(task=task, user=member)
    assert asset.kind == "image" and asset.source_task == task and asset.project == project
    assert (asset.width, asset.height) == (640, 360)
    assert asset_from_last_frame(task=task, user=member) == asset
    assert Asset.objects.count() == 1
    without = GenerationTaskFactory(project=project, created_by=member)
    with pytest.raises(ApplicationError, match="no last frame"):
        asset_from_last_frame(task=without, user=member)


def test_an_asset_from_a_deleted_generations_last_frame_no_longer_links_to_it(
    client, project, member, settings
):
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    task = with_last_frame(task, settings)
    asset = asset_from_last_frame(task=task, user=member)
    client.force_login(member)
    page = reverse("projects:asset_detail", args=[asset.pk])
    link = reverse("projects:generation_detail", args=[task.pk])
    assert link in client.get(page).content.decode()
    generation_task_delete(task=access_generation_task(member, task.pk), user=member)
    body = client.get(page).content.decode()
    assert link not in body and "last frame of a generation since deleted" in body


def test_access_asset_hides_other_teams_assets(project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    stranger = UserFactory(username="stranger")
    MembershipFactory(user=stranger, team=ProjectFactory().team)
    with pytest.raises(Http404):
        access_asset(stranger, asset.pk)
    with pytest.raises(Http404):
        access_asset(member, "not-a-uuid")
    assert access_asset(member, str(asset.pk)) == asset
