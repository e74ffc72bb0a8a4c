"""AllToken (api.alltoken.ai) adapter.

Contract: ../shared/upstream/alltoken-videos-guide.txt ("AllToken video guide") and
upstream-research.md §4.1 (from alltoken.ai/docs/apis/video).

- `POST {base}/videos/generations` with exactly `model` (seedance-2.0, seedance-2.0-fast,
  seedance-1.5-pro), `prompt`, `ratio` (16:9, 9:16, 4:3, 3:4, 21:9, 1:1, adaptive), `duration`
  (seconds, -1 = the model chooses), `resolution` (480p/720p/1080p) and `content[]`, Ark-style
  items such as `{"type": "image_url", "image_url": {"url": ...}, "role": "first_frame"}`.
  Answer: `{"id": "vgen_01abc", "status": "queued", "model": ...}`.
- `GET {base}/videos/generations/{id}`: status queued, processing, completed, failed, expired or
  cancelled; when completed `video_url`, `video_url_ttl` (seconds the presigned link lives),
  `resolution`, `ratio`, `fps`.
- `POST {base}/videos/generations/{id}/cancel` for queued or processing tasks; "tasks already
  completed, failed, or cancelled cannot be cancelled".
- Errors: `{"error": {"code", "type", "message", "param", "request_id"}}`, e.g. invalid_api_key
  (401), insufficient_balance (402), rate_limited (429 + Retry-After seconds),
  all_providers_failed (503).
- Portraits: a reference may be `asset://<asset-id>` (AllToken's Portrait library); seedance-2.0
  and -fast accept it, seedance-1.5-pro is rejected upstream.

The guide documents no generate_audio, seed, watermark, callback or metadata field, so none is
sent and the capability table refuses them. A list endpoint exists (research §4.1) but its item
shape is not documented, so a lost create cannot be reconciled automatically.
"""

from __future__ import annotations

import re
from typing import Any

from projects.providers.base import (
    CancelNotSupported,
    GenerationRequest,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    SubmitResult,
    TaskSnapshot,
    positive_seconds,
)
from projects.providers.capabilities import (
    ROLES,
    SEEDANCE_2_RATIOS,
    ModelCapabilities,
    ProviderCapabilities,
)
from projects.providers.http import HttpVideoProvider, default_error_parser, request_json
from projects.providers.statuses import normalise_status

LABEL = "AllToken"
SOURCE = "AllToken video guide"
# The guide gives no duration range; the models' own ranges are Ark's (research §1.2).
# Durations and 2.0-fast resolutions: upstream-research.md §1.2 (the Ark reference).
DURATION_SOURCE = f"{SOURCE}; Ark API reference"
CONTENT_TYPES = {"image": "image_url", "video": "video_url", "audio": "audio_url"}

_TEXT_ONLY_SWITCHES = dict(
    ratios=SEEDANCE_2_RATIOS,
    default_ratio="16:9",  # the guide's example
    default_duration=5,  # the guide's example
    default_resolution="720p",  # the guide's example
    auto_duration=True,  # "-1 lets the model choose automatically"
    audio=False,  # no generate_audio field in the guide: it cannot be requested
    default_audio=False,
    seed=False,
    watermark=False,
    source=DURATION_SOURCE,
)
_SEEDANCE_2_REFERENCES = dict(
    roles=frozenset(ROLES),
    max_images=9,  # Ark's limits for 2.0 (research §1.2, §1.6)
    max_videos=3,
    max_audios=3,
    max_references=12,
    portraits=True,  # the guide's table: asset:// supported
)
CAPABILITIES = ProviderCapabilities(
    name="alltoken",
    label=LABEL,
    models=(
        ModelCapabilities(
            id="seedance-2.0",
            label="Seedance 2.0",
            durations=tuple(range(4, 16)),
            resolutions=("480p", "720p", "1080p"),
            **_TEXT_ONLY_SWITCHES,
            **_SEEDANCE_2_REFERENCES,
        ),
        ModelCapabilities(
            id="seedance-2.0-fast",
            label="Seedance 2.0 Fast",
            durations=tuple(range(4, 16)),
            # Ark renders 2.0 fast at 480p/720p only (research §1.2); the guide's 1080p is the
            # union over its models.
            resolutions=("480p", "720p"),
            **_TEXT_ONLY_SWITCHES,
            **_SEEDANCE_2_REFERENCES,
        ),
        ModelCapabilities(
            id="seedance-1.5-pro",
            label="Seedance 1.5 Pro",
            durations=tuple(range(4, 13)),
            resolutions=("480p", "720p", "1080p"),
            **_TEXT_ONLY_SWITCHES,
            # 1.5 pro: first frame or first + last frames, no reference files (research §1.2);
            # "asset:// not supported (upstream rejects)" (the guide's table).
            roles=frozenset({"first_frame", "last_frame"}),
            max_references=2,
            portraits=False,
        ),
    ),
    cancel="queued_or_running",
    callbacks=False,
    source=SOURCE,
    notes=(
        "No generate_audio, seed or watermark fields.",
        "asset:// portraits with seedance-2.0 and -fast only.",
    ),
)


