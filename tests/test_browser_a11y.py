"""Accessibility in a real browser: axe-core (axe-playwright-python) finds no serious or
critical violation on the pages people use, at desktop and phone widths, and the pages load
under the Content Security Policy with no violation reported by the browser."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser import chromium_page, requires_chromium
from tests.factories import (
    GenerationTaskFactory,
    MembershipFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
SERIOUS = ("serious", "critical")


@pytest.fixture
def studio():
    return studio_make()


def studio_make() -> dict:
    """A team with a member, a reviewer and an admin, a project, a failed and a running task
    (also tests/test_browser_csp.py)."""
    team = TeamFactory(name="Studio")
    project = ProjectFactory(team=team, name="Launch film", slug="launch")
    users = {}
    for username, role in (("mia", "member"), ("rey", "reviewer"), ("ada", "admin")):
        users[username] = UserFactory(username=username, password="pass-word-123")
        MembershipFactory(team=team, user=users[username], role=role)
    done = GenerationTaskFactory(
        project=project,
        created_by=users["mia"],
        status="failed",
        error_message="The gateway refused the prompt.",
    )
    running = GenerationTaskFactory(project=project, created_by=users["mia"], status="running")
    return {"team": team, "project": project, "done": done, "running": running}


def pages_for(role: str, studio) -> list[str]:
    project, team = studio["project"], studio["team"]
    pages = {
        "mia": [
            "/",
            f"/p/{project.pk}/",
            f"/p/{project.pk}/generate/",
            f"/p/{project.pk}/assets/",
            f"/g/{studio['done'].pk}/",
            f"/g/{studio['running'].pk}/",
            "/spend/",
            "/keys/",
            "/notifications/",
        ],
        "rey": ["/review/"],
        "ada": [f"/t/{team.pk}/", f"/t/{team.pk}/audit/"],
    }
    return pages[role]


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("width", [1366, 390])
def test_no_serious_axe_violation_on_the_studio_pages(live_server, studio, width):
    axe = Axe()
    found: dict[str, list[str]] = {}
    csp_errors: list[str] = []
    with chromium_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        page.on(
            "console",
            lambda msg: (
                csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        for username in ("mia", "rey", "ada"):
            log_in(page, live_server.url, username)
            for path in pages_for(username, studio):
                page.goto(live_server.url + path)
                results = axe.run(page).response
                bad = [
                    f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}"
                    for v in results["violations"]
                    if v["impact"] in SERIOUS
                ]
                if bad:
                    found[path] = bad
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                if overflow > 0:
                    found.setdefault(path, []).append(f"wider than the screen by {overflow} px")
    assert found == {}, "\n".join(f"{path}: {problems}" for path, problems in found.items())
    assert csp_errors == []
