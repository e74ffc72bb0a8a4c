"""seedance2.ink Open API adapter.

Contract: ../shared/upstream/seedance2ink-open-api-image-to-video.ko.txt (+ .vi.txt), the
"seedance2.ink API reference", and upstream-research.md §4.2.

- `POST {base}/api/open/v1/video/generations` with `model` (seedance-2.0, seedance-2.0-fast:
  4-15 s; seedance-1.5-pro: 5 or 10 s), `prompt`, `mediaUrls` (1-5 public URLs), `aspectRatio`
  (16:9, 9:16, 1:1), `duration`, `resolution` (480p/720p/1080p),
  `webhookUrl`, `metadata` (stored with the request). The gateway infers the mode from the
  files: one image is a first frame, two images are first and last frames, anything mixed is
  reference mode. Answer: `{"success": true, "requestId": "req_…", "status": "queued",
  "creditsCharged": 64}` (credits are charged up front).
- `GET {base}/api/open/v1/video/generations/{requestId}`: `{"success", "requestId", "status",
  "model", "prompt", "duration", "aspectRatio", "output": {"type": "video", "url"}, "error"}`;
  status queued, processing, succeeded, failed or cancelled.
- `POST {base}/api/open/v1/video/generations/{requestId}/cancel` (queued or processing):
  `{"success": true, "requestId", "status": "cancelled"}`.
- Errors: `{"success": false, "error": {"code": "unauthorized", "message": "Invalid API key"}}`.
  The reference gives no HTTP status for it, and gateways of this kind often answer errors
  with HTTP 200: a `success: false` body is an error whatever its status (`raise_for_failure`).

`mediaUrls` is "Required: Yes" in the image-to-video reference (the stored seed doc), whose
notes end "if you need no reference media, use Text to Video": the reference's text-to-video
page documents the same endpoint and body without `mediaUrls` ("When mediaUrls is omitted,
the request runs in pure text-to-video mode", seedance2.ink/docs/api-reference/text-to-video,
creditsCharged 40 in its example). So a request without references omits the field, never
sends an empty list, and one with references sends 1-5 of them (`max_references`).

No generate_audio, seed or watermark field is documented, so none is sent and the capability
table refuses them. No list endpoint is documented: a lost create cannot be reconciled.
"""

from __future__ import annotations

from typing import Any

import httpx

from projects.providers.base import (
    CancelNotSupported,
    GenerationRequest,
    MediaReference,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    SubmitResult,
    TaskSnapshot,
    positive_seconds,
)
from projects.providers.capabilities import ROLES, ModelCapabilities, ProviderCapabilities
from projects.providers.http import (
    HttpVideoProvider,
    default_error_parser,
    load_json,
    parse_response,
    request_json,
)
from projects.providers.statuses import normalise_status

LABEL = "seedance2.ink"
SOURCE = "seedance2.ink API reference"
# Per-kind file limits and 2.0-fast resolutions: upstream-research.md §1.2, §1.6.
RESEARCH_SOURCE = f"{SOURCE}; Ark API reference"
GENERATIONS = "api/open/v1/video/generations"
RATIOS = ("16:9", "9:16", "1:1")

_COMMON = dict(
    ratios=RATIOS,
    default_ratio="16:9",  # the reference's example
    default_duration=5,  # the reference's example
    default_resolution="720p",  # the reference's example
    auto_duration=False,
    audio=False,  # no generate_audio field: it cannot be requested
    default_audio=False,
    seed=False,
    watermark=False,
    portraits=False,  # "use publicly accessible HTTPS URLs": no asset:// references
    mode_from_files=True,
    source=RESEARCH_SOURCE,
)
_SEEDANCE_2 = dict(
    durations=tuple(range(4, 16)),
    roles=frozenset(ROLES),
    max_references=5,  # "mediaUrls: up to 5"
    max_images=5,
    max_videos=3,  # Ark's 2.0 limits (research §1.6); the reference only caps the total
    max_audios=3,
    **_COMMON,
)
CAPABILITIES = ProviderCapabilities(
    name="seedance2ink",
    label=LABEL,
    models=(
        ModelCapabilities(
            id="seedance-2.0",
            label="Seedance 2.0",
            resolutions=("480p", "720p", "1080p"),
            **_SEEDANCE_2,
        ),
        ModelCapabilities(
            id="seedance-2.0-fast",
            label="Seedance 2.0 Fast",
            resolutions=("480p", "720p"),  # Ark renders 2.0 fast at 480p/720p (research §1.2)
            **_SEEDANCE_2,
        ),
        ModelCapabilities(
            id="seedance-1.5-pro",
            label="Seedance 1.5 Pro",
            durations=(5, 10),
            resolutions=("480p", "720p", "1080p"),
            # 1.5 pro: first frame or first + last frames, no reference files (research §1.2).
            roles=frozenset({"first_frame", "last_frame"}),
            max_references=2,
            **_COMMON,
        ),
    ),
    cancel="queued_or_running",
    callbacks=True,
    source=SOURCE,
    notes=(
        "The mode follows the files: 1 image = first frame, 2 = first + last, mixed = reference.",
        "No generate_audio, seed or watermark fields.",
    ),
)

