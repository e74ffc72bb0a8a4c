"""In a real browser, issue 20's case: TokenHub 480p, 5 s, with a 5 s reference video. Picking
the library video re-prices the form ($0.60 -> $1.20), a video chosen for upload is counted at
the length the browser reads, and the submit holds exactly what was shown."""

import pytest

from projects.models import CreditEntry, GenerationTask, Membership
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.browser import chromium_page, requires_chromium
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

COST = "document.querySelector('#estimate-cost').textContent === '{}'"


def test_reference_videos_reprice_the_form_and_the_hold_is_what_was_shown(live_server, tmp_path):
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch film", slug="launch-film")
    clip = asset_create(project=project, user=user, upload=mf.video(tmp_path, "a.mp4", seconds=5))
    upload = mf.video(tmp_path, "b.mp4", seconds=2)
    clip_id = str(clip.pk)

    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/p/{project.pk}/generate/")
        page.select_option("#id_resolution", "480p")
        page.wait_for_function(COST.format("$0.60"))
        page.check(f"input[name=reference_video][value='{clip_id}']")
        page.wait_for_function(COST.format("$1.20"))  # (5 s input + 5 s) x $0.12
        assert "5 s input + 5 s × $0.12/s" in page.inner_text("#estimate")
        page.set_input_files("#id_reference_video_files", str(upload))
        page.wait_for_function(COST.format("$1.44"))  # the browser read 2 s more
        page.fill("#id_prompt", "The kite from [Video 1] over the dunes")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        assert page.inner_text("#cost").startswith("$1.44 held")
        page.goto("about:blank")

    task = GenerationTask.objects.get()
    assert task.input_video_seconds == 7.0
    assert -CreditEntry.objects.get(task=task, kind="hold").amount_micro == 1_440_000


def test_an_image_chosen_for_upload_prices_seedance2ink_credits_with_references(
    live_server, settings, tmp_path
):
    """seedance2.ink's 720p credits depend on whether the request has reference files
    (40 credits for 5 s of text, 64 from an image): a file chosen for upload counts."""
    settings.SEEDANCE_PROVIDERS = {
        **settings.SEEDANCE_PROVIDERS,
        "seedance2ink": {**settings.SEEDANCE_PROVIDERS["seedance2ink"], "api_key": "sd2-key"},
    }
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch film", slug="launch-film")
    image = mf.image(tmp_path, "boat.png", width=960, height=540)

    with chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/p/{project.pk}/generate/?provider=seedance2ink")
        page.wait_for_function(COST.format("$1.00"))  # 40 credits x $0.025
        assert "about 40 credits × $0.025 per credit" in page.inner_text("#estimate")
        page.set_input_files("#id_first_frame_file", str(image))
        page.wait_for_function(COST.format("$1.60"))  # 64 credits
        page.fill("#id_prompt", "The boat drifts down the rainy street")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        assert page.inner_text("#cost").startswith("$1.60 held")
        page.goto("about:blank")

    hold = CreditEntry.objects.get(kind="hold")
    assert (hold.unit, hold.quantity, hold.amount_micro) == ("credit", 64, -1_600_000)
