"""Official Volcengine Ark adapter: the "content generation tasks" API.

Contract: docs/upstream-research.md §1 ("Ark API reference"): §1.1 endpoints, §1.2 models
(their table: projects/providers/ark_models.py), §1.3 create body, §1.4 content items, §1.8
responses, §1.9 statuses and DELETE, §1.10 callbacks, §1.11 errors.

    POST   {base}/contents/generations/tasks          {"model", "content": [...], ...} -> {"id"}
    GET    {base}/contents/generations/tasks/{id}     the task (status, content.video_url, usage)
    GET    {base}/contents/generations/tasks?page_num=&page_size=&filter.model=   {"total","items"}
    DELETE {base}/contents/generations/tasks/{id}     queued: cancels; terminal: deletes the record

Statuses queued, running, succeeded, failed, expired, cancelled. Errors come as
`{"error": {"code", "message", "param", "type"}}` (read by http.default_error_parser). Ark
has no idempotency key: a create whose answer was lost is found again through the list
endpoint (`reconcile`), never sent twice blindly.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

# The capability table lives beside this module; re-exported here, where callers expect it.
from projects.providers.ark_models import CAPABILITIES, LABEL, MODELS, SOURCE  # noqa: F401
from projects.providers.base import (
    CancelNotSupported,
    GenerationRequest,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    SubmitResult,
    TaskSnapshot,
    UpstreamStatus,
)
from projects.providers.capabilities import DEFAULT_EXPIRES_AFTER
from projects.providers.http import HttpVideoProvider, load_json, request_json
from projects.providers.statuses import normalise_status

logger = logging.getLogger(__name__)

TASKS_PATH = "contents/generations/tasks"
# Sent with every create unless the request sets its own (§1.3: [3600, 259200]): 172800 s
# (48 h) is Ark's own default; our deadline for a task is its value plus a margin
# (services/upstream_request.py). `service_tier` is the request's ("default" unless the model
# offers "flex" and the user chose it, §1.3).
EXECUTION_EXPIRES_AFTER = DEFAULT_EXPIRES_AFTER
# Reconciling a lost create (see ArkProvider.reconcile): seconds around the send time.
RECONCILE_BEFORE_S = 5.0
RECONCILE_AFTER_S = 120.0
RECONCILE_PAGE_SIZE = 100
RECONCILE_MAX_PAGES = 10
CONTENT_TYPE = {"image": "image_url", "video": "video_url", "audio": "audio_url"}


class ArkProvider(HttpVideoProvider):
    """The official Ark "content generation tasks" API (see module docstring).

    Parametrised by its class attributes so BytePlus ModelArk, the same contract with other
    model ids, region and prices, is a subclass (projects/providers/byteplus.py): `name` (the
    gateway's key in settings), `LABEL` (in messages) and `CAPABILITIES` (its models).
    """

    name = "ark"
    LABEL = LABEL
    CAPABILITIES = CAPABILITIES

    def build_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The create body for `request`, with the JSON fields of §1.3 and content items of
        §1.4: the prompt first, then each reference in the caller's order (prompts cite
        them as [Image 1], [Video 1] by that order).

        A final rendered from a draft (`draft_task_id`) is the one `draft_task` item and the
        fields a final chooses (resolution, watermark, tier, expiry, last frame): Ark takes
        its prompt, references, ratio, duration, seed, audio and camera_fixed from the draft
        (§1.4, §9), and refuses a change to them. A draft asks for no last frame (§1.3)."""
        model = self.CAPABILITIES.model(request.model)
        final = bool(request.draft_task_id)
        if final:
            content: list[dict[str, Any]] = [
                {"type": "draft_task", "draft_task": {"id": request.draft_task_id}}
            ]
        else:
            content = [{"type": "text", "text": request.prompt}]
            for ref in request.references:
                kind = CONTENT_TYPE[ref.kind]
                content.append({"type": kind, kind: {"url": ref.url}, "role": ref.role})
        body: dict[str, Any] = {"model": request.model, "content": content}
        if request.callback_url:
            body["callback_url"] = request.callback_url
        body["return_last_frame"] = request.return_last_frame and not request.draft
        body["service_tier"] = request.service_tier
        body["execution_expires_after"] = request.execution_expires_after or EXECUTION_EXPIRES_AFTER
        if request.draft:
            body["draft"] = True
        body["resolution"] = request.resolution
        body["watermark"] = request.watermark
        if final:
            return body
        if model is not None and model.audio:
            body["generate_audio"] = request.generate_audio
        body["ratio"] = request.ratio
        if request.frames is not None:
            body["frames"] = request.frames  # in place of the duration (§1.3)
        else:
            body["duration"] = request.duration
        seed = request_seed(request)
        if seed is not None:
            body["seed"] = seed
        if request.camera_fixed is not None:
            body["camera_fixed"] = request.camera_fixed
        return body

    def submit(self, request: GenerationRequest) -> SubmitResult:
        data = request_json(
            self._client, "POST", TASKS_PATH, label=self.LABEL, json_body=self.build_body(request)
        )
        upstream_id = data.get("id")
        if not isinstance(upstream_id, str) or not upstream_id:
            raise ProviderOutcomeUnknown(f"{self.LABEL} accepted the request but sent no task id.")
        # The create answer is only {"id"}; every task starts queued (§1.9).
        return SubmitResult(
            upstream_id=upstream_id, status=UpstreamStatus.QUEUED, raw_status="queued", raw=data
        )

    def fetch(self, upstream_id: str) -> TaskSnapshot:
        data = request_json(self._client, "GET", f"{TASKS_PATH}/{upstream_id}", label=self.LABEL)
        return self.parse_task(data, upstream_id=upstream_id)

    batch_size = 100  # ids per list request: keeps the query string a few kB

    def fetch_many(self, upstream_ids: list[str]) -> dict[str, TaskSnapshot]:
        """Several tasks in one list request (§1.8: `filter.task_ids` repeated per id).
        Items that are not readable tasks are skipped, so their ids are asked for alone."""
        if not upstream_ids:
            return {}
        params = [("page_num", 1), ("page_size", len(upstream_ids))]
        params += [("filter.task_ids", upstream_id) for upstream_id in upstream_ids]
        data = request_json(self._client, "GET", TASKS_PATH, label=self.LABEL, params=params)
        items = data.get("items")
        if not isinstance(items, list):
            raise ProviderOutcomeUnknown(f"{self.LABEL}'s task list has no items array.")
        wanted = set(upstream_ids)
        found: dict[str, TaskSnapshot] = {}
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] in wanted:
                try:
                    found[item["id"]] = self.parse_task(item, upstream_id=item["id"])
                except ProviderOutcomeUnknown:
                    continue
        return found

    def parse_task(self, data: dict[str, Any], *, upstream_id: str) -> TaskSnapshot:
        """A TaskSnapshot from a GET (or callback, or list item) body. Raises
        ProviderOutcomeUnknown when it has no status word."""
        word = data.get("status")
        if not isinstance(word, str):
            raise ProviderOutcomeUnknown(f"{self.LABEL} answered without a task status.")
        content = _dict(data.get("content"))
        error = _dict(data.get("error"))
        return TaskSnapshot(
            upstream_id=str(data.get("id") or upstream_id),
            status=normalise_status(word, provider=self.name, upstream_id=upstream_id),
            raw_status=word,
            video_url=str(content.get("video_url") or ""),
            last_frame_url=str(content.get("last_frame_url") or ""),
            duration_s=output_seconds(data),
            usage=_dict(data.get("usage")),
            error_code=str(error.get("code") or ""),
            error_message=str(error.get("message") or ""),
            raw=data,
        )

    def cancel(self, upstream_id: str) -> TaskSnapshot | None:
        """Cancel a queued task (§1.9). The task is read first: DELETE on a finished task
        deletes its record, result included, so only a queued one is sent a DELETE.

        Raises CancelNotSupported (running, finished or already cancelled: the reason is in
        the message) or the usual provider errors.
        """
        current = self.fetch(upstream_id)
        if current.status != UpstreamStatus.QUEUED:
            raise CancelNotSupported(_why_not_cancellable(current.raw_status, self.LABEL))
        try:
            request_json(self._client, "DELETE", f"{TASKS_PATH}/{upstream_id}", label=self.LABEL)
        except ProviderRejectedError as exc:
            if exc.kind in ("validation", "conflict"):
                # It left the queue between our read and the DELETE: Ark refuses it.
                raise CancelNotSupported(
                    f"{_why_not_cancellable('running', self.LABEL)} ({self.LABEL} said: "
                    f"{exc.message})",
                    code=exc.code,
                    http_status=exc.http_status,
                ) from exc
            raise
        return TaskSnapshot(
            upstream_id=upstream_id, status=UpstreamStatus.CANCELLED, raw_status="cancelled"
        )

    def parse_callback(self, body: bytes) -> str:
        """The task id of a callback: Ark POSTs the GET body on every status change (§1.10)."""
        try:
            data = load_json(body)
        except ValueError as exc:
            raise ProviderError(f"{self.LABEL} callback body is not JSON.") from exc
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise ProviderError(f"{self.LABEL} callback body names no task id.")
        return task_id

    def callback_status(self, body: bytes) -> UpstreamStatus:
        """The status word of a callback body (the GET body, §1.10), normalised."""
        try:
            data = load_json(body)
        except ValueError:
            return UpstreamStatus.UNKNOWN
        word = data.get("status") if isinstance(data, dict) else None
        if not isinstance(word, str):
            return UpstreamStatus.UNKNOWN
        return normalise_status(word, provider=self.name, upstream_id=str(data.get("id", "")))

    def reconcile(
        self, request: GenerationRequest, *, sent_at: float, known: frozenset[str] = frozenset()
    ) -> str | None:
        """Find the task a create with a lost answer made, through the list endpoint (§1.8).

        Heuristic: Ark has no idempotency key and its task bodies do not echo the prompt, so
        a candidate is a task of the same model (`filter.model`) created from
        RECONCILE_BEFORE_S seconds before `sent_at` (clock skew) to RECONCILE_AFTER_S after
        it (a slow create), whose ratio, resolution and duration equal ours where the item
        states them (not ratio `adaptive` nor duration -1: Ark may report what it chose),
        and that is not in `known` (a twin of ours sent at the same time already follows it).
        Exactly one candidate: its id.
        None: '' (the create made nothing, or Ark has not listed it yet: the caller waits
        SEEDANCE_RECONCILE_AFTER before believing that). Several: None, ambiguous, an admin
        decides. Pages are read newest first until one ends before the window; if
        RECONCILE_MAX_PAGES is not enough to get there, None.
        """
        low, high = sent_at - RECONCILE_BEFORE_S, sent_at + RECONCILE_AFTER_S
        found: list[str] = []
        for page in range(1, RECONCILE_MAX_PAGES + 1):
            data = request_json(
                self._client,
                "GET",
                TASKS_PATH,
                label=self.LABEL,
                params={
                    "page_num": page,
                    "page_size": RECONCILE_PAGE_SIZE,
                    "filter.model": request.model,
                },
            )
            items = data.get("items")
            if not isinstance(items, list):
                raise ProviderOutcomeUnknown(f"{self.LABEL}'s task list has no items array.")
            tasks = [item for item in items if isinstance(item, dict)]
            found += [
                str(item["id"])
                for item in tasks
                if _created_in(item, low, high)
                and _same_shape(item, request)
                and item["id"] not in known
            ]
            created = [c for c in (_created_at(item) for item in tasks) if c is not None]
            if len(items) < RECONCILE_PAGE_SIZE or (created and min(created) < low):
                break
        else:
            logger.warning("%s reconcile: %s pages did not reach the send time", self.name, page)
            return None
        if len(found) > 1:
            logger.warning("%s reconcile: %d candidate tasks %s", self.name, len(found), found)
            return None
        return found[0] if found else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def output_seconds(data: dict[str, Any]) -> float | None:
    """The output length: `duration` (seconds), or `frames` at 24 fps when frames were asked
    for (§1.8); None while unknown (-1 before an auto-length task ends)."""
    duration = data.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0:
        return float(duration)
    frames = data.get("frames")
    if isinstance(frames, int) and not isinstance(frames, bool) and frames > 1:
        return round((frames - 1) / 24, 3)  # 25+4n frames: n seconds of 24 fps plus one
    return None


