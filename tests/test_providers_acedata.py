"""The AceData Cloud adapter against AceData's own JSON (httpx.MockTransport, no network)."""

import json
from pathlib import Path

import httpx
import pytest

from projects.providers.acedata import CAPABILITIES, AceDataProvider
from projects.providers.base import (
    CancelNotSupported,
    GenerationRequest,
    MediaReference,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
    UpstreamStatus,
)
from projects.providers.request_check import check_request
from tests.adapter_contract import CallbackContract

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "acedata"
BASE = "https://acedata.example"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def make_provider(handler) -> AceDataProvider:
    return AceDataProvider(
        api_key="ace-secret", base_url=BASE, timeout=5, transport=httpx.MockTransport(handler)
    )


def request(**overrides) -> GenerationRequest:
    values = dict(
        model="doubao-seedance-1-0-pro-250528",
        prompt="A kitten yawning at the camera.",
        ratio="16:9",
        resolution="720p",
        duration=5,
        generate_audio=False,
        watermark=True,
        seed=11,
        callback_url="https://app.example/callbacks/1/secret/",
    )
    values.update(overrides)
    return GenerationRequest(**values)


def test_create_body_matches_the_reference_example_field_for_field():
    doc = load("create_request.json")
    body = AceDataProvider(api_key="k", base_url=BASE, timeout=1).build_body(request())
    # The doc's example sends generate_audio: false to 1.0 pro, which "ignores" it; we send it
    # only where it means something. callback_url is the doc's "<string>" placeholder.
    expected = {k: v for k, v in doc.items() if k != "generate_audio"}
    expected["callback_url"] = "https://app.example/callbacks/1/secret/"
    assert body == expected


def test_audio_only_for_1_5_pro_and_no_undocumented_async_without_a_callback():
    """AceData's doc has callback_url, or a create that waits for the video: `"async"` is
    not a field of it and is never sent."""
    provider = AceDataProvider(api_key="k", base_url=BASE, timeout=1)
    body = provider.build_body(
        request(
            model="doubao-seedance-1-5-pro-251215",
            generate_audio=True,
            seed=None,
            duration=-1,
            callback_url=None,
        )
    )
    assert body["generate_audio"] is True and "async" not in body
    assert "callback_url" not in body
    assert provider.create_wait_seconds(request(callback_url=None)) == 1200.0
    assert provider.create_wait_seconds(request(callback_url="https://a.example/cb")) is None
    assert body["content"][0]["text"] == (
        "A kitten yawning at the camera. --rs 720p --rt 16:9 --dur -1 --fps 24 --wm true --cf false"
    )


def test_image_references_are_image_url_items_with_roles():
    refs = (
        MediaReference(kind="image", role="first_frame", url="https://a/first.png"),
        MediaReference(kind="image", role="last_frame", url="https://a/last.png"),
    )
    body = AceDataProvider(api_key="k", base_url=BASE, timeout=1).build_body(
        request(references=refs)
    )
    assert body["content"][1:] == [
        {"type": "image_url", "image_url": {"url": "https://a/first.png"}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": "https://a/last.png"}, "role": "last_frame"},
    ]


@pytest.mark.parametrize("prompt", ["A cat --rs 1080p", "A cat --DUR 10", "--ratio 1:1 a cat"])
def test_a_prompt_holding_flags_is_refused_before_sending(prompt):
    errors = check_request(CAPABILITIES, request(prompt=prompt))
    assert "reads such flags as parameters" in errors["prompt"]
    with pytest.raises(ProviderRejectedError) as info:
        AceDataProvider(api_key="k", base_url=BASE, timeout=1).build_body(request(prompt=prompt))
    assert info.value.kind == "validation"


def test_dashes_that_are_not_flags_are_fine():
    for prompt in ("A cat -- then a dog", "well-known --- text", "a --rsvp card"):
        assert check_request(CAPABILITIES, request(prompt=prompt)) == {}


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("callback_create_response.json", UpstreamStatus.QUEUED),
        ("guide_create_response.json", UpstreamStatus.SUCCEEDED),
        ("create_response.json", UpstreamStatus.SUCCEEDED),
    ],
)
def test_submit_posts_to_the_videos_path_and_reads_task_id(answer, status):
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen.update(url=str(req.url), auth=req.headers["authorization"])
        return httpx.Response(200, json=load(answer))

    result = make_provider(handler).submit(request())
    assert seen == {"url": f"{BASE}/seedance/videos", "auth": "Bearer ace-secret"}
    assert result.upstream_id == load(answer)["task_id"]
    assert result.status == status


