"""The AllToken adapter against the guide's own JSON (httpx.MockTransport, no network)."""

import json
from pathlib import Path

import httpx
import pytest

from projects.providers.alltoken import CAPABILITIES, AllTokenProvider
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
from tests.adapter_contract import AdapterContract

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "alltoken"
# The guide's parameter list: model, prompt, ratio, duration, resolution, content.
DOC_PARAMETERS = {"model", "prompt", "ratio", "duration", "resolution", "content"}


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def make_provider(handler) -> AllTokenProvider:
    return AllTokenProvider(
        api_key="at-secret",
        base_url="https://api.alltoken.ai/v1",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )


def doc_request(**overrides) -> GenerationRequest:
    doc = load("create_request.json")
    values = dict(
        model=doc["model"],
        prompt=doc["prompt"],
        ratio=doc["ratio"],
        resolution=doc["resolution"],
        duration=doc["duration"],
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationRequest(**values)


def test_create_body_is_the_guide_example_field_for_field():
    body = AllTokenProvider(api_key="k", base_url="https://x", timeout=1).build_body(doc_request())
    assert body == load("create_request.json")


def test_references_become_the_guide_content_items_with_their_roles():
    request = doc_request(
        references=(
            MediaReference(kind="image", role="reference_image", url="asset://asset-7"),
            MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),
            MediaReference(kind="audio", role="reference_audio", url="https://a/a.mp3"),
        )
    )
    body = AllTokenProvider(api_key="k", base_url="https://x", timeout=1).build_body(request)
    assert set(body) <= DOC_PARAMETERS
    assert body["content"] == [
        {"type": "image_url", "image_url": {"url": "asset://asset-7"}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": "https://a/v.mp4"}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": "https://a/a.mp3"}, "role": "reference_audio"},
    ]
    first = doc_request(references=(MediaReference(kind="image", role="first_frame", url="..."),))
    assert AllTokenProvider(api_key="k", base_url="https://x", timeout=1).build_body(first)[
        "content"
    ] == [load("content_item.json")]


def test_submit_posts_to_the_documented_path_with_bearer_key_and_reads_the_id():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["method"], seen["url"] = request.method, str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=load("create_response.json"))

    result = make_provider(handler).submit(doc_request())
    assert (seen["method"], seen["url"]) == (
        "POST",
        "https://api.alltoken.ai/v1/videos/generations",
    )
    assert seen["auth"] == "Bearer at-secret"
    assert seen["body"] == load("create_request.json")
    assert result.upstream_id == "vgen_01abc"
    assert result.status == UpstreamStatus.QUEUED and result.raw_status == "queued"
    assert result.vendor_cost == ""


def test_fetch_reads_the_completed_task():
    paths = []

    def handler(request):
        paths.append((request.method, request.url.path))
        return httpx.Response(200, json=load("status_completed.json"))

    snap = make_provider(handler).fetch("vgen_01abc")
    assert paths == [("GET", "/v1/videos/generations/vgen_01abc")]
    assert snap.status == UpstreamStatus.SUCCEEDED and snap.raw_status == "completed"
    assert snap.video_url == load("status_completed.json")["video_url"]
    assert snap.upstream_id == "vgen_01abc"
    assert snap.error_message == "" and snap.cover_url == ""


def test_failed_task_carries_code_and_message_without_the_request_id():
    body = {
        "id": "vgen_01abc",
        "status": "failed",
        "error": {
            "code": "OutputVideoSensitiveContentDetected",
            "message": "The output video may contain sensitive information (request req_9).",
            "request_id": "req_9",
        },
    }
    snap = make_provider(lambda r: httpx.Response(200, json=body)).fetch("vgen_01abc")
    assert snap.status == UpstreamStatus.FAILED
    assert snap.error_code == "OutputVideoSensitiveContentDetected"
    assert snap.error_message == "The output video may contain sensitive information."


