"""Page fragments rendered once per distinct content and kept per process.

The gallery, a finished generation's page and the review queue are read far more often than
they change: the gallery asks again every 4 s while something renders, and a team keeps its
pages open. Each view builds a key from the versions of the generations its fragment shows
(GenerationTask.version, bumped by every change a page shows) and renders the fragment only
when that key is new: a change shows at the very next request, however a service made it.
What no generation's version follows (a renamed user or asset, a team's settings, "5 minutes
ago") is at most PAGE_TTL seconds old.

Kept fragments are shared by everyone whose key matches, so they are rendered without the
request: a view passes what the template needs (and puts the viewer in the key when the
fragment depends on who looks). Forms in a fragment get the viewer's own CSRF token: the
fragment holds a placeholder that every response replaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe

PAGE_TTL = 30  # seconds: the oldest a kept fragment gets
CACHE_ALIAS = "pages"  # settings.CACHES: a LocMemCache, one per process

# Unguessable (derived from SECRET_KEY), so no prompt or name can contain it.
_CSRF_PLACEHOLDER = SimpleLazyObject(
    lambda: (
        "csrf-"
        + salted_hmac("projects.page_cache", "csrf placeholder", algorithm="sha256").hexdigest()
    )
)


def fragment(
    request: HttpRequest,
    key: tuple[Hashable, ...] | None,
    template_name: str,
    context: Callable[[], dict[str, Any]],
) -> SafeString:
    """`template_name` rendered with `context()` (called only when `key` is not kept), kept
    PAGE_TTL seconds (a tenth of SEEDANCE_LINK_TTL when that is shorter) under `key`, with
    the viewer's CSRF token in its forms.

    `key` must name everything the markup depends on besides what `context()` reads from
    generations: ids, versions, filters, and the viewer when the markup differs per user.
    None renders without keeping (markup that moves with the clock). Under DEBUG nothing is
    kept (templates are edited live).
    """
    placeholder = str(_CSRF_PLACEHOLDER)
    cache = caches[CACHE_ALIAS]
    if key is None or settings.DEBUG:
        cache_key, html = "", None
    else:
        digest = hashlib.sha256(repr((template_name, *key)).encode()).hexdigest()
        cache_key = f"fragment:{digest}"
        html = cache.get(cache_key)
    if html is None:
        html = render_to_string(template_name, {**context(), "csrf_token": placeholder})
        if cache_key:
            # Kept markup holds signed links: keep it for a small part of their life only.
            cache.set(cache_key, html, min(PAGE_TTL, settings.SEEDANCE_LINK_TTL // 10))
    if placeholder in html:
        html = html.replace(placeholder, get_token(request))
    return mark_safe(html)  # noqa: S308 - rendered by a template, which escaped its values
