"""'Use as first frame of a new generation' offline, on every gateway that takes a first frame
(issue 20): a finished clip's last frame (the gateway's where it returns one, Ark, BytePlus,
AceData; the stored video's own elsewhere) becomes a library image and the first frame of a
new generation that succeeds against the simulator. The simulator renders each model's own
pixel size (research §1.7), so the frame passes Ark's 300 px minimum side (§1.6)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from projects.media import probe_video
from projects.models import Asset, GenerationTask
from projects.services.generation import GenerationParams
from projects.upstream_sim.render import render_size
from tests.conftest import create_task, drive

pytestmark = pytest.mark.django_db(transaction=True)

# gateway: (model, whether the gateway itself returns a last frame)
GATEWAYS = {
    "ark": ("doubao-seedance-2-0-260128", True),
    "byteplus": ("dreamina-seedance-2-0-260128", True),
    "acedata": ("doubao-seedance-1-0-pro-250528", True),
    "alltoken": ("seedance-2.0", False),
    "seedance2ink": ("seedance-2.0", False),
    "tokenhub": ("doubao-seedance-2.0", False),
}


@pytest.fixture
def site(live_server, settings):
    """The simulator fetches the first frame from SITE_URL: the live server."""
    settings.SITE_URL = live_server.url
    return live_server


def test_the_simulator_renders_the_requested_size_and_rate(sim, project, member, tmp_path):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=GenerationParams(
                provider="ark",
                model="doubao-seedance-2-0-260128",
                prompt="A red kite",
                ratio="16:9",
                resolution="720p",
                duration=4,
                generate_audio=False,
            ),
        )
    )
    assert (task.video_width, task.video_height) == (1280, 720)  # §1.7, 2.0 at 720p 16:9
    copy = tmp_path / "probe.mp4"
    with task.video.open("rb") as handle:
        copy.write_bytes(handle.read())
    info = probe_video(copy)
    assert (info.width, info.height, round(info.fps)) == (1280, 720, 24)
    assert info.duration_s == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize("provider", list(GATEWAYS))
def test_a_last_frame_starts_the_next_generation(site, sim, project, member, provider):
    model, gateway_frame = GATEWAYS[provider]
    first = drive(
        create_task(
            project=project,
            user=member,
            params=GenerationParams(
                provider=provider,
                model=model,
                prompt="A paper boat on a rainy street",
                ratio="16:9",
                resolution="480p",
                duration=5,
                generate_audio=False,
            ),
        )
    )
    assert first.status == "succeeded", first.error_message
    assert first.last_frame, "no last frame stored"
    assert first.last_frame.name.endswith("last_frame.png")
    asks = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert bool(asks[0].get("return_last_frame")) is gateway_frame

    client = Client()
    client.force_login(member)
    response = client.post(reverse("projects:generation_use_last_frame", args=[first.pk]))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert (query["provider"], query["model"]) == ([provider], [model])
    asset = Asset.objects.get(pk=query["first_frame"][0])
    assert (asset.width, asset.height) == render_size(model, "480p", "16:9")
    assert min(asset.width, asset.height) >= 300  # Ark's minimum side (§1.6)
    form = client.get(response["Location"]).content.decode()
    assert f'name="first_frame" value="{asset.pk}" checked' in form

    response = client.post(
        reverse("projects:generation_new", args=[project.pk]),
        {
            "provider": provider,
            "model": model,
            "prompt": "The boat sails on from here",
            "ratio": "16:9",
            "resolution": "480p",
            "duration": "5",
            "first_frame": str(asset.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    second = drive(GenerationTask.objects.exclude(pk=first.pk).get())
    assert second.status == "succeeded", second.error_message
    (ref,) = second.references.all()
    assert (ref.role, ref.asset_id) == ("first_frame", asset.pk)
    fetched = [f for f in sim.engine.media_fetches if f["url"].startswith(site.url)]
    assert fetched and all(f["status"] == 200 for f in fetched)
