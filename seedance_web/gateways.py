"""The upstream gateways' settings (SEEDANCE_PROVIDERS), read from the environment.

A gateway is offered only when <NAME>_API_KEY is set; <NAME>_BASE_URL points it elsewhere (the
simulator, a proxy). Docs: ../shared/upstream/ and docs/upstream-research.md.
"""

from __future__ import annotations

import environ

# name, adapter class, label, the gateway's documented base URL
GATEWAYS: tuple[tuple[str, str, str, str], ...] = (
    (
        "ark",
        "projects.providers.ark.ArkProvider",
        "Volcengine Ark",
        "https://ark.cn-beijing.volces.com/api/v3",
    ),
    # BytePlus ModelArk, the international Ark (upstream-research §9): same contract as "ark",
    # other model ids, region (ap-southeast-1) and prices.
    (
        "byteplus",
        "projects.providers.byteplus.BytePlusProvider",
        "BytePlus ModelArk",
        "https://ark.ap-southeast.bytepluses.com/api/v3",
    ),
    (
        "acedata",
        "projects.providers.acedata.AceDataProvider",
        "AceData Cloud",
        "https://api.acedata.cloud",
    ),
    (
        "alltoken",
        "projects.providers.alltoken.AllTokenProvider",
        "AllToken",
        "https://api.alltoken.ai/v1",
    ),
    (
        "seedance2ink",
        "projects.providers.seedance2ink.Seedance2InkProvider",
        "seedance2.ink",
        "https://www.seedance2.ink",
    ),
    (
        "tokenhub",
        "projects.providers.tokenhub.TokenHubProvider",
        "TokenHub",
        "https://tokenhub.store/api/v1",
    ),
)


def gateway_settings(env: environ.Env) -> dict[str, dict[str, str]]:
    """SEEDANCE_PROVIDERS: for each gateway, {"class", "label", "api_key", "base_url"} from
    <NAME>_API_KEY (default "") and <NAME>_BASE_URL (default: its documented URL)."""
    return {
        name: {
            "class": adapter,
            "label": label,
            "api_key": env.str(f"{name.upper()}_API_KEY", default=""),
            "base_url": env.str(f"{name.upper()}_BASE_URL", default=base_url),
        }
        for name, adapter, label, base_url in GATEWAYS
    }