def test_fetch_posts_retrieve_and_reads_the_guides_record():
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen.update(url=str(req.url), body=json.loads(req.content))
        return httpx.Response(200, json=load("retrieve_response.json"))

    snap = make_provider(handler).fetch("9462ca25-468b-45a5-9e75-6f516dedcc80")
    assert seen["url"] == f"{BASE}/seedance/tasks"
    assert seen["body"] == {"id": "9462ca25-468b-45a5-9e75-6f516dedcc80", "action": "retrieve"}
    assert set(seen["body"]) == set(load("retrieve_request.json"))
    assert snap.status == UpstreamStatus.SUCCEEDED and snap.raw_status == "succeeded"
    assert snap.video_url == (
        "https://platform.cdn.acedata.cloud/seedance/d1c2e49e-d854-4a2e-b0c0-88e520f82e2e.mp4"
    )
    assert snap.last_frame_url == ""  # null in the example
    assert snap.upstream_id == "9462ca25-468b-45a5-9e75-6f516dedcc80"


def test_a_record_without_response_is_still_in_progress():
    record = load("retrieve_response.json")
    del record["response"]
    snap = make_provider(lambda r: httpx.Response(200, json=record)).fetch("x")
    assert snap.status == UpstreamStatus.RUNNING and not snap.status.is_terminal


def test_the_older_array_form_gives_usage_and_duration():
    record = {"id": "x", "response": load("create_response.json")}
    snap = make_provider(lambda r: httpx.Response(200, json=record)).fetch("x")
    assert snap.status == UpstreamStatus.SUCCEEDED
    assert snap.usage == {"completion_tokens": 108900, "total_tokens": 108900}
    assert snap.duration_s == 5.0
    assert snap.video_url.endswith("/doubao-seedance-1-0-pro/****")


def test_a_failed_result_carries_its_error():
    result = {
        "success": False,
        "task_id": "x",
        "trace_id": "t",
        "error": {
            "code": "OutputVideoSensitiveContentDetected",
            "message": "The output video may contain sensitive information. Request id: 0217x",
        },
    }
    snap = make_provider(lambda r: httpx.Response(200, json={"id": "x", "response": result})).fetch(
        "x"
    )
    assert snap.status == UpstreamStatus.FAILED
    assert snap.error_code == "OutputVideoSensitiveContentDetected"


def envelope(code: str, message: str = "x") -> dict:
    return {"success": False, "error": {"code": code, "message": message}, "trace_id": "t"}