@pytest.mark.parametrize(
    ("status", "fixture", "headers", "error", "check"),
    [
        (
            401,
            "error_invalid_api_key.json",
            {},
            ProviderRejectedError,
            lambda e: e.kind == "auth" and e.code == "invalid_api_key" and "admin" in e.message,
        ),
        (
            402,
            "error_insufficient_balance.json",
            {},
            ProviderRejectedError,
            lambda e: e.kind == "quota" and "top up" in e.message,
        ),
        (
            429,
            "error_rate_limited.json",
            {"Retry-After": "7"},
            ProviderTransientError,
            lambda e: e.retry_after == 7.0 and e.code == "rate_limited",
        ),
        (
            503,
            "error_all_providers_failed.json",
            {},
            ProviderTransientError,
            lambda e: e.code == "all_providers_failed" and e.http_status == 503,
        ),
    ],
)
def test_documented_error_slugs_become_provider_exceptions(status, fixture, headers, error, check):
    body = load(fixture)
    provider = make_provider(lambda r: httpx.Response(status, json=body, headers=headers))
    with pytest.raises(error) as info:
        provider.submit(doc_request())
    assert check(info.value)
    assert info.value.message.startswith("AllToken ")
    # Vendor request ids never reach users, in whatever wording the message carries them.
    assert body["error"]["request_id"] not in info.value.message
    assert "request" not in info.value.message.lower().replace("requests", "")
    assert "at-secret" not in info.value.message


def test_a_rate_limit_message_reads_cleanly():
    provider = make_provider(
        lambda r: httpx.Response(429, json=load("error_rate_limited.json"), headers={})
    )
    with pytest.raises(ProviderTransientError) as info:
        provider.fetch("vgen_01abc")
    assert info.value.message == (
        "AllToken is rate limiting requests: Too many requests, retry after 7 seconds."
    )


def test_validation_and_moderation_refusals_are_final_with_the_message():
    validation = {
        "error": {
            "code": "invalid_parameter",
            "type": "invalid_request_error",
            "message": "duration must be between 4 and 12 for seedance-1.5-pro",
            "param": "duration",
            "request_id": "req_1",
        }
    }
    moderation = {
        "error": {
            "code": "InputImageSensitiveContentDetected.PrivacyInformation",
            "type": "invalid_request_error",
            "message": "The input image may contain real people. Request id: 0217abc",
            "param": "content",
            "request_id": "req_2",
        }
    }
    with pytest.raises(ProviderRejectedError) as first:
        make_provider(lambda r: httpx.Response(400, json=validation)).submit(doc_request())
    with pytest.raises(ProviderRejectedError) as second:
        make_provider(lambda r: httpx.Response(400, json=moderation)).submit(doc_request())
    assert first.value.kind == "validation"
    assert first.value.message == (
        "AllToken rejected the request: duration must be between 4 and 12 for seedance-1.5-pro"
    )
    assert second.value.kind == "moderation"
    assert second.value.message == (
        "AllToken refused the content: The input image may contain real people."
    )


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>502 Bad Gateway</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"status": "queued"}),
    ],
)
def test_unreadable_create_answers_are_an_unknown_outcome(response):
    with pytest.raises(ProviderOutcomeUnknown):
        make_provider(lambda r: response).submit(doc_request())


def test_cancel_posts_to_the_cancel_path_and_reads_the_task():
    seen = []

    def handler(request):
        seen.append((request.method, request.url.path))
        return httpx.Response(200, json={"id": "vgen_01abc", "status": "cancelled"})

    snap = make_provider(handler).cancel("vgen_01abc")
    assert seen == [("POST", "/v1/videos/generations/vgen_01abc/cancel")]
    assert snap.status == UpstreamStatus.CANCELLED


def test_cancel_of_an_ended_task_is_refused_with_the_reason():
    body = {
        "error": {
            "code": "task_not_cancellable",
            "type": "invalid_request_error",
            "message": "Video generation vgen_01abc is completed; only queued or processing "
            "tasks can be cancelled.",
            "param": None,
            "request_id": "req_3",
        }
    }
    with pytest.raises(CancelNotSupported) as info:
        make_provider(lambda r: httpx.Response(409, json=body)).cancel("vgen_01abc")
    assert info.value.message == (
        "Video generation vgen_01abc is completed; only queued or processing tasks can be "
        "cancelled."
    )
    with pytest.raises(ProviderRejectedError) as auth:
        make_provider(
            lambda r: httpx.Response(401, json=load("error_invalid_api_key.json"))
        ).cancel("vgen_01abc")
    assert auth.value.kind == "auth"


