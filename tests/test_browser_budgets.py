"""In a real browser: an admin sets a monthly team budget and a user cap in Django admin; the
member then sees the refusal in the generation form, live as the options change, and on
submit; a cheaper choice within the cap goes through."""

from decimal import Decimal

import pytest

from projects.models import Budget, GenerationTask, Membership
from tests.browser import chromium_page, requires_chromium
from tests.conftest import funded_team
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

CAP_REFUSAL = (
    "This would go over your monthly cap in Studio ($0.50): $0.50 is left this month and this "
    "request costs up to $1.00."
)


def log_in(page, base: str, username: str, path: str = "/login/") -> None:
    page.goto(f"{base}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("[type=submit]")


def test_admin_sets_budgets_and_the_member_sees_the_refusal(live_server, sim, settings):
    settings.SITE_URL = live_server.url
    team = funded_team(name="Studio", slug="studio")
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    member = UserFactory(username="mia")
    MembershipFactory(team=team, user=admin, role=Membership.Role.ADMIN)
    MembershipFactory(team=team, user=member, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team, name="Launch", slug="launch")
    base = live_server.url

    with chromium_page() as page:
        log_in(page, base, "ada", "/admin/login/?next=/admin/projects/budget/add/")
        page.wait_for_selector("h1:has-text('Add budget')")
        page.select_option("#id_team", label="Studio")
        page.select_option("#id_period", "month")
        page.fill("#id_limit_usd", "5.00")
        page.fill("#id_note", "November launch")
        page.click("input[name=_addanother]")
        page.wait_for_selector("text=was added successfully")
        page.select_option("#id_team", label="Studio")
        page.select_option("#id_user", label="mia")
        page.fill("#id_limit_usd", "0.50")
        page.click("input[name=_save]")
        page.wait_for_selector("text=was added successfully")
        assert page.locator("#result_list tbody tr").count() == 2

        page.context.clear_cookies()
        log_in(page, base, "mia")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/p/{project.pk}/generate/")
        # The form opens at 5 s, 720p: $1.00, over the $0.50 cap.
        assert page.inner_text("#estimate-cost") == "$1.00"
        assert page.inner_text("#estimate-problem") == CAP_REFUSAL
        assert "Your monthly cap in Studio: $0.50 of $0.50 left this month" in page.inner_text(
            "#remaining"
        )
        page.fill("#id_prompt", "A paper boat drifting down a rainy street")
        page.click("button:has-text('Generate')")
        page.wait_for_selector(".error-box")
        assert CAP_REFUSAL in page.inner_text("#fields .error-box")

        # Cheaper options re-price live: 4 s at 480p is $0.48, within the cap.
        page.select_option("#id_resolution", "480p")
        page.wait_for_function("document.querySelector('#estimate-cost').textContent === '$0.60'")
        page.select_option("#id_duration", "4")
        page.wait_for_function("document.querySelector('#estimate-cost').textContent === '$0.48'")
        assert page.locator("#estimate-problem").count() == 0
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        assert page.inner_text("#cost").startswith("$0.48 held")
        page.goto("about:blank")  # stop the page's live polling before the server stops

    # (Database checks after the browser closes: inside Playwright's loop Django would open,
    # and leave open, another connection.)
    assert set(Budget.objects.values_list("user__username", "period", "limit_usd")) == {
        (None, "month", Decimal("5.00")),
        ("mia", "month", Decimal("0.50")),
    }
    task = GenerationTask.objects.get()  # the refused submit stored nothing
    assert (task.resolution, task.duration, task.created_by) == ("480p", 4, member)
