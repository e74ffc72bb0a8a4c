"""Template helpers for operations pages in Django admin."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("admin/gateway_alerts.html", takes_context=True)
def gateway_key_alerts(context) -> dict:
    """A banner on every admin page for each gateway that refuses our API key (HTTP 401 or
    403 since its last success; projects/services/gateway_status.py)."""
    from projects.services.gateway_status import refused_keys

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"refused": []}
    return {"refused": refused_keys()}
