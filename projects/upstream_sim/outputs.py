"""The simulator's output files: rendered on first ask (`render`), served behind HMAC-signed
links that expire like a gateway's CDN links. A mixin of `SimEngine`, whose lock, secret and
settings it uses."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import TYPE_CHECKING

from projects.upstream_sim import render

if TYPE_CHECKING:  # the engine imports this module
    from projects.upstream_sim.engine import SimTask


class OutputFiles:
    """Output files and their signed links for `SimEngine`'s tasks."""

    def outputs(self, task: SimTask) -> dict[str, str]:
        """Signed URLs of the task's video, cover and (if asked) last frame, rendering them."""
        self.file_for(task, "video.mp4")
        with self._lock:
            expired = task.link_expired or task.expired_link_rounds > 0
            task.expired_link_rounds = max(0, task.expired_link_rounds - 1)
        urls = {
            "video": self.signed_url(task, "video.mp4", expired=expired),
            "cover": self.signed_url(task, "cover.jpg", expired=expired),
        }
        if task.return_last_frame:
            urls["last_frame"] = self.signed_url(task, "last_frame.png", expired=expired)
        return urls

    def file_for(self, task: SimTask, name: str) -> Path | None:
        width, height = render.render_size(task.model, task.resolution, task.ratio)
        if name == "video.mp4":
            return render.render_video(
                self.cache_dir,
                duration_s=task.duration_s,
                width=width,
                height=height,
                audio=task.audio,
                pad_bytes=task.pad_bytes,
                frames=task.frames,
            )
        if name == "cover.jpg":
            return render.render_cover(self.cache_dir, width=width, height=height)
        if name == "last_frame.png":
            return render.render_last_frame(self.cache_dir, width=width, height=height)
        return None

    def signed_url(self, task: SimTask, name: str, *, expired: bool | None = None) -> str:
        expires = int(time.time() + self.link_ttl)
        if task.link_expired if expired is None else expired:
            expires = int(time.time()) - 1
        return f"{self.public_url}/_files/{task.id}/{name}?expires={expires}&sig=" + self._sign(
            task.id, name, expires
        )

    def _sign(self, task_id: str, name: str, expires: int) -> str:
        message = f"{task_id}/{name}/{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def check_signature(self, task_id: str, name: str, expires: str, sig: str) -> str:
        """'' when the link is valid, else why not ('expired', 'bad signature')."""
        try:
            expires_at = int(expires)
        except ValueError:
            return "bad signature"
        if not hmac.compare_digest(self._sign(task_id, name, expires_at), sig):
            return "bad signature"
        if expires_at < time.time():
            return "expired"
        return ""
