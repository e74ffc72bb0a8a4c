"""Kept pages never show a state that has changed.

The project gallery (and its htmx `#gallery` fragment), a generation's page (and its htmx
`#live` fragment) and the review queue keep their rendered HTML per process
(projects/page_cache.py, `caches["pages"]`), keyed by the versions of the generations they
show. A change a user can see that does not change the key would leave those pages stale for
up to PAGE_TTL seconds, with nothing else failing.

Each test here warms every watched page as each watched person (the member who made the
generations, a reviewer, a team admin), makes one change through the real services, views,
admin actions or worker sweep, then asks every page once more (perhaps served from the kept
copy), empties the kept pages and asks again (rendered now): both answers must match, apart
from what differs between any two renders (CSRF tokens, the running clock). Without the
"pages" cache every page is rendered each time and these tests pass trivially.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from importlib import import_module

import pytest
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.dummy import DummyCache
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from projects.generation import lifecycle
from projects.models import GenerationTask, Membership
from projects.selectors import GALLERY_PAGE_SIZE, REVIEW_PAGE_SIZE
from projects.services.generation import generation_task_create
from projects.services.outputs import generation_task_store_outputs
from projects.services.reviews import generation_revise, video_reject
from projects.services.submit import generation_task_submit
from projects.services.sweep import generation_tasks_sweep
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive, make_due, tokenhub_params
from tests.factories import MembershipFactory, UserFactory
from tests.page_rows import generations_add
from tests.sim_control import hold, release
from tests.test_gateway_ark_flow import params as ark_params
from tests.test_gateway_seedance2ink_flow import params as seedance2ink_params

pytestmark = pytest.mark.django_db

Status = GenerationTask.Status
HTMX = {"HTTP_HX_REQUEST": "true"}
CHANGELIST = "admin:projects_generationtask_changelist"


# --- Comparing a possibly kept page with one rendered now -----------------------------------


def clear_pages_cache() -> None:
    """Forget every kept page (nothing to do while settings have no "pages" cache)."""
    try:
        cache = caches["pages"]
    except InvalidCacheBackendError:
        return
    cache.clear()
    # Gallery tiles keep their markup per distinct tile too (views/tiles.py).
    tile_html = getattr(import_module("projects.views.tiles"), "_tile_html", None)
    if hasattr(tile_html, "cache_clear"):
        tile_html.cache_clear()


_VOLATILE = [
    # A fresh CSRF token (masked anew) in each form and in base.html's hx-headers.
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")'), r"\1<csrf>\2"),
    (re.compile(r'("X-CSRFToken": ")[^"]*(")'), r"\1<csrf>\2"),
    # A running generation's page: elapsed time and progress follow the clock.
    (re.compile(r'(aria-valuenow=")\d+(")'), r"\1<n>\2"),
    (re.compile(r'(max="100" value=")\d+(")'), r"\1<n>\2"),
    (re.compile(r'(aria-valuenow="<n>">)\d+( %</progress>)'), r"\1<n>\2"),
    (re.compile(r"(<span data-since=\"[^\"]*\">)[^<]*(</span>)"), r"\1<elapsed>\2"),
    (re.compile(r"(<dt>Elapsed</dt><dd>)[^<]*(</dd>)"), r"\1<elapsed>\2"),
    # ... and so does the time left ("about 1 min 40 s left", "longer than usual").
    (re.compile(r'(<span id="time-left">)[^<]*(</span>)'), r"\1<left>\2"),
    # The learned usual time follows the history of finished renders (kept 30 s per process).
    (re.compile(r"(usually about )[^<)]*"), r"\1<usual>"),
]


def pages_kept() -> bool:
    """Whether pages are kept at all: a "pages" cache is configured and not switched off."""
    try:
        return not isinstance(caches["pages"], DummyCache)
    except InvalidCacheBackendError:
        return False


def normalized(html: str) -> str:
    """`html` without what differs between two renders of the same state."""
    for pattern, replacement in _VOLATILE:
        html = pattern.sub(replacement, html)
    return html


@dataclass(frozen=True)
class Page:
    """One page as one person asks for it (`htmx`: the fragment the page polls for)."""

    who: str
    url: str
    htmx: bool = False

    def __str__(self) -> str:
        return f"{self.url}{' (htmx)' if self.htmx else ''} as {self.who}"


def _get(client: Client, page: Page):
    return client.get(page.url, **(HTMX if page.htmx else {}))


def assert_all_fresh(clients: dict[str, Client], pages: list[Page]) -> dict[Page, str]:
    """Ask for every page (kept copies allowed), then empty the kept pages and ask again:
    same status and same normalized body for each. Returns the fresh bodies.

    All pages are asked once before the cache is emptied: emptying it after each page would
    throw away the other pages' kept copies before they were ever compared."""
    served = {page: _get(clients[page.who], page) for page in pages}
    clear_pages_cache()
    fresh = {page: _get(clients[page.who], page) for page in pages}
    problems = []
    for page in pages:
        old, new = served[page], fresh[page]
        before, after = normalized(old.content.decode()), normalized(new.content.decode())
        if old.status_code != new.status_code:
            problems.append(f"{page}: served {old.status_code}, rendered now {new.status_code}")
        elif before != after:
            diff = difflib.unified_diff(
                before.splitlines(), after.splitlines(), "served", "rendered now", lineterm=""
            )
            problems.append(f"{page} is stale:\n" + "\n".join(list(diff)[:80]))
    assert not problems, "\n\n".join(problems)
    return {page: response.content.decode() for page, response in fresh.items()}


