"""Faults a test or a chaos run injects into the simulator: request faults (an HTTP status, a
timeout, a malformed or lost answer) and task faults (moderation, failure, expiry, expired
output links)."""

from __future__ import annotations

from dataclasses import dataclass

# Faults a test or a chaos run can inject; see `Fault`.
REQUEST_FAULTS = {
    "http_400",
    "moderation_input",
    "http_401",
    "http_403",
    "http_404",
    "http_429",
    "http_500",
    "http_503",
    "timeout",
    "malformed",
    "lost_create",
    "drop",
}
# link_expired: every output link handed out is already expired (the re-fetch fails too);
# link_expired_once: only the first answer's links are (a re-fetch gets fresh ones).
TASK_FAULTS = {"moderation_output", "fail", "expire", "link_expired", "link_expired_once"}
FAULT_KINDS = REQUEST_FAULTS | TASK_FAULTS


@dataclass
class Fault:
    """One injected fault. `op` is create | get | cancel | list | file | any; `dialect` None
    means every dialect; `count` how many times it fires (then it is gone)."""

    kind: str
    op: str = "any"
    dialect: str | None = None
    count: int = 1
    retry_after: float = 1.0
    hang_s: float = 5.0

    def matches(self, *, op: str, dialect: str) -> bool:
        if self.kind in TASK_FAULTS:
            return op == "create" and self.dialect in (None, dialect)
        return self.op in ("any", op) and self.dialect in (None, dialect)
