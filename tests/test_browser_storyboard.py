"""In a real browser (issue 15): a member builds a 4-shot storyboard with two chained shots,
submits every shot against the simulator, tries one shot twice and picks the first take,
assembles the cut and watches it play; the cut lasts the sum of the takes within one frame
and its frames at every boundary are the takes' own (decoded with PyAV); a reviewer approves
it. A shot dragged by its handle moves, and the order is saved."""

import av
import pytest
from django.core.files.storage import default_storage

from projects.models import AuditEvent, Cut, GenerationTask, Shot, Storyboard
from tests.browser import chromium_page, requires_chromium, worker_thread
from tests.cut_frames import boundary_checks
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory
from tests.test_browser_review import log_in

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]
FRAME = 1 / 24
SHOTS = [  # prompt, seconds, chained
    ("A red kite rises over the dunes", 4, False),
    ("The kite loops against the sun", 4, True),
    ("A child runs along the ridge", 5, False),
    ("The child catches the falling kite", 4, True),
]


@pytest.fixture
def world(live_server, sim, settings):
    settings.SITE_URL = live_server.url  # the simulator fetches chained first frames here
    team = TeamFactory(name="Studio")
    project = ProjectFactory(team=team, name="Kite film", slug="kite")
    for username, role in (("mia", "member"), ("rey", "reviewer")):
        MembershipFactory(
            team=team, user=UserFactory(username=username, password="pass-word-123"), role=role
        )
    return project


def new_storyboard(page, base, project) -> None:
    page.goto(f"{base}/p/{project.pk}/")
    page.click("#storyboards summary")
    page.fill("#new-storyboard #id_title", "Kite spot")
    page.select_option("#new-storyboard #id_provider", "tokenhub")
    page.fill("#new-storyboard #id_model", "doubao-seedance-2.0")
    page.select_option("#new-storyboard #id_resolution", "480p")
    page.click("#new-storyboard button[type=submit]")
    page.wait_for_selector("h1:has-text('Kite spot')")


def add_shot(page, prompt: str, seconds: int, chained: bool) -> None:
    page.fill("#add-shot #id_prompt", prompt)
    page.fill("#add-shot #id_duration", str(seconds))
    if chained:
        page.check("#add-shot #id_chain_from_previous")
    page.click("#add-shot button[type=submit]")
    page.wait_for_selector(f"#shots textarea:has-text('{prompt}')")


def submit_and_wait(page, number: int) -> None:
    page.click(f"#shot-{number} .submit-shot")
    page.wait_for_selector(f"text=Shot {number} submitted.")
    page.wait_for_selector(f"#shot-{number} .take-status[data-status=succeeded]", timeout=60_000)


def test_storyboard_to_cut_in_the_browser(world, live_server):
    base = live_server.url
    with worker_thread(), chromium_page() as page:
        log_in(page, base, "mia")
        new_storyboard(page, base, world)
        for prompt, seconds, chained in SHOTS:
            add_shot(page, prompt, seconds, chained)
        assert page.locator("#shots li.shot").count() == 4
        assert page.locator("#total-length").inner_text() == "17.00 s"
        assert page.locator("#cost-to-come").inner_text() != "$0.00"

        for number in (1, 2, 3):
            submit_and_wait(page, number)
        # Shot 3 tried twice; the first take is picked back.
        submit_and_wait(page, 3)
        page.select_option("#shot-3 .choose-take select", index=0)
        page.click("#shot-3 .choose-take button")
        page.wait_for_selector("#shot-3 .take-status")
        submit_and_wait(page, 4)
        assert page.locator("#cost-charged").inner_text() != "$0.00"

        page.click("#assemble")
        page.wait_for_selector("#cut-player", timeout=60_000)
        page.wait_for_function(
            "() => { const v = document.querySelector('#cut-player');"
            " return v.readyState >= 2 && v.duration > 0; }",
            timeout=20_000,
        )
        played = page.evaluate("document.querySelector('#cut-player').duration")
        assert page.locator("#cut-download").count() == 1

        # The reviewer approves the cut.
        log_in(page, base, "rey")
        board = Storyboard.objects.get()
        page.goto(f"{base}/s/{board.pk}/")
        page.fill("#cut-comment", "Ship it")
        page.click("#cut-review button[value=approved]")
        page.wait_for_selector("#cut-review-state[data-state=approved]")

    cut = Cut.objects.get()
    assert cut.status == "done" and cut.review_state == "approved"
    assert AuditEvent.objects.filter(action="cut.approved", target_id=str(cut.pk)).exists()
    shots = list(Shot.objects.order_by("position"))
    assert cut.take_ids == [str(s.take_id) for s in shots]
    tries = list(shots[2].generations.order_by("created_at"))
    assert len(tries) == 2 and shots[2].take_id == tries[0].pk
    for chained in (shots[1], shots[3]):
        (ref,) = chained.take.references.all()
        before = shots[chained.position - 1]
        assert ref.role == "first_frame" and ref.asset.source_task_id == before.take_id
    takes = [GenerationTask.objects.get(pk=s.take_id) for s in shots]
    sources = [default_storage.path(t.video.name) for t in takes]
    cut_path = default_storage.path(cut.file.name)
    total = sum(t.video_duration_s for t in takes)
    assert abs(cut.duration_s - total) <= FRAME
    assert abs(played - total) <= FRAME + 0.05  # what the browser reports (audio may pad)
    with av.open(cut_path) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        assert abs(float(stream.duration * stream.time_base) - total) <= FRAME
    for number, end, difference in boundary_checks(
        cut_path, sources, width=width // 4, height=height // 4
    ):
        assert difference < 1.0, (number, end, difference)


