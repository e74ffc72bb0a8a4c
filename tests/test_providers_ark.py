"""The Ark adapter against the docs' own JSON (httpx.MockTransport, no network)."""

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from projects.providers.ark import CAPABILITIES, ArkProvider
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

FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "ark"
# The create fields of the SDK signature (upstream-research §1.3).
DOC_FIELDS = {
    "model",
    "content",
    "safety_identifier",
    "callback_url",
    "return_last_frame",
    "service_tier",
    "execution_expires_after",
    "priority",
    "generate_audio",
    "draft",
    "camera_fixed",
    "watermark",
    "seed",
    "resolution",
    "ratio",
    "duration",
    "frames",
    "tools",
}
BASE = "https://ark.example/api/v3"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def make_provider(handler) -> ArkProvider:
    return ArkProvider(
        api_key="ark-secret", base_url=BASE, timeout=5, transport=httpx.MockTransport(handler)
    )


def request(**overrides) -> GenerationRequest:
    values = dict(
        model="doubao-seedance-2-0-260128",
        prompt="A red kite over the dunes",
        ratio="16:9",
        resolution="720p",
        duration=5,
    )
    values.update(overrides)
    return GenerationRequest(**values)


def doc_request() -> GenerationRequest:
    doc = load("create_request.json")
    return GenerationRequest(
        model=doc["model"],
        prompt=doc["content"][0]["text"],
        ratio=doc["ratio"],
        resolution=doc["resolution"],
        duration=doc["duration"],
        generate_audio=doc["generate_audio"],
        watermark=doc["watermark"],
        seed=doc["seed"],
        references=tuple(
            MediaReference(kind="image", role=item["role"], url=item["image_url"]["url"])
            for item in doc["content"][1:]
        ),
        callback_url=doc["callback_url"],
        return_last_frame=doc["return_last_frame"],
    )


def test_create_body_matches_the_documented_fields_field_for_field():
    body = ArkProvider(api_key="k", base_url=BASE, timeout=1).build_body(doc_request())
    assert body == load("create_request.json")
    assert set(body) <= DOC_FIELDS


