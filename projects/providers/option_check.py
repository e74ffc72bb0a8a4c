"""The check of Ark's further create fields against a gateway's capability tables: draft
previews and finals rendered from them, `frames`, `camera_fixed`, the flex tier's
`execution_expires_after` (upstream-research §1.3, §1.4, §9).

`check_options` is called by `request_check.check_request`; each message names the gateway,
the rule and where it is written, e.g. "Ark renders a draft at 480p only, not 720p
(upstream-research §1.3: draft ... 480p only)."
"""

from __future__ import annotations

from projects.providers.base import GenerationRequest
from projects.providers.capabilities import (
    DRAFT_RESOLUTION,
    FRAMES_MAX,
    FRAMES_MIN,
    FRAMES_STEP,
    ModelCapabilities,
    ProviderCapabilities,
)

DRAFT_RULE = "upstream-research §1.3, §9: a draft is 1.5 pro's, 480p only, no last frame, no flex"
FINAL_RULE = "upstream-research §1.4, §9: a draft_task item renders the final from a draft"
FRAMES_RULE = "upstream-research §1.3: frames 25+4n in [29, 289], not on 2.0, 2.0 fast, 1.5 pro"
CAMERA_RULE = "upstream-research §1.3: camera_fixed, not on 2.0 nor with reference images"
EXPIRES_RULE = "upstream-research §1.3: execution_expires_after in [3600, 259200] seconds"


def check_options(
    caps: ProviderCapabilities, model: ModelCapabilities, request: GenerationRequest
) -> dict[str, str]:
    """Every draft, frames, camera_fixed and execution_expires_after limit `request` breaks on
    `model` through the gateway `caps`, as {field: message}; empty when none."""
    errors: dict[str, str] = {}
    who = caps.label
    if request.draft:
        errors.update(_check_draft(who, model, request))
    if request.draft_task_id:
        errors.update(_check_final(who, model, request))
    if request.frames is not None:
        if not model.frames:
            errors["frames"] = (
                f"{who} takes no frame count for {model.id}; give a duration "
                f"({model.describe_durations()}) ({FRAMES_RULE})."
            )
        elif not (
            FRAMES_MIN <= request.frames <= FRAMES_MAX
            and (request.frames - FRAMES_MIN) % FRAMES_STEP == 0
        ):
            errors["frames"] = (
                f"{who} takes {FRAMES_MIN}, {FRAMES_MIN + FRAMES_STEP}, ... {FRAMES_MAX} frames "
                f"(25 + a multiple of 4), not {request.frames} ({FRAMES_RULE})."
            )
    if request.camera_fixed is not None and request.camera_fixed:
        if not model.camera_fixed:
            errors["camera_fixed"] = (
                f"{who} does not take camera_fixed for {model.id} ({CAMERA_RULE})."
            )
        elif any(ref.role == "reference_image" for ref in request.references):
            errors["camera_fixed"] = (
                f"{who} does not take camera_fixed with reference images; use a first frame "
                f"or none ({CAMERA_RULE})."
            )
    if request.execution_expires_after is not None:
        if caps.expires_after is None:
            errors["execution_expires_after"] = (
                f"{who} has no execution_expires_after; its tasks end on its own terms "
                f"({caps.source})."
            )
        else:
            low, high = caps.expires_after
            if not low <= request.execution_expires_after <= high:
                errors["execution_expires_after"] = (
                    f"{who} expires a task after {low // 3600} to {high // 3600} hours "
                    f"({low}-{high} s), not {request.execution_expires_after} s "
                    f"({EXPIRES_RULE})."
                )
    return errors


def _check_draft(who: str, model: ModelCapabilities, request: GenerationRequest) -> dict:
    if not model.draft:
        return {"draft": f"{who} renders no draft with {model.id} ({DRAFT_RULE})."}
    errors = {}
    if request.draft_task_id:
        errors["draft"] = f"A final rendered from a draft is not a draft itself ({FINAL_RULE})."
    if request.resolution != DRAFT_RESOLUTION:
        errors["resolution"] = (
            f"{who} renders a draft at {DRAFT_RESOLUTION} only, not {request.resolution} "
            f"({DRAFT_RULE})."
        )
    if request.service_tier != "default":
        errors["service_tier"] = (
            f"{who} does not run a draft on the {request.service_tier} tier ({DRAFT_RULE})."
        )
    if request.return_last_frame:
        errors["draft"] = f"{who} returns no last frame for a draft ({DRAFT_RULE})."
    return errors


def _check_final(who: str, model: ModelCapabilities, request: GenerationRequest) -> dict:
    if not model.draft:
        return {"draft": f"{who} renders no final from a draft with {model.id} ({FINAL_RULE})."}
    if request.frames is not None:
        return {"frames": f"A final takes its length from its draft ({FINAL_RULE})."}
    return {}
