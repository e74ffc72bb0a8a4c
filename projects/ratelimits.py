"""Rate limits on logging in and on submitting generations (django-ratelimit, shared cache).

Counters live in the `default` cache, shared by every web process: Redis when REDIS_URL is
set, the database otherwise (projects/cache.py makes its increment atomic). Rates are
django-ratelimit's "count/period" strings from settings, so an operator can tune them:

- SEEDANCE_LOGIN_RATE: login POSTs per client IP, and separately per username tried (so
  neither one address guessing many accounts nor many addresses guessing one get far);
- SEEDANCE_SUBMIT_RATE: generation submits per user;
- SEEDANCE_MEMBER_ADD_RATE: member additions and role changes per team admin.

Views call these and answer 429 with a message; nothing else changes.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

LOGIN_LIMITED = "Too many login attempts. Wait a minute and try again."
SUBMIT_LIMITED = "You are submitting generations too fast. Wait a minute and try again."
MEMBER_ADD_LIMITED = "Too many member changes in a short time. Try again later."


def client_ip(request: HttpRequest) -> str:
    """The client's address: the header named by SEEDANCE_CLIENT_IP_HEADER (a META key such
    as HTTP_X_REAL_IP, set by the proxy in front) when present, REMOTE_ADDR otherwise.
    (settings.RATELIMIT_IP_META_KEY points here.)"""
    header = getattr(settings, "SEEDANCE_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    # X-Forwarded-For style lists: the proxy appends the address it saw last.
    value = value.split(",")[-1].strip()
    return value or request.META.get("REMOTE_ADDR", "") or "0.0.0.0"


def login_limited(request: HttpRequest) -> bool:
    """Count one login attempt; True when this IP or this username is over the rate."""
    rate = settings.SEEDANCE_LOGIN_RATE
    by_ip = is_ratelimited(
        request, group="login-ip", key="ip", rate=rate, method="POST", increment=True
    )
    username = request.POST.get("username", "").strip().lower()[:150]
    by_name = bool(username) and is_ratelimited(
        request,
        group="login-username",
        key=lambda group, request: username,
        rate=rate,
        method="POST",
        increment=True,
    )
    return by_ip or by_name


def submit_limited(request: HttpRequest) -> bool:
    """Count one generation submit by the logged-in user; True when over the rate."""
    return is_ratelimited(
        request,
        group="generation-submit",
        key="user",
        rate=settings.SEEDANCE_SUBMIT_RATE,
        method="POST",
        increment=True,
    )


def member_add_limited(request: HttpRequest) -> bool:
    """Count one member addition or role change by the logged-in admin; True when over."""
    return is_ratelimited(
        request,
        group="team-member-set",
        key="user",
        rate=settings.SEEDANCE_MEMBER_ADD_RATE,
        method="POST",
        increment=True,
    )