def test_references_become_content_items_with_roles_in_order():
    refs = (
        MediaReference(kind="image", role="reference_image", url="https://a/1.png"),
        MediaReference(kind="video", role="reference_video", url="https://a/v.mp4", duration_s=5),
        MediaReference(kind="audio", role="reference_audio", url="asset://asset-123"),
        MediaReference(kind="image", role="reference_image", url="https://a/2.png"),
    )
    body = ArkProvider(api_key="k", base_url=BASE, timeout=1).build_body(request(references=refs))
    assert body["content"] == [
        {"type": "text", "text": "A red kite over the dunes"},
        {"type": "image_url", "image_url": {"url": "https://a/1.png"}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": "https://a/v.mp4"}, "role": "reference_video"},
        {
            "type": "audio_url",
            "audio_url": {"url": "asset://asset-123"},
            "role": "reference_audio",
        },
        {"type": "image_url", "image_url": {"url": "https://a/2.png"}, "role": "reference_image"},
    ]


def test_generate_audio_is_sent_only_for_models_that_accept_it_and_seed_only_when_set():
    provider = ArkProvider(api_key="k", base_url=BASE, timeout=1)
    old = provider.build_body(request(model="doubao-seedance-1-0-pro-250528", generate_audio=False))
    new = provider.build_body(request(model="doubao-seedance-1-5-pro-251215", seed=-1))
    assert "generate_audio" not in old and "seed" not in old and "callback_url" not in old
    assert new["generate_audio"] is True and new["seed"] == -1
    assert old["service_tier"] == "default" and old["execution_expires_after"] == 172800


def test_submit_posts_to_the_documented_path_with_bearer_key_and_reads_the_id():
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen.update(url=str(req.url), auth=req.headers["authorization"], body=req.content)
        return httpx.Response(200, json=load("create_response.json"))

    result = make_provider(handler).submit(doc_request())
    assert seen["url"] == f"{BASE}/contents/generations/tasks"
    assert seen["auth"] == "Bearer ark-secret"
    assert json.loads(seen["body"]) == load("create_request.json")
    assert result.upstream_id == "cgt-20251009163014-wfnnx"
    assert result.status == UpstreamStatus.QUEUED


def test_fetch_reads_running_succeeded_and_failed_examples():
    bodies = iter([load("get_running.json"), load("get_succeeded.json"), load("get_failed.json")])
    paths = []

    def handler(req: httpx.Request) -> httpx.Response:
        paths.append((req.method, req.url.path))
        return httpx.Response(200, json=next(bodies))

    provider = make_provider(handler)
    running = provider.fetch("cgt-20251009163014-wfnnx")
    done = provider.fetch("cgt-2026****-****")
    failed = provider.fetch("cgt-20260514101521-nk5ct")
    assert paths[0] == ("GET", "/api/v3/contents/generations/tasks/cgt-20251009163014-wfnnx")
    assert running.status == UpstreamStatus.RUNNING and running.video_url == ""
    assert done.status == UpstreamStatus.SUCCEEDED
    assert done.video_url == (
        "https://ark-content-generation-cn-beijing.tos-cn-beijing.volces.com/xxx"
    )
    assert done.usage == {"completion_tokens": 108900, "total_tokens": 108900}
    assert done.duration_s == 5.0 and done.last_frame_url == ""
    assert failed.status == UpstreamStatus.FAILED
    assert failed.error_code == "OutputAudioSensitiveContentDetected"
    assert failed.error_message.startswith("The request failed because the output audio")


def test_last_frame_and_frames_are_read():
    body = {
        "id": "t",
        "status": "succeeded",
        "content": {"video_url": "https://v/x.mp4", "last_frame_url": "https://v/last.png"},
        "frames": 121,
    }
    snap = make_provider(lambda r: httpx.Response(200, json=body)).fetch("t")
    assert snap.last_frame_url == "https://v/last.png"
    assert snap.duration_s == 5.0


@pytest.mark.parametrize(
    ("response", "error", "check"),
    [
        (
            httpx.Response(400, json=load("error_role_required.json")),
            ProviderRejectedError,
            lambda e: (
                e.kind == "validation"
                and e.code == "InvalidParameter"
                and "role must be specified for image contents" in e.message
                and "Request id" not in e.message
            ),
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": {
                        "code": "InputImageSensitiveContentDetected.PrivacyInformation",
                        "message": "The input image may contain real person.",
                        "type": "BadRequest",
                    }
                },
            ),
            ProviderRejectedError,
            lambda e: e.kind == "moderation" and "refused the content" in e.message,
        ),
        (
            httpx.Response(401, json={"error": {"code": "AuthenticationError", "message": "no"}}),
            ProviderRejectedError,
            lambda e: e.kind == "auth",
        ),
        (
            httpx.Response(404, json={"error": {"code": "ModelNotOpen", "message": "activate"}}),
            ProviderRejectedError,
            lambda e: e.kind == "not_found" and e.code == "ModelNotOpen",
        ),
        (
            httpx.Response(
                429,
                headers={"Retry-After": "9"},
                json={"error": {"code": "RateLimitExceeded.EndpointRPMExceeded", "message": "x"}},
            ),
            ProviderTransientError,
            lambda e: e.retry_after == 9.0 and e.code == "RateLimitExceeded.EndpointRPMExceeded",
        ),
        (
            httpx.Response(500, json={"error": {"code": "InternalServiceError", "message": "x"}}),
            ProviderTransientError,
            lambda e: e.http_status == 500,
        ),
        (
            httpx.Response(200, text="<html>502 Bad Gateway</html>"),
            ProviderOutcomeUnknown,
            lambda e: "unreadable" in e.message,
        ),
        (
            httpx.Response(200, json={"task": "cgt-x"}),
            ProviderOutcomeUnknown,
            lambda e: "no task id" in e.message,
        ),
    ],
)
def test_submit_errors_become_provider_exceptions(response, error, check):
    with pytest.raises(error) as info:
        make_provider(lambda r: response).submit(request())
    assert check(info.value)
    assert "ark-secret" not in info.value.message


# --- cancel (§1.9) -----------------------------------------------------------------------------
def cancel_with(get_body: dict, delete_response: httpx.Response | None = None):
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        if req.method == "GET":
            return httpx.Response(200, json=get_body)
        return delete_response or httpx.Response(200, json={})

    return make_provider(handler), calls


def test_cancel_of_a_queued_task_sends_delete_and_reports_cancelled():
    provider, calls = cancel_with({"id": "t", "status": "queued"})
    snapshot = provider.cancel("t")
    assert calls == ["GET", "DELETE"]
    assert snapshot.status == UpstreamStatus.CANCELLED


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ("running", "cannot stop a task that is already rendering"),
        ("succeeded", "already ended at Ark (succeeded)"),
        ("cancelled", "already cancelled"),
    ],
)
def test_cancel_of_a_task_not_queued_is_refused_without_a_delete(word, reason):
    provider, calls = cancel_with({"id": "t", "status": word})
    with pytest.raises(CancelNotSupported) as info:
        provider.cancel("t")
    assert reason in info.value.message
    assert calls == ["GET"]  # a DELETE on a finished task would delete its result


