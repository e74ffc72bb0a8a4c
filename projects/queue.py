"""Sending jobs to the django-q2 worker: by dotted path, ids only, after commit.

Services call `enqueue_on_commit`; nothing else touches django-q2's `async_task`, so a move
to another queue touches this file only. With `settings.SEEDANCE_JOBS_INLINE` (tests, the
`generate` command's --inline mode) the job runs at once in this process instead.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def enqueue(func: str, *args: str) -> None:
    """Run `func(*args)` on the worker; `args` are ids (strings), never model instances."""
    if getattr(settings, "SEEDANCE_JOBS_INLINE", False):
        import_string(func)(*args)
        return
    from django_q.tasks import async_task

    async_task(func, *args, task_name=f"{func.rsplit('.', 1)[-1]}:{','.join(args)}"[:100])


def enqueue_on_commit(func: str, *args: str) -> None:
    """Enqueue once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(enqueue, func, *args))
