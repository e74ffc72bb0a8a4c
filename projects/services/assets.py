"""A project's reference media library: uploads, renames, portrait ids, deletion.

An upload is first copied to a scratch file (hashed, size-capped), probed by its content
(projects/media.py) and given a thumbnail or poster; only a file that passes is stored, under the
team's key (projects/storage.py), and recorded. If recording fails, the stored files are deleted;
the scratch file is always removed. So a refused file leaves nothing behind: no row, no stored
file, no scratch file.

Whether a gateway accepts an asset (pixels, seconds, fps, bytes: `MediaLimits`) is checked when
it is used in a generation (services/generation.py), not here: the library keeps any file we can
read, and each gateway judges it by its own rules.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, RestrictedError
from django.utils import timezone
from django.utils.text import Truncator, slugify

from projects.access import check_may_change
from projects.exceptions import ApplicationError
from projects.media import MediaInfo, MediaInvalid, make_poster, probe_media
from projects.models import Asset, GenerationTask, Project
from projects.storage import MB, asset_key, delete_quietly, save_file, temp_dir

Upload = UploadedFile | Path
# An AllToken portrait asset id as its Portrait API returns it; a pasted asset:// is stripped.
PORTRAIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$")
NAME_MAX = 200


@dataclass(frozen=True)
class ProbedUpload:
    """An upload copied to the scratch file `path` and probed: `name` is its original file
    name, `sha256` and `size_bytes` (bytes) of its content, `info` what it is."""

    path: Path
    name: str
    info: MediaInfo
    sha256: str
    size_bytes: int


@contextmanager
def upload_probed(upload: Upload, *, name: str = "") -> Iterator[ProbedUpload]:
    """Copy `upload` (a Django UploadedFile, or a local file path for the CLI; the path itself
    is never moved or changed) to a scratch file, probe it, and yield it; the scratch file is
    removed on exit unless it was stored (moved) meanwhile.

    Raises MediaInvalid: empty, larger than SEEDANCE_UPLOAD_MAX_MB, or not a readable image,
    video or audio file of an accepted type.
    """
    name = name or _original_name(upload)
    limit = settings.SEEDANCE_UPLOAD_MAX_MB * MB
    fd, scratch = tempfile.mkstemp(dir=temp_dir(), prefix="up-", suffix=".part")
    path = Path(scratch)
    try:
        digest = hashlib.sha256()
        size = 0
        with open(fd, "wb") as out:
            for chunk in _chunks(upload):
                size += len(chunk)
                if size > limit:
                    raise MediaInvalid(
                        f"“{name}” is larger than {settings.SEEDANCE_UPLOAD_MAX_MB} MB, the most "
                        "an upload may be."
                    )
                digest.update(chunk)
                out.write(chunk)
        info = probe_media(path, name=name)
        yield ProbedUpload(
            path=path, name=name, info=info, sha256=digest.hexdigest(), size_bytes=size
        )
    finally:
        path.unlink(missing_ok=True)


def asset_store_files(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    probed: ProbedUpload,
    name: str = "",
    source_task: GenerationTask | None = None,
) -> Asset:
    """Store a probed upload (and its thumbnail or poster) under a new asset key and return the
    *unsaved* Asset describing it. The scratch file is moved into storage.

    The caller saves the row and, if that fails, deletes the files (`asset_files_delete`).
    Raises OSError (storage down) after deleting whatever it had stored.
    """
    info = probed.info
    asset_id = uuid.uuid4()
    stem = slugify(Path(probed.name).stem)[:60] or info.kind
    key = asset_key(team_id=project.team_id, asset_id=asset_id, filename=f"{stem}.{info.extension}")
    stored: list[str] = []
    try:
        poster_name = _store_poster(project, asset_id, probed)
        stored.append(poster_name)
        stored.append(save_file(probed.path, key, sha256=probed.sha256))
    except BaseException:
        delete_quietly(stored)
        raise
    return Asset(
        id=asset_id,
        team_id=project.team_id,
        project=project,
        kind=info.kind,
        name=(name or probed.name or f"{stem}.{info.extension}")[:NAME_MAX],
        file=key,
        poster=poster_name,
        original_filename=probed.name[:255],
        content_type=info.content_type,
        container=info.format,
        codec=info.codec[:40],
        size_bytes=probed.size_bytes,
        sha256=probed.sha256,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        fps=info.fps,
        uploaded_by=user,
        source_task=source_task,
    )


def asset_files_delete(asset: Asset) -> None:
    """Delete an asset's stored file and poster (quietly: used while undoing)."""
    delete_quietly([asset.file.name, asset.poster.name])


def asset_create(
    *, project: Project, user: AbstractBaseUser | None, upload: Upload, name: str = ""
) -> Asset:
    """Add one uploaded file to the project's library: probe, store, record.

    Raises MediaInvalid (nothing stored, nothing recorded). The caller must have checked the
    user's access to `project` (projects/access.py).
    """
    with upload_probed(upload) as probed:
        asset = asset_store_files(project=project, user=user, probed=probed, name=name)
    _save_or_undo(asset)
    return asset


