"""The audit trail: `audit_record` for services, `AuditedModelAdmin` for Django admin.

Services call `audit_record` inside the transaction that makes the change, so a change and
its audit row commit or roll back together. Admin classes whose edits must be traced
(teams, budgets, price rules, provider settings) inherit `AuditedModelAdmin`: every add,
change and delete made in Django admin becomes an `<model>.added|changed|deleted` event with
the changed fields as {field: [old, new]}. Values of fields that look secret (key, secret,
token, password) are never copied into the trail, only the fact that they changed.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.models import AuditEvent, Team

# Field names whose values must never be copied into the trail.
SECRET_FIELD = re.compile(r"key|secret|token|password|passwd|credential", re.IGNORECASE)
HIDDEN = "(hidden)"
# The name of the API key the current request acts through (projects/api/ sets it while it
# handles a request): every event recorded meanwhile names it beside the member.
_acting_key: ContextVar[str] = ContextVar("audit_acting_key", default="")


@contextmanager
def audit_acting_key(name: str) -> Iterator[None]:
    """While inside, every `audit_record` adds `"api_key": name` to its details."""
    token = _acting_key.set(name)
    try:
        yield
    finally:
        _acting_key.reset(token)


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    team: Team | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event: `actor` did `action` (dotted, e.g. 'video.approved') to `target` in
    `team`. `details` must be JSON-serialisable and hold no secrets; inside
    `audit_acting_key(name)` it also gets `api_key`. Returns the new row."""
    actor = actor if actor is not None and actor.is_authenticated else None
    if key_name := _acting_key.get():
        details = {**(details or {}), "api_key": key_name}
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        team=team,
        action=action[:60],
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        details=details or {},
    )


def audit_value(name: str, value: Any) -> Any:
    """`value` as it may be stored in the trail: JSON-friendly, and hidden when the field
    `name` looks secret."""
    if SECRET_FIELD.search(name):
        return HIDDEN
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.date | datetime.time):
        return str(value)
    if isinstance(value, list | tuple | set | QuerySet):
        return [audit_value(name, item) for item in value]
    return str(value)


def team_of(obj: models.Model) -> Team | None:
    """The team an object belongs to, when it has one: itself, `.team`, `.project.team`,
    `.task.project.team`; None for site-wide objects (price rules)."""
    if isinstance(obj, Team):
        return obj
    for path in ("team", "project.team", "task.project.team"):
        current: Any = obj
        for part in path.split("."):
            current = getattr(current, part, None)
            if current is None:
                break
        if isinstance(current, Team):
            return current
    return None


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose adds, changes and deletes are written to the audit trail.

    The action is `<audit_name>.added|changed|deleted`, `audit_name` defaulting to the model
    name (so a `Budget` admin records `budget.changed`). Override `audit_team(obj)` when the
    object's team is not found by `team_of`.
    """

    audit_name: str | None = None

    def audit_team(self, obj: models.Model) -> Team | None:
        return team_of(obj)

    def _audit_action(self, verb: str) -> str:
        return f"{self.audit_name or self.model._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change:
                fields = {
                    name: [
                        audit_value(name, form.initial.get(name)),
                        audit_value(name, form.cleaned_data.get(name)),
                    ]
                    for name in form.changed_data
                }
                if not fields:
                    return
            else:
                fields = {
                    name: audit_value(name, form.cleaned_data.get(name))
                    for name in form.cleaned_data
                }
            audit_record(
                actor=request.user,
                action=self._audit_action("changed" if change else "added"),
                team=self.audit_team(obj),
                target=obj,
                details={"fields": fields, "via": "admin"},
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            inline = formset.model._meta.model_name
            changes = {
                "added": [str(obj) for obj in formset.new_objects],
                "changed": [
                    {"object": str(obj), "fields": fields}
                    for obj, fields in formset.changed_objects
                ],
                "deleted": [str(obj) for obj in formset.deleted_objects],
            }
            if any(changes.values()):
                audit_record(
                    actor=request.user,
                    action=self._audit_action("changed"),
                    team=self.audit_team(form.instance),
                    target=form.instance,
                    details={"inline": inline, **changes, "via": "admin"},
                )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            self._record_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_deletion(request, obj)
            super().delete_queryset(request, queryset)

    def _record_deletion(self, request: HttpRequest, obj: models.Model) -> None:
        # Recorded before the delete so the team and the values can still be read; a team
        # deleting itself keeps its events (their team link becomes empty).
        team = self.audit_team(obj)
        audit_record(
            actor=request.user,
            action=self._audit_action("deleted"),
            team=None if isinstance(obj, Team) else team,
            target=obj,
            details={
                "fields": {
                    field.name: audit_value(field.name, field.value_from_object(obj))
                    for field in obj._meta.concrete_fields
                    if not field.primary_key
                },
                "via": "admin",
            },
        )
