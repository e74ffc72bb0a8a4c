"""The seedance2.ink adapter against its API reference's own JSON (httpx.MockTransport)."""

import json
from pathlib import Path

import httpx
import pytest

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
from projects.providers.seedance2ink import CAPABILITIES, Seedance2InkProvider
from tests.adapter_contract import CallbackContract

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "seedance2ink"
# The reference's request fields.
DOC_FIELDS = {
    "model",
    "prompt",
    "mediaUrls",
    "aspectRatio",
    "duration",
    "resolution",
    "webhookUrl",
    "metadata",
}


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def make_provider(handler) -> Seedance2InkProvider:
    return Seedance2InkProvider(
        api_key="sd2_live_secret",
        base_url="https://www.seedance2.ink",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )


def image(url: str, role: str = "first_frame") -> MediaReference:
    return MediaReference(kind="image", role=role, url=url)


def doc_request(**overrides) -> GenerationRequest:
    doc = load("create_request.json")
    values = dict(
        model=doc["model"],
        prompt=doc["prompt"],
        ratio=doc["aspectRatio"],
        resolution=doc["resolution"],
        duration=doc["duration"],
        generate_audio=False,
        references=tuple(image(url) for url in doc["mediaUrls"]),
    )
    values.update(overrides)
    return GenerationRequest(**values)


def build(request: GenerationRequest) -> dict:
    return Seedance2InkProvider(api_key="k", base_url="https://x", timeout=1).build_body(request)


def test_create_body_is_the_reference_example_field_for_field():
    assert build(doc_request()) == load("create_request.json")


def test_text_to_video_omits_media_and_sends_webhook_and_metadata():
    body = build(
        doc_request(
            references=(),
            callback_url="https://studio.example/callbacks/t/secret/",
            client_ref="7d1c",
        )
    )
    assert body == {
        "model": "seedance-2.0",
        "prompt": load("create_request.json")["prompt"],
        "aspectRatio": "16:9",
        "duration": 5,
        "resolution": "720p",
        "webhookUrl": "https://studio.example/callbacks/t/secret/",
        "metadata": {"seedance_web_task": "7d1c"},
    }
    assert set(body) <= DOC_FIELDS


def test_media_urls_are_ordered_so_the_gateway_infers_the_intended_mode():
    frames = build(
        doc_request(
            references=(image("https://a/last.png", "last_frame"), image("https://a/first.png"))
        )
    )
    assert frames["mediaUrls"] == ["https://a/first.png", "https://a/last.png"]
    refs = (
        MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),
        image("https://a/2.png", "reference_image"),
        MediaReference(kind="audio", role="reference_audio", url="https://a/a.mp3"),
    )
    assert build(doc_request(references=refs))["mediaUrls"] == [
        "https://a/v.mp4",
        "https://a/2.png",
        "https://a/a.mp3",
    ]


def test_submit_reads_the_request_id_and_the_credits_charged():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["method"], seen["url"] = request.method, str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=load("create_response.json"))

    result = make_provider(handler).submit(doc_request())
    assert seen["method"] == "POST"
    assert seen["url"] == "https://www.seedance2.ink/api/open/v1/video/generations"
    assert seen["auth"] == "Bearer sd2_live_secret"
    assert seen["body"] == load("create_request.json")
    assert result.upstream_id == "req_1234567890"
    assert result.status == UpstreamStatus.QUEUED
    assert result.vendor_cost == "64"


def test_fetch_reads_the_reference_example():
    paths = []

    def handler(request):
        paths.append((request.method, request.url.path))
        return httpx.Response(200, json=load("status_succeeded.json"))

    snap = make_provider(handler).fetch("req_1234567890")
    assert paths == [("GET", "/api/open/v1/video/generations/req_1234567890")]
    assert snap.status == UpstreamStatus.SUCCEEDED and snap.raw_status == "succeeded"
    assert snap.video_url == "https://pub-your-bucket.r2.dev/open-api-results/req_1234567890.mp4"
    assert snap.duration_s == 5.0 and snap.upstream_id == "req_1234567890"
    assert snap.error_code == snap.error_message == ""


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            {"code": "OutputVideoSensitiveContentDetected", "message": "blocked"},
            "OutputVideoSensitiveContentDetected",
            "blocked",
        ),
        ("Generation failed upstream", "", "Generation failed upstream"),
    ],
)
def test_a_failed_generation_carries_its_error(error, code, message):
    body = {**load("status_succeeded.json"), "status": "failed", "output": None, "error": error}
    snap = make_provider(lambda r: httpx.Response(200, json=body)).fetch("req_1234567890")
    assert snap.status == UpstreamStatus.FAILED
    assert (snap.error_code, snap.error_message) == (code, message)


