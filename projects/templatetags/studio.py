"""Template helpers for the studio pages: progress, durations, signed media links."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django import template
from django.utils import timezone

from projects.models import GenerationTask
from projects.storage import signed_url

register = template.Library()
Status = GenerationTask.Status

TONES = {
    Status.SUCCEEDED: "ok",
    Status.FAILED: "bad",
    Status.EXPIRED: "bad",
    Status.CANCELLED: "muted",
    Status.SUBMIT_UNKNOWN: "warn",
}


@register.filter
def tone(status: str) -> str:
    """A CSS modifier for a status badge: ok, bad, muted, warn or busy."""
    return TONES.get(status, "busy")


@register.filter
def elapsed_seconds(task: GenerationTask) -> int:
    """Seconds from creation to the end (or to now while it runs)."""
    end = task.finished_at or timezone.now()
    return max(0, int((end - task.created_at).total_seconds()))


@register.filter
def progress_percent(task: GenerationTask) -> int:
    """An honest estimate, 0-100: fixed steps around an expected-render-time bar."""
    if task.status == Status.SUCCEEDED:
        return 100
    if task.is_terminal:
        return 0
    if task.status == Status.RUNNING and task.started_at:
        ran = (timezone.now() - task.started_at).total_seconds()
        return int(10 + 80 * min(1.0, ran / max(task.expected_wait_s, 0.1)))
    return {Status.QUEUED: 8, Status.DOWNLOADING: 94}.get(task.status, 3)


@register.filter
def seconds(value: float | int | None) -> str:
    """'42 s', '2 min 05 s'."""
    if value is None:
        return "–"
    total = int(round(float(value)))
    if total < 60:
        return f"{total} s"
    return f"{total // 60} min {total % 60:02d} s"


@register.simple_tag
def media_url(name: str, download_as: str = "") -> str:
    """An expiring link to a stored file ('' when there is none)."""
    return signed_url(name, download_as=download_as) if name else ""


REVIEW_TONES = {"awaiting": "warn", "approved": "ok", "rejected": "bad"}


@register.filter
def review_tone(review_state: str) -> str:
    """A CSS modifier for a review badge: warn (awaiting), ok (approved), bad (rejected)."""
    return REVIEW_TONES.get(review_state, "muted")


# The top bar is on every page and changes only when someone's roles do: each process keeps
# it per session for NAV_TTL seconds. It only shows links (every view checks roles itself),
# so a role change shows in the bar within that time.
NAV_TTL = 30.0
NAV_CACHE_SIZE = 2048
_nav: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()
_nav_lock = threading.Lock()


@register.simple_tag(takes_context=True)
def nav_for(context, user) -> dict:
    """What the top bar links to for `user`: the review queue when they review in any team,
    and the teams they administer (selectors.nav_teams, kept NAV_TTL seconds per session)."""
    from projects.selectors import nav_teams

    if not user.is_authenticated:
        return {"reviews": False, "admin_teams": []}
    request = context.get("request")
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return nav_teams(user=user)
    key, now = (session_key, user.pk), time.monotonic()
    with _nav_lock:
        kept = _nav.get(key)
        if kept is not None and now - kept[0] < NAV_TTL:
            return kept[1]
    nav = nav_teams(user=user)
    with _nav_lock:
        _nav[key] = (now, nav)
        _nav.move_to_end(key)
        while len(_nav) > NAV_CACHE_SIZE:
            _nav.popitem(last=False)
    return nav
