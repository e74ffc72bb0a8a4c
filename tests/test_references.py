"""References end to end: stored assets sent to the gateway as absolute expiring links (or
asset:// portrait ids), fetched by the simulator over real HTTP, recorded on the task; outputs
stored beside each other; the last frame reused as the next first frame."""

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.core import signing
from django.test import TestCase
from django.urls import reverse

from projects.models import Asset, GenerationReference, GenerationTask
from projects.providers.base import TaskSnapshot, UpstreamStatus
from projects.services.assets import asset_create, asset_update
from projects.services.generation import GenerationParams, ReferenceInput
from projects.services.refresh import generation_task_apply_snapshot
from projects.services.upstream_request import request_for_task
from projects.storage import _SALT, signed_url
from tests import media_files as mf
from tests import stubs
from tests.conftest import create_task, drive

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(live_server, settings):
    """Local signed links must be reachable by the simulator: SITE_URL is the live server."""
    settings.SITE_URL = live_server.url
    return live_server


def params(*references: ReferenceInput, **overrides) -> GenerationParams:
    values = dict(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        prompt="The boat from [Image 1] drifts away",
        ratio="16:9",
        resolution="720p",
        duration=5,
        references=references,
    )
    values.update(overrides)
    return GenerationParams(**values)


def create_body(sim) -> dict:
    [create] = [r for r in sim.engine.requests if r["op"] == "create"]
    return create["body"]


def test_a_library_first_frame_is_fetched_by_the_gateway(site, sim, project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "boat.png"))
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(ReferenceInput(role="first_frame", asset=image)),
        )
    )
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    [content] = create_body(sim)["content"]
    url = content["image_url"]["url"]
    assert content["role"] == "first_frame" and content["type"] == "image_url"
    assert url.startswith(f"{site.url}/media/s/")
    [fetch] = sim.engine.media_fetches
    assert fetch["url"] == url and fetch["ok"] and fetch["status"] == 200
    assert fetch["size"] == image.size_bytes and fetch["content_type"] == "image/png"
    listed = httpx.get(f"{sim.url}/_sim/media").json()["fetches"]
    assert [(f["url"], f["status"], f["size"], f["content_type"]) for f in listed] == [
        (url, 200, image.size_bytes, "image/png")
    ]
    refs = list(task.references.values_list("role", "asset_id", "position"))
    assert refs == [("first_frame", image.pk, 0)]
    assert task.input_video_seconds == 0


def test_reference_files_uploaded_in_place_join_the_library(site, sim, project, member, tmp_path):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(
                ReferenceInput(role="reference_image", upload=mf.image(tmp_path, "style.jpg")),
                ReferenceInput(
                    role="reference_video", upload=mf.video(tmp_path, "a.mp4", seconds=2)
                ),
                ReferenceInput(
                    role="reference_video", upload=mf.video(tmp_path, "b.mov", seconds=3)
                ),
                ReferenceInput(
                    role="reference_audio", upload=mf.audio(tmp_path, "beat.mp3", fmt="mp3")
                ),
            ),
        )
    )
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    assets = [r.asset for r in task.references.select_related("asset").order_by("position")]
    assert [a.name for a in assets] == ["style.jpg", "a.mp4", "b.mov", "beat.mp3"]
    assert all(a.project == project and a.uploaded_by == member for a in assets)
    assert task.input_video_seconds == pytest.approx(5.0, abs=0.05)  # 2 s + 3 s, billed
    body = create_body(sim)
    assert len(body["image_urls"]) == 1 and len(body["audio_urls"]) == 1
    assert len(body["video_urls"]) == 2
    assert body["video_durations"] == pytest.approx([2.0, 3.0], abs=0.05)
    assert "content" not in body
    fetched = {f["url"]: f for f in sim.engine.media_fetches}
    for url in body["image_urls"] + body["video_urls"] + body["audio_urls"]:
        assert url.startswith(site.url) and fetched[url]["status"] == 200


def test_links_given_to_gateways_last_as_long_as_a_task_may_wait(project, member, tmp_path):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    task = create_task(
        project=project,
        user=member,
        params=params(ReferenceInput(role="first_frame", asset=image)),
    )
    [reference] = request_for_task(task).references
    token = urlsplit(reference.url).path.rsplit("/", 1)[1]
    payload = signing.loads(token, salt=_SALT)
    assert payload["x"] - time.time() == pytest.approx(49 * 3600, abs=60)
    assert payload["n"] == image.file.name
    assert request_for_task(task).return_last_frame is False  # TokenHub returns none


