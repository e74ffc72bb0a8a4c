"""Template filters for money: micro-USD integers shown as dollars."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from projects.models.ledger import entry_billed_text, usd_exact
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
    """`entry_billed_text` for templates."""
    return entry_billed_text(entry)
