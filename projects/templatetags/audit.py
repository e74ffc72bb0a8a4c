"""The audit trail's details as people read them: 'restricted: off → on', not Python values."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

# Details that list names (who was added to a project), never a [before, after] change.
LISTS = frozenset({"added", "removed", "files"})


def _words(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    if value is None or value == "":
        return "–"
    if isinstance(value, list | tuple):
        return ", ".join(_words(item) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_change(k, v)}" for k, v in value.items())
    return str(value)


def _change(key: str, value: Any) -> str:
    if isinstance(value, list) and len(value) == 2 and key not in LISTS:
        return f"{_words(value[0])} → {_words(value[1])}"
    return _words(value)


def _label(key: str) -> str:
    return str(key).replace("_", " ")


@register.filter
def audit_details(details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """[(label, text)] for an event's details: changes as 'old → new', booleans as on/off,
    lists joined, empty values left out. {'restricted': [False, True], 'added': ['mia']} ->
    [('restricted', 'off → on'), ('added', 'mia')]."""
    rows = []
    for key, value in (details or {}).items():
        if value is None or value == "" or value == []:
            continue
        rows.append((_label(key), _change(key, value)))
    return rows
