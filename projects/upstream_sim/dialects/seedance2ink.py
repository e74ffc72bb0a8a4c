"""seedance2.ink's Open API dialect, as its API reference describes it.

Sources: ../shared/upstream/seedance2ink-open-api-image-to-video.ko.txt (+ .vi.txt) and
upstream-research.md §4.2.

Prefix /seedance2ink (so the base URL is `<sim>/seedance2ink`, like
`https://www.seedance2.ink`): POST /api/open/v1/video/generations, GET …/{requestId},
POST …/{requestId}/cancel (queued or processing only). Statuses queued, processing, succeeded,
failed, cancelled: the reference names no expired status, so an expiry reads as failed. Errors
use its envelope `{"success": false, "error": {"code", "message"}}`, the message naming the
offending field; codes it does not document (moderation) are the Ark codes upstream sends.

- `mediaUrls`: 1 to 5 public http(s) URLs, each fetched; the kind comes from the extension
  (images .jpg .jpeg .png .webp .gif .bmp, video .mp4 .mov .m4v, audio .mp3 .wav), or, for a
  URL without one (signed links), from the Content-Type it was served with. The mode is
  inferred as the reference says: 1 image = first frame, 2 images = first + last frames,
  anything else = reference (Ark's limits: at most 3 videos, 3 audio files, audio not alone).
  seedance-1.5-pro takes frames only (research §1.2).
- Durations: 2.0 and 2.0 fast 4-15 s, 1.5 pro 5 or 10 s; resolutions 480p/720p/1080p (2.0 fast
  480p/720p, research §1.2); aspectRatio 16:9, 9:16, 1:1.
- `creditsCharged` (charged at create) is made up but deterministic: seconds × a per-second
  rate of the model and resolution (CREDIT_RATES), × 8/5 when mediaUrls are given, rounded up.
  It matches the reference's example (seedance-2.0, 5 s, 720p, one image: 64) and research
  §4.2's text-to-video one (40).
- `metadata` is stored and echoed in the GET body; `webhookUrl` receives the GET body once
  the generation ends (succeeded, failed, cancelled), the reference's "result on completion".
- Renders carry audio (Ark's default for these models; the reference has no switch).
"""

from __future__ import annotations

import math
import re
import uuid
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from projects.upstream_sim.dialects.base import (
    BadRequest,
    Dialect,
    SimResponse,
    expect_type,
    require_fields,
)
from projects.upstream_sim.engine import SimEngine, SimTask

