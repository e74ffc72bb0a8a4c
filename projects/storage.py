"""Where files live and how links to them are handed out.

Keys: everything a team owns sits under `teams/<team id>/` (assets, outputs), so a bucket policy
or a clean-up can work per team. Files are private: a browser or a gateway gets an expiring link,
presigned on S3 (django-storages `S3Storage`) or signed by Django for local storage (served by
`views_media.signed_media`). Saving is idempotent per key: a key that already holds the same
bytes is reused, never silently replaced by different ones.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse

_SALT = "projects.storage.signed-media"


class StorageConflict(Exception):
    """A key already holds different bytes that we must not overwrite."""


def team_prefix(team_id: object) -> str:
    return f"teams/{team_id}"


def output_key(*, team_id: object, task_id: object, filename: str) -> str:
    """Key of a generation output: teams/<team>/outputs/<task>/<filename>."""
    return f"{team_prefix(team_id)}/outputs/{task_id}/{filename}"


def asset_key(*, team_id: object, asset_id: object, filename: str) -> str:
    """Key of an uploaded reference: teams/<team>/assets/<asset>/<filename>."""
    return f"{team_prefix(team_id)}/assets/{asset_id}/{filename}"


def temp_dir() -> Path:
    """A scratch directory on the same filesystem as local media, so saves are renames."""
    path = Path(settings.MEDIA_ROOT).parent / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _DiskFile(File):
    # FileSystemStorage moves a file that has temporary_file_path() instead of copying it.
    def __init__(self, path: Path, name: str) -> None:
        super().__init__(open(path, "rb"), name=name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def stored_sha256(name: str) -> str:
    """sha256 hex of a stored file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_file(path: Path, key: str, *, sha256: str, move: bool = True) -> str:
    """Store the local file at `path` under `key` and return the stored name (== key).

    Idempotent: if `key` already holds bytes with this `sha256` it is kept; if it holds other
    bytes (a half-finished earlier attempt on a key only this caller writes) it is replaced.
    With `move` (default) a local-storage save is a rename and `path` is gone afterwards.
    """
    storage = default_storage
    if storage.exists(key):
        if stored_sha256(key) == sha256:
            if move:
                path.unlink(missing_ok=True)
            return key
        storage.delete(key)
    if move and isinstance(storage, FileSystemStorage):
        handle = _DiskFile(path, key)
    else:
        handle = File(open(path, "rb"), name=key)
    try:
        name = storage.save(key, handle)
    finally:
        handle.close()
        if move:
            path.unlink(missing_ok=True)
    if name != key:  # storage picked another name: someone wrote the key meanwhile
        storage.delete(name)
        raise StorageConflict(f"{key} was written concurrently")
    return name


def signed_url(
    name: str, *, ttl: int | None = None, absolute: bool = False, download_as: str = ""
) -> str:
    """An expiring link to the stored file `name`, valid `ttl` seconds (SEEDANCE_LINK_TTL).

    S3: a presigned GET. Local: a Django-signed /media/ link; `absolute` prefixes SITE_URL (links
    handed to gateways must be absolute). `download_as` makes browsers save the file under that
    name instead of showing it.
    """
    ttl = ttl or settings.SEEDANCE_LINK_TTL
    if not isinstance(default_storage, FileSystemStorage):
        parameters = (
            {"ResponseContentDisposition": f'attachment; filename="{download_as}"'}
            if download_as
            else None
        )
        return default_storage.url(name, parameters=parameters, expire=ttl)
    payload = {"n": name, "x": int(time.time()) + ttl}
    if download_as:
        payload["d"] = download_as
    token = signing.dumps(payload, salt=_SALT, compress=True)
    path = reverse("signed_media", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}" if absolute else path


def unsign(token: str) -> tuple[str, str]:
    """(stored name, download filename or '') a local signed link points at. Raises
    signing.BadSignature when the token was tampered with, signing.SignatureExpired when it is
    past its expiry."""
    payload = signing.loads(token, salt=_SALT)
    if not isinstance(payload, dict) or "n" not in payload or "x" not in payload:
        raise signing.BadSignature("malformed media token")
    if int(payload["x"]) < time.time():
        raise signing.SignatureExpired("media link expired")
    return str(payload["n"]), str(payload.get("d", ""))
