"""In a real browser, while a render runs (issue 20): the progress bar moves with the clock
(no gateway reports a percentage), and Cancel is offered only where the gateway can cancel."""

import time

import pytest

from projects.models import GenerationTask, Membership
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]

RENDER_S = 10.0  # real seconds the simulator takes (it runs 200x a gateway's clock)


def watch_render(page) -> tuple[list[int], list[bool]]:
    """The bar's values and whether Cancel was shown, sampled until the video plays."""
    values, cancel_shown = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and page.locator("video#player").count() == 0:
        bar = page.locator("#render-progress")
        if bar.count():
            values.append(int(bar.get_attribute("value")))
            cancel_shown.append(page.locator("#cancel-generation").count() == 1)
        time.sleep(0.25)
    return values, cancel_shown


@pytest.mark.parametrize(("provider", "cancellable"), [("tokenhub", False), ("alltoken", True)])
def test_progress_moves_and_cancel_shows_only_where_it_works(
    live_server, sim, settings, provider, cancellable, monkeypatch
):
    settings.SITE_URL = live_server.url
    # Put back after the test: every later test on this worker shares the simulator.
    monkeypatch.setattr(sim.engine, "render_range", (RENDER_S * 200, RENDER_S * 200))
    monkeypatch.setattr(sim.engine, "queue_range", (1.0, 1.0))
    # A 4 s 480p clip is expected to take 30 + 18 x 4 x 0.7 = 80.4 gateway seconds; make
    # that the real render time, so the bar's estimate and the render agree.
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = RENDER_S / 80.4
    team = TeamFactory(name="Studio")
    project = ProjectFactory(team=team, name="Launch film", slug="launch")
    user = UserFactory(username="mia", password="pass-word-123")
    MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)

    with worker_thread(), chromium_page() as page:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "mia")
        page.fill("#id_password", "pass-word-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/p/{project.pk}/generate/?provider={provider}")
        page.fill("#id_prompt", "A paper boat drifting down a rainy street")
        page.select_option("#id_duration", "4")
        page.select_option("#id_resolution", "480p")
        page.click("button:has-text('Generate')")
        page.wait_for_selector("text=Generation submitted.")
        values, cancel_shown = watch_render(page)

    task = GenerationTask.objects.get()
    assert task.provider == provider and task.status == "succeeded", task.error_message
    moves = sum(1 for a, b in zip(values, values[1:], strict=False) if b > a)
    assert moves >= 3, values
    assert values == sorted(values) and values[-1] < 100
    assert any(cancel_shown) == cancellable, cancel_shown