def test_cancel_racing_the_start_of_rendering_is_refused_with_the_reason():
    refusal = httpx.Response(
        400,
        json={
            "error": {
                "code": "InvalidParameter",
                "message": "The task t is running; only queued tasks can be cancelled.",
                "param": "id",
                "type": "BadRequest",
            }
        },
    )
    provider, calls = cancel_with({"id": "t", "status": "queued"}, refusal)
    with pytest.raises(CancelNotSupported) as info:
        provider.cancel("t")
    assert calls == ["GET", "DELETE"]
    assert "already rendering" in info.value.message and "only queued" in info.value.message


# --- callbacks (§1.10) -------------------------------------------------------------------------
# --- reconcile through the list endpoint (§1.8) -----------------------------------------------
SENT_AT = 1760027413.4  # just before list_response.json's first task was created


def reconcile_with(
    pages: list[dict], req: GenerationRequest | None = None, sent_at=SENT_AT, known=frozenset()
):
    queries = []

    def handler(r: httpx.Request) -> httpx.Response:
        queries.append(parse_qs(r.url.query.decode()))
        return httpx.Response(200, json=pages[len(queries) - 1])

    found = make_provider(handler).reconcile(req or request(), sent_at=sent_at, known=known)
    return found, queries


def test_reconcile_finds_the_one_task_made_around_the_send_time():
    found, queries = reconcile_with([load("list_response.json")])
    assert found == "cgt-20251009163014-wfnnx"
    assert queries == [
        {
            "page_num": ["1"],
            "page_size": ["100"],
            "filter.model": ["doubao-seedance-2-0-260128"],
        }
    ]


def test_reconcile_ignores_tasks_of_another_shape_or_time():
    other_shape = request(resolution="480p")
    found, _ = reconcile_with([load("list_response.json")], other_shape)
    assert found == ""  # the 480p task is 72 s older than the send time
    found, _ = reconcile_with([load("list_response.json")], sent_at=SENT_AT + 3600)
    assert found == ""
    assert reconcile_with([{"total": 0, "items": []}])[0] == ""


def test_reconcile_does_not_compare_what_ark_may_choose_itself():
    page = load("list_response.json")
    page["items"][0]["duration"] = 7  # an auto-length task reports what it made
    page["items"][0]["ratio"] = "21:9"
    assert reconcile_with([page], request(duration=-1, ratio="adaptive"))[0] == (
        "cgt-20251009163014-wfnnx"
    )


def test_reconcile_with_two_candidates_is_ambiguous():
    page = load("list_response.json")
    twin = dict(page["items"][0], id="cgt-20251009163015-zzzzz", created_at=1760027415)
    page["items"].insert(0, twin)
    assert reconcile_with([page])[0] is None


def test_reconcile_reads_pages_until_it_passes_the_send_time():
    newer = {
        "id": "cgt-new",
        "status": "queued",
        "created_at": SENT_AT + 500,
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 5,
    }
    first = {"total": 103, "items": [dict(newer, id=f"cgt-new-{i}") for i in range(100)]}
    found, queries = reconcile_with([first, load("list_response.json")])
    assert found == "cgt-20251009163014-wfnnx"
    assert [q["page_num"] for q in queries] == [["1"], ["2"]]


def test_reconcile_raises_on_a_list_without_items():
    with pytest.raises(ProviderOutcomeUnknown):
        reconcile_with([{"total": 1}])


