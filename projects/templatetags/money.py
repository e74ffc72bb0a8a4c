"""Template filters for money: micro-USD integers shown as dollars."""

from __future__ import annotations

from django import template

from projects.models.ledger import usd as usd_format

register = template.Library()


@register.filter
def usd(micro: int | None) -> str:
    """'$3.00' from 3_000_000 micro-USD; '–' for None."""
    return "–" if micro is None else usd_format(int(micro))
