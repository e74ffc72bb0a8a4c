"""The team API's request and answer shapes (pydantic, through django-ninja), as Ark has them
(upstream-research §1.3, §1.4, §1.8, §1.11). They make the OpenAPI document
(/api/v3/openapi.json) and check bodies before any code of ours runs; the bounds here keep a
number out of range from ever reaching the database."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

Url = Annotated[str, Field(min_length=1, max_length=5_000_000)]  # data: URLs are long


class Strict(Schema):
    """A body object: unknown fields are an error naming them, as on Ark."""

    model_config = ConfigDict(extra="forbid")


class MediaUrl(Strict):
    url: Url


class TextItem(Strict):
    type: Literal["text"]
    text: Annotated[str, Field(max_length=20_000)]


class ImageItem(Strict):
    type: Literal["image_url"]
    image_url: MediaUrl
    role: Literal["first_frame", "last_frame", "reference_image"] | None = None


class VideoItem(Strict):
    type: Literal["video_url"]
    video_url: MediaUrl
    role: Literal["reference_video"] | None = None


class AudioItem(Strict):
    type: Literal["audio_url"]
    audio_url: MediaUrl
    role: Literal["reference_audio"] | None = None


class DraftTask(Strict):
    id: Annotated[str, Field(max_length=200)]


class DraftItem(Strict):
    type: Literal["draft_task"]
    draft_task: DraftTask


ContentItem = Annotated[
    TextItem | ImageItem | VideoItem | AudioItem | DraftItem, Field(discriminator="type")
]


class CreateTaskIn(Strict):
    """POST /contents/generations/tasks. Every field the official SDK's `create()` sends
    (unset ones as null). `model` is an Ark model id (or any configured gateway's id);
    `duration` -1 lets the model choose; `seed` -1 or null is random. `draft`, `frames`,
    `tools`, `camera_fixed`, `priority`, `execution_expires_after`, `output_format` and
    `omni_reference_task_type` are taken only at their defaults; `safety_identifier` is
    accepted and not used."""

    model: Annotated[str, Field(min_length=1, max_length=200)]
    content: Annotated[list[ContentItem], Field(min_length=1, max_length=50)]
    callback_url: Annotated[str, Field(max_length=2000)] | None = None
    return_last_frame: bool | None = None
    service_tier: Literal["default", "flex"] | None = None
    execution_expires_after: Annotated[int, Field(ge=3600, le=259200)] | None = None
    priority: Annotated[int, Field(ge=0, le=9)] | None = None
    generate_audio: bool | None = None
    draft: bool | None = None
    camera_fixed: bool | None = None
    watermark: bool | None = None
    seed: Annotated[int, Field(ge=-1, le=4294967295)] | None = None
    resolution: Annotated[str, Field(max_length=16)] | None = None
    ratio: Annotated[str, Field(max_length=16)] | None = None
    duration: Annotated[int, Field(ge=-1, le=600)] | None = None
    frames: Annotated[int, Field(ge=1, le=1000)] | None = None
    tools: list[dict[str, Any]] | None = None
    safety_identifier: Annotated[str, Field(max_length=64)] | None = None
    output_format: Annotated[str, Field(max_length=8)] | None = None
    omni_reference_task_type: Annotated[str, Field(max_length=16)] | None = None


class TaskIdOut(Schema):
    id: str


class ErrorBody(Schema):
    code: str
    message: str
    param: str | None = None
    type: str | None = None


class ErrorOut(Schema):
    """Ark's error envelope."""

    error: ErrorBody


class Open(Schema):
    model_config = ConfigDict(extra="allow")


class TaskContent(Open):
    video_url: str | None = None
    last_frame_url: str | None = None


class TaskUsage(Open):
    """What we charged: Ark's token counts where the price is per million tokens, and
    `charged_usd` with its `unit` (second, mtokens, credit) and `quantity` always."""

    completion_tokens: int | None = None
    total_tokens: int | None = None
    charged_usd: str | None = None
    unit: str | None = None
    quantity: float | None = None


class TaskError(Open):
    code: str
    message: str


class TaskOut(Open):
    """A task as Ark's GET shows it (§1.8), plus `seedance` (our own facts)."""

    id: str
    model: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
    created_at: int
    updated_at: int
    content: TaskContent | None = None
    usage: TaskUsage | None = None
    error: TaskError | None = None
    seed: int | None = None
    resolution: str | None = None
    ratio: str | None = None
    duration: int | None = None
    framespersecond: int | None = None
    service_tier: str | None = None
    execution_expires_after: int | None = None
    generate_audio: bool | None = None
    draft: bool | None = None
    seedance: dict[str, Any] | None = None


class TaskListOut(Schema):
    total: int
    items: list[TaskOut]


class EmptyOut(Open):
    """DELETE answers `{}` (§1.9)."""