@pytest.mark.parametrize("http_status", [401, 200])
def test_unauthorized_is_an_auth_refusal_even_with_http_200(http_status):
    provider = make_provider(
        lambda r: httpx.Response(http_status, json=load("error_unauthorized.json"))
    )
    with pytest.raises(ProviderRejectedError) as info:
        provider.submit(doc_request())
    assert info.value.kind == "auth" and info.value.code == "unauthorized"
    assert "Invalid API key" in info.value.message and "admin" in info.value.message
    assert "sd2_live_secret" not in info.value.message


@pytest.mark.parametrize(
    ("body", "error", "check"),
    [
        (
            {"success": False, "error": {"code": "invalid_request", "message": "bad duration"}},
            ProviderRejectedError,
            lambda e: (
                e.kind == "validation"
                and e.message == "seedance2.ink rejected the request: bad duration"
            ),
        ),
        (
            {"success": False, "error": {"code": "insufficient_credits", "message": "top up"}},
            ProviderRejectedError,
            lambda e: e.kind == "quota",
        ),
        (
            {"success": False, "error": {"code": "rate_limited", "message": "slow down"}},
            ProviderTransientError,
            lambda e: "rate limiting" in e.message,
        ),
        (
            {"success": False, "error": "Something broke"},
            ProviderRejectedError,
            lambda e: e.message == "seedance2.ink rejected the request: Something broke",
        ),
    ],
)
def test_success_false_with_http_200_is_the_error_it_says(body, error, check):
    with pytest.raises(error) as info:
        make_provider(lambda r: httpx.Response(200, json=body)).submit(doc_request())
    assert check(info.value)


def test_success_false_on_a_poll_means_not_found():
    body = {"success": False, "error": {"code": "not_found", "message": "No such generation"}}
    with pytest.raises(ProviderRejectedError) as info:
        make_provider(lambda r: httpx.Response(200, json=body)).fetch("req_x")
    assert info.value.kind == "not_found"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, text="<html>502 Bad Gateway</html>"), ProviderOutcomeUnknown),
        (httpx.Response(200, json={"success": True, "status": "queued"}), ProviderOutcomeUnknown),
        (
            httpx.Response(429, json={"success": False, "error": {"code": "rate_limited"}}),
            ProviderTransientError,
        ),
        (httpx.Response(502, text="bad gateway"), ProviderTransientError),
    ],
)
def test_other_bad_create_answers(response, error):
    with pytest.raises(error):
        make_provider(lambda r: response).submit(doc_request())


def test_cancel_reads_the_reference_answer():
    seen = []

    def handler(request):
        seen.append((request.method, request.url.path))
        return httpx.Response(200, json=load("cancel_response.json"))

    snap = make_provider(handler).cancel("req_1234567890")
    assert seen == [("POST", "/api/open/v1/video/generations/req_1234567890/cancel")]
    assert snap.status == UpstreamStatus.CANCELLED and snap.upstream_id == "req_1234567890"


@pytest.mark.parametrize("http_status", [409, 400, 200])
def test_cancel_of_an_ended_generation_is_refused_with_the_reason(http_status):
    body = {
        "success": False,
        "error": {
            "code": "not_cancellable",
            "message": "Generation req_1 is succeeded; only queued or processing "
            "generations can be cancelled.",
        },
    }
    with pytest.raises(CancelNotSupported) as info:
        make_provider(lambda r: httpx.Response(http_status, json=body)).cancel("req_1")
    assert info.value.message == body["error"]["message"]


