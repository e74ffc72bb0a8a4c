"""Where files live and how links to them are handed out.

Keys: everything a team owns sits under `teams/<team id>/` (assets, outputs), so a bucket policy
or a clean-up can work per team. Files are private: a browser or a gateway gets an expiring link,
presigned on S3 (`MediaS3Storage`, django-storages' `S3Storage` made private, non-overwriting
and memory-bounded) or signed by Django for local storage (served by
`views/media.py::signed_media`). Saving is idempotent per key: a key that already holds the same
bytes is reused; the storage itself never silently overwrites a key (it picks another name,
which `save_file` reports as a conflict).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

_SALT = "projects.storage.signed-media"
MB = 1024 * 1024
# Memory one S3 transfer may hold: multipart parts of PART_BYTES, at most PARTS_IN_MEMORY read
# ahead (s3transfer reads each part of a file object into memory before sending it), sent by
# TRANSFER_THREADS threads. 8 MiB x 4 = 32 MiB, whatever the file size.
PART_BYTES = 8 * MB
PARTS_IN_MEMORY = 4
TRANSFER_THREADS = 4
# SigV4 presigned URLs live at most 7 days (AWS S3 docs, "Sharing objects with presigned URLs").
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


def bounded_transfer_config() -> TransferConfig:
    """A boto3 TransferConfig whose uploads and downloads hold about 32 MiB at most."""
    config = TransferConfig(
        multipart_threshold=PART_BYTES,
        multipart_chunksize=PART_BYTES,
        max_concurrency=TRANSFER_THREADS,
        max_io_queue=PARTS_IN_MEMORY * 8,
        io_chunksize=256 * 1024,
        preferred_transfer_client="classic",
    )
    config.max_in_memory_upload_chunks = PARTS_IN_MEMORY
    config.max_in_memory_download_chunks = PARTS_IN_MEMORY
    return config


class MediaS3Storage(S3Storage):
    """django-storages' S3Storage with the rules media storage needs, whatever the settings:

    * private: no ACL is set (the bucket owner's private default) and every URL is presigned;
    * never overwrites: a taken key gets another name, which `save_file` treats as a conflict;
    * bounded memory: transfers use `bounded_transfer_config()`, and files opened for reading
      spool to disk past 8 MiB;
    * each object saved by `save_file` carries its sha256 as user metadata
      (`x-amz-meta-sha256`), so checking an existing key is a HEAD, not a download.
    """

    def __init__(self, **options) -> None:
        options.setdefault("transfer_config", bounded_transfer_config())
        options.setdefault("max_memory_size", 8 * MB)
        options.update(default_acl=None, querystring_auth=True, file_overwrite=False)
        options.setdefault("signature_version", "s3v4")
        super().__init__(**options)

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        sha256 = getattr(content, "sha256", "")
        if sha256:
            params["Metadata"] = {**params.get("Metadata", {}), "sha256": sha256}
        return params

    def stored_sha256(self, name: str) -> str:
        """The object's sha256: its metadata when `save_file` wrote it, else hashed while
        streaming the body in 1 MiB chunks."""
        obj = self.bucket.Object(self._normalize_name(name))
        recorded = (obj.metadata or {}).get("sha256", "")
        if recorded:
            return recorded
        digest = hashlib.sha256()
        for chunk in obj.get()["Body"].iter_chunks(MB):
            digest.update(chunk)
        return digest.hexdigest()


def is_local() -> bool:
    """Whether media lives on the local filesystem (else S3)."""
    return isinstance(default_storage, FileSystemStorage)


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
    """sha256 hex of a stored file, read in 1 MiB chunks (on S3: from its metadata)."""
    from_metadata = getattr(default_storage, "stored_sha256", None)
    if from_metadata is not None:
        return from_metadata(name)
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
    handle.sha256 = sha256  # recorded as object metadata on S3 (MediaS3Storage)
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


def delete_quietly(names: Iterable[str]) -> None:
    """Delete the stored files `names` (empty names skipped); a failure is logged, not raised:
    this runs while undoing something that already failed."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete stored file %s", name)


# Pages show the same files again and again (a gallery re-renders every few seconds while a
# render runs): a link made less than LINK_REUSE_FRACTION of its lifetime ago (and at most
# LINK_REUSE_MAX_S) is handed out again. Signing then happens once per file every few minutes
# per process instead of once per tile per request, and a browser sees the same URL and keeps
# the image it already has. A link handed out has at least 90 % of its lifetime left.
LINK_REUSE_FRACTION = 0.1
LINK_REUSE_MAX_S = 600.0
LINK_CACHE_SIZE = 4096
_links: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
_links_lock = threading.Lock()


def signed_url(
    name: str, *, ttl: int | None = None, absolute: bool = False, download_as: str = ""
) -> str:
    """An expiring link to the stored file `name`, valid `ttl` seconds (SEEDANCE_LINK_TTL),
    or at least 90 % of that when a link made moments ago is reused (LINK_REUSE_FRACTION).

    S3: a presigned GET. Local: a Django-signed /media/ link; `absolute` prefixes SITE_URL (links
    handed to gateways must be absolute). `download_as` makes browsers save the file under that
    name instead of showing it.
    """
    ttl = ttl or settings.SEEDANCE_LINK_TTL
    key = (name, ttl, absolute, download_as)
    now = time.monotonic()
    with _links_lock:
        made = _links.get(key)
        if made is not None and now - made[0] < min(ttl * LINK_REUSE_FRACTION, LINK_REUSE_MAX_S):
            _links.move_to_end(key)
            return made[1]
    url = _sign(name, ttl=ttl, absolute=absolute, download_as=download_as)
    with _links_lock:
        _links[key] = (now, url)
        _links.move_to_end(key)
        while len(_links) > LINK_CACHE_SIZE:
            _links.popitem(last=False)
    return url


def _sign(name: str, *, ttl: int, absolute: bool, download_as: str) -> str:
    if not is_local():
        ttl = min(ttl, MAX_PRESIGN_SECONDS)
        parameters = (
            {"ResponseContentDisposition": content_disposition(download_as)}
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


@receiver(setting_changed)
def _forget_links(*, setting: str, **kwargs: object) -> None:
    # A link depends on the storage, the signing key and the site's address (tests change them).
    if setting in ("STORAGES", "SECRET_KEY", "SITE_URL", "SEEDANCE_LINK_TTL", "MEDIA_ROOT"):
        with _links_lock:
            _links.clear()


def content_disposition(filename: str) -> str:
    """An attachment Content-Disposition for `filename`, with an ASCII fallback and the exact
    UTF-8 name (RFC 6266 / RFC 5987), safe inside a presigned URL's response header."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


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