def test_a_lost_create_cannot_be_reconciled_and_nothing_is_called():
    calls = []
    provider = make_provider(lambda r: calls.append(r) or httpx.Response(500))
    assert provider.reconcile(doc_request(), sent_at=0.0) is None
    assert calls == []


def test_capabilities_refuse_what_the_guide_does_not_offer():
    assert CAPABILITIES.cancel == "queued_or_running" and not CAPABILITIES.callbacks
    assert [m.id for m in CAPABILITIES.models] == [
        "seedance-2.0",
        "seedance-2.0-fast",
        "seedance-1.5-pro",
    ]
    for model in CAPABILITIES.models:
        assert not model.audio and not model.default_audio and not model.seed
        assert not model.watermark and model.auto_duration
    errors = check_request(
        CAPABILITIES, doc_request(generate_audio=True, seed=3, watermark=True, ratio="2:1")
    )
    assert errors["generate_audio"].startswith("seedance-2.0 cannot generate audio")
    assert errors["seed"].startswith("AllToken does not accept a seed")
    assert errors["watermark"].startswith("AllToken has no watermark option")
    assert "adaptive" in errors["ratio"]
    assert check_request(CAPABILITIES, doc_request(duration=-1)) == {}


def test_durations_follow_the_models_and_cite_the_source():
    errors = check_request(CAPABILITIES, doc_request(model="seedance-1.5-pro", duration=13))
    assert errors["duration"] == (
        "seedance-1.5-pro accepts 4 to 12 seconds, or auto (AllToken video guide; Ark API "
        "reference)."
    )
    assert "duration" in check_request(CAPABILITIES, doc_request(duration=16))
    assert check_request(CAPABILITIES, doc_request(duration=15)) == {}
    fast_1080 = check_request(
        CAPABILITIES, doc_request(model="seedance-2.0-fast", resolution="1080p")
    )
    assert fast_1080["resolution"].startswith("seedance-2.0-fast accepts 480p or 720p")


def test_portraits_are_refused_for_seedance_1_5_pro_before_anything_is_sent():
    portrait = (MediaReference(kind="image", role="first_frame", url="asset://asset-20260101"),)
    refused = check_request(
        CAPABILITIES, doc_request(model="seedance-1.5-pro", references=portrait)
    )
    assert refused == {
        "references": "seedance-1.5-pro rejects asset:// portrait references; choose a model "
        "that takes them, or clear the asset's portrait id to send the file itself (AllToken "
        "video guide; Ark API reference)."
    }
    for model in ("seedance-2.0", "seedance-2.0-fast"):
        assert check_request(CAPABILITIES, doc_request(model=model, references=portrait)) == {}
    reference = (MediaReference(kind="image", role="reference_image", url="https://a/1.png"),)
    assert "does not take a reference_image" in check_request(
        CAPABILITIES, doc_request(model="seedance-1.5-pro", references=reference)
    ).get("references", "")


class TestContract(AdapterContract):
    """The shared adapter contract (tests/adapter_contract.py) with the guide's JSON."""

    SECRET = "at-secret"
    CREATE_REPLY = load("create_response.json")
    CREATED_ID = "vgen_01abc"
    STATUS_WORDS = {
        "queued": UpstreamStatus.QUEUED,
        "processing": UpstreamStatus.RUNNING,
        "completed": UpstreamStatus.SUCCEEDED,
        "failed": UpstreamStatus.FAILED,
        "expired": UpstreamStatus.EXPIRED,
        "cancelled": UpstreamStatus.CANCELLED,
    }
    TASK_ID = "vgen_01abc"

    def provider(self, handler):
        return make_provider(handler)

    def request(self):
        return doc_request()

    def status_reply(self, word):
        return {"id": self.TASK_ID} if word is None else {"id": self.TASK_ID, "status": word}
