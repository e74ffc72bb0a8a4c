"""The provider interface every gateway adapter implements, and the shapes that cross it.

Providers know no Django models: services hand them a `GenerationRequest` and get back frozen
dataclasses. Upstream failures become the exception classes below at the adapter boundary
(projects/providers/http.py), so services never see httpx or raw JSON.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import Any

from projects.providers.capabilities import ProviderCapabilities


class UpstreamStatus(enum.StrEnum):
    """The normalised status of an upstream task (the gateways' words map onto these)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # a word no doc names: logged, kept non-terminal, never guessed

    @property
    def is_terminal(self) -> bool:
        return self in {self.SUCCEEDED, self.FAILED, self.EXPIRED, self.CANCELLED}


@dataclass(frozen=True)
class MediaReference:
    """A reference file the gateway fetches: `kind` image|video|audio, `role` a Seedance role
    (first_frame, last_frame, reference_image, reference_video, reference_audio), `url` an
    expiring https/http link or `asset://<id>`, `duration_s` seconds for video and audio.

    The probed facts below let `check_request` hold the file to a gateway's MediaLimits before
    anything is sent: `name` (how the user knows it), `format` (jpeg, png, mp4, wav, ...),
    `width`/`height` pixels, `fps` frames per second, `size_bytes` bytes. Adapters ignore them.
    """

    kind: str
    role: str
    url: str
    duration_s: float | None = None
    name: str = ""
    format: str = ""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """One structured generation request, mapped by each adapter onto its gateway's fields.

    Units: `duration` seconds (-1 = the model chooses), `seed` an int in [-1, 2**32-1] or None.
    `client_ref` is our task id, sent where a gateway stores metadata, used to reconcile.
    `service_tier` is Ark's "default" (online) or "flex" (offline, cheaper) where the model
    offers it (ModelCapabilities.service_tiers).

    Ark's further create fields (upstream-research §1.3, §1.4), each only where the model
    takes it: `draft` renders a 480p preview; `draft_task_id` is the upstream id of a draft
    to render the final from (it takes the draft's prompt, references, ratio, duration, seed,
    audio and camera_fixed); `frames` (25+4n in [29, 289]) replaces `duration`, which then
    holds its length rounded up; `camera_fixed` None is not sent; `execution_expires_after`
    seconds, None for the gateway's default (48 h).
    """

    model: str
    prompt: str
    ratio: str
    resolution: str
    duration: int
    generate_audio: bool = True
    watermark: bool = False
    seed: int | None = None
    references: tuple[MediaReference, ...] = ()
    callback_url: str | None = None
    return_last_frame: bool = False
    client_ref: str = ""
    service_tier: str = "default"
    draft: bool = False
    draft_task_id: str = ""
    frames: int | None = None
    camera_fixed: bool | None = None
    execution_expires_after: int | None = None


@dataclass(frozen=True)
class SubmitResult:
    """What a create call returned: the gateway's task id and its first status."""

    upstream_id: str
    status: UpstreamStatus = UpstreamStatus.QUEUED
    raw_status: str = ""
    vendor_cost: str = ""  # e.g. seedance2.ink creditsCharged, as the gateway wrote it
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TaskSnapshot:
    """What a status call returned, normalised. URLs expire (about 24 h upstream);
    `duration_s` is the output length the gateway reports, `usage` its raw usage object."""

    upstream_id: str
    status: UpstreamStatus
    raw_status: str
    video_url: str = ""
    cover_url: str = ""
    last_frame_url: str = ""
    duration_s: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    vendor_cost: str = ""
    error_code: str = ""
    error_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def positive_seconds(value: Any) -> float | None:
    """A gateway's JSON value as seconds when it is a positive number (not a bool), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class ProviderError(Exception):
    """Base of every upstream failure. `message` is safe to show a user (no keys, no
    vendor request ids); `code` is the gateway's error code; `http_status` its HTTP status."""

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class ProviderTransientError(ProviderError):
    """Retry later: connection refused, 429 (with `retry_after` seconds when given), 5xx.
    The request did not create anything upstream."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderOutcomeUnknown(ProviderTransientError):
    """The request was sent but its answer was lost or unreadable (read timeout, dropped
    connection, malformed body). For a create this means a task may exist upstream:
    never resubmit blindly, reconcile."""


class ProviderRejectedError(ProviderError):
    """A final refusal. `kind` is one of: validation, moderation, auth, quota, not_found,
    conflict. Auth means the API key or account is wrong and an admin must act."""

    def __init__(self, message: str, *, kind: str = "validation", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind


class CancelNotSupported(ProviderError):
    """The gateway has no cancel, or not in the task's current status; `message` says why."""


class VideoProvider(abc.ABC):
    """One upstream gateway. Subclasses set `name` and implement the five operations."""

    name: str = ""

    @abc.abstractmethod
    def capabilities(self) -> ProviderCapabilities:
        """Models and limits this gateway documents (projects/providers/capabilities.py)."""

    @abc.abstractmethod
    def submit(self, request: GenerationRequest) -> SubmitResult:
        """Create an upstream task. Raises ProviderTransientError, ProviderOutcomeUnknown,
        ProviderRejectedError."""

    @abc.abstractmethod
    def fetch(self, upstream_id: str) -> TaskSnapshot:
        """Read an upstream task's status and outputs. Raises like `submit`."""

    # How many tasks one status request can ask about (0: one at a time, `fetch` only).
    batch_size: int = 0

    def create_wait_seconds(self, request: GenerationRequest) -> float | None:
        """Seconds `submit(request)` may wait for its answer when that is longer than a usual
        API call (a gateway that answers a create only when the video is done), so the
        caller's lease on the submit outlasts it; None for an ordinary create."""
        return None

    def fetch_many(self, upstream_ids: list[str]) -> dict[str, TaskSnapshot]:
        """Read up to `batch_size` tasks in one request: {upstream id: snapshot}. An id the
        gateway left out of its answer is missing from the dict (ask it alone with `fetch`).
        Raises like `fetch`; only adapters with `batch_size` > 0 implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no batch status request")

    def cancel(self, upstream_id: str) -> TaskSnapshot | None:
        """Cancel an upstream task; returns its new snapshot when the gateway says one.
        Raises CancelNotSupported when the gateway cannot."""
        raise CancelNotSupported(f"{self.capabilities().label} has no cancel operation.")

    def reconcile(
        self, request: GenerationRequest, *, sent_at: float, known: frozenset[str] = frozenset()
    ) -> str | None:
        """After a create whose answer was lost: the upstream id of the task that create made,
        '' when the gateway shows it made none, None when the gateway cannot tell (then an admin
        decides). `sent_at` is the unix time the create was sent; `known` are upstream ids that
        other tasks of ours already follow, so never this create's. Never creates anything."""
        return None

    def parse_callback(self, body: bytes) -> str:
        """The upstream task id a callback body is about (never trusted beyond that: the
        caller re-fetches the task). Raises ProviderError on an unreadable body."""
        raise ProviderError(f"{self.capabilities().label} does not send callbacks.")

    def callback_status(self, body: bytes) -> UpstreamStatus:
        """The status a callback body claims, as a hint only (never applied without a
        re-fetch). UNKNOWN, the default, means "maybe final": the caller re-fetches. A gateway
        that calls back on every change (Ark) says QUEUED/RUNNING so those need no request."""
        return UpstreamStatus.UNKNOWN

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters have nothing to close
        """Release pooled connections."""
