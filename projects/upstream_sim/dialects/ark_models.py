"""The Seedance models the official tasks API offers, and what each accepts: one table for
Volcengine Ark (`doubao-` ids) and the same models under their BytePlus ModelArk ids
(docs/upstream-research.md §1.2, §9). Shared by the Ark, BytePlus and AceData dialects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from projects.upstream_sim.dialects.base import BadRequest

RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
MODEL_NOT_FOUND = "InvalidEndpointOrModel.NotFound"  # Ark answers it with HTTP 404 (§1.11)


@dataclass(frozen=True)
class ModelRules:
    """What one model accepts (§1.2, §1.3, §1.6). Durations in seconds."""

    id: str
    min_duration: int
    max_duration: int
    auto_duration: bool
    resolutions: tuple[str, ...]
    default_resolution: str
    text_to_video: bool = True
    first_frame: bool = True
    first_last: bool = True
    max_ref_images: int = 0
    max_ref_videos: int = 0
    max_ref_audios: int = 0
    max_refs: int = 0
    audio: bool = False
    frames: bool = True  # `frames` instead of duration (§1.3: not 1.5 pro, 2.0, 2.0 fast)
    flex: bool = True  # service_tier flex (§1.3: not 2.0 / 2.0 fast)
    draft: bool = False  # draft previews and draft_task finals (§1.3, §9: 1.5 pro)
    camera_fixed: bool = True  # §1.3: not on 2.0, nor in reference-image mode
    portraits: bool = False  # asset:// references
    tools: bool = False  # tools web_search and omni_reference_task_type (2.x)
    output_formats: tuple[str, ...] = ()  # output_format: §1.3 documents mp4/mov for 2.5 only
    ratios: tuple[str, ...] = RATIOS
    ref_resolutions: tuple[str, ...] | None = None

    def has_duration(self, duration: int) -> bool:
        if duration == -1:
            return self.auto_duration
        return self.min_duration <= duration <= self.max_duration


_2X: dict[str, Any] = dict(
    min_duration=4,
    max_duration=15,
    auto_duration=True,
    default_resolution="720p",
    max_ref_images=9,
    max_ref_videos=3,
    max_ref_audios=3,
    max_refs=12,
    audio=True,
    frames=False,
    flex=False,
    camera_fixed=False,
    portraits=True,
    tools=True,
)
_1X: dict[str, Any] = dict(
    min_duration=2, max_duration=12, auto_duration=False, resolutions=("480p", "720p", "1080p")
)
VOLCENGINE: dict[str, ModelRules] = {
    rules.id: rules
    for rules in (
        ModelRules(id="doubao-seedance-2-0-260128", resolutions=("480p", "720p", "1080p"), **_2X),
        ModelRules(id="doubao-seedance-2-0-fast-260128", resolutions=("480p", "720p"), **_2X),
        ModelRules(
            id="doubao-seedance-1-5-pro-251215",
            **{**_1X, "min_duration": 4, "auto_duration": True},
            default_resolution="720p",
            audio=True,
            frames=False,
            draft=True,
        ),
        ModelRules(id="doubao-seedance-1-0-pro-250528", default_resolution="1080p", **_1X),
        ModelRules(
            id="doubao-seedance-1-0-pro-fast-251015",
            default_resolution="720p",
            first_last=False,
            **_1X,
        ),
        ModelRules(
            id="doubao-seedance-1-0-lite-t2v-250428",
            default_resolution="480p",
            first_frame=False,
            first_last=False,
            ratios=RATIOS[:-1],
            **_1X,
        ),
        ModelRules(
            id="doubao-seedance-1-0-lite-i2v-250428",
            default_resolution="480p",
            text_to_video=False,
            max_ref_images=4,
            max_refs=4,
            ref_resolutions=("480p", "720p"),
            **_1X,
        ),
    )
}
# BytePlus ids (§1.2 table; §9): no `doubao-` prefix, and 2.x ids start `dreamina-`.
BYTEPLUS_IDS = {
    "doubao-seedance-2-0-260128": "dreamina-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128": "dreamina-seedance-2-0-fast-260128",
    "doubao-seedance-1-5-pro-251215": "seedance-1-5-pro-251215",
    "doubao-seedance-1-0-pro-250528": "seedance-1-0-pro-250528",
    "doubao-seedance-1-0-pro-fast-251015": "seedance-1-0-pro-fast-251015",
    "doubao-seedance-1-0-lite-t2v-250428": "seedance-1-0-lite-t2v-250428",
    "doubao-seedance-1-0-lite-i2v-250428": "seedance-1-0-lite-i2v-250428",
}
BYTEPLUS: dict[str, ModelRules] = {
    BYTEPLUS_IDS[rules.id]: replace(rules, id=BYTEPLUS_IDS[rules.id])
    for rules in VOLCENGINE.values()
}


def model_rules(model: Any, models: dict[str, ModelRules] = VOLCENGINE) -> ModelRules:
    """The rules of `model` in the table `models`, or BadRequest (MODEL_NOT_FOUND, a 404 on
    Ark) for an id the gateway lacks."""
    if not isinstance(model, str) or not model:
        raise BadRequest("model", "The parameter `model` must be a model id string.")
    rules = models.get(model)
    if rules is None:
        raise BadRequest(
            "model",
            f"The model or endpoint {model} does not exist or you do not have access to it.",
            code=MODEL_NOT_FOUND,
        )
    return rules
