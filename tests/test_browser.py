"""End to end in a real browser: log in, create a project, generate, watch, play."""

import pytest

from projects.models import GenerationTask, Membership
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_member_generates_a_video_and_plays_it(live_server, sim, settings):
    settings.SITE_URL = live_server.url
    settings.SEEDANCE_CALLBACKS = True
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)

    with worker_thread(), chromium_page() as page:
        page.goto(f"{live_server.url}/")
        assert "/login/" in page.url
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        page.click("text=New project")
        page.fill("#id_name", "Launch film")
        page.click("button:has-text('Create project')")
        page.wait_for_selector("h1:has-text('Launch film')")

        page.click("text=New generation")
        page.fill("#id_prompt", "A paper boat drifting down a rainy street, macro lens")
        page.select_option("#id_duration", "6")
        page.select_option("#id_ratio", "16:9")
        page.click("button:has-text('Generate')")

        page.wait_for_selector("text=Generation submitted.")
        assert page.locator("#render-progress").count() == 1 or page.locator("video").count() == 1
        page.wait_for_selector("video#player", timeout=60_000)
        page.wait_for_function(
            "document.querySelector('video#player').readyState >= 1", timeout=20_000
        )
        duration = page.evaluate("document.querySelector('video#player').duration")
        assert duration == pytest.approx(6.0, abs=0.5)
        assert page.locator("#download").get_attribute("href").endswith("/download/")
        assert page.locator("#status-badge").inner_text() == "Succeeded"

    task = GenerationTask.objects.get()
    assert task.status == "succeeded" and task.project.name == "Launch film"
