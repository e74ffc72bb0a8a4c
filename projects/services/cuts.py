"""The cut of a storyboard (issue 15): assemble the chosen takes into one MP4, review it.

`cut_start` checks every shot has a finished take, writes a queued Cut with the take ids in
order and enqueues `projects.tasks.storyboard_cut_assemble` on commit. The job
(`cut_assemble`) claims the cut (queued -> assembling, a conditional UPDATE, so a job
delivered twice runs once), copies the takes' stored videos to scratch files (or reads them
in place on local storage), runs projects/cut.py with a progress callback that writes
`progress` (0-100, at most every 2 %, with a heartbeat), stores the MP4 under
`teams/<team>/cuts/<cut>/cut.mp4` with its sha256, and marks it done; any error marks it
failed with the message. Review follows services/reviews.py's rules for videos: the reviewer
role, no approving one's own cut unless the team allows self-review, one decision, an audit
row in the same transaction.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.access import REVIEWER, ROLE_RANK, team_role
from projects.audit import audit_record
from projects.cut import CutError, assemble
from projects.exceptions import ApplicationError, InvalidStateTransition
from projects.models import Cut, GenerationTask, Storyboard
from projects.queue import enqueue_on_commit
from projects.storage import is_local, save_file, team_prefix, temp_dir

logger = logging.getLogger("projects.tasks")
ASSEMBLE_JOB = "projects.tasks.storyboard_cut_assemble"
# An assembling cut whose job showed no progress this long is taken over (its worker died).
CUT_STALE = timedelta(minutes=5)
NO_SHOTS = "Add shots to the storyboard before assembling it."
NEEDS_TAKES = "Every shot needs a finished take before the cut: shot {n} has none yet."
NOT_A_REVIEWER = "Approving and rejecting cuts needs the reviewer role in this team."
SELF_REVIEW = (
    "You assembled this cut; another reviewer must approve it (this team does not allow "
    "approving your own work)."
)
NOT_PENDING = "This cut is not awaiting review (it was decided already, or is not finished)."
REJECT_NEEDS_COMMENT = "Say what to change: a rejection needs a comment."


def cut_start(*, storyboard: Storyboard, user: AbstractBaseUser) -> Cut:
    """A queued cut of the storyboard's chosen takes, in shot order, assembled by a worker
    job enqueued on commit. Raises ApplicationError (no shots; a shot without a succeeded,
    undeleted take)."""
    shots = list(storyboard.shots.select_related("take").order_by("position"))
    if not shots:
        raise ApplicationError(NO_SHOTS)
    for shot in shots:
        take = shot.take
        if (
            take is None
            or take.status != GenerationTask.Status.SUCCEEDED
            or take.deleted_at is not None
        ):
            raise ApplicationError(NEEDS_TAKES.format(n=shot.position + 1))
    with transaction.atomic():
        cut = Cut.objects.create(
            storyboard=storyboard,
            created_by=user,
            take_ids=[str(shot.take_id) for shot in shots],
        )
        audit_record(
            actor=user,
            action="cut.started",
            team=storyboard.project.team,
            target=cut,
            details={"storyboard": storyboard.title, "takes": cut.take_ids},
        )
        enqueue_on_commit(ASSEMBLE_JOB, str(cut.pk))
    return cut


def cut_key(cut: Cut) -> str:
    """Where a cut's MP4 is stored: teams/<team>/cuts/<cut>/cut.mp4."""
    return f"{team_prefix(cut.storyboard.project.team_id)}/cuts/{cut.pk}/cut.mp4"


def cut_assemble(*, cut_id: str) -> None:
    """The worker job: assemble a queued cut (see the module docstring). Idempotent: a cut
    that is neither queued nor abandoned (assembling, silent for CUT_STALE: its worker died
    and django-q2 delivered the job again) is left alone, and every write is conditional on
    this run's `attempt`. Never raises for a broken take: the cut fails with the reason."""
    attempt = _claim(cut_id)
    if attempt is None:
        return
    cut = Cut.objects.select_related("storyboard__project").get(pk=cut_id)
    try:
        with tempfile.TemporaryDirectory(dir=temp_dir(), prefix="cut-") as scratch:
            progress = _progress_writer(cut.pk, attempt)
            sources = _take_files(cut, Path(scratch), beat=lambda: progress(0))
            out = Path(scratch) / "cut.mp4"
            result = assemble(sources, out, progress=progress)
            name = save_file(out, cut_key(cut), sha256=result.sha256)
    except (CutError, ApplicationError, OSError) as exc:
        _fail(cut, attempt, str(exc))
        return
    except Exception as exc:  # a take PyAV cannot decode, mid-stream
        logger.exception("cut %s failed", cut.pk)
        _fail(cut, attempt, f"The takes could not be assembled: {exc}")
        return
    Cut.objects.filter(pk=cut.pk, status=Cut.Status.ASSEMBLING, attempt=attempt).update(
        status=Cut.Status.DONE,
        progress=100,
        file=name,
        sha256=result.sha256,
        size_bytes=result.size_bytes,
        duration_s=result.duration_s,
        reencoded=result.reencoded,
        finished_at=timezone.now(),
    )


