"""BytePlus ModelArk: the Ark adapter with BytePlus's ids, region and name
(httpx.MockTransport, no network), and its place in settings and the form."""

import json

import httpx
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from projects.providers import ark, byteplus
from projects.providers.base import GenerationRequest, ProviderRejectedError, UpstreamStatus
from projects.providers.byteplus import CAPABILITIES, BytePlusProvider
from projects.providers.registry import configured_provider_names
from projects.providers.request_check import check_request
from tests.adapter_contract import CallbackContract


def request(**overrides) -> GenerationRequest:
    values = dict(
        model="dreamina-seedance-2-0-260128",
        prompt="A red fox trotting through fresh snow",
        ratio="16:9",
        resolution="720p",
        duration=5,
        seed=7,
    )
    values.update(overrides)
    return GenerationRequest(**values)


def test_the_models_are_the_byteplus_ids_with_their_ark_twins_limits():
    assert [m.id for m in CAPABILITIES.models] == [
        "dreamina-seedance-2-0-260128",
        "dreamina-seedance-2-0-fast-260128",
        "seedance-1-5-pro-251215",
        "seedance-1-0-pro-250528",
        "seedance-1-0-pro-fast-251015",
    ]
    for model in CAPABILITIES.models:
        twin = ark.CAPABILITIES.model(byteplus.ARK_TWINS[model.id])
        assert (model.durations, model.resolutions, model.roles, model.service_tiers) == (
            twin.durations,
            twin.resolutions,
            twin.roles,
            twin.service_tiers,
        )
    assert CAPABILITIES.model("seedance-1-5-pro-251215").service_tiers == ("default", "flex")
    assert CAPABILITIES.model("seedance-1-0-pro-250528").size_table == "seedance-1.0"
    errors = check_request(CAPABILITIES, request(model="doubao-seedance-2-0-260128"))
    assert errors["model"].startswith("BytePlus offers dreamina-seedance-2-0-260128, ")


def test_the_create_is_arks_body_with_the_byteplus_model_at_its_base_url():
    seen = {}

    def handler(http_request: httpx.Request) -> httpx.Response:
        seen["url"] = str(http_request.url)
        seen["auth"] = http_request.headers["authorization"]
        seen["body"] = json.loads(http_request.content)
        return httpx.Response(200, json={"id": "cgt-20261207-abcde"})

    provider = BytePlusProvider(
        api_key="bp-key",
        base_url=byteplus.DEFAULT_BASE_URL,
        timeout=5,
        transport=httpx.MockTransport(handler),
    )
    submitted = provider.submit(request(service_tier="default"))
    assert submitted.upstream_id == "cgt-20261207-abcde"
    assert seen["url"] == (
        "https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/tasks"
    )
    assert seen["auth"] == "Bearer bp-key"
    twin = ark.ArkProvider(api_key="k", base_url="https://x", timeout=1)
    expected = twin.build_body(request(model="doubao-seedance-2-0-260128"))
    expected["model"] = "dreamina-seedance-2-0-260128"
    assert seen["body"] == expected  # the same contract as its Ark twin, field for field
    assert seen["body"]["model"] == "dreamina-seedance-2-0-260128"


def test_flex_is_sent_as_the_service_tier():
    body = BytePlusProvider(api_key="k", base_url="https://x", timeout=1).build_body(
        request(model="seedance-1-5-pro-251215", service_tier="flex")
    )
    assert body["service_tier"] == "flex"


def test_errors_name_byteplus():
    provider = BytePlusProvider(
        api_key="k",
        base_url="https://x",
        timeout=1,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                404,
                json={"error": {"code": "ModelNotOpen", "message": "Not activated."}},
            )
        ),
    )
    with pytest.raises(ProviderRejectedError) as refused:
        provider.submit(request())
    assert "BytePlus" in refused.value.message


def test_settings_and_the_form_offer_byteplus_when_its_key_is_set(
    client, settings, project, member
):
    conf = django_settings.SEEDANCE_PROVIDERS["byteplus"]
    assert conf["class"] == "projects.providers.byteplus.BytePlusProvider"
    assert conf["base_url"] == "https://ark.ap-southeast.bytepluses.com/api/v3"
    assert "byteplus" not in configured_provider_names()  # no BYTEPLUS_API_KEY in tests
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    assert 'value="byteplus"' not in client.get(url).content.decode()
    settings.SEEDANCE_PROVIDERS = {
        **settings.SEEDANCE_PROVIDERS,
        "byteplus": {**conf, "api_key": "bp-key"},
    }
    page = client.get(url, {"provider": "byteplus"}).content.decode()
    assert 'value="byteplus"' in page and "dreamina-seedance-2-0-260128" in page


class TestContract(CallbackContract):
    """The shared adapter contract (tests/adapter_contract.py): Ark's JSON at BytePlus."""

    SECRET = "bp-secret"
    CREATE_REPLY = {"id": "cgt-20261207-abcde"}
    CREATED_ID = "cgt-20261207-abcde"
    STATUS_WORDS = {
        word: UpstreamStatus(word)
        for word in ("queued", "running", "succeeded", "failed", "expired", "cancelled")
    }
    TASK_ID = "cgt-20261207-abcde"
    CALLBACK = (
        json.dumps({"id": "cgt-20261207-abcde", "status": "succeeded"}).encode(),
        "cgt-20261207-abcde",
    )

    def provider(self, handler):
        return BytePlusProvider(
            api_key=self.SECRET,
            base_url="https://ark.ap-southeast.bytepluses.com/api/v3",
            timeout=5,
            transport=httpx.MockTransport(handler),
        )

    def request(self):
        return request()

    def status_reply(self, word):
        body = {"id": self.TASK_ID, "model": "dreamina-seedance-2-0-260128"}
        return body if word is None else {**body, "status": word}
