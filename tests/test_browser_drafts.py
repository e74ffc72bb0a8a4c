"""In a real browser: a member makes a Seedance 1.5 pro draft on Ark ("Draft first" narrows
the form to 480p), watches it finish, clicks "Render final" at 720p, and the final succeeds;
each page links the other, and both are charged their tokens with the books in order."""

import pytest

from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditEntry, GenerationTask, Membership
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
MODEL = "doubao-seedance-1-5-pro-251215"


def test_a_draft_on_ark_then_render_final(live_server, sim):
    team = TeamFactory(name="Studio")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch film", slug="launch-film")

    with worker_thread(), chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/p/{project.pk}/generate/?provider=ark&model={MODEL}")
        assert page.locator("#id_resolution option").count() == 3  # 480p, 720p, 1080p
        page.check("#id_draft")
        # Drawn again for a draft: 480p only, priced at 480p (864x496, research §1.7).
        page.wait_for_function("document.querySelectorAll('#id_resolution option').length === 1")
        assert page.locator("#id_resolution").input_value() == "480p"
        assert "480p only" in page.inner_text("#resolution-rule")
        page.select_option("#id_duration", "4")
        page.wait_for_function(
            "document.querySelector('#estimate-basis').textContent.includes('864x496')"
        )
        page.fill("#id_prompt", "A paper boat drifting down a rainy street, macro lens")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        assert "a 480p preview" in page.inner_text("#draft-fact")
        page.wait_for_selector("#render-final", timeout=60_000)  # the draft has finished
        assert page.locator("video#player").count() == 1
        page.select_option("#id_final_resolution", "720p")
        page.click("#render-final")
        page.wait_for_selector("text=Final submitted")
        final_url = page.url
        page.wait_for_selector("video#player", timeout=60_000)
        assert page.locator("#status-badge").inner_text() == "Succeeded"
        page.click("#draft-link")
        page.wait_for_selector(".final-link")
        assert "(succeeded)" in page.inner_text(".final-entry")
        assert page.locator(".final-link").get_attribute("href") in final_url
        page.goto("about:blank")

    draft = GenerationTask.objects.get(draft=True)
    final = GenerationTask.objects.get(draft_source=draft)
    assert (draft.resolution, final.resolution) == ("480p", "720p")
    assert {draft.status, final.status} == {"succeeded"}
    for task, tokens in ((draft, 40_594), (final, 87_300)):  # 864x496 and 1280x720, 4 s
        charge = CreditEntry.objects.get(task=task, kind="charge")
        assert charge.quantity == tokens == task.usage["completion_tokens"]
    assert ledger_problems()[0] == []
