"""Copying a finished task's outputs into our storage before the gateway's links expire.

The video is streamed to a scratch file (constant memory, sha256 on the way), probed (duration,
pixel size), and saved under the task's key; the cover image and last frame follow when the
gateway gave them. Only then is the task marked succeeded, in the same transaction as its
settlement. Re-delivery is safe: a lease keeps a second delivery out while one works, and
saving to an existing key with the same bytes is a no-op.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import Path

import av
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from projects.crashpoints import crashpoint
from projects.generation import lifecycle
from projects.media import MediaInfo, MediaInvalid, VideoInfo, make_poster, probe_media, probe_video
from projects.media_frames import write_last_frame
from projects.models import GenerationTask
from projects.money.pricing import billed_output_seconds
from projects.providers.base import ProviderError, ProviderRejectedError, UpstreamStatus
from projects.providers.downloads import (
    DownloadError,
    LinkExpired,
    UnsafeLink,
    download_to_file,
)
from projects.providers.registry import get_provider
from projects.services.leases import RenewingThread
from projects.storage import StorageConflict, delete_quietly, output_key, save_file, temp_dir
from projects.worker_config import worker_config

logger = logging.getLogger("projects.tasks")
Status = GenerationTask.Status

MAX_STORE_ATTEMPTS = 6
MAX_OUTPUT_BYTES = 2 * 1024**3  # a 15 s 1080p clip is tens of MB; this only stops a runaway
MAX_PICTURE_BYTES = 30 * 1024**2  # cover / last frame: Ark's own cap on an input image (§1.6)
PICTURE_FORMATS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
POSTER_NAME = "cover.jpg"  # our own poster takes the cover's place (and its name)
POSTER_SIDE = 720  # px: sharp on a 2x tile and under the player, ~40-80 KB
OWN_LAST_FRAME_NAME = "last_frame.png"  # the video's own, where the gateway gives none


def download_lease() -> timedelta:
    """How long one store job keeps a task from the others (SEEDANCE_DOWNLOAD_LEASE)."""
    return timedelta(seconds=worker_config().download_lease_s)


class DownloadLeaseKeeper(RenewingThread):
    """Keeps a store job's claim on its task alive while the copy runs: pushes `lease_until`
    (and `next_poll_at`) one `lease` ahead every third of it, as long as the lease is still
    the one it last wrote. So a worker killed mid-copy frees the task one lease after its
    last renewal (SEEDANCE_DOWNLOAD_LEASE, 90 s by default), however long a live copy takes.
    Use as a context manager around the copy."""

    def __init__(self, *, task_id: object, until: datetime, lease: timedelta) -> None:
        super().__init__(period=lease.total_seconds() / 3, label=f"task={task_id} download lease")
        self.task_id = task_id
        self.until = until
        self.lease = lease

    def renew(self) -> bool:
        until = timezone.now() + self.lease
        renewed = lifecycle.reschedule(
            self.task_id,
            statuses=[Status.DOWNLOADING],
            where=Q(lease_until=self.until),
            lease_until=until,
            next_poll_at=until,
        )
        if renewed:  # else the task ended or another job took it: nothing to keep
            self.until = until
        return bool(renewed)


def store_pickup() -> timedelta:
    """How long a rendered task waits for a store job to claim it before the sweep queues
    another (SEEDANCE_STORE_PICKUP). A second job for a claimed task is a no-op."""
    return timedelta(seconds=worker_config().store_pickup_s)


def generation_task_store_outputs(*, task_id: str) -> None:
    """The django-q2 job that stores a rendered task's outputs and marks it succeeded.

    On a transient failure (network, storage) the task stays `downloading` and comes due again
    (the sweep re-enqueues it) with backoff; on an expired link it asks the gateway for fresh
    links once; when nothing works it fails with a clear message and nothing is charged.
    """
    now = timezone.now()
    lease = download_lease()
    claimed = lifecycle.reschedule(
        task_id,
        statuses=[Status.DOWNLOADING],
        where=Q(lease_until__isnull=True) | Q(lease_until__lte=now),
        lease_until=now + lease,
        next_poll_at=now + lease,
    )
    until = now + lease
    if not claimed:
        logger.info(
            "task=%s store skipped: not downloading or leased",
            task_id,
            extra={"task": str(task_id)},
        )
        return
    _remove_partials(task_id)
    task = GenerationTask.objects.select_related("project").get(pk=task_id)
    try:
        with DownloadLeaseKeeper(task_id=task_id, until=until, lease=lease):
            fields = _store_all(task)
    except UnsafeLink as exc:
        _fail(task, f"{exc.message} Nothing was stored and nothing is charged.")
        return
    except LinkExpired as exc:
        _refresh_links_or_fail(task, exc)
        return
    except DownloadError as exc:
        if exc.transient:
            _retry_later(task, exc.message)
        else:
            _fail(task, exc.message)
        return
    except MediaInvalid as exc:
        _fail(task, f"The gateway returned a file that is not a playable video: {exc.message}")
        return
    except (OSError, BotoCoreError, ClientError, StorageConflict) as exc:
        # Storage down, disk full, S3 unreachable or refusing: keep the task, try again later.
        _retry_later(task, f"Storage error ({type(exc).__name__}: {exc}).")
        return
    crashpoint("before_settle")
    if lifecycle.finish(
        task_id=task_id,
        status=Status.SUCCEEDED,
        from_statuses=[Status.DOWNLOADING],
        event_message=f"Saved {fields['video_size_bytes']} bytes, {fields['video_duration_s']} s.",
        **fields,
    ):
        logger.info(
            "task=%s stored video=%s", task_id, fields["video"], extra={"task": str(task_id)}
        )


def _partial_prefix(task_id: object) -> str:
    return f"dl-{task_id}-"


def _remove_partials(task_id: object) -> None:
    # A worker killed mid-download leaves its scratch file behind. Holding the lease, we are
    # the only one writing this task's scratch files here, so any we find are stale.
    for stale in temp_dir().glob(f"{_partial_prefix(task_id)}*.part"):
        stale.unlink(missing_ok=True)
        logger.info("task=%s removed stale %s", task_id, stale.name, extra={"task": str(task_id)})


def _store_all(task: GenerationTask) -> dict:
    team_id = task.project.team_id
    video = download_to_file(
        task.output_url,
        directory=temp_dir(),
        timeout=settings.SEEDANCE_DOWNLOAD_TIMEOUT,
        max_bytes=MAX_OUTPUT_BYTES,
        prefix=_partial_prefix(task.pk),
    )
    poster = video.path.with_suffix(".poster.jpg")
    own_last = video.path.with_suffix(".last.png")
    try:
        info = probe_video(video.path)
        has_poster = _make_poster(task, video.path, info, poster)
        # No last frame from the gateway: the video's own, for "Use as first frame".
        has_last = not task.last_frame_url and _make_last_frame(task, video.path, own_last)
        video_name = save_file(
            video.path,
            output_key(team_id=team_id, task_id=task.pk, filename="video.mp4"),
            sha256=video.sha256,
        )
    finally:
        video.path.unlink(missing_ok=True)
    fields = {
        "video": video_name,
        "video_sha256": video.sha256,
        "video_size_bytes": video.size_bytes,
        "video_duration_s": info.duration_s,
        "video_width": info.width,
        "video_height": info.height,
        # What the settlement charges for: the gateway's `usage` duration when it reports one
        # (that is what it bills), else the probed file, in whole seconds (money/pricing.py
        # says why: the extra 24 fps frame is not billed, so 10 s costs exactly 10 x rate).
        "billed_output_s": billed_output_seconds(
            reported=task.upstream_duration_s, probed=info.duration_s
        ),
    }
    try:
        for url, field, filename in (
            (task.cover_url, "cover", "cover" + _suffix(task.cover_url, ".jpg")),
            (task.last_frame_url, "last_frame", _last_frame_name(task)),
        ):
            if url:
                fields[field] = _store_picture(task, url, filename)
        if not fields.get("cover") and has_poster:
            # Most gateways give no cover (only TokenHub does): our own poster, the video's
            # first frame, stands in everywhere a cover shows (tiles, the player, review).
            key = output_key(team_id=team_id, task_id=task.pk, filename=POSTER_NAME)
            fields["cover"] = save_file(poster, key, sha256=_sha256(poster))
        if not fields.get("last_frame") and has_last:
            key = output_key(team_id=team_id, task_id=task.pk, filename=OWN_LAST_FRAME_NAME)
            fields["last_frame"] = save_file(own_last, key, sha256=_sha256(own_last))
    finally:
        poster.unlink(missing_ok=True)
        own_last.unlink(missing_ok=True)
    return fields


def _make_poster(task: GenerationTask, video: Path, info: VideoInfo, out: Path) -> bool:
    """A JPEG of the video's first frame, at most POSTER_SIDE px a side, at `out`; False
    (and a note in the task's history) when the frame cannot be made into one."""
    facts = MediaInfo(
        kind="video",
        format="mp4",
        extension="mp4",
        content_type="video/mp4",
        width=info.width,
        height=info.height,
    )
    try:
        return make_poster(video, facts, out, max_side=POSTER_SIDE)
    except (MediaInvalid, av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        _picture_dropped(task, POSTER_NAME, f"no poster could be made ({type(exc).__name__}).")
        return False


def _make_last_frame(task: GenerationTask, video: Path, out: Path) -> bool:
    """The video's last frame as a full-size PNG at `out` (projects/media_frames.py); False
    (and a note in the task's history) when it cannot be made."""
    try:
        return write_last_frame(video, out)
    except (MediaInvalid, av.FFmpegError, OSError, ValueError) as exc:
        _picture_dropped(
            task, OWN_LAST_FRAME_NAME, f"no last frame could be made ({type(exc).__name__})."
        )
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _store_picture(task: GenerationTask, url: str, filename: str) -> str:
    """Store a cover or last frame under `filename`; '' (and a warning in the task's history)
    when it cannot be fetched or is not a JPEG/PNG/WebP picture by its content: a missing
    cover is not worth failing a finished video for. An unsafe link is (UnsafeLink raised)."""
    try:
        extra = download_to_file(
            url,
            directory=temp_dir(),
            timeout=settings.SEEDANCE_DOWNLOAD_TIMEOUT,
            max_bytes=MAX_PICTURE_BYTES,
            prefix=_partial_prefix(task.pk),
        )
    except UnsafeLink:
        raise
    except DownloadError as exc:
        _picture_dropped(task, filename, exc.message)
        return ""
    try:
        try:
            info = probe_media(extra.path, name=filename)
            picture = info.kind == "image" and info.format in PICTURE_FORMATS
        except MediaInvalid:
            picture = False
        if not picture:
            _picture_dropped(
                task, filename, "by its content it is not a JPEG, PNG or WebP picture."
            )
            return ""
        key = output_key(team_id=task.project.team_id, task_id=task.pk, filename=filename)
        return save_file(extra.path, key, sha256=extra.sha256)
    finally:
        extra.path.unlink(missing_ok=True)


def _picture_dropped(task: GenerationTask, filename: str, why: str) -> None:
    lifecycle.event_add(
        task_id=task.pk, kind="store_warning", message=f"{filename} not saved: {why}"
    )


def _suffix(url: str, default: str) -> str:
    path = url.split("?", 1)[0]
    suffix = Path(path).suffix.lower()
    return suffix if suffix in (".jpg", ".jpeg", ".png", ".webp") else default


def _retry_later(task: GenerationTask, message: str) -> None:
    attempts = task.events.filter(kind="store_retry").count() + 1
    if attempts > MAX_STORE_ATTEMPTS:
        _fail(task, f"{message} Gave up after {attempts - 1} attempts.")
        return
    delay = min(600, worker_config().store_retry_s * 2 ** (attempts - 1))
    lifecycle.reschedule(
        task.pk,
        statuses=[Status.DOWNLOADING],
        lease_until=None,
        next_poll_at=timezone.now() + timedelta(seconds=delay),
    )
    lifecycle.event_add(
        task_id=task.pk,
        kind="store_retry",
        message=f"{message} Trying again in {delay:g} s.",
        attempt=attempts,
    )


def _refresh_links_or_fail(task: GenerationTask, exc: LinkExpired) -> None:
    # Links expire (about 24 h); the gateway may hand out fresh ones for the same task.
    if task.events.filter(kind="links_refreshed").exists():
        _fail(task, f"{exc.message} The gateway's link expired and a fresh one failed too.")
        return
    try:
        snapshot = get_provider(task.provider).fetch(task.upstream_task_id)
    except ProviderRejectedError as err:
        if err.kind == "not_found":  # final: no fresh link will ever come
            _fail(
                task,
                f"{exc.message} The link expired and the gateway no longer knows the task "
                f"({err.message}), so the video cannot be fetched again.",
            )
            return
        _retry_later(task, f"{exc.message} Asking for a fresh link failed: {err.message}")
        return
    except ProviderError as err:
        _retry_later(task, f"{exc.message} Asking for a fresh link failed: {err.message}")
        return
    if snapshot.status != UpstreamStatus.SUCCEEDED or not snapshot.video_url:
        _fail(task, f"{exc.message} The gateway no longer offers the video.")
        return
    lifecycle.record(
        task.pk,
        statuses=[Status.DOWNLOADING],
        output_url=snapshot.video_url,
        cover_url=snapshot.cover_url,
        last_frame_url=snapshot.last_frame_url,
        lease_until=None,
        next_poll_at=timezone.now(),
    )
    lifecycle.event_add(
        task_id=task.pk,
        kind="links_refreshed",
        message="The output link had expired; got a fresh one from the gateway.",
    )


def _fail(task: GenerationTask, message: str) -> None:
    if lifecycle.finish(
        task_id=task.pk,
        status=Status.FAILED,
        from_statuses=[Status.DOWNLOADING],
        error_code="output_unavailable",
        error_message=message,
    ):
        # An attempt may have left a file (or a truncated one, storage failing mid-write)
        # under the task's keys; a failed task shows none and keeps none.
        delete_quietly(
            output_key(team_id=task.project.team_id, task_id=task.pk, filename=name)
            for name in _output_names(task)
        )


def _output_names(task: GenerationTask) -> list[str]:
    """The file names a task's outputs are stored under (as `_store_all` names them)."""
    return [
        "video.mp4",
        "cover" + _suffix(task.cover_url, ".jpg"),
        POSTER_NAME,
        _last_frame_name(task),
    ]


def _last_frame_name(task: GenerationTask) -> str:
    return "last_frame" + _suffix(task.last_frame_url, ".png")