def _created_at(item: dict[str, Any]) -> float | None:
    value = item.get("created_at")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _created_in(item: dict[str, Any], low: float, high: float) -> bool:
    created = _created_at(item)
    return created is not None and low <= created <= high and isinstance(item.get("id"), str)


def request_seed(request: GenerationRequest) -> int | None:
    """The `seed` we send: the caller's, else one drawn from our task id (`client_ref`), an
    int in [0, 2**31). Ark echoes `seed` in every task it lists (§1.8) and has no idempotency
    key, so this is what tells a lost create of ours from a twin's with the same model and
    shape in `reconcile`; a seed derived from a random UUID is as random as Ark's own. A final
    rendered from a draft sends none (it takes the draft's): None."""
    if request.draft_task_id:
        return None
    if request.seed is not None and request.seed != -1:
        return request.seed
    if request.client_ref:
        digest = hashlib.sha256(request.client_ref.encode()).digest()
        return int.from_bytes(digest[:4], "big") % 2**31
    return request.seed


def _same_shape(item: dict[str, Any], request: GenerationRequest) -> bool:
    pairs: list[tuple[str, object]] = [("resolution", request.resolution)]
    if request.draft_task_id:
        # A final: the draft it names is its shape (§1.8 lists `draft_task_id`).
        return all(
            item.get(key) in (None, wanted)
            for key, wanted in (*pairs, ("draft_task_id", request.draft_task_id))
        )
    seed = request_seed(request)
    if seed is not None and seed != -1:
        pairs.append(("seed", seed))
    if request.ratio != "adaptive":
        pairs.append(("ratio", request.ratio))
    if request.duration != -1:
        pairs.append(("duration", request.duration))
    return all(item.get(key) in (None, wanted) for key, wanted in pairs)


def _why_not_cancellable(word: str, label: str = LABEL) -> str:
    if word == "running":
        return (
            f"{label} cannot stop a task that is already rendering; it will finish and be billed."
        )
    if word == "cancelled":
        return f"The task is already cancelled at {label}."
    if word in ("succeeded", "failed", "expired"):
        return f"The task already ended at {label} ({word}); there is nothing to cancel."
    return f"{label} only cancels queued tasks; this one is {word!r}."
