"""Ark `content[]` items -> a prompt and reference files (upstream-research §1.4).

`{"type": "text"}` is the prompt (one at most). `image_url` items take the role first_frame,
last_frame or reference_image (a single image without a role is a first frame, as on Ark;
two or more need roles: Ark's own "role must be specified for image contents"); `video_url`
is reference_video and `audio_url` reference_audio. Each `url` is one of:

- `asset://<id>`: an asset of the project's library (by our asset id; the member must see it);
- `data:<type>;base64,<data>`: decoded to a scratch file (the request body's size limit,
  DATA_UPLOAD_MAX_MEMORY_SIZE, bounds it);
- `https://...` (or http to a host in SEEDANCE_FETCH_ALLOW_HOSTS): fetched to a scratch file
  through the outbound guard (projects/providers/outbound.py: public addresses only, checked
  where the socket opens and after every redirect), at most SEEDANCE_UPLOAD_MAX_MB.

A fetched or decoded file goes to `generation_task_create` as an upload: probed there like a
file chosen in the form, and kept in the library only if the generation is accepted.
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from projects.access import access_asset
from projects.api.errors import ApiError, invalid, missing
from projects.models import Project
from projects.providers.downloads import DownloadError, UnsafeLink, download_to_file
from projects.services.generation import ReferenceInput
from projects.storage import MB, temp_dir

ROLES_BY_TYPE = {
    "image_url": ("first_frame", "last_frame", "reference_image"),
    "video_url": ("reference_video",),
    "audio_url": ("reference_audio",),
}
DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(.*)$", re.S)
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Content:
    """What `content[]` asked for: the `prompt` and the references in their order."""

    prompt: str
    references: tuple[ReferenceInput, ...]


def content_read(
    scratch: ExitStack, *, items: list[dict[str, Any]], user: AbstractBaseUser, project: Project
) -> Content:
    """Read the create body's `content` items (already shaped by the schema: each a dict with
    `type` and its object) for `user` in `project`. Scratch files (fetched, decoded) are
    removed when `scratch` closes. Raises ApiError naming the item (`content[2]`)."""
    prompts: list[str] = []
    pending: list[tuple[int, str, str | None, str]] = []  # index, type, role, url
    for index, item in enumerate(items):
        kind = item.get("type")
        where = f"content[{index}]"
        if kind == "text":
            prompts.append(item.get("text") or "")
        elif kind in ROLES_BY_TYPE:
            inner = item.get(kind) or {}
            url = inner.get("url") if isinstance(inner, dict) else None
            if not url:
                raise missing(f"{where}.{kind}.url")
            pending.append((index, kind, item.get("role"), url))
        elif kind == "draft_task":
            raise invalid(f"{where}: draft tasks are not supported here.", where)
        else:
            raise invalid(f"{where}: unknown content type {kind!r}.", f"{where}.type")
    if len(prompts) > 1:
        raise invalid("At most one text item may be given.", "content")
    images = sum(1 for _, kind, _, _ in pending if kind == "image_url")
    references = []
    for index, kind, role, url in pending:
        where = f"content[{index}]"
        role = _role(kind, role, images=images, where=where)
        references.append(
            _reference(scratch, url, role=role, user=user, project=project, where=where)
        )
    return Content(prompt=prompts[0] if prompts else "", references=tuple(references))


def _role(kind: str, role: str | None, *, images: int, where: str) -> str:
    allowed = ROLES_BY_TYPE[kind]
    if role is None:
        if kind == "image_url" and images > 1:
            raise invalid(
                f"The parameter `content` specified in the request is not valid: role must be "
                f"specified for image contents ({where}).",
                f"{where}.role",
            )
        return allowed[0]
    if role not in allowed:
        raise invalid(
            f"{where}: role {role!r} is not valid for {kind}; use {', '.join(allowed)}.",
            f"{where}.role",
        )
    return role


def _reference(
    scratch: ExitStack,
    url: str,
    *,
    role: str,
    user: AbstractBaseUser,
    project: Project,
    where: str,
) -> ReferenceInput:
    if url.startswith("asset://"):
        asset_id = url.removeprefix("asset://")
        try:
            asset = access_asset(user, asset_id)
        except Http404:
            asset = None
        if asset is None or asset.project_id != project.pk:
            raise invalid(
                f"{where}: asset://{asset_id[:64]} is not in the project's library "
                "(use the id of an asset of this project).",
                f"{where}.url",
            )
        return ReferenceInput(role=role, asset=asset)
    if url.startswith("data:"):
        return ReferenceInput(role=role, upload=_data_file(scratch, url, role=role, where=where))
    scheme = urlsplit(url).scheme.lower() if len(url) < 4096 else ""
    if scheme not in ("http", "https"):
        raise invalid(
            f"{where}: the url must be https://, data: or asset://<asset id>.", f"{where}.url"
        )
    return ReferenceInput(role=role, upload=_fetched_file(scratch, url, role=role, where=where))


def _scratch_path(scratch: ExitStack, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(dir=temp_dir(), prefix="api-ref-"))
    scratch.callback(lambda: _remove_tree(folder))
    return folder / name


def _remove_tree(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    folder.rmdir()


def _data_file(scratch: ExitStack, url: str, *, role: str, where: str) -> Path:
    match = DATA_URL.match(url)
    if match is None:
        raise invalid(f"{where}: a data: url must be base64 (data:<type>;base64,...).", where)
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{where}: the data: url is not valid base64.", f"{where}.url") from None
    if not data:
        raise invalid(f"{where}: the data: url is empty.", f"{where}.url")
    subtype = (match.group(1) or "application/octet-stream").split("/")[-1]
    path = _scratch_path(scratch, f"{role}.{SAFE_NAME.sub('', subtype)[:10] or 'bin'}")
    path.write_bytes(data)
    return path


def _fetched_file(scratch: ExitStack, url: str, *, role: str, where: str) -> Path:
    folder = _scratch_path(scratch, "x").parent
    try:
        download = download_to_file(
            url,
            directory=folder,
            timeout=settings.SEEDANCE_DOWNLOAD_TIMEOUT,
            max_bytes=settings.SEEDANCE_UPLOAD_MAX_MB * MB,
            prefix="ref-",
        )
    except UnsafeLink as exc:
        # The guard words its refusals for gateway replies ("The gateway gave a link to ...").
        reason = exc.message.replace("The gateway gave", "The request gave")
        raise invalid(f"{where}: {reason}", f"{where}.url") from None
    except DownloadError as exc:
        reason = exc.message.replace("output", "reference")
        raise ApiError(
            400, "InvalidParameter", f"{where}: the url could not be fetched: {reason}", param=where
        ) from None
    stem = SAFE_NAME.sub("-", unquote(urlsplit(url).path.rsplit("/", 1)[-1]))[:80].strip("-.")
    named = folder / (stem or role)
    download.path.rename(named)
    return named
