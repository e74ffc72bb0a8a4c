"""AceData Cloud adapter: Seedance 1.x through AceData's wrapper of the Ark API.

Contract: ../shared/upstream/acedata-seedance-videos.txt ("AceData Seedance Videos API") and
docs/upstream-research.md §4.3; the tasks endpoint as AceData's guide shows it
(github.com/AceDataCloud/Docs guides/seedance/seedance_tasks.mdx).

    POST {base}/seedance/videos   the native Ark body (model, content[], generate_audio,
                                  callback_url, return_last_frame, service_tier,
                                  execution_expires_after) -> {"success", "task_id", "trace_id",
                                  "data"}; parameters ride as prompt flags on the text item:
                                  "... --rs 720p --rt 16:9 --dur 5 --fps 24 --wm false --cf false"
    POST {base}/seedance/tasks    {"id", "action": "retrieve"} -> {"_id", "id", "request",
                                  "response"}; `response` (the final result, same shape as the
                                  create answer) appears once the task has ended

The doc names two ways to create: with `callback_url` ("the API returns immediately with a
task_id and posts the result to this URL upon completion"), or without it, when the create
answers with the final result once the video is done. An `"async": true` field is not in the
doc, so it is never sent: with callbacks on (SEEDANCE_CALLBACKS) the task is given its
callback URL; without, the create waits up to SYNC_CREATE_TIMEOUT seconds for the video (the
submit's lease is stretched to match, `create_wait_seconds`), and the task is then read back
through the documented tasks retrieve like any other. `data` is either an object
`{task_id, status, video_url, last_frame_url, model}` or, in older answers, an array of raw Ark
task objects with `usage`; both are read. Errors: `{"success": false, "error": {"code",
"message"}, "trace_id"}` (400 bad_request/no_token/token_mismatched, 401 invalid_token/
token_expired, 404 not_found, 429 too_many_requests, 500 internal_error/api_error). No cancel
is documented, and a task cannot be found without its id: a lost create waits for its callback
(services/callbacks.py adopts the id it names) or an admin.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from projects.providers import ark
from projects.providers.base import (
    GenerationRequest,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    SubmitResult,
    TaskSnapshot,
    UpstreamStatus,
)
from projects.providers.capabilities import ProviderCapabilities
from projects.providers.http import HttpVideoProvider, clean_message, load_json, request_json
from projects.providers.request_check import prompt_flag_in
from projects.providers.statuses import normalise_status

LABEL = "AceData"
SOURCE = "AceData Seedance Videos API"
AUDIO_MODELS = frozenset({"doubao-seedance-1-5-pro-251215"})  # "Only supported by" (the doc)
# Flags AceData reads out of the prompt (the doc's inline parameters, long and short forms).
PROMPT_FLAGS = (
    "rs",
    "resolution",
    "rt",
    "ratio",
    "dur",
    "duration",
    "frames",
    "fps",
    "framespersecond",
    "seed",
    "cf",
    "camerafixed",
    "wm",
    "watermark",
)
# 400 codes that mean the key, not the request, is wrong (AceData guides' error lists).
AUTH_CODES = frozenset({"no_token", "token_mismatched"})
# No result yet: the retrieve record has no `response` until the task has ended.
PENDING = "pending"
# Seconds a create without callback_url may take: AceData answers it when the video is done.
# Its five 1.x models render a 10 s 1080p clip in about 90-150 s (upstream-research §5); a
# queue ahead of it adds more, and a 2.5 edit runs 6-15 min, so 15 min with margin.
SYNC_CREATE_TIMEOUT = 1200.0


def _acedata_model(model_id: str):
    model = ark.CAPABILITIES.model(model_id)
    assert model is not None, model_id
    # Ark's model limits: upstream-research §1.2.
    changes: dict[str, Any] = {"source": f"{SOURCE}; Ark API reference"}
    if model_id in AUDIO_MODELS:
        changes["default_audio"] = False  # AceData: generate_audio "default: false"
    # Its doc has no `draft` field nor `draft_task` content item (only text and image_url
    # items): no drafts through AceData. `frames` and `camera_fixed` travel as the prompt
    # flags --frames and --cf (the doc's example; research §1.5) where the model takes them.
    changes["draft"] = False
    return replace(model, **changes)


# The doc's model enum; its example model (1.0 pro) first, as the default.
CAPABILITIES = ProviderCapabilities(
    name="acedata",
    label="AceData Cloud",
    models=tuple(
        _acedata_model(m)
        for m in (
            "doubao-seedance-1-0-pro-250528",
            "doubao-seedance-1-0-pro-fast-251015",
            "doubao-seedance-1-5-pro-251215",
            "doubao-seedance-1-0-lite-t2v-250428",
            "doubao-seedance-1-0-lite-i2v-250428",
        )
    ),
    cancel="never",
    callbacks=True,
    # The doc: "execution_expires_after ... Required range: 3600 <= x <= 259200".
    expires_after=ark.CAPABILITIES.expires_after,
    source=SOURCE,
    notes=("Parameters travel as prompt flags (--rs --rt --dur ...); AceData has no cancel.",),
    prompt_flags=PROMPT_FLAGS,
)


class AceDataProvider(HttpVideoProvider):
    """AceData Cloud's `/seedance/videos` + `/seedance/tasks` (see module docstring)."""

    name = "acedata"
    CAPABILITIES = CAPABILITIES

    @staticmethod
    def prompt_with_flags(request: GenerationRequest) -> str:
        """The prompt with the doc's inline parameters appended, in the doc's order, built
        from the structured fields only. Raises ProviderRejectedError (validation) when the
        prompt already holds such a flag: AceData would read it as a parameter."""
        flag = prompt_flag_in(request.prompt, PROMPT_FLAGS)
        if flag:
            raise ProviderRejectedError(
                f"Remove {flag!r} from the prompt: AceData reads it as a parameter.",
                kind="validation",
                code="prompt_flag",
            )
        if request.frames is not None:
            length = f"--frames {request.frames}"  # in place of the duration (§1.3, §1.5)
        else:
            length = f"--dur {request.duration}"
        flags = [
            f"--rs {request.resolution}",
            f"--rt {request.ratio}",
            length,
            "--fps 24",  # Seedance renders 24 fps only
            f"--wm {_word(request.watermark)}",
        ]
        if request.seed is not None:
            flags.append(f"--seed {request.seed}")
        flags.append(f"--cf {_word(bool(request.camera_fixed))}")  # the doc's default: false
        return f"{request.prompt.rstrip()} {' '.join(flags)}"

    def build_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The create body for `request`, field for field as the doc's example names them."""
        content: list[dict[str, Any]] = [{"type": "text", "text": self.prompt_with_flags(request)}]
        for ref in request.references:
            # The doc: content items carry text or image_url; 1.x models take images only.
            content.append({"type": "image_url", "image_url": {"url": ref.url}, "role": ref.role})
        body: dict[str, Any] = {"model": request.model, "content": content}
        if request.model in AUDIO_MODELS:
            body["generate_audio"] = request.generate_audio
        if request.callback_url:
            body["callback_url"] = request.callback_url
        # Without one the documented create waits for the video (module docstring); the doc
        # has no other asynchronous switch.
        body["return_last_frame"] = request.return_last_frame
        body["service_tier"] = request.service_tier
        body["execution_expires_after"] = (
            request.execution_expires_after or ark.EXECUTION_EXPIRES_AFTER
        )
        return body

    def create_wait_seconds(self, request: GenerationRequest) -> float | None:
        """SYNC_CREATE_TIMEOUT when the create is the documented synchronous one (no
        callback URL): it answers only when the video is done."""
        return None if request.callback_url else self.SYNC_CREATE_TIMEOUT

    SYNC_CREATE_TIMEOUT = SYNC_CREATE_TIMEOUT

    def submit(self, request: GenerationRequest) -> SubmitResult:
        """Create the task: answered at once with a task_id when it has a callback URL, else
        with the final result when the video is done (both read the same way)."""
        data = self._call(
            "seedance/videos",
            self.build_body(request),
            timeout=self.create_wait_seconds(request),
        )
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise ProviderOutcomeUnknown("AceData accepted the request but sent no task_id.")
        word = _result_status(data)
        status = (
            normalise_status(word, provider=self.name, upstream_id=task_id)
            if word
            else UpstreamStatus.QUEUED
        )
        return SubmitResult(upstream_id=task_id, status=status, raw_status=word, raw=data)

    def fetch(self, upstream_id: str) -> TaskSnapshot:
        record = self._call("seedance/tasks", {"id": upstream_id, "action": "retrieve"})
        return self.parse_record(record, upstream_id=upstream_id)

    batch_size = 50

    def fetch_many(self, upstream_ids: list[str]) -> dict[str, TaskSnapshot]:
        """Several tasks in one `retrieve_batch` call (`{"ids", "action"}` ->
        `{"items", "count"}`, AceData's tasks guide). Unreadable items are skipped."""
        if not upstream_ids:
            return {}
        data = self._call("seedance/tasks", {"ids": upstream_ids, "action": "retrieve_batch"})
        items = data.get("items")
        if not isinstance(items, list):
            raise ProviderOutcomeUnknown("AceData's batch answer has no items array.")
        wanted = set(upstream_ids)
        found: dict[str, TaskSnapshot] = {}
        for record in items:
            record_id = record.get("id") if isinstance(record, dict) else None
            if isinstance(record_id, str) and record_id in wanted:
                try:
                    found[record_id] = self.parse_record(record, upstream_id=record_id)
                except ProviderOutcomeUnknown:
                    continue
        return found

    def parse_record(self, record: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a retrieve record `{_id, id, request, response}`; no response
        yet means the task is still being made (AceData shows no queue: RUNNING)."""
        response = record.get("response")
        if response is None:
            return TaskSnapshot(
                upstream_id=upstream_id,
                status=UpstreamStatus.RUNNING,
                raw_status=PENDING,
                raw=record,
            )
        if not isinstance(response, dict):
            raise ProviderOutcomeUnknown("AceData's task record has an unreadable response.")
        return self.parse_result(response, upstream_id=upstream_id)

    def parse_result(self, result: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a final result `{success, task_id, trace_id, data, error}` (the
        create answer, a retrieve record's `response`, a callback body). Raises
        ProviderOutcomeUnknown when it states no outcome at all."""
        item = _result_item(result)
        error = _dict(result.get("error")) or _dict(item.get("error"))
        word = _result_status(result)
        if not word:
            if result.get("success") is False:
                word = "failed"
            else:
                raise ProviderOutcomeUnknown("AceData's result states no task status.")
        content = _dict(item.get("content"))
        video_url = item.get("video_url") or content.get("video_url") or ""
        last_frame_url = item.get("last_frame_url") or content.get("last_frame_url") or ""
        return TaskSnapshot(
            upstream_id=upstream_id,
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=word,
            video_url=str(video_url),
            last_frame_url=str(last_frame_url),
            duration_s=ark.output_seconds(item),
            usage=_dict(item.get("usage")),
            error_code=str(error.get("code") or ""),
            error_message=str(error.get("message") or ""),
            raw=result,
        )

    def parse_callback(self, body: bytes) -> str:
        """The `task_id` of a callback: AceData POSTs the final result on completion."""
        try:
            data = load_json(body)
        except ValueError as exc:
            raise ProviderError("AceData callback body is not JSON.") from exc
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProviderError("AceData callback body names no task_id.")
        return task_id

    def reconcile(
        self, request: GenerationRequest, *, sent_at: float, known: frozenset[str] = frozenset()
    ) -> str | None:
        """AceData cannot be searched without the task id: None (a callback naming the task
        adopts it, else an admin decides)."""
        return None

    def _call(
        self, path: str, body: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        try:
            data = request_json(
                self._client, "POST", path, label=LABEL, json_body=body, timeout=timeout
            )
        except ProviderRejectedError as exc:
            if exc.code in AUTH_CODES:
                raise ProviderRejectedError(
                    f"AceData refused the API key ({exc.code}). An admin must check the key.",
                    kind="auth",
                    code=exc.code,
                    http_status=exc.http_status,
                ) from exc
            raise
        if (
            data.get("success") is False
            and isinstance(data.get("error"), dict)
            and not data.get("task_id")
        ):
            # An error envelope with HTTP 200: a refusal all the same. A final result that
            # names its task (a create that waited for a video that failed) is an outcome
            # for `parse_result`, not a refusal of the request.
            error = data["error"]
            raise ProviderRejectedError(
                f"AceData rejected the request: {clean_message(str(error.get('message') or ''))}",
                code=str(error.get("code") or ""),
                http_status=200,
            )
        return data


def _word(flag: bool) -> str:
    return "true" if flag else "false"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _result_item(result: dict[str, Any]) -> dict[str, Any]:
    """The task object inside a result's `data`: the object itself, or the first Ark task of
    the older array form."""
    data = result.get("data")
    if isinstance(data, list):
        return next((item for item in data if isinstance(item, dict)), {})
    return _dict(data)


def _result_status(result: dict[str, Any]) -> str:
    word = _result_item(result).get("status")
    return word if isinstance(word, str) else ""
