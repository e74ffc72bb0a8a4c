"""Named places where a test can make the worker die abruptly (tests/test_kill_points.py).

`crashpoint("name")` does nothing unless SEEDANCE_CRASHPOINT equals `name`; then the process
sends itself SIGKILL at once: no exception handler, `finally` or on-commit hook runs, exactly
as when the OOM killer or a power cut takes a worker. It exists only for those tests; never
set SEEDANCE_CRASHPOINT in production. The points, in a task's life:

- before_submit: the task is claimed (submitting, hold placed), the create not yet sent;
- after_submit: the gateway accepted the create, its task id is not yet saved;
- during_download: part of the output is on local disk, nothing in storage yet;
- before_settle: the output is in storage, the task not yet succeeded nor charged.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings

POINTS = frozenset({"before_submit", "after_submit", "during_download", "before_settle"})


def crashpoint(name: str) -> None:
    """SIGKILL this process if SEEDANCE_CRASHPOINT names this point (tests only)."""
    armed = getattr(settings, "SEEDANCE_CRASHPOINT", "")
    if armed and armed == name:
        os.kill(os.getpid(), signal.SIGKILL)
