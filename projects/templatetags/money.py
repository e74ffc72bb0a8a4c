"""Template filters for money: micro-USD integers shown as dollars."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from projects.models.ledger import unit_quantity_text, unit_rate_text, usd_exact
from projects.models.ledger import usd as usd_format

register = template.Library()


@register.filter
def usd(micro: int | None) -> str:
    """'$3.00' from 3_000_000 micro-USD, to the cent ('$0.26'); when that rounds, the exact
    figure is the element's title: <span title="$0.259545 (259,545 micro-USD)">$0.26</span>.
    '–' for None. For plain-text places (an SVG title) use `usd_plain`."""
    if micro is None:
        return "–"
    micro = int(micro)
    shown = usd_format(micro)
    if usd_exact(micro) == shown:
        return shown
    return format_html(
        '<span class="money" title="{} ({} micro-USD)">{}</span>',
        usd_exact(micro),
        f"{micro:,}",
        shown,
    )


@register.filter
def usd_plain(micro: int | None) -> str:
    """`usd` as plain text, for places that take no markup."""
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
