"""The simulator's Ark dialect through Volcengine's own SDK (volcenginesdkarkruntime, research
§2): the shared contract of tests/sdk_contract.py with Volcengine's `doubao-` model ids."""

from volcenginesdkarkruntime import Ark, _exceptions

from tests.sdk_contract import Flavour, SdkContract

VOLCENGINE = Flavour(
    dialect="ark",
    ark=Ark,
    errors=_exceptions,
    v2="doubao-seedance-2-0-260128",
    v2_fast="doubao-seedance-2-0-fast-260128",
    v15="doubao-seedance-1-5-pro-251215",
    v10_pro="doubao-seedance-1-0-pro-250528",
    tools_param=True,
)


class TestVolcengineSdk(SdkContract):
    flavour = VOLCENGINE
