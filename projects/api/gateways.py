"""Which gateway an API create goes through, and under which of that gateway's model ids.

Clients speak Ark, so `model` is an Ark model id (`doubao-seedance-2-0-260128`, or BytePlus's
`dreamina-seedance-2-0-260128`); any gateway's own id is accepted too. Projects have no gateway
of their own here, so the rule is:

1. `X-Seedance-Provider: <gateway>` picks the gateway (it must be configured here); the model
   is then that gateway's id of the same Seedance model (its own id, or its twin of an Ark id).
2. Otherwise the first configured gateway, in settings order (ark, byteplus, acedata, alltoken,
   seedance2ink, tokenhub), whose table lists the id exactly: an Ark id goes to Ark when Ark
   is configured, a BytePlus id to BytePlus.
3. Otherwise the first configured gateway, in the same order, that offers the same Seedance
   model under another id (`doubao-seedance-2-0-260128` -> TokenHub's `doubao-seedance-2.0`
   where only TokenHub is configured).

The families below pair the ids of one Seedance model across gateways (upstream-research §1.2
and each adapter's table; tests/test_api_gateways.py checks every id against the adapters).
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

from projects.api.errors import ApiError, invalid
from projects.providers.registry import UnknownProvider, configured_provider_names, get_capabilities

FAMILIES: dict[str, dict[str, str]] = {
    "seedance-2.0": {
        "ark": "doubao-seedance-2-0-260128",
        "byteplus": "dreamina-seedance-2-0-260128",
        "alltoken": "seedance-2.0",
        "seedance2ink": "seedance-2.0",
        "tokenhub": "doubao-seedance-2.0",
    },
    "seedance-2.0-fast": {
        "ark": "doubao-seedance-2-0-fast-260128",
        "byteplus": "dreamina-seedance-2-0-fast-260128",
        "alltoken": "seedance-2.0-fast",
        "seedance2ink": "seedance-2.0-fast",
        "tokenhub": "doubao-seedance-2.0-fast",
    },
    "seedance-1.5-pro": {
        "ark": "doubao-seedance-1-5-pro-251215",
        "byteplus": "seedance-1-5-pro-251215",
        "acedata": "doubao-seedance-1-5-pro-251215",
        "alltoken": "seedance-1.5-pro",
        "seedance2ink": "seedance-1.5-pro",
    },
    "seedance-1.0-pro": {
        "ark": "doubao-seedance-1-0-pro-250528",
        "byteplus": "seedance-1-0-pro-250528",
        "acedata": "doubao-seedance-1-0-pro-250528",
    },
    "seedance-1.0-pro-fast": {
        "ark": "doubao-seedance-1-0-pro-fast-251015",
        "byteplus": "seedance-1-0-pro-fast-251015",
        "acedata": "doubao-seedance-1-0-pro-fast-251015",
    },
    "seedance-1.0-lite-t2v": {
        "ark": "doubao-seedance-1-0-lite-t2v-250428",
        "acedata": "doubao-seedance-1-0-lite-t2v-250428",
    },
    "seedance-1.0-lite-i2v": {
        "ark": "doubao-seedance-1-0-lite-i2v-250428",
        "acedata": "doubao-seedance-1-0-lite-i2v-250428",
    },
}
PROVIDER_HEADER = "X-Seedance-Provider"


class Route(NamedTuple):
    """Where a create goes: the gateway `provider` and its own `model` id."""

    provider: str
    model: str


def family_of(model: str) -> str | None:
    """The Seedance model family an id belongs to, on any gateway (None when unknown)."""
    for family, ids in FAMILIES.items():
        if model in ids.values():
            return family
    return None


def _lists(provider: str, model: str) -> bool:
    try:
        return get_capabilities(provider).model(model) is not None
    except (UnknownProvider, ImproperlyConfigured):
        return False


def gateway_route(*, model: str, provider: str = "") -> Route:
    """The Route for a create of `model`, by the rule in the module docstring. Raises
    ApiError: 400 for a gateway that is not configured here, 404
    InvalidEndpointOrModel.NotFound for a model no configured gateway offers."""
    configured = configured_provider_names()
    family = family_of(model)
    if provider:
        if provider not in configured:
            offered = ", ".join(configured) or "none"
            raise invalid(
                f"{PROVIDER_HEADER}: {provider!r} is not a gateway configured here; "
                f"configured: {offered}.",
                PROVIDER_HEADER,
            )
        if _lists(provider, model):
            return Route(provider, model)
        twin = FAMILIES.get(family or "", {}).get(provider)
        if twin and _lists(provider, twin):
            return Route(provider, twin)
        raise _no_model(model, configured, through=provider)
    for name in configured:
        if _lists(name, model):
            return Route(name, model)
    for name in configured:
        twin = FAMILIES.get(family or "", {}).get(name)
        if twin and _lists(name, twin):
            return Route(name, twin)
    raise _no_model(model, configured)


def _no_model(model: str, configured: list[str], *, through: str = "") -> ApiError:
    offered = sorted(
        {ids[name] for ids in FAMILIES.values() for name in configured if name in ids}
        if not through
        else {m.id for m in get_capabilities(through).models}
    )
    where = f" through {through}" if through else " here"
    return ApiError(
        404,
        "InvalidEndpointOrModel.NotFound",
        f"The model {model!r} is not offered{where}; models: {', '.join(offered) or 'none'}.",
        param="model",
    )