@pytest.mark.parametrize(
    ("response", "error", "check"),
    [
        (
            httpx.Response(500, json=load("error.json")),
            ProviderTransientError,
            lambda e: e.code == "api_error" and "fetch failed" in e.message,
        ),
        (
            httpx.Response(400, json=envelope("bad_request", "content is required")),
            ProviderRejectedError,
            lambda e: e.kind == "validation" and "content is required" in e.message,
        ),
        (
            httpx.Response(400, json=envelope("no_token")),
            ProviderRejectedError,
            lambda e: e.kind == "auth" and "admin" in e.message,
        ),
        (
            httpx.Response(401, json=envelope("token_expired")),
            ProviderRejectedError,
            lambda e: e.kind == "auth",
        ),
        (
            httpx.Response(404, json=envelope("not_found")),
            ProviderRejectedError,
            lambda e: e.kind == "not_found",
        ),
        (
            httpx.Response(429, headers={"Retry-After": "4"}, json=envelope("too_many_requests")),
            ProviderTransientError,
            lambda e: e.retry_after == 4.0,
        ),
        (
            httpx.Response(
                400,
                json=envelope(
                    "bad_request",
                    "InputTextSensitiveContentDetected: The input text may contain sensitive "
                    "information.",
                ),
            ),
            ProviderRejectedError,
            lambda e: e.kind == "moderation",
        ),
        (
            httpx.Response(200, json=envelope("api_error", "upstream said no")),
            ProviderRejectedError,
            lambda e: "upstream said no" in e.message,
        ),
        (httpx.Response(200, text="<html/>"), ProviderOutcomeUnknown, lambda e: True),
        (
            httpx.Response(200, json={"success": True, "trace_id": "t"}),
            ProviderOutcomeUnknown,
            lambda e: "no task_id" in e.message,
        ),
    ],
)
def test_errors_become_provider_exceptions(response, error, check):
    with pytest.raises(error) as info:
        make_provider(lambda r: response).submit(request())
    assert check(info.value)
    assert "ace-secret" not in info.value.message


def test_a_callback_body_reads_as_the_final_result():
    provider = AceDataProvider(api_key="k", base_url=BASE, timeout=1)
    snap = provider.parse_result(load("callback_body.json"), upstream_id="f7096c6c")
    assert snap.status == UpstreamStatus.SUCCEEDED and snap.video_url.endswith(".mp4")


def test_no_cancel_and_no_reconcile():
    provider = AceDataProvider(api_key="k", base_url=BASE, timeout=1)
    with pytest.raises(CancelNotSupported):
        provider.cancel("x")
    assert provider.reconcile(request(), sent_at=0.0) is None
    assert CAPABILITIES.cancel == "never" and CAPABILITIES.callbacks


def test_capabilities_offer_the_five_documented_models():
    assert [m.id for m in CAPABILITIES.models] == [
        "doubao-seedance-1-0-pro-250528",
        "doubao-seedance-1-0-pro-fast-251015",
        "doubao-seedance-1-5-pro-251215",
        "doubao-seedance-1-0-lite-t2v-250428",
        "doubao-seedance-1-0-lite-i2v-250428",
    ]
    pro = CAPABILITIES.model("doubao-seedance-1-0-pro-250528")
    pro15 = CAPABILITIES.model("doubao-seedance-1-5-pro-251215")
    assert pro.durations == tuple(range(2, 13)) and not pro.audio and pro.seed
    assert pro15.audio and not pro15.default_audio and pro15.auto_duration
    assert all(not m.portraits for m in CAPABILITIES.models)
    assert "AceData Seedance Videos API" in pro.source
    errors = check_request(CAPABILITIES, request(model="doubao-seedance-2-0-260128"))
    assert "offers" in errors["model"]


class TestContract(CallbackContract):
    """The shared adapter contract (tests/adapter_contract.py) with the reference's JSON."""

    SECRET = "ace-secret"
    CREATE_REPLY = load("callback_create_response.json")
    CREATED_ID = load("callback_create_response.json")["task_id"]
    STATUS_WORDS = {
        word: UpstreamStatus(word) for word in ("queued", "running", "succeeded", "failed")
    }
    TASK_ID = "f7096c6c-9430-4392-8201-d259632d7afd"
    CALLBACK = ((FIXTURES / "callback_body.json").read_bytes(), TASK_ID)

    def provider(self, handler):
        return make_provider(handler)

    def request(self):
        return request()

    def status_reply(self, word):
        data = {} if word is None else {"status": word}
        result = {"success": True, "task_id": self.TASK_ID, "data": data}
        return {"id": self.TASK_ID, "response": result}
