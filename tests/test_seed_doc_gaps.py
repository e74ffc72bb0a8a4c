"""Where the seed docs (../shared/upstream/*.txt) and the adapters disagreed, each decided
from the doc: seedance2.ink's text-to-video path without `mediaUrls`, AceData without the
undocumented `"async"`, TokenHub never told a reference video lasts 0 s."""

import json

import httpx
import pytest

from projects.providers.acedata import AceDataProvider
from projects.providers.base import GenerationRequest, MediaReference, ProviderRejectedError
from projects.providers.request_check import check_request
from projects.providers.seedance2ink import CAPABILITIES as SEEDANCE2INK
from projects.providers.seedance2ink import Seedance2InkProvider
from projects.providers.tokenhub import CAPABILITIES as TOKENHUB
from projects.providers.tokenhub import TokenHubProvider


def request(**overrides) -> GenerationRequest:
    values = dict(
        model="seedance-2.0",
        prompt="A river through an autumn forest",
        ratio="16:9",
        resolution="720p",
        duration=5,
        generate_audio=False,
    )
    values.update(overrides)
    return GenerationRequest(**values)


def video(url: str = "https://a/v.mp4", seconds: float | None = 5.0) -> MediaReference:
    return MediaReference(kind="video", role="reference_video", url=url, duration_s=seconds)


# --- seedance2.ink: mediaUrls -------------------------------------------------------------


def test_seedance2ink_text_to_video_follows_its_documented_path():
    """The stored image-to-video page marks mediaUrls required (1-5) and sends text-only
    requests to "Text to Video": that page's body is the same without mediaUrls."""
    assert check_request(SEEDANCE2INK, request()) == {}
    body = Seedance2InkProvider(api_key="k", base_url="https://x", timeout=1).build_body(request())
    assert body == {
        "model": "seedance-2.0",
        "prompt": "A river through an autumn forest",
        "aspectRatio": "16:9",
        "duration": 5,
        "resolution": "720p",
    }  # the text-to-video page's example, field for field (no webhook or metadata here)


def test_seedance2ink_media_urls_hold_one_to_five_files():
    images = tuple(
        MediaReference(kind="image", role="reference_image", url=f"https://a/{n}.png")
        for n in range(4)
    )
    six = (*images, video(), video("https://a/w.mp4"))
    errors = check_request(SEEDANCE2INK, request(references=six))
    assert "takes at most 5 reference files; 6 given" in errors["references"]
    body = Seedance2InkProvider(api_key="k", base_url="https://x", timeout=1).build_body(
        request(references=images[:3])
    )
    assert body["mediaUrls"] == ["https://a/0.png", "https://a/1.png", "https://a/2.png"]


# --- AceData: no "async" ------------------------------------------------------------------


@pytest.mark.parametrize("callback", [None, "https://studio.example/cb/1/secret/"])
def test_acedata_never_sends_the_undocumented_async_field(callback):
    sent = {}

    def handler(http_request: httpx.Request) -> httpx.Response:
        sent["body"] = json.loads(http_request.content)
        sent["timeout"] = http_request.extensions["timeout"]["read"]
        return httpx.Response(200, json={"success": True, "task_id": "t-1", "trace_id": "x"})

    provider = AceDataProvider(
        api_key="k", base_url="https://x", timeout=3, transport=httpx.MockTransport(handler)
    )
    provider.submit(
        request(model="doubao-seedance-1-0-pro-250528", callback_url=callback, seed=None)
    )
    assert "async" not in sent["body"]
    if callback:  # the doc: "returns immediately with a task_id", a usual API call
        assert sent["body"]["callback_url"] == callback and sent["timeout"] == 3
    else:  # the doc's synchronous create: it answers when the video is done
        assert "callback_url" not in sent["body"] and sent["timeout"] == 1200.0


def test_acedata_a_waited_create_that_failed_is_an_outcome_not_a_refusal():
    result = {
        "success": False,
        "task_id": "t-2",
        "trace_id": "x",
        "error": {"code": "OutputVideoSensitiveContentDetected", "message": "Blocked."},
        "data": [{"id": "cgt-1", "status": "failed", "error": {"code": "Output", "message": "B"}}],
    }
    provider = AceDataProvider(
        api_key="k",
        base_url="https://x",
        timeout=3,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=result)),
    )
    submitted = provider.submit(request(model="doubao-seedance-1-0-pro-250528", seed=None))
    assert (submitted.upstream_id, submitted.status) == ("t-2", "failed")
    refusal = {"success": False, "trace_id": "x", "error": {"code": "bad_request", "message": "m"}}
    provider = AceDataProvider(
        api_key="k",
        base_url="https://x",
        timeout=3,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=refusal)),
    )
    with pytest.raises(ProviderRejectedError, match="AceData rejected the request: m"):
        provider.submit(request(model="doubao-seedance-1-0-pro-250528", seed=None))


# --- TokenHub: video_durations ------------------------------------------------------------


def test_tokenhub_is_never_told_a_reference_video_lasts_zero_seconds():
    hub = request(model="doubao-seedance-2.0")
    unknown = MediaReference(
        kind="video", role="reference_video", url="https://a/v.mp4", name="clip.mp4"
    )
    errors = check_request(
        TOKENHUB, GenerationRequest(**{**hub.__dict__, "references": (unknown,)})
    )
    assert errors["references"].startswith(
        "“clip.mp4” has no known length, and this gateway bills reference video by its seconds"
    )
    provider = TokenHubProvider(api_key="k", base_url="https://x", timeout=1)
    with pytest.raises(ProviderRejectedError, match="no known length"):
        provider.build_body(GenerationRequest(**{**hub.__dict__, "references": (unknown,)}))
    known = (video(seconds=5.0), video("https://a/w.mp4", seconds=2.3456))
    body = provider.build_body(GenerationRequest(**{**hub.__dict__, "references": known}))
    assert body["video_durations"] == [5.0, 2.346]
    assert body["video_urls"] == ["https://a/v.mp4", "https://a/w.mp4"]
