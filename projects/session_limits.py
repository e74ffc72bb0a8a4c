"""Sessions end after SEEDANCE_SESSION_IDLE_MINUTES without a request, and
SEEDANCE_SESSION_MAX_HOURS after login whatever the activity (OWASP ASVS 4.0 §3.3.2: 12 hours
absolute or 30 minutes idle; those are the defaults). Django's own SESSION_COOKIE_AGE only
counts from the session's last write, so it is neither: the login time and the last request
are kept in the session and checked here on every request.

An open page keeps its session alive: its live fragments (htmx polling) are requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

STARTED = "_seedance_login_at"
SEEN = "_seedance_seen_at"
SEEN_GRANULARITY_S = 60  # write the session at most once a minute for activity alone


def session_end_reason(*, started: float, seen: float, now: float) -> str:
    """Why a session with these epoch seconds is over, for the login page; '' while valid."""
    idle_limit = settings.SEEDANCE_SESSION_IDLE_MINUTES * 60
    if now - started > settings.SEEDANCE_SESSION_MAX_HOURS * 3600:
        return (
            f"You were logged out: sessions last at most {settings.SEEDANCE_SESSION_MAX_HOURS} "
            "hours. Log in again."
        )
    if now - seen > idle_limit:
        return (
            f"You were logged out after {settings.SEEDANCE_SESSION_IDLE_MINUTES} minutes "
            "without activity. Log in again."
        )
    return ""


class SessionLimitsMiddleware:
    """Logs out a session past its idle or absolute limit (then LoginRequiredMiddleware sends
    the visitor to the login page, with the reason as a message). Place after
    AuthenticationMiddleware and MessageMiddleware, before LoginRequiredMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            started = session.setdefault(STARTED, now)
            seen = session.get(SEEN, now)
            reason = session_end_reason(started=started, seen=seen, now=now)
            if reason:
                logout(request)  # a new, empty session
                messages.info(request, reason)
            elif now - seen >= SEEN_GRANULARITY_S or SEEN not in session:
                session[SEEN] = now
        return self.get_response(request)
