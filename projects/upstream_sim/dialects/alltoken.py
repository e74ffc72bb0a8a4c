"""AllToken's dialect, as its video guide describes it.

Sources: ../shared/upstream/alltoken-videos-guide.txt and upstream-research.md §4.1.

Prefix /alltoken/v1 (so the base URL is `<sim>/alltoken/v1`, like `https://api.alltoken.ai/v1`):
POST /videos/generations, GET /videos/generations/{id}, POST /videos/generations/{id}/cancel.
Statuses queued, processing, completed, failed, expired, cancelled (the engine's running and
succeeded are AllToken's processing and completed). Errors use AllToken's envelope
`{"error": {"code", "type", "message", "param", "request_id"}}` with its documented slugs
(invalid_api_key 401, rate_limited 429, all_providers_failed 503); codes it does not document
(validation, moderation) are the Ark codes it passes through.

Limits the guide leaves to the models are Ark's (research §1.2, §1.6): durations 4-15 s (2.0,
2.0 fast) and 4-12 s (1.5 pro) or -1, 2.0 fast at 480p/720p only, 1.5 pro takes first/last
frames only, 2.0 takes up to 9 images, 3 videos and 3 audio files (12 in all). `asset://`
portraits are refused for seedance-1.5-pro, as the guide's table says. The guide names no
generate_audio: renders carry audio, Ark's default for these models.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from projects.providers.capabilities import SEEDANCE_2_RATIOS
from projects.upstream_sim.dialects.base import (
    BadRequest,
    Dialect,
    SimResponse,
    expect_type,
    require_fields,
)
from projects.upstream_sim.engine import SimEngine, SimTask
from projects.upstream_sim.render import FPS

FIELDS = {"model", "prompt", "ratio", "duration", "resolution", "content"}
FRAMES = {"first_frame", "last_frame"}
ALL_ROLES = FRAMES | {"reference_image", "reference_video", "reference_audio"}
MODELS: dict[str, dict[str, Any]] = {
    "seedance-2.0": {
        "durations": range(4, 16),
        "resolutions": ("480p", "720p", "1080p"),
        "roles": ALL_ROLES,
        "portraits": True,
    },
    "seedance-2.0-fast": {
        "durations": range(4, 16),
        "resolutions": ("480p", "720p"),
        "roles": ALL_ROLES,
        "portraits": True,
    },
    "seedance-1.5-pro": {
        "durations": range(4, 13),
        "resolutions": ("480p", "720p", "1080p"),
        "roles": FRAMES,
        "portraits": False,
    },
}
CONTENT_TYPES = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
ROLE_KINDS = {
    "first_frame": "image",
    "last_frame": "image",
    "reference_image": "image",
    "reference_video": "video",
    "reference_audio": "audio",
}
REFERENCE_LIMITS = {"reference_image": 9, "reference_video": 3, "reference_audio": 3}
MAX_CONTENT = 12
# The engine's status words -> AllToken's.
WORDS = {
    "queued": "queued",
    "running": "processing",
    "succeeded": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "cancelled",
}
CANCELLABLE = {"queued", "running"}
# Codes the base dialect and the server use -> AllToken's documented slugs.
SLUGS = {
    "AuthenticationError": "invalid_api_key",
    "NotFound": "not_found",
    "RateLimitExceeded.EndpointRPMExceeded": "rate_limited",
    "ServerOverloaded": "all_providers_failed",
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
}


class AllTokenDialect(Dialect):
    name = "alltoken"
    prefix = "/alltoken/v1"
    label = "AllToken"

    def handle(self, engine, method, path, query, body, headers) -> SimResponse:
        return self.route_tasks(
            engine,
            method,
            path,
            body,
            collection="videos/generations",
            new_id=lambda: f"vgen_01{uuid.uuid4().hex[:24]}",
            created=lambda task: {"id": task.id, "status": "queued", "model": task.model},
            cancel=True,
        )

    def error(self, status: int, code: str, message: str, param: str = "") -> SimResponse:
        """AllToken's envelope; every error carries a request id, as its API's do."""
        return SimResponse(
            status=status,
            body={
                "error": {
                    "code": SLUGS.get(code, code),
                    "type": ERROR_TYPES.get(status, "api_error"),
                    "message": message,
                    "param": param or None,
                    "request_id": f"req_{uuid.uuid4().hex[:20]}",
                }
            },
        )

    def not_found(self, task_id: str) -> SimResponse:
        return self.error(404, "NotFound", f"Video generation {task_id} not found.")

    # --- create ----------------------------------------------------------------------------
    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        body = require_fields(body, FIELDS, {"model", "prompt"})
        model = expect_type(body, "model", str, "a string")
        rules = MODELS.get(model)
        if rules is None:
            raise BadRequest(
                "model", f"Model `{model}` is not supported; use one of {', '.join(MODELS)}."
            )
        prompt = expect_type(body, "prompt", str, "a string")
        if not prompt.strip():
            raise BadRequest("prompt", "The parameter `prompt` must not be empty.")
        duration = expect_type(body, "duration", int, "an integer number of seconds")
        duration = 5 if duration is None else duration
        if duration != -1 and duration not in rules["durations"]:
            low, high = rules["durations"][0], rules["durations"][-1]
            raise BadRequest(
                "duration", f"{model} accepts a `duration` of {low} to {high} seconds, or -1."
            )
        resolution = expect_type(body, "resolution", str, "a string") or "720p"
        if resolution not in rules["resolutions"]:
            raise BadRequest(
                "resolution",
                f"{model} accepts a `resolution` of {', '.join(rules['resolutions'])}.",
            )
        content = self.content(engine, body, model=model, rules=rules)
        ratio = expect_type(body, "ratio", str, "a string") or ("adaptive" if content else "16:9")
        if ratio not in SEEDANCE_2_RATIOS:
            raise BadRequest(
                "ratio", f"The parameter `ratio` must be one of {', '.join(SEEDANCE_2_RATIOS)}."
            )
        return {
            "model": model,
            "body": body,
            "duration_s": duration,
            "resolution": resolution,
            "ratio": ratio,
            "audio": True,
        }

    def content(
        self, engine: SimEngine, body: dict[str, Any], *, model: str, rules: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The checked `content[]` items (Ark-style, roles required); every URL fetched."""
        content = expect_type(body, "content", list, "an array") or []
        roles: Counter[str] = Counter()
        for item in content:
            kind = item.get("type") if isinstance(item, dict) else None
            if not isinstance(kind, str) or kind not in CONTENT_TYPES:
                raise BadRequest(
                    "content",
                    "Each `content` item needs a type of image_url, video_url or audio_url.",
                )
            unknown = sorted(set(item) - {"type", "role", kind})
            if unknown:
                raise BadRequest("content", f"Unknown content field `{unknown[0]}`.")
            media = item.get(kind)
            if (
                not isinstance(media, dict)
                or set(media) != {"url"}
                or not isinstance(media["url"], str)
                or not media["url"]
            ):
                raise BadRequest("content", f"`{kind}` must be an object with a url.")
            role = item.get("role")
            if not isinstance(role, str) or ROLE_KINDS.get(role) != CONTENT_TYPES[kind]:
                raise BadRequest("content", f"Role `{role}` is not valid for {kind}.")
            if role not in rules["roles"]:
                raise BadRequest("content", f"{model} does not take a `{role}` item.")
            if media["url"].startswith("asset://") and not rules["portraits"]:
                raise BadRequest(
                    "content",
                    f"{model} does not support asset:// portrait references; use plain image "
                    "URLs only.",
                )
            roles[role] += 1
        self.check_roles(roles, total=len(content))
        for item in content:
            url = item[item["type"]]["url"]
            ok, detail = engine.fetch_media_url(url)
            if not ok:
                raise BadRequest("content", f"The media URL {url} could not be fetched ({detail}).")
        return content

    @staticmethod
    def check_roles(roles: Counter[str], *, total: int) -> None:
        for role in FRAMES:
            if roles[role] > 1:
                raise BadRequest("content", f"At most one `{role}` item.")
        if roles["last_frame"] and not roles["first_frame"]:
            raise BadRequest("content", "A `last_frame` needs a `first_frame`.")
        references = sum(roles[r] for r in REFERENCE_LIMITS)
        if references and (roles["first_frame"] or roles["last_frame"]):
            raise BadRequest(
                "content", "First/last frames and reference_* items cannot be combined."
            )
        for role, limit in REFERENCE_LIMITS.items():
            if roles[role] > limit:
                raise BadRequest("content", f"At most {limit} `{role}` items.")
        if total > MAX_CONTENT:
            raise BadRequest("content", f"At most {MAX_CONTENT} content items.")
        if roles["reference_audio"] and roles["reference_audio"] == total:
            raise BadRequest("content", "Reference audio needs an image or a video beside it.")

    # --- get and cancel --------------------------------------------------------------------
    def task_body(self, engine: SimEngine, task: SimTask) -> dict[str, Any]:
        status = task.status_at(engine.now())
        body: dict[str, Any] = {"id": task.id, "model": task.model, "status": WORDS[status]}
        if status == "succeeded":
            urls = engine.outputs(task)
            body.update(
                video_url=urls["video"],
                video_url_ttl=0 if task.link_expired else int(engine.link_ttl),
                resolution=task.resolution,
                ratio="16:9" if task.ratio == "adaptive" else task.ratio,  # what render made
                fps=FPS,
            )
        elif status in ("failed", "expired"):
            body["error"] = {
                "code": task.error_code or "generation_failed",
                "message": task.error_message or f"The generation {WORDS[status]}.",
            }
        return body

    def cancel(self, engine: SimEngine, task: SimTask) -> SimResponse:
        done, before = engine.cancel_task(task, allowed=CANCELLABLE)
        if not done:
            return self.error(
                409,
                "task_not_cancellable",
                f"Video generation {task.id} is {WORDS[before]}; only queued or processing "
                "tasks can be cancelled.",
            )
        return SimResponse(body=self.task_body(engine, task))
