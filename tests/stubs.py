"""Test-only gateways.

`PortraitGatewayStub` stands in for AllToken's portrait rules (AllToken video guide: seedance-2.0
and -2.0-fast take asset://<id>, seedance-1.5-pro rejects it) while speaking TokenHub's dialect,
so the simulator can run it. It is registered under the name "alltoken", the gateway whose
portrait ids `Asset.alltoken_asset_id` holds.
"""

from __future__ import annotations

from dataclasses import replace

from projects.providers.capabilities import ProviderCapabilities
from projects.providers.tokenhub import CAPABILITIES as TOKENHUB
from projects.providers.tokenhub import TokenHubProvider

_PORTRAITS = replace(TOKENHUB.models[0], portraits=True, source="AllToken video guide")
_NO_PORTRAITS = replace(
    TOKENHUB.models[1], portraits=False, source="AllToken video guide (1.5-pro stand-in)"
)

CAPABILITIES = ProviderCapabilities(
    name="alltoken",
    label="AllToken (test stub)",
    models=(_PORTRAITS, _NO_PORTRAITS),
    source="AllToken video guide",
)


class PortraitGatewayStub(TokenHubProvider):
    name = "alltoken"
    CAPABILITIES = CAPABILITIES

    def capabilities(self) -> ProviderCapabilities:
        return CAPABILITIES


def register(settings, sim=None) -> None:
    """Add the stub as the "alltoken" gateway (pointed at the simulator's TokenHub dialect),
    priced like TokenHub's models (a model with no price cannot be submitted)."""
    from datetime import date
    from decimal import Decimal

    from projects.models import PriceRule

    for model, prices in (
        ("doubao-seedance-2.0", {"480p": "0.12", "720p": "0.20"}),
        ("doubao-seedance-2.0-fast", {"480p": "0.10", "720p": "0.16"}),
    ):
        for resolution, price in prices.items():
            PriceRule.objects.get_or_create(
                provider="alltoken",
                model=model,
                resolution=resolution,
                effective_from=date(2026, 1, 1),
                defaults={"price": Decimal(price)},
            )
    settings.SEEDANCE_PROVIDERS = {
        **settings.SEEDANCE_PROVIDERS,
        "alltoken": {
            "class": "tests.stubs.PortraitGatewayStub",
            "label": "AllToken (test stub)",
            "api_key": "at-test-key",
            "base_url": sim.base_url("tokenhub") if sim else "http://127.0.0.1:9/tokenhub/api/v1",
        },
    }