def _claim(cut_id: str) -> int | None:
    """Take the cut for this run (a conditional UPDATE); its attempt number, or None."""
    now = timezone.now()
    claimable = Q(status=Cut.Status.QUEUED) | Q(
        status=Cut.Status.ASSEMBLING, heartbeat_at__lt=now - CUT_STALE
    )
    cut = Cut.objects.filter(claimable, pk=cut_id).only("attempt").first()
    if cut is None:
        return None
    claimed = Cut.objects.filter(claimable, pk=cut_id, attempt=cut.attempt).update(
        status=Cut.Status.ASSEMBLING, progress=0, attempt=cut.attempt + 1, heartbeat_at=now
    )
    return cut.attempt + 1 if claimed else None


def _take_files(cut: Cut, scratch: Path, *, beat: Callable[[], None]) -> list[Path]:
    """Local paths of the cut's takes' videos, in order: the stored files themselves on
    local storage, streamed copies in `scratch` otherwise (1 MiB at a time, `beat()` after
    each so a long copy still shows life)."""
    ids = [uuid.UUID(value) for value in cut.take_ids]
    tasks = GenerationTask.objects.in_bulk(ids)
    paths = []
    for index, task_id in enumerate(ids):
        task = tasks.get(task_id)
        if task is None or not task.video or task.deleted_at is not None:
            raise ApplicationError(
                f"Take {index + 1} was deleted; choose another and assemble again."
            )
        if is_local():
            paths.append(Path(default_storage.path(task.video.name)))
            continue
        path = scratch / f"take{index}.mp4"
        with open(path, "wb") as out, default_storage.open(task.video.name, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        paths.append(path)
        beat()
    return paths


def _progress_writer(cut_id, attempt: int):
    last = [0]

    def write(percent: int) -> None:
        if percent == 0 or percent >= 100 or percent - last[0] >= 2:
            last[0] = percent
            Cut.objects.filter(pk=cut_id, status=Cut.Status.ASSEMBLING, attempt=attempt).update(
                progress=min(percent, 99), heartbeat_at=timezone.now()
            )

    return write


def _fail(cut: Cut, attempt: int, message: str) -> None:
    Cut.objects.filter(pk=cut.pk, status=Cut.Status.ASSEMBLING, attempt=attempt).update(
        status=Cut.Status.FAILED, error_message=message[:2000], finished_at=timezone.now()
    )


def cut_review_refusal(*, cut: Cut, user: AbstractBaseUser, decision: str) -> str | None:
    """Why `user` may not record `decision` ('approved' | 'rejected') on `cut`, or None when
    they may: the rules of services/reviews.py for videos."""
    team = cut.storyboard.project.team
    role = team_role(user, team)
    if role is None or ROLE_RANK[role] < ROLE_RANK[REVIEWER]:
        return NOT_A_REVIEWER
    if decision == Cut.ReviewState.APPROVED and cut.created_by_id == user.pk:
        if not team.allow_self_review:
            return SELF_REVIEW
    return None


def cut_decide(*, cut: Cut, user: AbstractBaseUser, decision: str, comment: str = "") -> Cut:
    """Approve or reject a finished cut awaiting review, with an audit row ('cut.approved',
    'cut.rejected') in the same transaction. Raises ApplicationError (a rejection without a
    comment, an unknown decision), PermissionDenied-like ApplicationError from
    `cut_review_refusal`, or InvalidStateTransition (not done, or decided already)."""
    if decision not in (Cut.ReviewState.APPROVED, Cut.ReviewState.REJECTED):
        raise ApplicationError("Approve or reject.")
    comment = comment.strip()
    if decision == Cut.ReviewState.REJECTED and not comment:
        raise ApplicationError(REJECT_NEEDS_COMMENT)
    reason = cut_review_refusal(cut=cut, user=user, decision=decision)
    if reason:
        raise ApplicationError(reason)
    now = timezone.now()
    with transaction.atomic():
        changed = Cut.objects.filter(
            pk=cut.pk, status=Cut.Status.DONE, review_state=Cut.ReviewState.PENDING
        ).update(review_state=decision, reviewer=user, review_comment=comment, reviewed_at=now)
        if not changed:
            raise InvalidStateTransition(NOT_PENDING)
        audit_record(
            actor=user,
            action=f"cut.{decision}",
            team=cut.storyboard.project.team,
            target=cut,
            details={"comment": comment, "storyboard": cut.storyboard.title},
        )
    cut.review_state, cut.reviewer, cut.review_comment, cut.reviewed_at = (
        decision,
        user,
        comment,
        now,
    )
    return cut
