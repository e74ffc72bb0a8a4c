"""The simulator's BytePlus ModelArk dialect through BytePlus's own SDK (byteplussdkarkruntime,
research §2, §9): the shared contract of tests/sdk_contract.py with BytePlus model ids (§1.2)."""

from byteplussdkarkruntime import Ark, _exceptions

from tests.sdk_contract import Flavour, SdkContract

BYTEPLUS = Flavour(
    dialect="byteplus",
    ark=Ark,
    errors=_exceptions,
    v2="dreamina-seedance-2-0-260128",
    v2_fast="dreamina-seedance-2-0-fast-260128",
    v15="seedance-1-5-pro-251215",
    v10_pro="seedance-1-0-pro-250528",
    tools_param=False,  # BytePlus's create() has no `tools`: it goes in extra_body
)


class TestBytePlusSdk(SdkContract):
    flavour = BYTEPLUS
