"""A worker process for the fault tests (tests/test_kill_points.py, tests/test_outages.py).

Run as `python -m tests.worker_proc <task id>...` with the test database and the simulator
given through the environment (see `worker_env` in tests/test_kill_points.py). It runs the
product's own due-task sweep (services/sweep.py) for those tasks, with jobs inline, until
all of them have ended: exit 0, or 3 when WORKER_MAX_SECONDS pass first, or 4 as soon as
each has an event of kind WORKER_STOP_ON_EVENT (e.g. needs_admin), when that is set. A
crashpoint armed by SEEDANCE_CRASHPOINT kills it on the way (exit -9), as a real worker would.
"""

from __future__ import annotations

import os
import sys
import time


def main(task_ids: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings

    media = os.environ.get("WORKER_MEDIA_ROOT")
    if media:  # the test's own media directory (tests/conftest.py `_media_root`)
        settings.MEDIA_ROOT = media
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": media},
            },
        }
    from django.db import DatabaseError, close_old_connections, connection

    from projects.models import GenerationTask, TaskEvent
    from projects.services.sweep import generation_tasks_sweep

    stop_on = os.environ.get("WORKER_STOP_ON_EVENT", "")
    deadline = time.monotonic() + float(os.environ.get("WORKER_MAX_SECONDS", "60"))
    while time.monotonic() < deadline:
        active = GenerationTask.objects.filter(pk__in=task_ids, status__in=GenerationTask.ACTIVE)
        try:
            if not active.exists():
                return 0
            if stop_on:
                flagged = TaskEvent.objects.filter(task_id__in=task_ids, kind=stop_on)
                if flagged.values("task_id").distinct().count() == len(task_ids):
                    return 4
        except DatabaseError as exc:  # as django-q2's cluster outlives its broker's database
            print(f"worker: database unavailable ({exc})", file=sys.stderr)
            connection.close()
            time.sleep(0.5)
            continue
        generation_tasks_sweep(max_seconds=0.5, concurrency=1, until_idle=True, only=task_ids)
        close_old_connections()
        time.sleep(0.05)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
