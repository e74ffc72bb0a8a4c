"""projects/page_cache.py: what a kept fragment holds, for how long, and whose CSRF token its
forms carry (tests/test_page_freshness.py checks the pages built on it stay fresh)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.test import RequestFactory

from projects import page_cache
from projects.page_cache import fragment

TEMPLATE = "projects/pager.html"  # any template; the forms below come from a stub context


@pytest.fixture
def renders(monkeypatch):
    """Count the renders and return a form with a CSRF token, the way fragments do."""
    calls = []

    def render(template_name, context):
        calls.append(template_name)
        token = context["csrf_token"]
        return f'<form><input name="csrfmiddlewaretoken" value="{token}">{len(calls)}</form>'

    monkeypatch.setattr(page_cache, "render_to_string", render)
    return calls


def request():
    return RequestFactory().get("/")


def token_in(html: str) -> str:
    return re.search(r'value="([^"]+)"', html).group(1)


def test_a_kept_fragment_is_rendered_once_and_carries_each_viewers_own_token(renders):
    first, second = request(), request()
    a = fragment(first, ("k", 1), TEMPLATE, dict)
    b = fragment(second, ("k", 1), TEMPLATE, dict)
    assert renders == [TEMPLATE]  # the second came from the cache
    assert a.endswith("1</form>") and b.endswith("1</form>")
    # Each response holds a token of its own request's secret, never the placeholder.
    for req, html in ((first, a), (second, b)):
        assert "csrf-" not in html
        assert _unmask_cipher_token(token_in(html)) == _unmask_cipher_token(get_token(req))
    assert _unmask_cipher_token(token_in(a)) != _unmask_cipher_token(token_in(b))


def test_another_key_renders_anew_and_none_is_never_kept(renders):
    fragment(request(), ("k", 1), TEMPLATE, dict)
    fragment(request(), ("k", 2), TEMPLATE, dict)
    fragment(request(), None, TEMPLATE, dict)
    fragment(request(), None, TEMPLATE, dict)
    assert len(renders) == 4


def test_nothing_is_kept_under_debug(renders, settings):
    settings.DEBUG = True
    fragment(request(), ("k", 1), TEMPLATE, dict)
    fragment(request(), ("k", 1), TEMPLATE, dict)
    assert len(renders) == 2


@pytest.mark.parametrize(("link_ttl", "kept_for"), [(21600, 30), (100, 10), (5, 0)])
def test_a_fragment_lives_at_most_a_tenth_of_its_signed_links(
    renders, settings, monkeypatch, link_ttl, kept_for
):
    settings.SEEDANCE_LINK_TTL = link_ttl
    kept = {}
    cache = caches[page_cache.CACHE_ALIAS]
    monkeypatch.setattr(cache, "set", lambda key, value, timeout: kept.update({key: timeout}))
    fragment(request(), ("k", link_ttl), TEMPLATE, dict)
    assert list(kept.values()) == [kept_for]