FIELDS = {
    "model",
    "prompt",
    "mediaUrls",
    "aspectRatio",
    "duration",
    "resolution",
    "webhookUrl",
    "metadata",
}
MODELS: dict[str, dict[str, Any]] = {
    "seedance-2.0": {"durations": range(4, 16), "resolutions": ("480p", "720p", "1080p")},
    "seedance-2.0-fast": {"durations": range(4, 16), "resolutions": ("480p", "720p")},
    "seedance-1.5-pro": {"durations": (5, 10), "resolutions": ("480p", "720p", "1080p")},
}
FRAMES_ONLY = {"seedance-1.5-pro"}
RATIOS = ("16:9", "9:16", "1:1")
MAX_MEDIA = 5
EXTENSIONS = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"), "image"),
    **dict.fromkeys((".mp4", ".mov", ".m4v"), "video"),
    **dict.fromkeys((".mp3", ".wav"), "audio"),
}
CONTENT_TYPES = {
    **dict.fromkeys(("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"), "image"),
    **dict.fromkeys(("video/mp4", "video/quicktime", "video/x-m4v"), "video"),
    **dict.fromkeys(("audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "audio/wave"), "audio"),
}
_EXTENSION = re.compile(r"\.[a-z0-9]{1,5}")
# Credits per output second (made up; see the module docstring).
CREDIT_RATES = {
    "seedance-2.0": {"480p": 5, "720p": 8, "1080p": 12},
    "seedance-2.0-fast": {"480p": 4, "720p": 6},
    "seedance-1.5-pro": {"480p": 3, "720p": 5, "1080p": 8},
}
MEDIA_FACTOR = Fraction(8, 5)
WORDS = {
    "queued": "queued",
    "running": "processing",
    "succeeded": "succeeded",
    "failed": "failed",
    "expired": "failed",  # no expired status in the reference
    "cancelled": "cancelled",
}
ENDED = {"succeeded", "failed", "expired", "cancelled"}
CANCELLABLE = {"queued", "running"}
# Codes the base dialect and the server use -> seedance2.ink's slugs ("unauthorized" is the
# reference's own; the others follow it).
SLUGS = {
    "AuthenticationError": "unauthorized",
    "AccessDenied": "forbidden",
    "InvalidParameter": "invalid_request",
    "InvalidParameter.Model": "invalid_request",
    "MissingParameter": "invalid_request",
    "NotFound": "not_found",
    "RateLimitExceeded.EndpointRPMExceeded": "rate_limited",
    "InternalServiceError": "internal_error",
    "ServerOverloaded": "service_unavailable",
}


def credits_for(*, model: str, resolution: str, duration_s: int, with_media: bool) -> int:
    """The simulated `creditsCharged` for a generation (see the module docstring)."""
    rate = CREDIT_RATES[model][resolution]
    return math.ceil(duration_s * rate * (MEDIA_FACTOR if with_media else 1))


class Seedance2InkDialect(Dialect):
    name = "seedance2ink"
    prefix = "/seedance2ink"
    label = "seedance2.ink"

    def handle(self, engine, method, path, query, body, headers) -> SimResponse:
        return self.route_tasks(
            engine,
            method,
            path,
            body,
            collection="api/open/v1/video/generations",
            new_id=lambda: f"req_{uuid.uuid4().int % 10**16:016d}",
            created=lambda task: {
                "success": True,
                "requestId": task.id,
                "status": "queued",
                "creditsCharged": task.extra["credits"],
            },
            cancel=True,
        )

    def error(self, status: int, code: str, message: str, param: str = "") -> SimResponse:
        """seedance2.ink's envelope: the field is named in the message, not beside it."""
        return SimResponse(
            status=status,
            body={"success": False, "error": {"code": SLUGS.get(code, code), "message": message}},
        )

    def not_found(self, task_id: str) -> SimResponse:
        return self.error(404, "NotFound", f"Generation {task_id} not found.")

    # --- create ----------------------------------------------------------------------------
    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        body = require_fields(body, FIELDS, {"model", "prompt"})
        model = expect_type(body, "model", str, "a string")
        rules = MODELS.get(model)
        if rules is None:
            raise BadRequest("model", f"`model` must be one of {', '.join(MODELS)}; got `{model}`.")
        prompt = expect_type(body, "prompt", str, "a string")
        if not prompt.strip():
            raise BadRequest("prompt", "`prompt` must not be empty.")
        ratio = expect_type(body, "aspectRatio", str, "a string") or "16:9"
        if ratio not in RATIOS:
            raise BadRequest("aspectRatio", f"`aspectRatio` must be one of {', '.join(RATIOS)}.")
        duration = expect_type(body, "duration", int, "an integer number of seconds")
        duration = 5 if duration is None else duration
        if duration not in rules["durations"]:
            allowed = (
                "5 or 10"
                if model in FRAMES_ONLY
                else f"{rules['durations'][0]} to {rules['durations'][-1]}"
            )
            raise BadRequest("duration", f"`duration` for {model} must be {allowed} seconds.")
        resolution = expect_type(body, "resolution", str, "a string") or "720p"
        if resolution not in rules["resolutions"]:
            raise BadRequest(
                "resolution",
                f"`resolution` for {model} must be one of {', '.join(rules['resolutions'])}.",
            )
        webhook = expect_type(body, "webhookUrl", str, "a URL string") or ""
        if webhook and urlsplit(webhook).scheme not in ("http", "https"):
            raise BadRequest("webhookUrl", "`webhookUrl` must be an http(s) URL.")
        metadata = expect_type(body, "metadata", dict, "an object")
        mode = self.media_mode(engine, body, model=model)
        return {
            "model": model,
            "body": body,
            "duration_s": duration,
            "resolution": resolution,
            "ratio": ratio,
            "audio": True,
            "callback_url": webhook,
            "extra": {
                "mode": mode,
                "metadata": metadata,
                "credits": credits_for(
                    model=model,
                    resolution=resolution,
                    duration_s=duration,
                    with_media=mode != "text",
                ),
            },
        }

    def media_mode(self, engine: SimEngine, body: dict[str, Any], *, model: str) -> str:
        """The mode the gateway infers from `mediaUrls`: text, first_frame, first_last_frames
        or reference. Every URL is fetched; BadRequest when one fails or breaks a limit."""
        urls = expect_type(body, "mediaUrls", list, "an array of URL strings")
        if urls is None:
            return "text"
        if not 1 <= len(urls) <= MAX_MEDIA:
            raise BadRequest("mediaUrls", f"`mediaUrls` takes 1 to {MAX_MEDIA} URLs.")
        kinds = []
        for index, url in enumerate(urls):
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                raise BadRequest("mediaUrls", f"`mediaUrls[{index}]` must be a public http(s) URL.")
            ok, detail = engine.fetch_media_url(url)
            if not ok:
                raise BadRequest(
                    "mediaUrls", f"`mediaUrls[{index}]` could not be fetched ({detail})."
                )
            kinds.append(self.media_kind(engine, url, index=index))
        images, videos, audios = (kinds.count(k) for k in ("image", "video", "audio"))
        if model in FRAMES_ONLY and (videos or audios or images > 2):
            raise BadRequest(
                "mediaUrls",
                f"{model} takes one image (first frame) or two (first and last frames) in "
                "`mediaUrls`.",
            )
        if videos > 3 or audios > 3:
            raise BadRequest("mediaUrls", "`mediaUrls` takes at most 3 videos and 3 audio files.")
        if audios and not (images or videos):
            raise BadRequest("mediaUrls", "Audio in `mediaUrls` needs an image or a video.")
        if images == len(kinds) == 1:
            return "first_frame"
        if images == len(kinds) == 2:
            return "first_last_frames"
        return "reference"

    @staticmethod
    def media_kind(engine: SimEngine, url: str, *, index: int) -> str:
        """image | video | audio by the URL's extension, else by the Content-Type it was
        served with (when the simulator does not fetch media, an unnamed file is an image)."""
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
        if _EXTENSION.fullmatch(suffix):
            raise BadRequest("mediaUrls", f"`mediaUrls[{index}]` has an unsupported format.")
        served = next((f for f in reversed(list(engine.media_fetches)) if f["url"] == url), None)
        if served is None:
            return "image"
        content_type = str(served.get("content_type", "")).split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            raise BadRequest(
                "mediaUrls",
                f"`mediaUrls[{index}]` is {content_type or 'of an unknown type'}, not a "
                "supported image, video or audio file.",
            )
        return CONTENT_TYPES[content_type]

    # --- get, cancel, webhook --------------------------------------------------------------
    def task_body(self, engine: SimEngine, task: SimTask, status: str = "") -> dict[str, Any]:
        status = status or task.status_at(engine.now())
        body: dict[str, Any] = {
            "success": True,
            "requestId": task.id,
            "status": WORDS[status],
            "model": task.model,
            "prompt": task.body["prompt"],
            "duration": task.duration_s,
            "aspectRatio": task.ratio,
            "output": None,
            "error": None,
        }
        if task.extra.get("metadata") is not None:
            body["metadata"] = task.extra["metadata"]
        if status == "succeeded":
            body["output"] = {"type": "video", "url": engine.outputs(task)["video"]}
        elif status in ("failed", "expired"):
            body["error"] = {
                "code": task.error_code or "generation_failed",
                "message": task.error_message or "The generation failed.",
            }
        return body

    def callback_body(self, engine: SimEngine, task: SimTask, status: str) -> dict | None:
        return self.task_body(engine, task, status) if status in ENDED else None

    def cancel(self, engine: SimEngine, task: SimTask) -> SimResponse:
        done, before = engine.cancel_task(task, allowed=CANCELLABLE)
        if not done:
            return self.error(
                409,
                "not_cancellable",
                f"Generation {task.id} is {WORDS[before]}; only queued or processing "
                "generations can be cancelled.",
            )
        return SimResponse(body={"success": True, "requestId": task.id, "status": "cancelled"})
