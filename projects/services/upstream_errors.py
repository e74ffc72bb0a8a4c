"""Turning a gateway's failure codes into messages a team member can act on."""

from __future__ import annotations

from projects.providers.base import UpstreamStatus
from projects.providers.http import clean_message

OUTPUT_MODERATION = (
    "OutputVideoSensitiveContentDetected",
    "OutputAudioSensitiveContentDetected",
    "OutputImageRiskDetection",
)


def failure_message(*, status: UpstreamStatus, code: str, message: str, provider_label: str) -> str:
    """A user-facing sentence for a task that ended without a video. Nothing is charged for
    these (upstream-research.md §1.11: moderation failures are not billed)."""
    detail = clean_message(message)
    if any(code.startswith(prefix) for prefix in OUTPUT_MODERATION):
        what = "audio" if "Audio" in code else "video"
        return (
            f"The gateway's moderation blocked the generated {what} ({code}). This happens "
            "at random on some prompts; trying again or rewording usually works. Nothing was "
            "charged."
        )
    if "SensitiveContent" in code or "RiskDetection" in code:
        return f"The gateway's moderation refused the input ({code}): {detail}"
    if status == UpstreamStatus.EXPIRED:
        return detail or "The gateway gave up on the task before it finished (expired)."
    if status == UpstreamStatus.CANCELLED:
        return detail or "The task was cancelled."
    return detail or f"The gateway reported a failure{f' ({code})' if code else ''}."