# --- capabilities (§1.2, §1.3, §1.6) -----------------------------------------------------------
def test_capability_table_follows_the_model_table():
    ids = [m.id for m in CAPABILITIES.models]
    assert ids[0] == "doubao-seedance-2-0-260128" == CAPABILITIES.default_model.id
    assert set(ids) == {
        "doubao-seedance-2-0-260128",
        "doubao-seedance-2-0-fast-260128",
        "doubao-seedance-1-5-pro-251215",
        "doubao-seedance-1-0-pro-250528",
        "doubao-seedance-1-0-pro-fast-251015",
        "doubao-seedance-1-0-lite-t2v-250428",
        "doubao-seedance-1-0-lite-i2v-250428",
    }
    two = CAPABILITIES.model("doubao-seedance-2-0-260128")
    fast = CAPABILITIES.model("doubao-seedance-2-0-fast-260128")
    pro15 = CAPABILITIES.model("doubao-seedance-1-5-pro-251215")
    pro10 = CAPABILITIES.model("doubao-seedance-1-0-pro-250528")
    assert two.durations == tuple(range(4, 16)) and two.auto_duration and two.seed
    assert two.resolutions == ("480p", "720p", "1080p") and fast.resolutions == ("480p", "720p")
    assert "adaptive" in two.ratios and two.portraits and two.last_frame_output
    assert (two.max_images, two.max_videos, two.max_audios) == (9, 3, 3)
    assert pro15.durations == tuple(range(4, 13)) and pro15.auto_duration and pro15.audio
    assert pro10.durations == tuple(range(2, 13)) and not pro10.auto_duration
    assert not pro10.audio and not pro10.portraits
    assert CAPABILITIES.cancel == "queued" and CAPABILITIES.callbacks
    assert two.source == "Ark API reference"  # public names only: users read it


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"model": "doubao-seedance-1-0-pro-250528", "duration": -1}, "duration", "no auto"),
        ({"model": "doubao-seedance-2-0-fast-260128", "resolution": "1080p"}, "resolution", "480p"),
        ({"model": "doubao-seedance-1-0-pro-250528"}, "generate_audio", "cannot generate audio"),
        ({"model": "doubao-seedance-1-0-lite-i2v-250428"}, "references", "at least 1"),
        ({"model": "doubao-seedance-1-0-lite-t2v-250428", "ratio": "adaptive"}, "ratio", "16:9"),
        (
            {
                "model": "doubao-seedance-1-0-pro-fast-251015",
                "references": (
                    MediaReference(kind="image", role="first_frame", url="https://a/1.png"),
                    MediaReference(kind="image", role="last_frame", url="https://a/2.png"),
                ),
            },
            "references",
            "does not take a last_frame",
        ),
        (
            {
                "model": "doubao-seedance-1-0-lite-i2v-250428",
                "generate_audio": False,
                "resolution": "1080p",
                "references": (
                    MediaReference(kind="image", role="reference_image", url="https://a/1.png"),
                ),
            },
            "references",
            "renders only 480p or 720p",
        ),
        (
            {
                "references": (
                    MediaReference(kind="image", role="first_frame", url="https://a/1.png"),
                    MediaReference(kind="image", role="reference_image", url="https://a/2.png"),
                )
            },
            "references",
            "mutually exclusive",
        ),
        (
            {
                "references": (
                    MediaReference(kind="audio", role="reference_audio", url="https://a/1.mp3"),
                )
            },
            "references",
            "cannot be the only reference",
        ),
    ],
)
def test_capabilities_refuse_what_the_docs_refuse(overrides, field, text):
    errors = check_request(CAPABILITIES, request(**overrides))
    assert field in errors and text in errors[field], errors
    assert "(Ark API reference" in errors[field] or field == "references"


def test_capabilities_accept_the_documented_scenarios():
    frames = (
        MediaReference(kind="image", role="first_frame", url="https://a/1.png"),
        MediaReference(kind="image", role="last_frame", url="https://a/2.png"),
    )
    assert check_request(CAPABILITIES, request(duration=-1, ratio="adaptive")) == {}
    assert check_request(CAPABILITIES, request(references=frames, resolution="1080p")) == {}
    assert (
        check_request(
            CAPABILITIES,
            request(
                model="doubao-seedance-1-0-lite-i2v-250428",
                generate_audio=False,
                references=frames[:1],
                resolution="1080p",
            ),
        )
        == {}
    )


def test_reconcile_skips_the_tasks_a_twin_of_ours_already_follows():
    page = load("list_response.json")
    twin = dict(page["items"][0], id="cgt-20251009163015-zzzzz", created_at=1760027415)
    page["items"].insert(0, twin)
    found, _ = reconcile_with([page], known=frozenset({"cgt-20251009163015-zzzzz"}))
    assert found == "cgt-20251009163014-wfnnx"
    found, _ = reconcile_with([page], known=frozenset({twin["id"], "cgt-20251009163014-wfnnx"}))
    assert found == ""  # both are someone else's: this create made nothing (yet)


class TestContract(CallbackContract):
    """The shared adapter contract (tests/adapter_contract.py) with the Ark docs' JSON."""

    SECRET = "ark-secret"
    CREATE_REPLY = load("create_response.json")
    CREATED_ID = "cgt-20251009163014-wfnnx"
    STATUS_WORDS = {
        word: UpstreamStatus(word)
        for word in ("queued", "running", "succeeded", "failed", "expired", "cancelled")
    }
    TASK_ID = "cgt-2026****-****"
    CALLBACK = ((FIXTURES / "get_succeeded.json").read_bytes(), "cgt-2026****-****")

    def provider(self, handler):
        return make_provider(handler)

    def request(self):
        return doc_request()

    def status_reply(self, word):
        body = {**load("get_running.json"), "id": self.TASK_ID}
        if word is None:
            del body["status"]
            return body
        return {**body, "status": word}
