"""Deleting a generation: its stored files go, pages stop showing it, its ledger stays."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.access import check_may_change
from projects.audit import audit_record
from projects.exceptions import InvalidStateTransition
from projects.generation import lifecycle
from projects.models import GenerationReference, GenerationTask
from projects.services.assets import assets_purge_released


def generation_task_delete(*, task: GenerationTask, user: AbstractBaseUser) -> str:
    """Delete `task` (from access_generation_task, with its `viewer_role`) for `user`; returns
    what happened, in a sentence.

    Only a generation that has ended can be deleted, by whoever made it or a team admin
    (or any member, where the team allows it: access.may_change). Its
    video, cover and last frame are removed from storage once the transaction commits; its
    references are dropped, so an asset removed from the library and used only here is
    purged with its files (services/assets.py). The row stays, marked `deleted_at`: the
    ledger entries that name it (hold, charge, release) are append-only and keep the spend
    pages true. Raises InvalidStateTransition while the task runs and ApplicationError for a
    user who may not delete it.
    """
    if not task.is_terminal:
        raise InvalidStateTransition(
            "This generation is still running: cancel it first, or delete it once it ends."
        )
    check_may_change(
        user,
        owner_id=task.created_by_id,
        team=task.project.team,
        role=getattr(task, "viewer_role", None),
        action="delete",
    )
    with transaction.atomic():
        locked = (
            GenerationTask.objects.select_for_update()
            .filter(pk=task.pk, deleted_at__isnull=True)
            .first()
        )
        if locked is None:
            return "This generation was already deleted."
        files = [f.name for f in (locked.video, locked.cover, locked.last_frame) if f]
        lifecycle.record(task.pk, deleted_at=timezone.now(), video="", cover="", last_frame="")
        GenerationReference.objects.filter(task=task).delete()
        # Their pages stop linking to it ("Revision of an earlier video").
        lifecycle.touch(where=Q(revised_from=task.pk))
        lifecycle.event_add(
            task_id=task.pk, kind="deleted", message=f"Deleted by {user.get_username()}."
        )
        audit_record(
            actor=user,
            action="generation.deleted",
            team=task.project.team,
            target=task,
            details={"files": len(files)},
        )
        transaction.on_commit(lambda: _files_delete(files))
    return "Generation deleted with its video. Its cost stays in the spend records."


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
    assets_purge_released()
