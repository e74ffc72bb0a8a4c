"""The gallery, generation detail and review queue: SQL queries per page do not grow with the
number of generations, and the lists are shown a page at a time (bench/pages.py measures
the same pages up to 1,000 generations, with latency)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.generation import lifecycle
from projects.selectors import GALLERY_PAGE_SIZE, REVIEW_PAGE_SIZE
from tests.page_rows import page_world

pytestmark = pytest.mark.django_db

PAGES = ("gallery", "detail", "review")


def page_path(world, page: str) -> str:
    return {
        "gallery": reverse("projects:project_detail", args=[world.project.pk]),
        "detail": reverse("projects:generation_detail", args=[world.succeeded.pk]),
        "review": reverse("projects:review_queue"),
    }[page]


def queries_for(world, page: str, *, kept: bool = False) -> tuple[int, str]:
    """(SQL statements, body) of one request of `page` by the world's reviewer, after a
    first request (templates loaded, the top bar kept for the session): the page rendered
    anew, or with its fragment `kept` from the first request (projects/page_cache.py)."""
    client = Client()
    client.force_login(world.reviewer)
    path = page_path(world, page)
    assert client.get(path).status_code == 200
    if not kept:
        caches["pages"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


@pytest.mark.parametrize("kept", [False, True], ids=["rendered", "kept"])
@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_the_number_of_generations(page, kept):
    small, big = page_world(count=10, label="s"), page_world(count=100, label="b")
    few, _ = queries_for(small, page, kept=kept)
    many, body = queries_for(big, page, kept=kept)
    assert few == many, f"{page}: {few} queries with 10 generations, {many} with 100"
    assert many <= (5 if kept else 12), f"{page}: {many} queries"
    assert big.project.name in body


def test_the_gallery_shows_a_page_of_tiles_with_links_to_the_others():
    world = page_world(count=60)
    _, body = queries_for(world, "gallery")
    assert body.count('class="tile"') == GALLERY_PAGE_SIZE
    assert "Page 1 of 3 · 60 in all" in body and 'rel="next"' in body
    assert 'rel="prev"' not in body

    client = Client()
    client.force_login(world.member)
    path = page_path(world, "gallery")
    last = client.get(path, {"page": 3}).content.decode()
    assert last.count('class="tile"') == 60 - 2 * GALLERY_PAGE_SIZE
    assert 'rel="prev"' in last and 'rel="next"' not in last
    # Newest first across pages: the last page ends with the oldest generation.
    oldest = world.project.generation_tasks.order_by("created_at").first()
    assert re.findall(r'data-task="([^"]+)"', last)[-1] == str(oldest.pk)
    # Nonsense or out-of-range numbers give the first and the last page.
    assert "Page 1 of 3" in client.get(path, {"page": "x"}).content.decode()
    assert "Page 3 of 3" in client.get(path, {"page": 99}).content.decode()


def test_gallery_filters_count_and_page_what_they_keep():
    world = page_world(count=60)
    client = Client()
    client.force_login(world.member)
    path = page_path(world, "gallery")
    body = client.get(path, {"status": "succeeded", "review": "awaiting"}).content.decode()
    awaiting = world.project.generation_tasks.filter(review_state="awaiting").count()
    assert body.count('class="tile"') == min(awaiting, GALLERY_PAGE_SIZE)
    assert f"{awaiting} in all" in body
    # The page links keep the filters.
    assert re.search(r'href="\?status=succeeded&amp;review=awaiting&amp;page=2"', body)


def test_gallery_tiles_show_money_review_and_facts():
    world = page_world(count=10)
    _, body = queries_for(world, "gallery")
    rejected = world.succeeded  # page_rows: the first rejected video
    tile = body[body.index(f'data-task="{rejected.pk}"') :]
    tile = tile[: tile.index("</a>")]
    assert 'review-badge">Rejected<' in tile
    assert "“The horizon tilts; keep the camera level.” — reviewer-10" in tile
    held = 200_000 * rejected.duration
    assert f'data-held="{held}" data-charged="{held}">charged $' in tile
    assert f"{rejected.video_duration_s:.1f} s · 720p" in tile
    assert "member-10 · " in tile and " ago" in tile
    assert "/media/s/" in tile  # the cover, through a signed link
    running = world.project.generation_tasks.filter(status="running").first()
    tile = body[body.index(f'data-task="{running.pk}"') :]
    assert "Rendering…" in tile[: tile.index("</a>")] and " held<" in tile[: tile.index("</a>")]


def test_the_review_queue_shows_a_page_of_videos_oldest_first():
    world = page_world(count=40)
    _, body = queries_for(world, "review")
    awaiting = world.project.generation_tasks.filter(review_state="awaiting")
    assert body.count('class="card queue-item"') == REVIEW_PAGE_SIZE
    assert f"({awaiting.count()} waiting)" in body
    oldest = awaiting.order_by("finished_at", "created_at").first()
    assert re.findall(r'data-task="([^"]+)"', body)[0] == str(oldest.pk)
    # The decision form returns to the page it was made on.
    client = Client()
    client.force_login(world.reviewer)
    second = client.get(page_path(world, "review"), {"page": 2}).content.decode()
    assert 'name="next" value="/review/?page=2"' in second


def test_signed_links_are_reused_while_young(settings):
    from projects.storage import signed_url

    first = signed_url("teams/t/outputs/x/cover.jpg")
    assert signed_url("teams/t/outputs/x/cover.jpg") == first
    assert signed_url("teams/t/outputs/x/cover.jpg", download_as="a.jpg") != first
    settings.SEEDANCE_LINK_TTL = 120  # a setting change forgets the links made so far
    assert signed_url("teams/t/outputs/x/cover.jpg") != first


def test_a_tile_that_changed_is_rendered_anew():
    world = page_world(count=10)
    client = Client()
    client.force_login(world.reviewer)
    path = page_path(world, "gallery")
    running = world.project.generation_tasks.filter(status="running").first()

    def tile() -> str:
        body = client.get(path).content.decode()
        found = body[body.index(f'data-task="{running.pk}"') :]
        return found[: found.index("</a>")]

    assert "Rendering…" in tile()
    lifecycle.finish(task_id=running.pk, status="failed", from_statuses=["running"])
    assert "Rendering…" not in tile() and ">Failed<" in tile()