# --- People, pages and generations ----------------------------------------------------------


@dataclass
class People:
    """The watched people: the member who makes the videos, a reviewer and a team admin
    (each with a logged-in client), and Django's superuser for admin actions."""

    member: object
    reviewer: object
    admin: object
    clients: dict[str, Client]
    root: Client

    def client(self, who: str) -> Client:
        return self.clients[who]


@pytest.fixture
def people(project, member) -> People:
    reviewer, admin = UserFactory(username="rey"), UserFactory(username="ada")
    MembershipFactory(team=project.team, user=reviewer, role=Membership.Role.REVIEWER)
    MembershipFactory(team=project.team, user=admin, role=Membership.Role.ADMIN)
    clients = {}
    for name, user in (("member", member), ("reviewer", reviewer), ("admin", admin)):
        clients[name] = Client()
        clients[name].force_login(user)
    root = Client()
    root.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return People(member=member, reviewer=reviewer, admin=admin, clients=clients, root=root)


def gallery_url(project, query: str = "") -> str:
    return reverse("projects:project_detail", args=[project.pk]) + query


def detail_url(task) -> str:
    return reverse("projects:generation_detail", args=[task.pk])


def queue_url(query: str = "") -> str:
    return reverse("projects:review_queue") + query


def watched(
    people: People,
    project,
    *tasks: GenerationTask,
    gallery: tuple[str, ...] = ("",),
    queue: tuple[str, ...] = ("",),
) -> list[Page]:
    """Every watched page for every watched person: the gallery (with each query in
    `gallery`), each task's page, both in full and as htmx asks, and the review queue (each
    query in `queue`) for those who review."""
    pages = []
    for who in people.clients:
        for query in gallery:
            pages += [Page(who, gallery_url(project, query), htmx) for htmx in (False, True)]
        for task in tasks:
            pages += [Page(who, detail_url(task), htmx) for htmx in (False, True)]
        if who != "member":
            pages += [Page(who, queue_url(query)) for query in queue]
    return pages


def warm(people: People, pages: list[Page]) -> None:
    """Ask for every page, so each is kept as it is now."""
    for page in pages:
        assert _get(people.client(page.who), page).status_code == 200, page


def check(people: People, pages: list[Page]) -> dict[Page, str]:
    return assert_all_fresh(people.clients, pages)


def body(bodies: dict[Page, str], who: str, url: str, htmx: bool = False) -> str:
    return bodies[Page(who, url, htmx)]


def tiles(html: str) -> list[str]:
    """The generation ids of a gallery's tiles, in order."""
    return re.findall(r'class="tile" href="[^"]*" data-task="([^"]+)"', html)


def queued(project, user, **params) -> GenerationTask:
    """A TokenHub generation sent to the simulator (the submit runs on commit), reloaded."""
    task = create_task(project=project, user=user, params=tokenhub_params(**params))
    task.refresh_from_db()
    assert task.upstream_task_id, task.error_message
    return task


def finish(sim, task: GenerationTask) -> GenerationTask:
    """Let the simulator end `task` now and run the worker's sweep until it ends here."""
    release(sim, task.upstream_task_id)
    make_due(task)
    return drive(task)


def succeeded(sim, project, user, prompt: str) -> GenerationTask:
    task = finish(sim, queued(project, user, prompt=prompt, duration=4))
    assert task.status == Status.SUCCEEDED, task.error_message
    return task


