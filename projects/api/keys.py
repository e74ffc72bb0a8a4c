"""API keys: making, revoking, finding and checking them (services and selectors).

A key is one member's, in one team, for some of that team's projects; it acts with the
member's role there and never more (every object is still fetched through projects/access.py
as the member). The secret is returned once by `api_key_create` and stored only hashed
(projects/models/api_keys.py). Every make and revoke is in the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from projects.access import ADMIN, team_role
from projects.audit import audit_record
from projects.exceptions import ApplicationError
from projects.models import ApiKey, Budget, Membership, Project, Team

NAME_MAX = 50  # the library's field
LONGEST_LIFE = timedelta(days=366)
# Seconds between two writes of `last_used_at`: a script polling every second must not turn
# every GET into a write.
LAST_USED_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class NewKey:
    """A key just made: the row, and `secret`, the key itself (shown once, never stored)."""

    key: ApiKey
    secret: str


def api_key_create(
    *,
    user: AbstractBaseUser,
    name: str,
    projects: Iterable[Project],
    expires_at: datetime,
    budget_usd: Decimal | None = None,
    budget_period: str = Budget.Period.MONTH,
) -> NewKey:
    """Make a key for `user` in the team of `projects` (at least one, all of one team, each
    already access-checked for `user` by the caller), valid until `expires_at` (at most a
    year ahead). With `budget_usd`, the key also gets its own Budget of that many USD per
    `budget_period` (month by default). Raises ApplicationError; nothing is written then."""
    name = name.strip()
    chosen = list(projects)
    if not name or len(name) > NAME_MAX:
        raise ApplicationError(f"Give the key a name of 1-{NAME_MAX} characters.")
    if not chosen:
        raise ApplicationError("Choose at least one project the key may work in.")
    teams = {project.team_id for project in chosen}
    if len(teams) != 1:
        raise ApplicationError("A key works in one team: choose projects of one team.")
    team = chosen[0].team
    if team_role(user, team) is None:
        raise ApplicationError("You are not a member of that team.")
    now = timezone.now()
    if not now < expires_at <= now + LONGEST_LIFE:
        raise ApplicationError("A key must expire within a year.")
    if budget_usd is not None and budget_usd < 0:
        raise ApplicationError("A budget cannot be negative.")
    with transaction.atomic():
        key, secret = ApiKey.objects.create_key(
            name=name, user=user, team=team, expiry_date=expires_at
        )
        key.projects.set(chosen)
        if budget_usd is not None:
            Budget.objects.create(
                team=team,
                api_key=key,
                period=budget_period,
                limit_usd=budget_usd,
                note=f"Set when {user.get_username()} made the key.",
            )
        audit_record(
            actor=user,
            action="apikey.created",
            team=team,
            target=key,
            details={
                "name": name,
                "prefix": key.prefix,
                "projects": sorted(p.name for p in chosen),
                "expires": expires_at.isoformat(),
                "budget_usd": None if budget_usd is None else str(budget_usd),
            },
        )
    return NewKey(key=key, secret=secret)


def api_key_revoke(*, key: ApiKey, user: AbstractBaseUser) -> str:
    """Revoke `key` (from `access_api_key`) for `user`: its member or an admin of its team.
    Cannot be undone. Returns what happened, in a sentence."""
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked=False).update(
            revoked=True, revoked_at=timezone.now(), revoked_by=user
        )
        if not updated:
            return f"The key “{key.name}” was already revoked."
        audit_record(
            actor=user,
            action="apikey.revoked",
            team=key.team,
            target=key,
            details={"name": key.name, "prefix": key.prefix, "member": key.user.get_username()},
        )
    return f"The key “{key.name}” is revoked; requests with it now get 401."


def access_api_key(user: AbstractBaseUser, key_id: object) -> ApiKey:
    """The key with `key_id` if `user` may see and revoke it: its member, or an admin of its
    team (and superusers). Anyone else gets Http404."""
    key = ApiKey.objects.select_related("team", "user").filter(pk=_uuid_or_404(key_id)).first()
    if key is None or not user.is_authenticated:
        raise Http404("No such key.")
    if key.user_id == user.pk or team_role(user, key.team) == ADMIN:
        return key
    raise Http404("No such key.")


def _uuid_or_404(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise Http404("No such key.") from None


def api_key_list_for_user(*, user: AbstractBaseUser) -> QuerySet[ApiKey]:
    """The user's own keys, newest first, with their team and projects."""
    return (
        ApiKey.objects.filter(user=user)
        .select_related("team")
        .prefetch_related("projects", "budgets")
        .order_by("-created")
    )


def api_key_list_for_team(*, team: Team) -> QuerySet[ApiKey]:
    """Every key of the team's members (the team page, for its admins), newest first."""
    return (
        ApiKey.objects.filter(team=team)
        .select_related("user")
        .prefetch_related("projects", "budgets")
        .order_by("-created")
    )


class KeyRefused(Exception):
    """A key that cannot be used; `message` says why without repeating the key."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def api_key_authenticate(secret: str) -> ApiKey:
    """The live key whose secret is `secret` (its team and member loaded, `role` set to the
    member's role in the team), with `last_used_at` brought up to date (at most one write a
    minute). Raises KeyRefused: unknown, revoked, expired, the member inactive or no longer
    in the team."""
    prefix, dot, _ = secret.partition(".")
    if not dot or not prefix.isalnum() or len(secret) > 200:
        raise KeyRefused("The API key is not valid.")
    # The key, its team, its member and the member's role in the team, in one query.
    role = Membership.objects.filter(
        team_id=OuterRef("team_id"), user_id=OuterRef("user_id"), user__is_active=True
    ).values("role")[:1]
    key = (
        ApiKey.objects.select_related("team", "user")
        .annotate(role=Subquery(role))
        .filter(prefix=prefix)
        .first()
    )
    if key is None or not key.is_valid(secret):
        raise KeyRefused("The API key is not valid.")
    if key.revoked:
        raise KeyRefused("This API key was revoked.")
    if key.has_expired:
        raise KeyRefused("This API key has expired.")
    if key.role is None:
        raise KeyRefused("This API key's member is no longer in its team.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_project_ids(key: ApiKey) -> list[object]:
    """Ids of the projects the key may work in (cached on the key for the request)."""
    if not hasattr(key, "_project_ids"):
        key._project_ids = list(key.projects.values_list("pk", flat=True))
    return key._project_ids