def asset_update(
    *, asset: Asset, user: AbstractBaseUser, name: str, alltoken_asset_id: str = ""
) -> Asset:
    """Rename an asset and set (or clear, with '') its AllToken portrait asset id, which makes
    generations through AllToken send it as asset://<id> (AllToken Portrait guide).
    Raises ApplicationError on an empty name or a malformed id, or when `user` may not change
    it (access.may_change: its uploader, a team admin, or any member where the team allows
    it; `asset.viewer_role` from access_asset is used when present)."""
    _check_may_change(asset, user, "change")
    name = name.strip()
    if not name:
        raise ApplicationError("Give the asset a name.")
    portrait = alltoken_asset_id.strip().removeprefix("asset://")
    if portrait and not PORTRAIT_ID.match(portrait):
        raise ApplicationError(
            "An AllToken portrait asset id is 1-120 letters, digits, '.', '_', ':' or '-', "
            "as the Portrait API returned it (without spaces)."
        )
    asset.name = name[:NAME_MAX]
    asset.alltoken_asset_id = portrait
    asset.save(update_fields=["name", "alltoken_asset_id"])
    return asset


def asset_delete(*, asset: Asset, user: AbstractBaseUser) -> str:
    """Delete an asset from its library for `user`; returns what happened, for the user.
    Raises ApplicationError when `user` may not (as `asset_update`).

    An asset no generation uses is deleted with its files. One that generations use is hidden
    from the library but kept (its generations still show it, and a gateway may still fetch
    it) until the last of those generations is deleted (`assets_purge_released`).
    """
    _check_may_change(asset, user, "delete")
    uses = asset.references.values("task").distinct().count()
    if not uses:
        try:
            with transaction.atomic():
                asset.delete()
        except RestrictedError:  # a generation started using it meanwhile
            uses = asset.references.values("task").distinct().count()
        else:
            transaction.on_commit(lambda: asset_files_delete(asset))
            return f"Deleted “{asset.name}”."
    Asset.objects.filter(pk=asset.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())
    plural = "generation uses" if uses == 1 else "generations use"
    return (
        f"Removed “{asset.name}” from the library. {uses} {plural} it, so its file is kept "
        "until they are deleted."
    )


def assets_purge_released() -> int:
    """Delete assets removed from their library whose last generation is gone, with their
    files. Returns how many. Run after generations are deleted."""
    released = list(
        Asset.objects.filter(deleted_at__isnull=False)
        .annotate(uses=Count("references"))
        .filter(uses=0)
    )
    done = 0
    for asset in released:
        try:
            with transaction.atomic():
                asset.delete()
        except RestrictedError:
            continue
        asset_files_delete(asset)
        done += 1
    return done


def asset_from_last_frame(*, task: GenerationTask, user: AbstractBaseUser) -> Asset:
    """The task's stored last frame as an image asset of its project (made once, then reused),
    ready to be the first frame of a new generation. Raises ApplicationError when the task
    has no stored last frame, MediaInvalid if the stored file is not a readable image."""
    if not task.last_frame:
        raise ApplicationError("This generation has no last frame (its gateway returns none).")
    existing = Asset.objects.filter(
        source_task=task, kind=Asset.Kind.IMAGE, deleted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    fd, scratch = tempfile.mkstemp(dir=temp_dir(), prefix="lf-", suffix=".part")
    path = Path(scratch)
    try:
        with open(fd, "wb") as out, default_storage.open(task.last_frame.name, "rb") as src:
            shutil.copyfileobj(src, out, MB)
        filename = f"last-frame-{str(task.pk)[:8]}{Path(task.last_frame.name).suffix}"
        with upload_probed(path, name=filename) as probed:
            asset = asset_store_files(
                project=task.project,
                user=user,
                probed=probed,
                name=f"Last frame of “{Truncator(task.prompt).words(8)}”",
                source_task=task,
            )
    finally:
        path.unlink(missing_ok=True)
    _save_or_undo(asset)
    return asset


def _save_or_undo(asset: Asset) -> None:
    try:
        asset.full_clean(validate_unique=False, validate_constraints=False)
        asset.save(force_insert=True)
    except BaseException:
        asset_files_delete(asset)
        raise


def _store_poster(project: Project, asset_id: uuid.UUID, probed: ProbedUpload) -> str:
    fd, scratch = tempfile.mkstemp(dir=temp_dir(), prefix="poster-", suffix=".jpg")
    path = Path(scratch)
    try:
        with open(fd, "wb"):
            pass
        try:
            made = make_poster(probed.path, probed.info, path)
        except Exception as exc:  # probing decoded it, so this is unexpected: no poster then
            raise MediaInvalid(f"“{probed.name}” could not be turned into a preview.") from exc
        if not made:
            return ""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = asset_key(team_id=project.team_id, asset_id=asset_id, filename="poster.jpg")
        return save_file(path, key, sha256=digest)
    finally:
        path.unlink(missing_ok=True)


def _original_name(upload: Upload) -> str:
    if isinstance(upload, Path):
        return upload.name
    return Path(upload.name or "upload").name


def _chunks(upload: Upload) -> Iterator[bytes]:
    if isinstance(upload, Path):
        try:
            handle = open(upload, "rb")
        except OSError as exc:
            raise MediaInvalid(f"“{upload}” cannot be read ({exc.strerror}).") from exc
        with handle:
            yield from iter(lambda: handle.read(MB), b"")
        return
    yield from upload.chunks(MB)


def _check_may_change(asset: Asset, user: AbstractBaseUser, action: str) -> None:
    check_may_change(
        user,
        owner_id=asset.uploaded_by_id,
        team=asset.team,
        role=getattr(asset, "viewer_role", None),
        action=action,
    )