def sweep_once(task: GenerationTask) -> GenerationTask:
    """One pass of the worker's sweep over `task`, due now."""
    make_due(task)
    with TestCase.captureOnCommitCallbacks(execute=True):
        generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True, only=[str(task.pk)])
    task.refresh_from_db()
    return task


def post(client: Client, url: str, data: dict):
    """POST as a browser would, following the redirect (which shows, and so uses up, the
    flash message: the watched pages are compared without it)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, data, follow=True)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


# --- Steps ----------------------------------------------------------------------------------


def test_a_generation_stays_fresh_from_create_through_each_status_to_success(
    sim, project, member, people, settings, monkeypatch
):
    # Jobs are run by hand here, so each status can be looked at: pending, queued, running,
    # saving, succeeded.
    settings.SEEDANCE_JOBS_INLINE = False
    jobs: list[tuple] = []
    for where in ("projects.queue.enqueue", "projects.services.sweep.enqueue"):
        monkeypatch.setattr(where, lambda *args: jobs.append(args))
    pages = watched(people, project)
    warm(people, pages)

    task = generation_task_create(
        project=project, user=member, params=tokenhub_params(prompt="A red kite", duration=4)
    )
    pages = watched(people, project, task)
    bodies = check(people, pages)
    gallery = body(bodies, "member", gallery_url(project))
    assert tiles(gallery) == [str(task.pk)] and "$0.80 held" in gallery
    assert 'data-status="pending"' in body(bodies, "reviewer", detail_url(task), htmx=True)

    warm(people, pages)
    generation_task_submit(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == Status.QUEUED
    hold(sim, task.upstream_task_id, "queued")
    bodies = check(people, pages)
    assert "Queued at the gateway" in body(bodies, "member", detail_url(task))

    warm(people, pages)
    hold(sim, task.upstream_task_id, "running")
    assert sweep_once(task).status == Status.RUNNING
    bodies = check(people, pages)
    assert 'data-status="running"' in body(bodies, "admin", detail_url(task), htmx=True)

    warm(people, pages)
    release(sim, task.upstream_task_id)
    assert sweep_once(task).status == Status.DOWNLOADING
    bodies = check(people, pages)
    assert "Saving the video" in body(bodies, "member", detail_url(task))
    assert [job for job in jobs if "store" in job[0]], "the download is a store job's"

    warm(people, pages)
    generation_task_store_outputs(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED
    bodies = check(people, pages)
    gallery = body(bodies, "reviewer", gallery_url(project), htmx=True)
    assert "Awaiting review" in gallery and "charged $0.80" in gallery
    detail = body(bodies, "member", detail_url(task))
    assert 'id="player"' in detail and "Awaiting review." in detail
    assert f'data-task="{task.pk}"' in body(bodies, "reviewer", queue_url())


def test_review_decisions_show_at_once_on_tiles_detail_pages_and_the_queue(
    sim, project, member, people
):
    approved = succeeded(sim, project, member, "A paper boat")
    rejected = succeeded(sim, project, member, "A night market")
    pages = watched(people, project, approved, rejected)
    warm(people, pages)

    review = reverse("projects:generation_review", args=[approved.pk])
    post(people.client("reviewer"), review, {"decision": "approved", "next": queue_url()})
    bodies = check(people, pages)
    assert f'data-task="{approved.pk}"' not in body(bodies, "admin", queue_url())
    assert 'id="review-badge">Approved' in body(bodies, "member", detail_url(approved))

    warm(people, pages)
    review = reverse("projects:generation_review", args=[rejected.pk])
    post(people.client("reviewer"), review, {"decision": "rejected", "comment": "Too dark"})
    bodies = check(people, pages)
    assert "Too dark" in body(bodies, "member", gallery_url(project), htmx=True)
    assert "Nothing awaits review" in body(bodies, "reviewer", queue_url())
    detail = body(bodies, "member", detail_url(rejected))
    assert 'id="review-badge">Rejected' in detail and 'id="revise"' in detail


def test_revising_a_rejected_video_links_both_pages(sim, project, member, people):
    rejected = succeeded(sim, project, member, "Night market")
    video_reject(task=rejected, user=people.reviewer, comment="Brighter please")
    pages = watched(people, project, rejected)
    warm(people, pages)

    post(
        people.client("member"),
        reverse("projects:generation_new", args=[project.pk]),
        {
            "provider": "tokenhub",
            "model": "doubao-seedance-2.0",
            "prompt": "Night market, brighter",
            "ratio": "16:9",
            "resolution": "720p",
            "duration": "4",
            "revised_from": str(rejected.pk),
        },
    )
    revision = GenerationTask.objects.get(revised_from=rejected)
    bodies = check(people, pages)
    assert "Revised as" in body(bodies, "reviewer", detail_url(rejected))
    assert tiles(body(bodies, "member", gallery_url(project)))[0] == str(revision.pk)


def test_a_revision_finishing_or_deleted_shows_on_the_rejected_videos_page(
    sim, project, member, people
):
    # The rejected video's page lists its revisions with their status: its key holds their
    # versions (views/generations.py generation_detail).
    rejected = succeeded(sim, project, member, "Night market")
    video_reject(task=rejected, user=people.reviewer, comment="Brighter please")
    with TestCase.captureOnCommitCallbacks(execute=True):
        revision = generation_revise(
            task=rejected,
            user=member,
            params=tokenhub_params(prompt="Night market, brighter", duration=4),
        )
    revision.refresh_from_db()
    pages = watched(people, project, rejected, revision)
    warm(people, pages)

    assert finish(sim, revision).status == Status.SUCCEEDED
    bodies = check(people, pages)
    assert "(succeeded)" in body(bodies, "member", detail_url(rejected))

    warm(people, pages)
    response = post(
        people.client("member"), reverse("projects:generation_delete", args=[revision.pk]), {}
    )
    assert "Generation deleted" in response.content.decode()
    bodies = check(people, [p for p in pages if p.url != detail_url(revision)])
    assert "Revised as" not in body(bodies, "member", detail_url(rejected))


def test_a_cancel_and_a_gateway_failure_show_nothing_charged_and_why(
    sim, project, member, people, settings
):
    settings.SITE_URL = "http://127.0.0.1:9"  # seedance2.ink is told a webhook; nothing serves it
    running = create_task(project=project, user=member, params=seedance2ink_params())
    running.refresh_from_db()
    hold(sim, running.upstream_task_id, "running")
    assert sweep_once(running).status == Status.RUNNING
    sim.engine.inject(Fault(kind="fail", dialect="tokenhub"))
    failing = queued(project, member, prompt="A lighthouse", duration=4)
    pages = watched(people, project, running, failing)
    warm(people, pages)

    post(people.client("member"), reverse("projects:generation_cancel", args=[running.pk]), {})
    running.refresh_from_db()
    assert running.status == Status.CANCELLED
    bodies = check(people, pages)
    detail = body(bodies, "member", detail_url(running))
    assert 'data-status="cancelled"' in detail and "nothing charged" in detail
    assert "nothing charged" in body(bodies, "admin", gallery_url(project), htmx=True)

    warm(people, pages)
    failing = finish(sim, failing)
    assert failing.status == Status.FAILED and failing.error_message
    bodies = check(people, pages)
    detail = body(bodies, "reviewer", detail_url(failing), htmx=True)
    assert escape(failing.error_message) in detail and "nothing charged" in detail
    assert body(bodies, "member", gallery_url(project)).count("nothing charged") == 2


def test_a_deleted_generation_leaves_the_gallery_and_its_page_404s(sim, project, member, people):
    kept = succeeded(sim, project, member, "A fox in the snow")
    gone = succeeded(sim, project, member, "A kite over the dunes")
    pages = watched(people, project, kept, gone)
    warm(people, pages)
    # Its maker and the team admin are offered Delete; the reviewer is not.
    for who, offered in (("member", True), ("admin", True), ("reviewer", False)):
        page = people.client(who).get(detail_url(gone)).content.decode()
        assert ('id="delete-generation"' in page) is offered, who

    post(people.client("member"), reverse("projects:generation_delete", args=[gone.pk]), {})
    bodies = check(people, [p for p in pages if p.url != detail_url(gone)])
    for who in people.clients:
        assert people.client(who).get(detail_url(gone)).status_code == 404
    gallery = body(bodies, "admin", gallery_url(project))
    assert tiles(gallery) == [str(kept.pk)] and str(gone.pk) not in gallery
    assert f'data-task="{gone.pk}"' not in body(bodies, "reviewer", queue_url())
    assert f'data-task="{kept.pk}"' in body(bodies, "reviewer", queue_url())


def test_admin_actions_that_only_add_history_show_on_the_detail_page(sim, project, member, people):
    waiting = queued(project, member, prompt="A slow render")
    hold(sim, waiting.upstream_task_id, "queued")
    # Two lost creates of the same shape: reconciling cannot tell them apart, so the task
    # stays unconfirmed and only its history grows (tests/test_admin_ops.py).
    sim.engine.inject(Fault(kind="lost_create", dialect="ark", count=2))
    unsure = create_task(project=project, user=member, params=ark_params(seed=7))
    create_task(project=project, user=member, params=ark_params(seed=7))
    done = succeeded(sim, project, member, "A finished video")
    pages = watched(people, project, waiting, unsure, done)
    warm(people, pages)

    root = people.root
    for action, task in (("poll_now", waiting), ("reconcile_now", unsure)):
        post(root, reverse(CHANGELIST), {"action": action, "_selected_action": [str(task.pk)]})
    waiting.refresh_from_db()
    unsure.refresh_from_db()
    assert (waiting.status, unsure.status) == (Status.QUEUED, Status.SUBMIT_UNKNOWN)
    bodies = check(people, pages)
    assert "root asked for a check now." in body(bodies, "member", detail_url(waiting))
    assert "root reconciled: the gateway cannot say" in body(
        bodies, "admin", detail_url(unsure), htmx=True
    )

    # No admin action writes to a finished task's history (they refuse ended tasks), but a
    # line added by any service must show on its kept page all the same.
    warm(people, pages)
    lifecycle.event_add(task_id=done.pk, kind="admin", message="Checked by the studio lead.")
    bodies = check(people, pages)
    assert "Checked by the studio lead." in body(bodies, "reviewer", detail_url(done))


def test_gallery_pages_filters_and_queue_pages_stay_fresh(sim, project, member, people):
    generations_add(
        project=project, member=member, reviewer=people.reviewer, count=GALLERY_PAGE_SIZE + 6
    )
    gallery = ("", "?page=2", "?status=succeeded", "?review=awaiting", "?status=active&page=1")
    queue = ("", "?page=2")
    pages = watched(people, project, gallery=gallery, queue=queue)
    warm(people, pages)
    before = tiles(people.client("member").get(gallery_url(project)).content.decode())
    waiting = people.client("reviewer").get(queue_url("?page=2")).content.decode()
    assert waiting.count('class="card queue-item"') > 0, "the queue has a second page"

    new = queued(project, member, prompt="The newest one", duration=4)
    bodies = check(people, pages)
    first, second = (
        body(bodies, "member", gallery_url(project)),
        body(bodies, "member", gallery_url(project, "?page=2")),
    )
    assert tiles(first) == [str(new.pk), *before[:-1]] and len(tiles(first)) == GALLERY_PAGE_SIZE
    assert tiles(second)[0] == before[-1], "page 2 starts with what page 1 had last"
    active = body(bodies, "admin", gallery_url(project, "?status=active&page=1"))
    assert str(new.pk) in tiles(active)

    warm(people, pages)
    assert finish(sim, new).status == Status.SUCCEEDED
    bodies = check(people, pages)
    for query in ("?status=succeeded", "?review=awaiting"):
        assert tiles(body(bodies, "reviewer", gallery_url(project, query)))[0] == str(new.pk)
    queued_for_review = GenerationTask.objects.filter(review_state="awaiting").count()
    assert queued_for_review > REVIEW_PAGE_SIZE
    queue_pages = body(bodies, "reviewer", queue_url()) + body(
        bodies, "reviewer", queue_url("?page=2")
    )
    assert f'data-task="{new.pk}"' in queue_pages

    warm(people, pages)
    review = reverse("projects:generation_review", args=[new.pk])
    post(people.client("admin"), review, {"decision": "approved"})
    bodies = check(people, pages)
    awaiting = body(bodies, "member", gallery_url(project, "?review=awaiting"))
    assert str(new.pk) not in tiles(awaiting)
    assert f"({queued_for_review - 1} waiting)" in body(bodies, "admin", queue_url())


def test_a_kept_page_is_served_with_fewer_queries(sim, project, member, people):
    if not pages_kept():
        pytest.skip('no "pages" cache configured, or it is switched off (SEEDANCE_PAGE_CACHE=0)')
    task = succeeded(sim, project, member, "A finished video")
    for who, url in (
        ("member", detail_url(task)),
        ("reviewer", detail_url(task)),
        ("member", gallery_url(project)),
        ("reviewer", queue_url()),
    ):
        client = people.client(who)
        client.get(url)  # the session exists: both requests below differ only in what is kept
        clear_pages_cache()
        with CaptureQueriesContext(connection) as rendered:
            first = client.get(url)
        with CaptureQueriesContext(connection) as kept:
            second = client.get(url)
        assert first.status_code == second.status_code == 200
        assert normalized(first.content.decode()) == normalized(second.content.decode())
        assert len(kept) < len(rendered), (who, url, len(kept), len(rendered))