def test_dragging_a_shot_by_its_handle_reorders_the_storyboard(world, live_server):
    base = live_server.url
    with chromium_page() as page:
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        log_in(page, base, "mia")
        new_storyboard(page, base, world)
        for prompt in ("First shot", "Second shot", "Third shot"):
            add_shot(page, prompt, 4, False)
        # Both handles on screen, then drag shot 3 above shot 1 in small steps.
        page.locator("#shot-1").evaluate("el => el.scrollIntoView({block: 'start'})")
        box = page.locator("#shot-3 .handle").bounding_box()
        goal = page.locator("#shot-1 .handle").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        for step in range(1, 21):
            page.mouse.move(
                goal["x"] + goal["width"] / 2,
                box["y"] + (goal["y"] - 10 - box["y"]) * step / 20,
            )
            page.wait_for_timeout(20)
        page.mouse.up()
        page.wait_for_function(
            "() => document.querySelector('#shot-1 textarea').value === 'Third shot'"
        )
        page.reload()
        order = page.locator("#shots textarea").evaluate_all("els => els.map(e => e.value)")
        assert order == ["Third shot", "First shot", "Second shot"]
        assert not [e for e in errors if "Content Security Policy" in e]
    assert [s.prompt for s in Shot.objects.order_by("position")] == [
        "Third shot",
        "First shot",
        "Second shot",
    ]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_storyboard_pages_have_no_serious_axe_violation(world, live_server, width):
    from axe_playwright_python.sync_playwright import Axe

    from projects.models import Membership
    from projects.services import storyboards

    member = Membership.objects.get(user__username="mia").user
    board = storyboards.storyboard_create(
        project=world,
        user=member,
        title="Kite spot",
        provider="tokenhub",
        model="doubao-seedance-2.0",
    )
    storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    storyboards.shot_add(storyboard=board, prompt="It lands", duration=4, chain_from_previous=True)
    Cut.objects.create(storyboard=board, created_by=member, status="assembling", progress=40)
    found = {}
    with chromium_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        log_in(page, live_server.url, "mia")
        # On the project page, the storyboards' part (the gallery is test_browser_a11y's).
        for path, part in ((f"/p/{world.pk}/", "#storyboards"), (f"/s/{board.pk}/", None)):
            page.goto(live_server.url + path)
            results = Axe().run(page, context=part).response
            bad = [
                f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}"
                for v in results["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                bad.append(f"wider than the screen by {overflow} px")
            if bad:
                found[path] = bad
    assert found == {}, found


def test_a_board_poll_never_replaces_a_shot_being_edited(world, live_server):
    from projects.models import Membership
    from projects.services import storyboards

    member = Membership.objects.get(user__username="mia").user
    board = storyboards.storyboard_create(
        project=world,
        user=member,
        title="Kite spot",
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="480p",
    )
    storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    with chromium_page() as page:  # no worker: the take stays in progress, the board polls
        polls = []
        page.on("request", lambda r: polls.append(r.url) if "part=board" in r.url else None)
        log_in(page, live_server.url, "mia")
        page.goto(f"{live_server.url}/s/{board.pk}/")
        page.click("#shot-1 .submit-shot")
        page.wait_for_selector("#board[data-busy='1']")
        page.wait_for_timeout(2500)
        assert polls, "the board polls while its take renders"
        page.click("#shot-1 textarea")
        page.keyboard.type(" slowly")
        before = len(polls)
        page.wait_for_timeout(4500)
        assert len(polls) == before  # skipped while the prompt is being edited
        assert page.input_value("#shot-1 textarea") == "A kite rises slowly"
        page.click("h1")
        page.wait_for_timeout(2500)
        assert len(polls) > before  # and resumed once it is left
