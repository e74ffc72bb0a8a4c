"""TokenHub (tokenhub.store) adapter.

Contract: ../shared/upstream/tokenhub-seedance-2.0-guide.ko.txt ("TokenHub guide").
`POST {base}/videos/generations` with model, prompt, duration (4-15, default 5), resolution
(480p/720p), aspect_ratio (default adaptive), image_url(s), video_url(s) (<= 3),
video_durations / input_video_duration (billing), audio_url(s) (<= 3), generate_audio
(default true), watermark (default false) and content[] items with roles; answers
`{"id", "object": "video.generation.task", "model", "status": "queued", "created"}`.
`GET {base}/videos/generations/{id}` answers the same object with status queued/running/
succeeded/failed; on success `data[0].video_url`, `data[0].cover_image_url` and
`usage.video_duration` (seconds). The guide documents no seed, cancel, callback or error body.
"""

from __future__ import annotations

from typing import Any

from projects.providers.base import (
    GenerationRequest,
    MediaReference,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    SubmitResult,
    TaskSnapshot,
)
from projects.providers.capabilities import (
    ARK_MEDIA_LIMITS,
    SEEDANCE_2_RATIOS,
    ModelCapabilities,
    ProviderCapabilities,
)
from projects.providers.http import HttpVideoProvider, request_json
from projects.providers.statuses import normalise_status

SOURCE = "TokenHub guide"
_COMMON = dict(
    durations=tuple(range(4, 16)),
    default_duration=5,
    resolutions=("480p", "720p"),
    default_resolution="720p",
    ratios=SEEDANCE_2_RATIOS,
    default_ratio="adaptive",
    audio=True,
    default_audio=True,
    seed=False,
    watermark=True,
    roles=frozenset(
        {"first_frame", "last_frame", "reference_image", "reference_video", "reference_audio"}
    ),
    max_images=9,
    max_videos=3,
    max_audios=3,
    source=SOURCE,
    # TokenHub relays to Volcengine Ark: its model ids are Ark's (`doubao-seedance-2.0`) and
    # its guide's outputs are Ark's (`https://xxx.volces.com/...`), so Ark fetches and judges
    # the references. Checking Ark's input limits here refuses a bad file before a round trip.
    media_limits=ARK_MEDIA_LIMITS,
    # The guide bills (input video s + output s) x rate and takes the input seconds from us
    # (`video_durations`): a video of unknown length cannot be priced or sent.
    needs_video_seconds=True,
)
CAPABILITIES = ProviderCapabilities(
    name="tokenhub",
    label="TokenHub",
    models=(
        ModelCapabilities(id="doubao-seedance-2.0", label="Seedance 2.0", **_COMMON),
        ModelCapabilities(id="doubao-seedance-2.0-fast", label="Seedance 2.0 Fast", **_COMMON),
    ),
    cancel="never",
    callbacks=False,
    source=SOURCE,
)


def video_durations(videos: list[MediaReference]) -> list[float]:
    """`video_durations`: each reference video's seconds, to the millisecond, in `video_urls`
    order (the guide: "video별 길이(초) 배열, 예: [3, 5]"). TokenHub bills these seconds and
    cannot probe the files itself, so a length we do not know is never sent as 0 (that would
    bill the video as free, or be refused): raises ProviderRejectedError instead. The
    capability check (`needs_video_seconds`) refuses such a request before anything is held."""
    seconds = [round(r.duration_s, 3) if r.duration_s else 0.0 for r in videos]
    if any(value <= 0 for value in seconds):
        raise ProviderRejectedError(
            "A reference video has no known length; TokenHub bills reference video by its "
            "seconds (video_durations), so it cannot be sent.",
            kind="validation",
            code="video_duration_unknown",
        )
    return seconds


class TokenHubProvider(HttpVideoProvider):
    """TokenHub's `/videos/generations` dialect (see module docstring)."""

    name = "tokenhub"
    CAPABILITIES = CAPABILITIES

    def build_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The create body for `request`, field for field as the TokenHub guide names them."""
        body: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "duration": request.duration,
            "resolution": request.resolution,
            "aspect_ratio": request.ratio,
            "generate_audio": request.generate_audio,
            "watermark": request.watermark,
        }
        frames = [r for r in request.references if r.role in ("first_frame", "last_frame")]
        if frames:
            body["content"] = [
                {"type": "image_url", "image_url": {"url": r.url}, "role": r.role} for r in frames
            ]
        images = [r.url for r in request.references if r.role == "reference_image"]
        videos = [r for r in request.references if r.role == "reference_video"]
        audios = [r.url for r in request.references if r.role == "reference_audio"]
        if images:
            body["image_urls"] = images
        if videos:
            body["video_urls"] = [r.url for r in videos]
            body["video_durations"] = video_durations(videos)
        if audios:
            body["audio_urls"] = audios
        return body

    def submit(self, request: GenerationRequest) -> SubmitResult:
        data = request_json(
            self._client,
            "POST",
            "videos/generations",
            label="TokenHub",
            json_body=self.build_body(request),
        )
        upstream_id = data.get("id")
        if not isinstance(upstream_id, str) or not upstream_id:
            raise ProviderOutcomeUnknown("TokenHub accepted the request but sent no task id.")
        word = data.get("status", "queued")
        return SubmitResult(
            upstream_id=upstream_id,
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=str(word),
            raw=data,
        )

    def fetch(self, upstream_id: str) -> TaskSnapshot:
        data = request_json(
            self._client, "GET", f"videos/generations/{upstream_id}", label="TokenHub"
        )
        return self.parse_task(data, upstream_id=upstream_id)

    def parse_task(self, data: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a GET body. Raises ProviderOutcomeUnknown if it has no status."""
        word = data.get("status")
        if not isinstance(word, str):
            raise ProviderOutcomeUnknown("TokenHub answered without a task status.")
        outputs = data.get("data")
        first = outputs[0] if isinstance(outputs, list) and outputs else {}
        first = first if isinstance(first, dict) else {}
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        duration = usage.get("video_duration")
        return TaskSnapshot(
            upstream_id=str(data.get("id") or upstream_id),
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=word,
            video_url=str(first.get("video_url") or ""),
            cover_url=str(first.get("cover_image_url") or ""),
            duration_s=float(duration) if isinstance(duration, int | float) else None,
            usage=usage,
            error_code=str(error.get("code") or ""),
            error_message=str(error.get("message") or ""),
            raw=data,
        )
