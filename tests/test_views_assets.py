"""Asset library pages and the generation form's reference pickers, through the test client."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Asset, GenerationReference, GenerationTask
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, member, project):
    client.force_login(member)
    return client


def upload_of(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_library_lists_assets_with_posters_durations_and_filters(
    client_in, project, member, tmp_path
):
    asset_create(project=project, user=member, upload=mf.image(tmp_path, "still.png"))
    asset_create(project=project, user=member, upload=mf.video(tmp_path, "move.mp4", seconds=2))
    asset_create(project=project, user=member, upload=mf.audio(tmp_path, "beat.wav"))
    url = reverse("projects:asset_library", args=[project.pk])
    page = client_in.get(url).content.decode()
    assert page.count('class="tile asset"') == 3
    assert page.count("/media/s/") >= 2  # image thumbnail and video poster
    assert "2.0 s" in page and "3.0 s" in page and "♪" in page
    assert 'id="dropzone"' in page and "multiple" in page and "uploads.js" in page
    videos = client_in.get(url, {"kind": "video"}).content.decode()
    assert videos.count('class="tile asset"') == 1 and "move.mp4" in videos


def test_script_upload_answers_json_with_the_new_tile(client_in, project, tmp_path):
    url = reverse("projects:asset_upload", args=[project.pk])
    response = client_in.post(
        url,
        {"files": upload_of(mf.image(tmp_path, "hero.jpg", fmt="JPEG"))},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    reply = json.loads(response.content)
    asset = Asset.objects.get()
    assert reply["ok"] and reply["asset"]["id"] == str(asset.pk)
    assert reply["asset"]["kind"] == "image" and f'data-asset="{asset.pk}"' in reply["html"]


def test_script_upload_of_a_bad_file_answers_its_message_and_stores_nothing(
    client_in, project, settings, tmp_path
):
    url = reverse("projects:asset_upload", args=[project.pk])
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"GIF89a not really")
    response = client_in.post(
        url, {"files": upload_of(fake)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "ok": False,
        "error": "“clip.mp4” looks like a GIF image but cannot be decoded.",
    }
    assert not Asset.objects.exists() and stored_files(settings) == []


def test_form_upload_of_several_files_reports_each(client_in, project, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    response = client_in.post(
        reverse("projects:asset_upload", args=[project.pk]),
        {"files": [upload_of(mf.image(tmp_path, "a.png")), upload_of(empty)]},
        follow=True,
    )
    page = response.content.decode()
    assert "Added “a.png”." in page and "“empty.png” is empty (0 bytes)." in page
    assert list(Asset.objects.values_list("name", flat=True)) == ["a.png"]


def test_asset_page_previews_each_kind(client_in, project, member, tmp_path):
    cases = [
        (mf.image(tmp_path, "a.png"), '<img id="preview"'),
        (mf.video(tmp_path, "v.mp4", seconds=2), '<video id="preview"'),
        (mf.audio(tmp_path, "s.mp3", fmt="mp3"), '<audio id="preview"'),
    ]
    for path, tag in cases:
        asset = asset_create(project=project, user=member, upload=path)
        page = client_in.get(reverse("projects:asset_detail", args=[asset.pk])).content.decode()
        assert tag in page and asset.sha256[:10] in page


def test_rename_and_portrait_id_through_the_page(client_in, project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    url = reverse("projects:asset_detail", args=[asset.pk])
    bad = client_in.post(url, {"name": "Mia", "alltoken_asset_id": "two words"})
    assert bad.status_code == 400 and "letters, digits" in bad.content.decode()
    good = client_in.post(url, {"name": "Mia", "alltoken_asset_id": "asset://ast-1"})
    assert good.status_code == 302
    asset.refresh_from_db()
    assert (asset.name, asset.alltoken_asset_id) == ("Mia", "ast-1")


def test_delete_keeps_an_asset_a_generation_uses(
    client_in, project, member, tmp_path, django_capture_on_commit_callbacks
):
    used = asset_create(project=project, user=member, upload=mf.image(tmp_path, "u.png"))
    unused = asset_create(project=project, user=member, upload=mf.image(tmp_path, "n.png"))
    task = GenerationTaskFactory(project=project, created_by=member)
    GenerationReference.objects.create(task=task, asset=used, role="first_frame", position=0)
    with django_capture_on_commit_callbacks(execute=True):
        first = client_in.post(reverse("projects:asset_delete", args=[used.pk]), follow=True)
        second = client_in.post(reverse("projects:asset_delete", args=[unused.pk]), follow=True)
    assert "1 generation uses it, so its file is kept" in first.content.decode()
    assert "Deleted “n.png”." in second.content.decode()
    assert list(Asset.objects.values_list("name", flat=True)) == ["u.png"]
    library = client_in.get(reverse("projects:asset_library", args=[project.pk])).content.decode()
    assert "u.png" not in library  # hidden from the library, kept for its generation
    detail = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert "u.png" in detail


def test_another_teams_member_gets_404_everywhere(client, project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    stranger = UserFactory(username="stranger")
    MembershipFactory(user=stranger, team=ProjectFactory().team)
    client.force_login(stranger)
    for method, url in (
        ("get", reverse("projects:asset_library", args=[project.pk])),
        ("post", reverse("projects:asset_upload", args=[project.pk])),
        ("get", reverse("projects:asset_detail", args=[asset.pk])),
        ("post", reverse("projects:asset_delete", args=[asset.pk])),
    ):
        assert getattr(client, method)(url).status_code == 404, url
    assert Asset.objects.filter(pk=asset.pk, deleted_at__isnull=True).exists()


def form_data(**extra) -> dict:
    data = {
        "provider": "tokenhub",
        "model": "doubao-seedance-2.0",
        "prompt": "The boat drifts away",
        "ratio": "16:9",
        "resolution": "720p",
        "duration": "5",
    }
    data.update(extra)
    return data


def test_generation_form_offers_the_library_per_role(client_in, project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    video = asset_create(project=project, user=member, upload=mf.video(tmp_path, "v.mp4"))
    page = client_in.get(reverse("projects:generation_new", args=[project.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert f'name="first_frame" value="{image.pk}"' in page
    assert f'name="reference_video" value="{video.pk}"' in page
    assert f'name="first_frame" value="{video.pk}"' not in page  # a video is no frame
    assert 'name="reference_audio_files"' in page and "TokenHub's limits: images" in page


def test_generation_form_takes_a_library_first_frame(client_in, project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        form_data(first_frame=str(image.pk)),
    )
    task = GenerationTask.objects.get()
    assert response.status_code == 302
    assert list(task.references.values_list("role", "asset")) == [("first_frame", image.pk)]


def test_generation_form_takes_files_uploaded_in_place(client_in, project, tmp_path):
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        form_data(
            reference_image_files=[
                upload_of(mf.image(tmp_path, "a.png")),
                upload_of(mf.image(tmp_path, "b.webp", fmt="WEBP")),
            ],
            reference_video_files=[upload_of(mf.video(tmp_path, "m.mp4", seconds=4))],
        ),
    )
    assert response.status_code == 302
    task = GenerationTask.objects.get()
    roles = list(task.references.order_by("position").values_list("role", "asset__name"))
    assert roles == [
        ("reference_image", "a.png"),
        ("reference_image", "b.webp"),
        ("reference_video", "m.mp4"),
    ]
    assert task.input_video_seconds == pytest.approx(4.0, abs=0.05)
    assert Asset.objects.count() == 3


def test_a_bad_in_place_upload_shows_its_message_and_stores_nothing(
    client_in, project, settings, tmp_path
):
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        form_data(
            first_frame_file=upload_of(mf.image(tmp_path, "huge.png", width=7000, height=3000))
        ),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Image “huge.png” is 7000 px wide, 1000 px too wide; TokenHub accepts 300-6000" in page
    assert not GenerationTask.objects.exists() and not Asset.objects.exists()
    assert stored_files(settings) == []


def test_picking_and_uploading_the_same_frame_is_refused(client_in, project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        form_data(first_frame=str(image.pk), first_frame_file=upload_of(image_path(tmp_path))),
    )
    assert response.status_code == 400
    assert "Pick a first frame or upload one, not both." in response.content.decode()


def image_path(directory: Path) -> Path:
    return mf.image(directory, "b.png")


def test_detail_page_lists_the_references(client_in, project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    task = GenerationTaskFactory(project=project, created_by=member, input_video_seconds=0)
    GenerationReference.objects.create(task=task, asset=image, role="first_frame", position=0)
    page = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert 'id="references"' in page and "First frame" in page
    assert reverse("projects:asset_detail", args=[image.pk]) in page


def test_a_clip_no_gateway_takes_is_kept_but_said_so(client_in, project, member, tmp_path):
    slow = asset_create(
        project=project, user=member, upload=mf.video(tmp_path, "slow.mp4", seconds=3, fps=12)
    )
    fine = asset_create(project=project, user=member, upload=mf.image(tmp_path, "still.png"))
    library = client_in.get(reverse("projects:asset_library", args=[project.pk])).content.decode()
    assert library.count("no gateway takes it") == 1
    page = client_in.get(reverse("projects:asset_detail", args=[slow.pk])).content.decode()
    assert 'id="asset-unfit"' in page
    assert "No gateway here takes this file as a reference: Video “slow.mp4” runs at 12 fps" in (
        page
    )
    fine_page = client_in.get(reverse("projects:asset_detail", args=[fine.pk])).content.decode()
    assert 'id="asset-unfit"' not in fine_page
    response = client_in.post(
        reverse("projects:asset_upload", args=[project.pk]),
        {"files": upload_of(mf.video(tmp_path, "slow2.mp4", seconds=3, fps=12))},
        HTTP_ACCEPT="application/json",
    )
    reply = json.loads(response.content)
    assert reply["ok"] and reply["warning"].startswith("No gateway here takes this file")
