"""Status words of every gateway, mapped explicitly onto UpstreamStatus.

Words come from the docs: Ark queued/running/succeeded/failed/expired/cancelled
(upstream-research.md §1.9); AllToken queued/processing/completed/failed/expired/cancelled;
seedance2.ink queued/processing/succeeded/failed/cancelled; TokenHub queued/running/succeeded/
failed. A word not listed here is logged and treated as still in progress, never guessed.
"""

import logging

from projects.providers.base import UpstreamStatus

logger = logging.getLogger(__name__)

STATUS_WORDS: dict[str, UpstreamStatus] = {
    "queued": UpstreamStatus.QUEUED,
    "processing": UpstreamStatus.RUNNING,
    "running": UpstreamStatus.RUNNING,
    "completed": UpstreamStatus.SUCCEEDED,
    "succeeded": UpstreamStatus.SUCCEEDED,
    "failed": UpstreamStatus.FAILED,
    "expired": UpstreamStatus.EXPIRED,
    "cancelled": UpstreamStatus.CANCELLED,
}


def normalise_status(word: object, *, provider: str, upstream_id: str = "") -> UpstreamStatus:
    """UpstreamStatus for a gateway's status word; UNKNOWN (logged) for anything else."""
    status = STATUS_WORDS.get(str(word).strip().lower()) if isinstance(word, str) else None
    if status is None:
        logger.warning(
            "unknown upstream status word provider=%s upstream_id=%s word=%r",
            provider,
            upstream_id,
            word,
        )
        return UpstreamStatus.UNKNOWN
    return status
