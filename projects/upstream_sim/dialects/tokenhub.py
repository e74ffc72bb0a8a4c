"""TokenHub's dialect, as its guide describes it.

Source: ../shared/upstream/tokenhub-seedance-2.0-guide.ko.txt.

Prefix /tokenhub/api/v1: POST /videos/generations, GET /videos/generations/{id}. Statuses
queued, running, succeeded, failed (the guide names no others: an expiry reads as failed).
"""

from __future__ import annotations

import uuid
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

MODELS = ("doubao-seedance-2.0", "doubao-seedance-2.0-fast")
FIELDS = {
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
CONTENT_TYPES = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
ROLE_KINDS = {
    "first_frame": "image",
    "last_frame": "image",
    "reference_image": "image",
    "reference_video": "video",
    "reference_audio": "audio",
}


class TokenHubDialect(Dialect):
    name = "tokenhub"
    prefix = "/tokenhub/api/v1"
    label = "TokenHub"

    def handle(self, engine, method, path, query, body, headers) -> SimResponse:
        return self.route_tasks(
            engine,
            method,
            path,
            body,
            collection="videos/generations",
            new_id=lambda: f"{uuid.uuid4().hex[:16]}-task",
            created=lambda task: self.task_body(engine, task, brief=True),
            cancel=False,
        )

    def validate(self, engine: SimEngine, body: Any) -> dict[str, Any]:
        body = require_fields(body, FIELDS, {"model", "prompt"})
        model = expect_type(body, "model", str, "a string")
        if model not in MODELS:
            raise BadRequest(
                "model",
                f"Model `{model}` is not supported; use one of {', '.join(MODELS)}.",
                code="InvalidParameter.Model",
            )
        prompt = expect_type(body, "prompt", str, "a string")
        if not prompt.strip():
            raise BadRequest("prompt", "The parameter `prompt` must not be empty.")
        duration = expect_type(body, "duration", (int, float), "a number")
        duration = 5 if duration is None else duration
        if duration != int(duration) or not 4 <= duration <= 15:
            raise BadRequest("duration", "The parameter `duration` must be between 4 and 15.")
        resolution = expect_type(body, "resolution", str, "a string") or "720p"
        if resolution not in ("480p", "720p"):
            raise BadRequest("resolution", "The parameter `resolution` must be 480p or 720p.")
        ratio = expect_type(body, "aspect_ratio", str, "a string") or "adaptive"
        if ratio not in SEEDANCE_2_RATIOS:
            raise BadRequest(
                "aspect_ratio",
                f"The parameter `aspect_ratio` must be one of {', '.join(SEEDANCE_2_RATIOS)}.",
            )
        audio = expect_type(body, "generate_audio", bool, "a boolean")
        expect_type(body, "watermark", bool, "a boolean")
        urls = self._media(body)
        for url in urls:
            ok, detail = engine.fetch_media_url(url)
            if not ok:
                raise BadRequest("media", f"The media URL could not be downloaded ({detail}).")
        return {
            "model": model,
            "body": body,
            "duration_s": int(duration),
            "resolution": resolution,
            "ratio": ratio,
            "audio": True if audio is None else audio,
        }

    def _media(self, body: dict[str, Any]) -> list[str]:
        urls: list[str] = []
        for single, plural, limit in (
            ("image_url", "image_urls", 9),
            ("video_url", "video_urls", 3),
            ("audio_url", "audio_urls", 3),
        ):
            one = expect_type(body, single, str, "a URL string")
            many = expect_type(body, plural, list, "an array of URL strings") or []
            if not all(isinstance(u, str) and u for u in many):
                raise BadRequest(plural, f"`{plural}` must be an array of URL strings.")
            if len(many) + (1 if one else 0) > limit:
                raise BadRequest(plural, f"At most {limit} entries in `{plural}`.")
            urls += ([one] if one else []) + many
        videos = (1 if body.get("video_url") else 0) + len(body.get("video_urls") or [])
        durations = expect_type(body, "video_durations", list, "an array of numbers")
        if durations is not None:
            if len(durations) != videos or not all(
                isinstance(d, int | float) and not isinstance(d, bool) and d > 0 for d in durations
            ):
                raise BadRequest(
                    "video_durations",
                    "`video_durations` needs one positive number per reference video.",
                )
        expect_type(body, "input_video_duration", (int, float), "a number")
        content = expect_type(body, "content", list, "an array")
        roles: dict[str, int] = {}
        for item in content or []:
            if not isinstance(item, dict) or item.get("type") not in CONTENT_TYPES:
                raise BadRequest(
                    "content",
                    "Each content item needs a type of image_url, video_url or audio_url.",
                )
            unknown = set(item) - {"type", "role", item["type"]}
            if unknown:
                raise BadRequest("content", f"Unknown content field `{sorted(unknown)[0]}`.")
            media = item.get(item["type"])
            if (
                not isinstance(media, dict)
                or set(media) != {"url"}
                or not isinstance(media["url"], str)
            ):
                raise BadRequest("content", f"`{item['type']}` must be an object with a url.")
            role = item.get("role")
            if role not in ROLE_KINDS or ROLE_KINDS[role] != CONTENT_TYPES[item["type"]]:
                raise BadRequest("content", f"Role `{role}` is not valid for {item['type']}.")
            roles[role] = roles.get(role, 0) + 1
            urls.append(media["url"])
        for role in ("first_frame", "last_frame"):
            if roles.get(role, 0) > 1:
                raise BadRequest("content", f"At most one `{role}` item.")
        return urls

    def task_body(self, engine: SimEngine, task: SimTask, *, brief: bool = False) -> dict:
        status = "queued" if brief else task.status_at(engine.now())
        word = status if status in ("queued", "running", "succeeded") else "failed"
        body: dict[str, Any] = {
            "id": task.id,
            "object": "video.generation.task",
            "model": task.model,
            "status": word,
            "created": int(task.created_wall),
        }
        if word == "succeeded":
            urls = engine.outputs(task)
            body["data"] = [{"video_url": urls["video"], "cover_image_url": urls["cover"]}]
            body["usage"] = {"video_duration": task.duration_s}
        elif word == "failed":
            code = task.error_code or ("TaskExpired" if status == "expired" else "TaskCancelled")
            message = task.error_message or f"The task ended as {status}."
            body["error"] = {"code": code, "message": message}
        return body
