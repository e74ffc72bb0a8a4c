"""BytePlus ModelArk: the international edition of Ark, through the Ark adapter.

Contract: upstream-research.md §1 (the same "content generation tasks" API: create, get, list,
DELETE, callbacks, errors) and §9 ("BytePlus ModelArk"): base
`https://ark.ap-southeast.bytepluses.com/api/v3` (ap-southeast-1, where Seedance runs; keys
work only in their region), model ids without the `doubao-` prefix and with `dreamina-` on the
2.x models. What differs from Ark is data, not code: the model ids below, the region in the
base URL, and the prices (USD per million tokens, §1.14; projects/migrations seed them).

Models: the five the BytePlus API reference lists (its `model` enum, mirrored at
docs.powertokens.ai .../byteplus/seedance/seedance-video, and §9): Seedance 2.0, 2.0 fast,
1.5 pro, 1.0 pro, 1.0 pro fast, each with the limits of its Ark twin (§1.2). Not offered:
the 1.0 lite pair (not in that enum), 2.0 mini and 2.5 (not in it either), and 2.0 at 4k
(priced in §1.14, but no output size table is documented, so no hold could be computed).
"""

from __future__ import annotations

from dataclasses import replace

from projects.providers import ark
from projects.providers.capabilities import ModelCapabilities, ProviderCapabilities

LABEL = "BytePlus"
SOURCE = "BytePlus ModelArk API reference"  # upstream-research §1, §9
DEFAULT_BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"

# BytePlus id -> the Ark model with the same capabilities (§1.2 table, §9).
ARK_TWINS = {
    "dreamina-seedance-2-0-260128": "doubao-seedance-2-0-260128",
    "dreamina-seedance-2-0-fast-260128": "doubao-seedance-2-0-fast-260128",
    "seedance-1-5-pro-251215": "doubao-seedance-1-5-pro-251215",
    "seedance-1-0-pro-250528": "doubao-seedance-1-0-pro-250528",
    "seedance-1-0-pro-fast-251015": "doubao-seedance-1-0-pro-fast-251015",
}


def _byteplus_model(model_id: str, twin_id: str) -> ModelCapabilities:
    twin = ark.CAPABILITIES.model(twin_id)
    assert twin is not None, twin_id
    return replace(twin, id=model_id, source=SOURCE)


CAPABILITIES = ProviderCapabilities(
    name="byteplus",
    label=LABEL,
    models=tuple(_byteplus_model(model_id, twin) for model_id, twin in ARK_TWINS.items()),
    cancel="queued",
    callbacks=True,
    expires_after=ark.CAPABILITIES.expires_after,
    source=SOURCE,
    notes=(
        # upstream-research §9
        "Seedance runs in ap-southeast-1 only; an API key works in its own region.",
        "Seedance 2.0 needs a prepaid resource pack on the account.",
        *ark.CAPABILITIES.notes,
    ),
)


class BytePlusProvider(ark.ArkProvider):
    """BytePlus ModelArk: Ark's adapter with BytePlus's name, label and models."""

    name = "byteplus"
    LABEL = LABEL
    CAPABILITIES = CAPABILITIES