def error_parser(body: Any) -> tuple[str, str]:
    """(code, message) from AllToken's `{"error": {"code", "type", "message", "param",
    "request_id"}}`, with that request id taken out of the message in any wording: it means
    nothing to a user (http.clean_message only knows the "Request id: …" wording)."""
    code, message = default_error_parser(body)
    error = body.get("error") if isinstance(body, dict) else None
    request_id = error.get("request_id") if isinstance(error, dict) else None
    if isinstance(request_id, str) and request_id.strip():
        # "(request req_x)", "request_id=req_x", "Request id: req_x" or the bare id.
        wording = r"\s*\(?\s*(?:request(?:[ _-]?id)?\s*[:=]?\s*)?"
        message = re.sub(
            wording + re.escape(request_id.strip()) + r"\s*\)?", "", message, flags=re.I
        )
    return code, message


class AllTokenProvider(HttpVideoProvider):
    """AllToken's `/videos/generations` dialect (see module docstring)."""

    name = "alltoken"
    CAPABILITIES = CAPABILITIES

    def build_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The create body for `request`, field for field as the AllToken guide names them.
        `content` only when there are references; each keeps its Seedance role."""
        body: dict[str, Any] = {
            "model": request.model,
            "prompt": request.prompt,
            "ratio": request.ratio,
            "duration": request.duration,
            "resolution": request.resolution,
        }
        if request.references:
            body["content"] = [
                {
                    "type": CONTENT_TYPES[ref.kind],
                    CONTENT_TYPES[ref.kind]: {"url": ref.url},
                    "role": ref.role,
                }
                for ref in request.references
            ]
        return body

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return request_json(
            self._client, method, path, label=LABEL, error_parser=error_parser, **kwargs
        )

    def submit(self, request: GenerationRequest) -> SubmitResult:
        data = self._request("POST", "videos/generations", json_body=self.build_body(request))
        upstream_id = data.get("id")
        if not isinstance(upstream_id, str) or not upstream_id:
            raise ProviderOutcomeUnknown("AllToken accepted the request but sent no task id.")
        word = data.get("status", "queued")
        return SubmitResult(
            upstream_id=upstream_id,
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=str(word),
            raw=data,
        )

    def fetch(self, upstream_id: str) -> TaskSnapshot:
        data = self._request("GET", f"videos/generations/{upstream_id}")
        return self.parse_task(data, upstream_id=upstream_id)

    def parse_task(self, data: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a GET (or cancel) body. Raises ProviderOutcomeUnknown if it has
        no status. The guide shows no failure body; `error` is read like its error envelope
        (an object with code and message, or a bare string)."""
        word = data.get("status")
        if not isinstance(word, str):
            raise ProviderOutcomeUnknown("AllToken answered without a task status.")
        error = data.get("error")
        code, message = error_parser({"error": error}) if error else ("", "")
        usage = data.get("usage")
        return TaskSnapshot(
            upstream_id=str(data.get("id") or upstream_id),
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=word,
            video_url=str(data.get("video_url") or ""),
            duration_s=positive_seconds(data.get("duration")),
            usage=usage if isinstance(usage, dict) else {},
            error_code=code,
            error_message=message,
            raw=data,
        )

    def cancel(self, upstream_id: str) -> TaskSnapshot | None:
        """Cancel a queued or processing task. A refusal (the task already completed, failed
        or was cancelled) raises CancelNotSupported with AllToken's reason."""
        try:
            data = self._request("POST", f"videos/generations/{upstream_id}/cancel")
        except ProviderRejectedError as exc:
            if exc.kind not in ("validation", "conflict"):
                raise
            reason = exc.message.removeprefix(f"{LABEL} rejected the request: ")
            raise CancelNotSupported(reason, code=exc.code, http_status=exc.http_status) from exc
        # The guide shows no cancel answer; read a task body when there is one.
        if isinstance(data.get("status"), str):
            return self.parse_task(data, upstream_id=upstream_id)
        return None

    def reconcile(
        self, request: GenerationRequest, *, sent_at: float, known: frozenset[str] = frozenset()
    ) -> str | None:
        """None: `GET /videos/generations` exists (research §4.1) but no stored page shows its
        items, so a lost create cannot be matched safely; an admin decides."""
        return None