def test_a_portrait_goes_to_alltoken_as_asset_id_and_elsewhere_as_a_file(
    sim, settings, project, member, tmp_path
):
    stubs.register(settings, sim)
    mia = asset_create(project=project, user=member, upload=mf.image(tmp_path, "mia.png"))
    asset_update(asset=mia, user=mia.uploaded_by, name="Mia", alltoken_asset_id="ast-mia-01")
    through_alltoken = create_task(
        project=project,
        user=member,
        params=params(ReferenceInput(role="first_frame", asset=mia), provider="alltoken"),
    )
    [ref] = request_for_task(through_alltoken).references
    assert ref.url == "asset://ast-mia-01"
    assert create_body(sim)["content"][0]["image_url"]["url"] == "asset://ast-mia-01"
    assert sim.engine.media_fetches[0]["detail"] == "asset reference"
    through_tokenhub = create_task(
        project=project,
        user=member,
        params=params(ReferenceInput(role="first_frame", asset=mia)),
    )
    [ref] = request_for_task(through_tokenhub).references
    assert ref.url.startswith(settings.SITE_URL + "/media/s/")


def test_tampered_and_expired_local_links_are_refused(site, sim, project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    good = signed_url(asset.file.name, absolute=True)
    assert httpx.get(good).content == Path(tmp_path / "a.png").read_bytes()
    assert sim.engine.fetch_media_url(good) == (True, "")
    head, token = good.rsplit("/", 1)
    tampered = f"{head}/{token[:-3]}{'abc' if token[-3:] != 'abc' else 'xyz'}"
    expired_token = signing.dumps(
        {"n": asset.file.name, "x": int(time.time()) - 1}, salt=_SALT, compress=True
    )
    expired = f"{site.url}{reverse('signed_media', args=[expired_token])}"
    assert httpx.get(tampered).status_code == 403
    assert httpx.get(expired).text == "This link has expired."
    assert sim.engine.fetch_media_url(tampered) == (False, "HTTP 403")
    assert sim.engine.fetch_media_url(expired) == (False, "HTTP 403")


def test_an_unfetchable_reference_fails_the_task_with_the_gateways_message(
    sim, settings, project, member, tmp_path
):
    settings.SITE_URL = "http://127.0.0.1:9"  # nothing listens: the gateway cannot fetch
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(ReferenceInput(role="first_frame", asset=image)),
        )
    )
    assert task.status == GenerationTask.Status.FAILED
    assert "The media URL could not be downloaded (ConnectError)." in task.error_message


def test_outputs_are_stored_beside_each_other_and_the_last_frame_starts_the_next_one(
    sim, client, project, member
):
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    simulated = sim.engine.get_task(task.upstream_task_id)
    simulated.return_last_frame = True  # as Ark returns it with return_last_frame
    deadline = time.monotonic() + 10
    while simulated.status_at(sim.engine.now()) != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    urls = sim.engine.outputs(simulated)
    snapshot = TaskSnapshot(
        upstream_id=simulated.id,
        status=UpstreamStatus.SUCCEEDED,
        raw_status="succeeded",
        video_url=urls["video"],
        cover_url=urls["cover"],
        last_frame_url=urls["last_frame"],
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        generation_task_apply_snapshot(task=task, snapshot=snapshot)
    task.refresh_from_db()
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    folder = f"teams/{project.team_id}/outputs/{task.pk}"
    assert task.video.name == f"{folder}/video.mp4"
    assert task.cover.name == f"{folder}/cover.jpg"
    assert task.last_frame.name == f"{folder}/last_frame.png"

    client.force_login(member)
    page = client.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert 'id="use-last-frame"' in page
    response = client.post(reverse("projects:generation_use_last_frame", args=[task.pk]))
    asset = Asset.objects.get(source_task=task)
    assert asset.kind == "image" and asset.project == project
    assert response.status_code == 302
    assert f"first_frame={asset.pk}" in response["Location"]
    form = client.get(response["Location"]).content.decode()
    assert f'name="first_frame" value="{asset.pk}" checked' in form
    assert not GenerationReference.objects.exists()
