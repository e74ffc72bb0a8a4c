"""The Content Security Policy, enforced in a real browser: every page people use (and the
admin's), with its scripts and htmx fragments running, loads under `script-src 'self'` and
`style-src 'self'` (no inline styles, no inline scripts) with no violation reported."""

from __future__ import annotations

import pytest
from django.conf import settings

from projects.models import GenerationTask, Shot, Storyboard, VariationBatch
from tests.browser import chromium_page, requires_chromium
from tests.test_browser_a11y import log_in, pages_for, studio_make

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_the_policy_forbids_inline_styles_and_scripts():
    assert settings.SECURE_CSP["style-src"] == ["'self'"]
    assert settings.SECURE_CSP["script-src"] == ["'self'"]


def test_every_page_loads_under_the_enforced_policy(live_server):
    studio = studio_make()
    board = Storyboard.objects.create(
        project=studio["project"],
        title="Spot",
        created_by=studio["done"].created_by,
        provider="tokenhub",
        model="doubao-seedance-2.0",
    )
    for position, chained in enumerate((False, True)):
        Shot.objects.create(
            storyboard=board,
            position=position,
            prompt=f"Shot {position}",
            duration=5,
            chain_from_previous=chained,
        )
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="ada").update(is_staff=True, is_superuser=True)
    task = studio["done"]
    # The two tasks as takes of a variation batch: its compare page, and their pages and
    # tiles with the links to it.
    batch = VariationBatch.objects.create(
        project=studio["project"], created_by=studio["done"].created_by, count=2
    )
    GenerationTask.objects.filter(pk__in=[studio["done"].pk, studio["running"].pk]).update(
        variation_batch=batch
    )
    member_pages = pages_for("mia", studio) + [f"/s/{board.pk}/", f"/v/{batch.pk}/"]
    admin_pages = [
        "/admin/",
        "/admin/projects/generationtask/",
        f"/admin/projects/generationtask/{task.pk}/change/",
        "/admin/projects/budget/add/",
        "/admin/projects/pricerule/",
        "/admin/projects/teamwebhook/add/",
        "/admin/projects/variationbatch/",
    ]
    violations: list[str] = []
    visited = 0
    with chromium_page(enforce_csp=True) as page:
        page.set_default_timeout(60_000)  # twenty pages, each waited on to go quiet
        page.on(
            "console",
            lambda msg: (
                violations.append(f"{page.url}: {msg.text[:200]}")
                if "Content Security Policy" in msg.text
                else None
            ),
        )
        page.goto(f"{live_server.url}/login/")
        for username in ("mia", "rey", "ada"):
            log_in(page, live_server.url, username)
            paths = {"mia": member_pages, "ada": pages_for("ada", studio) + admin_pages}.get(
                username, pages_for(username, studio)
            )
            for path in paths:
                response = page.goto(live_server.url + path)
                assert response.status == 200, (path, response.status)
                # Let the page's scripts and htmx's first swaps run (the running task's live
                # fragment polls; the form fetches its estimate).
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)
                visited += 1
            if username == "mia":
                page.goto(f"{live_server.url}/p/{studio['project'].pk}/generate/")
                page.fill("#id_prompt", "A kite over dunes")
                page.wait_for_load_state("networkidle")
                visited += 1
    assert visited == 22  # with a storyboard, /notifications/, the team webhook admin page,
    # a variation batch's compare page and its admin list
    assert violations == [], "\n".join(violations)
