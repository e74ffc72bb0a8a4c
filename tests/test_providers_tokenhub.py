"""The TokenHub adapter against the guide's own JSON (httpx.MockTransport, no network)."""

import json
from pathlib import Path

import httpx
import pytest

from projects.providers.base import (
    GenerationRequest,
    MediaReference,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
    UpstreamStatus,
)
from projects.providers.tokenhub import CAPABILITIES, TokenHubProvider
from tests.adapter_contract import AdapterContract

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "tokenhub"
DOC_PARAMETERS = {
    "model",
    "prompt",
    "duration",
    "resolution",
    "aspect_ratio",
    "image_url",
    "image_urls",
    "video_url",
    "video_urls",
    "video_durations",
    "input_video_duration",
    "audio_url",
    "audio_urls",
    "generate_audio",
    "watermark",
    "content",
}


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def make_provider(handler) -> TokenHubProvider:
    return TokenHubProvider(
        api_key="th-secret",
        base_url="https://tokenhub.example/api/v1",
        timeout=5,
        transport=httpx.MockTransport(handler),
    )


def doc_request() -> GenerationRequest:
    doc = load("create_request.json")
    return GenerationRequest(
        model=doc["model"],
        prompt=doc["prompt"],
        ratio=doc["aspect_ratio"],
        resolution=doc["resolution"],
        duration=doc["duration"],
        watermark=doc["watermark"],
    )


def test_create_body_matches_the_guide_example_field_for_field():
    body = TokenHubProvider(api_key="k", base_url="https://x", timeout=1).build_body(doc_request())
    doc = load("create_request.json")
    assert {k: body[k] for k in doc} == doc
    assert set(body) - set(doc) == {"generate_audio"}  # sent explicitly; the guide's default
    assert set(body) <= DOC_PARAMETERS


def test_references_use_the_guide_field_names():
    request = GenerationRequest(
        model="doubao-seedance-2.0",
        prompt="p",
        ratio="16:9",
        resolution="720p",
        duration=5,
        references=(
            MediaReference(kind="image", role="reference_image", url="https://a/1.png"),
            MediaReference(
                kind="video", role="reference_video", url="https://a/v.mp4", duration_s=5.0
            ),
            MediaReference(
                kind="audio", role="reference_audio", url="https://a/a.mp3", duration_s=3.0
            ),
        ),
    )
    body = TokenHubProvider(api_key="k", base_url="https://x", timeout=1).build_body(request)
    assert body["image_urls"] == ["https://a/1.png"]
    assert body["video_urls"] == ["https://a/v.mp4"]
    assert body["video_durations"] == [5.0]
    assert body["audio_urls"] == ["https://a/a.mp3"]
    assert set(body) <= DOC_PARAMETERS


def test_submit_posts_to_the_documented_path_with_bearer_key_and_reads_the_id():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=load("create_response.json"))

    result = make_provider(handler).submit(doc_request())
    assert seen["url"] == "https://tokenhub.example/api/v1/videos/generations"
    assert seen["auth"] == "Bearer th-secret"
    assert seen["body"]["aspect_ratio"] == "16:9"
    assert result.upstream_id == "xxxxxx-task-id"
    assert result.status == UpstreamStatus.QUEUED


def test_fetch_reads_running_and_succeeded_examples():
    bodies = iter([load("status_running.json"), load("status_succeeded.json")])
    paths = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json=next(bodies))

    provider = make_provider(handler)
    running = provider.fetch("YOUR_TASK_ID")
    done = provider.fetch("YOUR_TASK_ID")
    assert paths == ["/api/v1/videos/generations/YOUR_TASK_ID"] * 2
    assert running.status == UpstreamStatus.RUNNING and running.video_url == ""
    assert done.status == UpstreamStatus.SUCCEEDED
    assert done.video_url == "https://xxx.volces.com/output-video.mp4"
    assert done.cover_url == "https://xxx.volces.com/cover.jpg"
    assert done.duration_s == 5.0


def test_failed_task_carries_the_error_message():
    body = {
        "id": "t",
        "status": "failed",
        "error": {"code": "OutputVideoSensitiveContentDetected", "message": "blocked"},
    }
    snap = make_provider(lambda r: httpx.Response(200, json=body)).fetch("t")
    assert snap.status == UpstreamStatus.FAILED
    assert snap.error_code == "OutputVideoSensitiveContentDetected"
    assert snap.error_message == "blocked"


@pytest.mark.parametrize(
    ("response", "error", "check"),
    [
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "code": "InvalidParameter",
                        "message": "duration must be 4-15. Request id: 0217abc",
                    }
                },
            ),
            ProviderRejectedError,
            lambda e: (
                e.kind == "validation"
                and "duration must be 4-15" in e.message
                and "Request id" not in e.message
            ),
        ),
        (
            httpx.Response(401, json={"error": {"message": "bad key"}}),
            ProviderRejectedError,
            lambda e: e.kind == "auth" and "admin" in e.message,
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": {"code": "InputTextSensitiveContentDetected", "message": "sensitive"}
                },
            ),
            ProviderRejectedError,
            lambda e: e.kind == "moderation",
        ),
        (
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow"}}),
            ProviderTransientError,
            lambda e: e.retry_after == 7.0,
        ),
        (
            httpx.Response(503, text="overloaded"),
            ProviderTransientError,
            lambda e: e.http_status == 503,
        ),
        (
            httpx.Response(200, text="<html>oops</html>"),
            ProviderOutcomeUnknown,
            lambda e: "unreadable" in e.message,
        ),
        (httpx.Response(200, json=["not", "an", "object"]), ProviderOutcomeUnknown, lambda e: True),
        (
            httpx.Response(200, json={"object": "video.generation.task"}),
            ProviderOutcomeUnknown,
            lambda e: "no task id" in e.message,
        ),
    ],
)
def test_submit_errors_become_provider_exceptions(response, error, check):
    provider = make_provider(lambda r: response)
    with pytest.raises(error) as info:
        provider.submit(doc_request())
    assert check(info.value)
    assert "th-secret" not in info.value.message


def test_capabilities_follow_the_guide():
    model = CAPABILITIES.model("doubao-seedance-2.0")
    assert model.durations == tuple(range(4, 16)) and model.default_duration == 5
    assert model.resolutions == ("480p", "720p") and model.default_resolution == "720p"
    assert model.default_ratio == "adaptive" and not model.seed
    assert [m.id for m in CAPABILITIES.models] == [
        "doubao-seedance-2.0",
        "doubao-seedance-2.0-fast",
    ]


class TestContract(AdapterContract):
    """The shared adapter contract (tests/adapter_contract.py) with the guide's JSON."""

    SECRET = "th-secret"
    CREATE_REPLY = load("create_response.json")
    CREATED_ID = "xxxxxx-task-id"
    STATUS_WORDS = {
        "queued": UpstreamStatus.QUEUED,
        "running": UpstreamStatus.RUNNING,
        "succeeded": UpstreamStatus.SUCCEEDED,
        "failed": UpstreamStatus.FAILED,
    }
    TASK_ID = "YOUR_TASK_ID"

    def provider(self, handler):
        return make_provider(handler)

    def request(self):
        return doc_request()

    def status_reply(self, word):
        body = {**load("status_running.json"), "id": self.TASK_ID}
        return {**body, "status": word} if word is not None else {"id": self.TASK_ID}
