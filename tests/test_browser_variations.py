"""In a real browser (issue 15): a member generates 4 variations from the form (the total of
all takes shown before submit), compares them playing in sync, picks one; the reviewer sees
the pick first in the queue, marked "picked"."""

import pytest

from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditEntry, VariationBatch
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory
from tests.test_browser_review import log_in

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

TIMES = "Array.from(document.querySelectorAll('#compare video')).map(v => v.currentTime)"


def in_step(page, time: float) -> None:
    """Every take's position is `time` (within 0.1 s)."""
    page.wait_for_function(f"{TIMES}.every(t => Math.abs(t - {time}) < 0.1)", timeout=10_000)


def test_generate_four_variations_compare_pick_and_review_sees_the_pick_first(
    live_server, sim, settings
):
    settings.SITE_URL = live_server.url
    base = live_server.url
    team = TeamFactory(name="Studio")
    project = ProjectFactory(team=team, name="Launch film", slug="launch")
    for username, role in (("mia", "member"), ("rey", "reviewer")):
        user = UserFactory(username=username, password="pass-word-123")
        MembershipFactory(team=team, user=user, role=role)

    with worker_thread(), chromium_page() as page:
        log_in(page, base, "mia")
        page.goto(f"{base}/p/{project.pk}/generate/")
        page.fill("#id_prompt", "A paper boat on a rainy street, macro lens")
        page.select_option("#id_resolution", "480p")
        page.select_option("#id_duration", "4")
        page.select_option("#id_variations", "4")
        # The total for all takes, before submit: 4 x (4 s x $0.12/s).
        page.wait_for_selector("#estimate-total")
        assert "4 takes × $0.48 = $1.92" in page.locator("#estimate-total").inner_text()
        page.click("#generate")
        page.wait_for_selector("text=4 takes submitted.")
        assert "/v/" in page.url
        batch = VariationBatch.objects.get()
        holds = CreditEntry.objects.filter(kind="hold", task__variation_batch=batch)
        assert sorted(holds.values_list("amount_micro", flat=True)) == [-480_000] * 4

        # The takes render (the grid is redrawn until all have ended), then load.
        page.wait_for_function(
            "document.querySelectorAll('#compare video.take-video').length === 4",
            timeout=60_000,
        )
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#compare video')).every(v => v.readyState >= 1)",
            timeout=20_000,
        )
        videos = page.locator("#compare video.take-video")
        # Each starts muted; Unmute is per take.
        assert page.evaluate(
            "Array.from(document.querySelectorAll('#compare video')).every(v => v.muted)"
        )
        page.locator(".take").nth(1).locator(".take-unmute").click()
        assert page.evaluate(
            "Array.from(document.querySelectorAll('#compare video')).map(v => v.muted)"
        ) == [True, False, True, True]
        assert page.locator(".take").nth(1).locator(".take-unmute").inner_text() == "Mute"

        # One seek bar seeks all; seeking one take seeks the others.
        page.evaluate(
            "(() => { const s = document.getElementById('compare-seek');"
            " s.value = '500'; s.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        in_step(page, page.evaluate("document.querySelector('#compare video').duration / 2"))
        videos.nth(2).evaluate("v => { v.currentTime = 1.25; }")
        in_step(page, 1.25)

        # One button plays all, and pauses all.
        page.click("#compare-play")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#compare video')).every(v => !v.paused)"
        )
        assert page.locator("#compare-play").inner_text() == "Pause all"
        page.click("#compare-play")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#compare video')).every(v => v.paused)"
        )
        times = page.evaluate(TIMES)
        assert max(times) - min(times) < 0.3, times

        # Pick the third take (htmx): it is marked, the others keep their button.
        third = page.locator(".take").nth(2)
        picked_id = third.get_attribute("data-task")
        third.locator(".take-pick").click()
        page.wait_for_selector(f".take.picked[data-task='{picked_id}'] .picked-badge")
        assert page.locator(".take-pick").count() == 3
        batch.refresh_from_db()
        assert str(batch.pick_id) == picked_id

        # The take's page links back to the comparison.
        page.goto(f"{base}/g/{picked_id}/")
        page.click("#compare-link")
        page.wait_for_selector("h1:has-text('Compare 4 takes')")

        # The reviewer sees the pick first, marked.
        log_in(page, base, "rey")
        page.click("#nav-review")
        page.wait_for_selector("h1:has-text('Awaiting review')")
        items = page.locator(".queue-item")
        assert items.count() == 4
        assert items.nth(0).get_attribute("data-task") == picked_id
        assert items.nth(0).locator(".picked-badge").inner_text() == "picked"
        assert page.locator(".queue-item .picked-badge").count() == 1
    assert ledger_problems()[0] == []
