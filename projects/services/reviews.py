"""Reviewing finished videos: approve, reject, and revise a rejected one.

Each action checks its permission itself (Wagtail's actions are the model: the caller gets the
object through projects/access.py, the action still refuses what the user may not do), makes
its change as a conditional UPDATE from the states it starts from, and writes the Review row
and the audit event in the same transaction.

Rules:
- deciding needs the reviewer role (or admin) in the video's team;
- only a video awaiting review can be decided, once: a second decision finds nothing to change;
- a reviewer may not approve a video they generated unless the team allows self-review
  (`Team.allow_self_review`); rejecting one's own video is always allowed;
- a rejected video can be revised: a new generation from the same parameters (possibly
  edited), linked to it by `revised_from`, by any member of the project.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from projects.access import REVIEWER, ROLE_RANK, team_role, team_roles
from projects.audit import audit_record
from projects.exceptions import ApplicationError, InvalidStateTransition
from projects.generation import lifecycle
from projects.models import GenerationTask, Review
from projects.notifications import outbox
from projects.services.generation import GenerationParams, generation_task_create

ReviewState = GenerationTask.ReviewState
MAX_COMMENT = 4000

NOT_A_REVIEWER = "Approving and rejecting videos needs the reviewer role in this team."
SELF_REVIEW = (
    "You generated this video; another reviewer must approve it (this team does not allow "
    "approving your own videos)."
)
NOT_AWAITING = "This video is not awaiting review (it was decided already)."
REJECT_NEEDS_COMMENT = "Say what to change: a rejection needs a comment."
ONLY_REJECTED = "Only a rejected video can be revised."


class ReviewPermissionError(PermissionDenied):
    """The user may not make this review decision; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def review_permission_error(
    *, task: GenerationTask, user: AbstractBaseUser, decision: str, role: str | None = ""
) -> str | None:
    """Why `user` may not record `decision` ('approved' | 'rejected') on `task`, or None when
    they may. Pages use it to show or hide the buttons; the actions enforce it. `role` is the
    user's role in the task's team when the caller already knows it (None: no role);
    otherwise it is looked up."""
    if role == "":
        role = team_role(user, task.project.team)
    if role is None or ROLE_RANK[role] < ROLE_RANK[REVIEWER]:
        return NOT_A_REVIEWER
    if (
        decision == Review.Decision.APPROVED
        and task.created_by_id == user.pk
        and not task.project.team.allow_self_review
    ):
        return SELF_REVIEW
    return None


def review_refusals(
    *, tasks: Iterable[GenerationTask], user: AbstractBaseUser, role: str | None = ""
) -> dict[object, dict[str, str | None]]:
    """{task id: {'approved': refusal or None, 'rejected': refusal or None}} for `tasks`
    (with `project__team` loaded), looking the user's roles up once for all their teams
    (or with `role`, the user's role in the one team all `tasks` belong to, when the caller
    has it: access_generation_task's `viewer_role`)."""
    tasks = list(tasks)
    if role != "":
        roles = {task.project.team_id: role for task in tasks}
    else:
        roles = team_roles(user, {task.project.team for task in tasks})
    return {
        task.pk: {
            decision: review_permission_error(
                task=task, user=user, decision=decision, role=roles.get(task.project.team_id)
            )
            for decision in (Review.Decision.APPROVED, Review.Decision.REJECTED)
        }
        for task in tasks
    }


def _decide(*, task: GenerationTask, user: AbstractBaseUser, decision: str, comment: str) -> Review:
    reason = review_permission_error(task=task, user=user, decision=decision)
    if reason:
        raise ReviewPermissionError(reason)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ApplicationError(f"Keep the comment under {MAX_COMMENT} characters.")
    now = timezone.now()
    with transaction.atomic():
        changed = lifecycle.record(
            task.pk,
            statuses=[GenerationTask.Status.SUCCEEDED],
            where=Q(review_state=ReviewState.AWAITING),
            review_state=decision,
            reviewed_at=now,
        )
        if not changed:
            raise InvalidStateTransition(NOT_AWAITING)
        review = Review.objects.create(task=task, reviewer=user, decision=decision, comment=comment)
        audit_record(
            actor=user,
            action=f"video.{decision}",
            team=task.project.team,
            target=task,
            details={"comment": comment, "project": task.project.name},
        )
        outbox.review_decided(review_id=review.pk)
    task.review_state, task.reviewed_at = decision, now
    return review


