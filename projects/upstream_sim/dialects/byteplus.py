"""BytePlus ModelArk, the international edition of the official tasks API.

docs/upstream-research.md §1.1 and §9: base `https://ark.ap-southeast.bytepluses.com/api/v3`,
"the same tasks contract" as Volcengine Ark, the same SDK surface (`byteplus-python-sdk-v2`,
module byteplussdkarkruntime), and the same models under BytePlus ids (§1.2:
`dreamina-seedance-2-0-260128`, `seedance-1-5-pro-251215`, ...). So this is the Ark dialect
with the BytePlus model table, at prefix /byteplus/api/v3.
"""

from __future__ import annotations

from projects.upstream_sim.dialects.ark import ArkDialect
from projects.upstream_sim.dialects.ark_models import BYTEPLUS


class BytePlusDialect(ArkDialect):
    """The Ark tasks API with BytePlus model ids (see the module docstring)."""

    name = "byteplus"
    prefix = "/byteplus/api/v3"
    label = "BytePlus ModelArk"
    models = BYTEPLUS
