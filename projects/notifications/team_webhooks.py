"""Team admins' webhooks: add, change, remove (the team page and Django admin call these).

Each checks the URL (webhooks.webhook_url_check: a kind we send to, a public host) and the
event names, and writes an audit event (the URL and secret only as "changed": they are
credentials). The caller checked that the actor is an admin of `team` (projects/access.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from projects.audit import audit_record
from projects.exceptions import ApplicationError
from projects.models import Event, Team, TeamWebhook
from projects.notifications.webhooks import WebhookURLError, new_secret, webhook_url_check

MAX_PER_TEAM = 20


def _clean(*, name: str, url: str, events: Iterable[str]) -> tuple[str, str, list[str]]:
    name = name.strip()
    if not name or len(name) > 80:
        raise ApplicationError("Give the webhook a name of at most 80 characters.")
    events = [event for event in Event.values if event in set(events)]
    if not events:
        raise ApplicationError("Choose at least one event for the webhook.")
    try:
        url = webhook_url_check(url)
    except WebhookURLError as exc:
        raise ApplicationError(exc.message) from exc
    return name, url, events


def team_webhook_create(
    *, team: Team, name: str, url: str, events: Iterable[str], actor: AbstractBaseUser | None
) -> TeamWebhook:
    """Add a webhook to `team`, active, with a new signing secret (`webhook.secret`: show it
    once). Raises ApplicationError (bad name, URL or events; too many webhooks)."""
    name, url, events = _clean(name=name, url=url, events=events)
    if TeamWebhook.objects.filter(team=team).count() >= MAX_PER_TEAM:
        raise ApplicationError(f"A team has at most {MAX_PER_TEAM} webhooks.")
    with transaction.atomic():
        hook = TeamWebhook.objects.create(
            team=team, name=name, url=url, events=events, secret=new_secret(), created_by=actor
        )
        audit_record(
            actor=actor,
            action="webhook.created",
            team=team,
            target=hook,
            details={"name": name, "events": events},
        )
    return hook


def team_webhook_update(
    *,
    hook: TeamWebhook,
    name: str,
    url: str,
    events: Iterable[str],
    active: bool,
    actor: AbstractBaseUser | None,
) -> TeamWebhook:
    """Change a webhook's name, URL, events and whether it is active. Raises
    ApplicationError (bad name, URL or events)."""
    name, url, events = _clean(name=name, url=url, events=events)
    changed = {
        "name": name != hook.name,
        "url": url != hook.url,
        "events": events != hook.events,
        "active": active != hook.active,
    }
    with transaction.atomic():
        hook.name, hook.url, hook.events, hook.active = name, url, events, active
        hook.save(update_fields=["name", "url", "events", "active"])
        audit_record(
            actor=actor,
            action="webhook.changed",
            team=hook.team,
            target=hook,
            details={
                "name": name,
                "events": events,
                "active": active,
                "changed": sorted(field for field, yes in changed.items() if yes),
            },
        )
    return hook


def team_webhook_delete(*, hook: TeamWebhook, actor: AbstractBaseUser | None) -> None:
    """Remove a webhook (its unsent messages go with it)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="webhook.deleted",
            team=hook.team,
            target=hook,
            details={"name": hook.name},
        )
        hook.delete()
