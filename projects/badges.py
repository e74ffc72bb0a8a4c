"""The colour (CSS modifier) of a status or review badge, shared by the templates' filters and
the gallery tiles: ok, bad, warn, muted, busy."""

from __future__ import annotations

from projects.models import GenerationTask

Status = GenerationTask.Status

TONES = {
    Status.SUCCEEDED: "ok",
    Status.FAILED: "bad",
    Status.EXPIRED: "bad",
    Status.CANCELLED: "muted",
    Status.SUBMIT_UNKNOWN: "warn",
}
REVIEW_TONES = {"awaiting": "warn", "approved": "ok", "rejected": "bad"}
