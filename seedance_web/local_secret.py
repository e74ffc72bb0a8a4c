"""A SECRET_KEY for local runs that nobody else has: made once per checkout in var/secret_key.

A fixed development key in the source is public, so anything it signs on a developer's machine
(sessions, signed media links, callback tokens) could be forged by anyone who read the code.
Production never uses this: settings.py requires DJANGO_SECRET_KEY for any site that is not
DEBUG or served on a loopback address.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_BYTES = 48  # 64 characters of URL-safe base64: well over Django's 50-character minimum


def local_secret_key(var_dir: Path) -> str:
    """The key in `var_dir`/secret_key, written (mode 0600) on first use. Safe when several
    processes start at once: the first to create the file wins, the others read it."""
    path = var_dir / "secret_key"
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 50:  # a file cut short by a crash mid-write: make a new one
        path.unlink(missing_ok=True)
        raise FileNotFoundError(path)
    return key