def test_a_lost_create_cannot_be_reconciled():
    calls = []
    provider = make_provider(lambda r: calls.append(r) or httpx.Response(500))
    assert provider.reconcile(doc_request(), sent_at=0.0) is None and calls == []


def test_capabilities_refuse_what_the_reference_does_not_offer():
    assert CAPABILITIES.cancel == "queued_or_running" and CAPABILITIES.callbacks
    for model in CAPABILITIES.models:
        assert model.ratios == ("16:9", "9:16", "1:1")
        assert not (model.audio or model.seed or model.watermark or model.auto_duration)
    errors = check_request(
        CAPABILITIES, doc_request(generate_audio=True, seed=1, watermark=True, ratio="4:3")
    )
    assert set(errors) == {"generate_audio", "seed", "watermark", "ratio"}
    pro = check_request(CAPABILITIES, doc_request(model="seedance-1.5-pro", duration=7))
    assert pro["duration"].startswith("seedance-1.5-pro accepts 5 or 10 seconds (seedance2.ink")
    assert check_request(CAPABILITIES, doc_request(model="seedance-1.5-pro", duration=10)) == {}
    fast = check_request(CAPABILITIES, doc_request(model="seedance-2.0-fast", resolution="1080p"))
    assert "480p or 720p" in fast["resolution"]


@pytest.mark.parametrize(
    ("references", "problem"),
    [
        ((image("https://a/l.png", "last_frame"),), "A last frame needs a first frame too."),
        (tuple(image(f"https://a/{i}.png", "reference_image") for i in range(6)), "at most 5"),
        ((image("https://a/1.png", "reference_image"),), "reads one image as a first frame"),
        (
            (
                image("https://a/1.png", "reference_image"),
                image("https://a/2.png", "reference_image"),
            ),
            "reads one image as a first frame",
        ),
        (
            (
                image("https://a/1.png"),
                MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),
            ),
            "mutually exclusive",
        ),
        ((image("asset://asset-1"),), "rejects asset:// portrait references"),
    ],
)
def test_combinations_the_mode_inference_cannot_express_are_refused(references, problem):
    errors = check_request(CAPABILITIES, doc_request(references=references))
    assert problem in errors["references"]


@pytest.mark.parametrize(
    "references",
    [
        (image("https://a/1.png"),),
        (image("https://a/1.png"), image("https://a/2.png", "last_frame")),
        tuple(image(f"https://a/{i}.png", "reference_image") for i in range(3)),
        (
            image("https://a/1.png", "reference_image"),
            MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),
        ),
        (MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),),
    ],
)
def test_combinations_the_inference_reads_as_intended_are_accepted(references):
    assert check_request(CAPABILITIES, doc_request(references=references)) == {}


def test_seedance_1_5_pro_takes_frames_only():
    video = (MediaReference(kind="video", role="reference_video", url="https://a/v.mp4"),)
    errors = check_request(CAPABILITIES, doc_request(model="seedance-1.5-pro", references=video))
    assert "does not take a reference_video" in errors["references"]


class TestContract(CallbackContract):
    """The shared adapter contract (tests/adapter_contract.py) with the reference's JSON."""

    SECRET = "sd2_live_secret"
    CREATE_REPLY = load("create_response.json")
    CREATED_ID = "req_1234567890"
    STATUS_WORDS = {
        "queued": UpstreamStatus.QUEUED,
        "processing": UpstreamStatus.RUNNING,
        "succeeded": UpstreamStatus.SUCCEEDED,
        "failed": UpstreamStatus.FAILED,
        "cancelled": UpstreamStatus.CANCELLED,
    }
    TASK_ID = "req_1234567890"
    CALLBACK = (json.dumps(load("status_succeeded.json")).encode(), "req_1234567890")

    def provider(self, handler):
        return make_provider(handler)

    def request(self):
        return doc_request()

    def status_reply(self, word):
        body = {**load("status_succeeded.json"), "output": None}
        if word is None:
            del body["status"]
            return body
        return {**body, "status": word}