def video_approve(*, task: GenerationTask, user: AbstractBaseUser, comment: str = "") -> Review:
    """Approve a video awaiting review; the comment is optional. Returns the Review row.

    Raises ReviewPermissionError (not a reviewer; own video without self-review) or
    InvalidStateTransition (not awaiting review).
    """
    return _decide(task=task, user=user, decision=Review.Decision.APPROVED, comment=comment)


def video_reject(*, task: GenerationTask, user: AbstractBaseUser, comment: str) -> Review:
    """Reject a video awaiting review, saying why (the comment is required: the member acts
    on it). Returns the Review row.

    Raises ApplicationError (no comment), ReviewPermissionError (not a reviewer) or
    InvalidStateTransition (not awaiting review).
    """
    if not comment.strip():
        raise ApplicationError(REJECT_NEEDS_COMMENT)
    return _decide(task=task, user=user, decision=Review.Decision.REJECTED, comment=comment)


def generation_revise_initial(*, task: GenerationTask) -> dict[str, Any]:
    """The generation form's values for revising the rejected `task`: its parameters and
    `revised_from`. Raises InvalidStateTransition unless it was rejected."""
    if task.review_state != ReviewState.REJECTED:
        raise InvalidStateTransition(ONLY_REJECTED)
    return {**generation_retry_initial(task=task), "revised_from": str(task.pk)}


def generation_retry_initial(*, task: GenerationTask) -> dict[str, Any]:
    """The generation form's values for trying `task` again: its parameters and references,
    in the same roles and order (a new, unlinked generation: "Retry" on a failed one)."""
    return {
        "provider": task.provider,
        "model": task.model,
        "prompt": task.prompt,
        "ratio": task.ratio,
        "resolution": task.resolution,
        "duration": task.duration,
        "generate_audio": task.generate_audio,
        "watermark": task.watermark,
        "seed": task.seed,
        "service_tier": task.service_tier,
        **_option_initial(task),
        **_reference_initial(task),
    }


def _option_initial(task: GenerationTask) -> dict[str, Any]:
    # Ark's further options (projects/option_fields.py), where the task used them.
    values: dict[str, Any] = {"draft": task.draft, "frames": task.frames}
    values["camera_fixed"] = bool(task.camera_fixed)
    if task.execution_expires_after:
        values["expires_after_hours"] = task.execution_expires_after // 3600
    return {key: value for key, value in values.items() if value}


def _reference_initial(task: GenerationTask) -> dict[str, Any]:
    # The revision starts from the same reference files, in the same roles and order.
    values: dict[str, Any] = {}
    for ref in task.references.select_related("asset").order_by("position"):
        if ref.role in ("first_frame", "last_frame"):
            values[ref.role] = str(ref.asset_id)
        else:
            values.setdefault(ref.role, []).append(str(ref.asset_id))
    return values


def generation_revise(
    *, task: GenerationTask, user: AbstractBaseUser, params: GenerationParams
) -> GenerationTask:
    """A new generation revising the rejected `task` with `params` (its parameters, possibly
    edited), in the same project and linked by `revised_from`.

    The caller got `task` through access_generation_task (so `user` may see its project).
    Raises InvalidStateTransition unless `task` was rejected, and whatever
    generation_task_create raises (InvalidRequest: nothing stored).
    """
    if task.review_state != ReviewState.REJECTED:
        raise InvalidStateTransition(ONLY_REJECTED)
    return generation_task_create(project=task.project, user=user, params=params, revised_from=task)
