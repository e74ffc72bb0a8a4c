"""In a real browser: a member generates, a reviewer approves with a comment in the queue and
the member sees the approval; a second video is rejected and the member revises it."""

import pytest

from projects.models import GenerationTask, Membership
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def generate(page, base: str, project, prompt: str) -> None:
    page.goto(f"{base}/p/{project.pk}/generate/")
    page.fill("#id_prompt", prompt)
    page.select_option("#id_duration", "4")
    page.select_option("#id_resolution", "480p")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("text=Generation submitted.")
    page.wait_for_selector("video#player", timeout=60_000)
    assert page.locator("#review-badge").inner_text() == "Awaiting review"


def test_review_approve_reject_and_revise(live_server, sim, settings):
    settings.SITE_URL = live_server.url
    settings.SEEDANCE_CALLBACKS = True
    base = live_server.url
    team = TeamFactory(name="Studio")
    project = ProjectFactory(team=team, name="Launch film", slug="launch")
    for username, role in (("mia", "member"), ("rey", "reviewer")):
        user = UserFactory(username=username, password="pass-word-123")
        MembershipFactory(team=team, user=user, role=role)

    with worker_thread(), chromium_page() as page:
        # The member generates two videos.
        log_in(page, base, "mia")
        assert page.locator("#nav-review").count() == 0  # members have no queue
        generate(page, base, project, "A paper boat on a rainy street, macro lens")
        generate(page, base, project, "A lighthouse at night, storm, wide shot")

        # The reviewer finds both in the queue, oldest first, playing inline.
        log_in(page, base, "rey")
        page.click("#nav-review")
        page.wait_for_selector("h1:has-text('Awaiting review')")
        items = page.locator(".queue-item")
        assert items.count() == 2
        assert "paper boat" in items.nth(0).inner_text()
        page.wait_for_function(
            "document.querySelector('.queue-item video').readyState >= 1", timeout=20_000
        )
        first = items.nth(0)
        first.locator("textarea[name=comment]").fill("Lovely light, ship it")
        first.locator("button:has-text('Approve')").click()
        page.wait_for_selector("text=Approved:")
        assert page.locator(".queue-item").count() == 1
        second = page.locator(".queue-item").nth(0)
        # A rejection without a comment is stopped at the item, with the reason beside it.
        second.locator("button:has-text('Reject')").click()
        error = second.locator(".field-error")
        error.wait_for(state="visible")
        assert "needs a comment" in error.inner_text()
        assert page.locator(".queue-item").count() == 1
        assert page.locator(".messages .error").count() == 0
        second.locator("textarea[name=comment]").fill("Too dark; make it dusk")
        second.locator("button:has-text('Reject')").click()
        page.wait_for_selector("#queue-empty")

        # The member sees the approval in the gallery and on the page.
        log_in(page, base, "mia")
        page.goto(f"{base}/p/{project.pk}/?review=approved")
        tile = page.locator(".tile")
        assert tile.count() == 1
        assert "Approved" in tile.inner_text() and "Lovely light, ship it" in tile.inner_text()
        tile.click()
        page.wait_for_selector("#review-badge")
        assert page.locator("#review-badge").inner_text() == "Approved"
        assert "Lovely light, ship it" in page.locator("#review").inner_text()
        assert "rey" in page.locator("#review").inner_text()

        # The rejected one: the reason shows, and Revise prefills the form.
        page.goto(f"{base}/p/{project.pk}/?review=rejected")
        page.locator(".tile").click()
        assert page.locator("#review-badge").inner_text() == "Rejected"
        assert "Too dark; make it dusk" in page.locator("#review").inner_text()
        page.click("#revise")
        page.wait_for_selector("#revising")
        assert page.input_value("#id_prompt") == "A lighthouse at night, storm, wide shot"
        assert page.input_value("#id_duration") == "4"
        assert page.input_value("#id_resolution") == "480p"
        page.fill("#id_prompt", "A lighthouse at dusk, storm, wide shot")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        page.wait_for_selector("video#player", timeout=60_000)
        assert "Revision of" in page.locator("#review").inner_text()

    rejected = GenerationTask.objects.get(prompt__startswith="A lighthouse at night")
    revision = GenerationTask.objects.get(prompt__startswith="A lighthouse at dusk")
    assert rejected.review_state == "rejected" and revision.revised_from == rejected
    assert revision.review_state == "awaiting" and revision.created_by.username == "mia"
    assert Membership.objects.count() == 2
