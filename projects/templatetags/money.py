"""Template filters for money: micro-USD integers shown as dollars."""

from __future__ import annotations

from django import template

from projects.models.ledger import unit_quantity_text, unit_rate_text
from projects.models.ledger import usd as usd_format

register = template.Library()


@register.filter
def usd(micro: int | None) -> str:
    """'$3.00' from 3_000_000 micro-USD; '–' for None."""
    return "–" if micro is None else usd_format(int(micro))


@register.filter
def entry_billed(entry) -> str:
    """What a hold or charge entry counted, in its unit: '108,900 tokens × $7.00 per million
    tokens', '15 s × $0.20/s' ('' for entries without a price)."""
    if entry.rate_micro is None:
        return ""
    unit = entry.unit or "second"
    quantity = entry.quantity if entry.quantity is not None else entry.seconds
    return f"{unit_quantity_text(unit, quantity)} × {unit_rate_text(unit, entry.rate_micro)}"