# A `success: false` body on HTTP 200 is translated as the HTTP status its code stands for.
# The reference names only `unauthorized`; the others are the usual slugs. Any other code is a
# refusal of the request (400).
STATUS_FOR_CODE = {
    "unauthorized": 401,
    "invalid_api_key": 401,
    "forbidden": 403,
    "insufficient_credits": 402,
    "payment_required": 402,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "too_many_requests": 429,
    "internal_error": 500,
    "service_unavailable": 503,
}


def raise_for_failure(data: dict[str, Any]) -> None:
    """Raise the provider exception a `success: false` body stands for, even when it came
    with HTTP 2xx: it is translated by http.parse_response as if it had the HTTP status its
    code stands for (STATUS_FOR_CODE). Any other body returns quietly."""
    if data.get("success") is not False:
        return
    code, _message = default_error_parser(data)
    status = STATUS_FOR_CODE.get(code.lower(), 400)
    parse_response(httpx.Response(status, json=data), label=LABEL)
    raise AssertionError("parse_response returned for an HTTP error status")  # pragma: no cover


def media_urls(references: tuple[MediaReference, ...]) -> list[str]:
    """`mediaUrls` in the order that makes the gateway infer the intended mode: the first
    frame before the last frame; reference files in the order given (prompts name them by
    position, e.g. [Image 1])."""
    frames = sorted(
        (ref for ref in references if ref.role in ("first_frame", "last_frame")),
        key=lambda ref: ref.role != "first_frame",
    )
    if frames:
        return [ref.url for ref in frames]
    return [ref.url for ref in references]


class Seedance2InkProvider(HttpVideoProvider):
    """seedance2.ink's Open API (see module docstring)."""

    name = "seedance2ink"
    CAPABILITIES = CAPABILITIES

    def build_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The create body for `request`, field for field as the reference names them.
        `metadata` carries our task id so a request can be traced back to its task."""
        body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
        if request.references:
            body["mediaUrls"] = media_urls(request.references)
        body["aspectRatio"] = request.ratio
        body["duration"] = request.duration
        body["resolution"] = request.resolution
        if request.callback_url:
            body["webhookUrl"] = request.callback_url
        if request.client_ref:
            body["metadata"] = {"seedance_web_task": request.client_ref}
        return body

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = request_json(self._client, method, path, label=LABEL, **kwargs)
        raise_for_failure(data)
        return data

    def submit(self, request: GenerationRequest) -> SubmitResult:
        data = self._request("POST", GENERATIONS, json_body=self.build_body(request))
        upstream_id = data.get("requestId")
        if not isinstance(upstream_id, str) or not upstream_id:
            raise ProviderOutcomeUnknown(
                "seedance2.ink accepted the request but sent no requestId."
            )
        word = data.get("status", "queued")
        credits = data.get("creditsCharged")
        return SubmitResult(
            upstream_id=upstream_id,
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=str(word),
            vendor_cost="" if credits is None or isinstance(credits, bool) else str(credits),
            raw=data,
        )

    def fetch(self, upstream_id: str) -> TaskSnapshot:
        data = self._request("GET", f"{GENERATIONS}/{upstream_id}")
        return self.parse_task(data, upstream_id=upstream_id)

    def parse_task(self, data: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a GET, cancel or webhook body. Raises ProviderOutcomeUnknown
        if it has no status. `error` is null unless the generation failed; the reference shows
        no failed example, so an object (code, message) and a bare string are both read."""
        word = data.get("status")
        if not isinstance(word, str):
            raise ProviderOutcomeUnknown("seedance2.ink answered without a generation status.")
        output = data.get("output")
        url = output.get("url") if isinstance(output, dict) else None
        error = data.get("error")
        code, message = default_error_parser({"error": error}) if error else ("", "")
        return TaskSnapshot(
            upstream_id=str(data.get("requestId") or upstream_id),
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=word,
            video_url=url if isinstance(url, str) else "",
            duration_s=positive_seconds(data.get("duration")),
            error_code=code,
            error_message=message,
            raw=data,
        )

    def cancel(self, upstream_id: str) -> TaskSnapshot | None:
        """Cancel a queued or processing generation. A refusal (it already ended) raises
        CancelNotSupported with the gateway's reason."""
        try:
            data = self._request("POST", f"{GENERATIONS}/{upstream_id}/cancel")
        except ProviderRejectedError as exc:
            if exc.kind not in ("validation", "conflict"):
                raise
            reason = exc.message.removeprefix(f"{LABEL} rejected the request: ")
            raise CancelNotSupported(reason, code=exc.code, http_status=exc.http_status) from exc
        return self.parse_task(data, upstream_id=upstream_id)

    def reconcile(
        self, request: GenerationRequest, *, sent_at: float, known: frozenset[str] = frozenset()
    ) -> str | None:
        """None: the reference documents no list endpoint, so a lost create cannot be found
        again (the webhook of the task it made, if any, names it: services/callbacks.py)."""
        return None

    def parse_callback(self, body: bytes) -> str:
        """The requestId a webhook is about. The reference documents `webhookUrl` ("the
        callback URL that receives the result when the task completes") but not its body; we
        assume it is the GET body, and only read `requestId` from it (the caller re-fetches).
        Raises ProviderError on anything else."""
        try:
            data = load_json(body)
        except ValueError as exc:
            raise ProviderError("seedance2.ink sent a webhook body that is not JSON.") from exc
        request_id = data.get("requestId") if isinstance(data, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProviderError("seedance2.ink sent a webhook body without a requestId.")
        return request_id
