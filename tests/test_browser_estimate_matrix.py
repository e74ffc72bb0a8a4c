"""In a real browser, on every gateway and for every reference mix (none, images, one video,
three videos, audio with an image): the cost the form shows is what the submit holds, to the
micro-USD, or the mix is refused with nothing held (issue 20: "money shown before submit must
be what is held")."""

from __future__ import annotations

import pytest

from projects.models import CreditEntry, GenerationTask, Membership
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.browser import chromium_page, requires_chromium
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
GATEWAYS = ["tokenhub", "ark", "byteplus", "acedata", "alltoken", "seedance2ink"]
MIXES = {
    "none": [],
    "images": [("reference_image", "img0"), ("reference_image", "img1")],
    "one video": [("reference_video", "vid0")],
    "three videos": [
        ("reference_video", "vid0"),
        ("reference_video", "vid1"),
        ("reference_video", "vid2"),
    ],  # fmt: skip
    "audio": [("reference_image", "img0"), ("reference_audio", "aud0")],
}


@pytest.fixture
def library(tmp_path):
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch film", slug="launch-film")
    made = {}
    for n in range(2):
        made[f"img{n}"] = mf.image(tmp_path, f"still{n}.png", width=1280, height=720)
    for n in range(3):
        made[f"vid{n}"] = mf.video(tmp_path, f"clip{n}.mp4", seconds=5)
    made["aud0"] = mf.audio(tmp_path, "beat.wav", seconds=5)
    ids = {
        key: str(asset_create(project=project, user=user, upload=path).pk)
        for key, path in made.items()
    }
    return project, ids


def settle(page) -> None:
    """Wait until the form's re-pricing (htmx, on change) has come back."""
    page.wait_for_timeout(250)
    page.wait_for_function("document.querySelectorAll('.htmx-request').length === 0")
    page.wait_for_load_state("networkidle")


def shown_micro(page) -> int | None:
    field = page.locator("input[name=shown_cost_micro]")
    value = field.get_attribute("value") if field.count() else ""
    return int(value) if value else None


def test_the_estimate_is_the_hold_for_every_mix_on_every_gateway(
    live_server, sim, settings, library
):
    settings.SEEDANCE_JOBS_INLINE = False  # the hold is the point; nothing need be sent
    settings.SEEDANCE_SUBMIT_RATE = "1000/m"  # thirty submits in well under a minute
    project, ids = library
    outcomes: dict[tuple[str, str], str] = {}
    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for gateway in GATEWAYS:
            for mix, picks in MIXES.items():
                before = set(GenerationTask.objects.values_list("pk", flat=True))
                page.goto(f"{live_server.url}/p/{project.pk}/generate/?provider={gateway}")
                for role, key in picks:
                    box = page.locator(f"input[name={role}][value='{ids[key]}']")
                    if not box.count():  # the model takes no such reference: not offered
                        break
                    box.check()
                    settle(page)
                else:
                    page.fill("#id_prompt", "A kite over dunes, [Image 1] [Video 1]")
                    settle(page)
                    shown = shown_micro(page)
                    page.click("#generate")
                    page.wait_for_load_state("networkidle")
                    new = GenerationTask.objects.exclude(pk__in=before)
                    if new.exists():
                        hold = -CreditEntry.objects.get(task=new.get(), kind="hold").amount_micro
                        assert hold == shown, (gateway, mix, hold, shown)
                        outcomes[gateway, mix] = f"held {hold}"
                    else:
                        assert not CreditEntry.objects.filter(task__isnull=True, kind="hold")
                        outcomes[gateway, mix] = "refused"
                    continue
                outcomes[gateway, mix] = "not offered"
    held = [key for key, outcome in outcomes.items() if outcome.startswith("held")]
    assert len(outcomes) == len(GATEWAYS) * len(MIXES)
    # Every gateway takes text, and every reference kind is held somewhere.
    assert all(outcomes[g, "none"].startswith("held") for g in GATEWAYS), outcomes
    assert {mix for _, mix in held} == set(MIXES), outcomes
