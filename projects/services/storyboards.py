"""Storyboards (issue 15): plan shots, submit each as a normal generation, pick its take.

A shot's submit is `generation_task_create` (services/generation.py) with the storyboard's
gateway, model, ratio, resolution and audio, the shot's prompt, duration and references: the
same validation, the same hold, the same submit job as the form. The new generation joins the
shot's tries and becomes its take. A chained shot's first frame is resolved when it is
submitted, from the previous shot's chosen take as it is then: the take's stored last frame
(the gateway's `return_last_frame`, or the one outputs.py decoded from the video), else a frame
decoded now from the stored video (media_frames.write_last_frame).

Assembling the takes into a cut is services/cuts.py. Callers fetch storyboards and shots
through projects/access.py first; every function here re-checks that what it is given
belongs together.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import Truncator

from projects.audit import audit_record
from projects.exceptions import ApplicationError
from projects.media_frames import write_last_frame
from projects.models import Asset, GenerationTask, Project, Shot, ShotReference, Storyboard
from projects.services.assets import (
    asset_files_delete,
    asset_from_last_frame,
    asset_store_files,
    upload_probed,
)
from projects.services.generation import GenerationParams, ReferenceInput, generation_task_create
from projects.storage import temp_dir

MAX_SHOTS = 60
MAX_TITLE = 200
MAX_PROMPT = 4000
CHAIN_NEEDS_TAKE = (
    "Shot {n} starts from the last frame of shot {p}: choose a finished take for shot {p} first."
)
CHAIN_FIRST_SHOT = "The first shot has no previous shot to start from."
NOT_A_TRY = "That generation is not one of this shot's takes."
NOT_FINISHED = "Only a finished generation can be chosen as the take."
REORDER_MISMATCH = "The new order must name every shot of this storyboard once."


def storyboard_create(
    *,
    project: Project,
    user: AbstractBaseUser,
    title: str,
    provider: str,
    model: str,
    ratio: str = "16:9",
    resolution: str = "720p",
    generate_audio: bool = True,
) -> Storyboard:
    """A new, empty storyboard in `project` whose shots are generated with these choices
    (checked per shot at submit, as the form checks them). Raises ApplicationError for an
    empty or overlong title."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise ApplicationError(f"Give the storyboard a title of 1-{MAX_TITLE} characters.")
    with transaction.atomic():
        board = Storyboard.objects.create(
            project=project,
            title=title,
            created_by=user,
            provider=provider,
            model=model,
            ratio=ratio,
            resolution=resolution,
            generate_audio=generate_audio,
        )
        audit_record(actor=user, action="storyboard.created", team=project.team, target=board)
    return board


def _check_shot(prompt: str, duration: int) -> str:
    prompt = prompt.strip()
    if not prompt or len(prompt) > MAX_PROMPT:
        raise ApplicationError(f"Write a prompt of 1-{MAX_PROMPT} characters for the shot.")
    if not 1 <= duration <= 60:
        raise ApplicationError("A shot lasts 1-60 seconds.")
    return prompt


def shot_add(
    *,
    storyboard: Storyboard,
    prompt: str,
    duration: int,
    chain_from_previous: bool = False,
    references: Sequence[tuple[str, Asset]] = (),
) -> Shot:
    """Append a shot (`duration` in seconds) with `references`, (role, asset) pairs of the
    storyboard's project in prompt order. Raises ApplicationError (empty prompt, duration
    outside 1-60, too many shots, an asset of another project, a chained first shot)."""
    prompt = _check_shot(prompt, duration)
    for _, asset in references:
        if asset.project_id != storyboard.project_id or asset.deleted_at is not None:
            raise ApplicationError("References must come from this project's library.")
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=storyboard.pk)
        last = board.shots.aggregate(top=Max("position"))["top"]
        if last is not None and last + 1 >= MAX_SHOTS:
            raise ApplicationError(f"A storyboard holds at most {MAX_SHOTS} shots.")
        if chain_from_previous and last is None:
            raise ApplicationError(CHAIN_FIRST_SHOT)
        shot = Shot.objects.create(
            storyboard=board,
            position=0 if last is None else last + 1,
            prompt=prompt,
            duration=duration,
            chain_from_previous=chain_from_previous,
        )
        ShotReference.objects.bulk_create(
            ShotReference(shot=shot, asset=asset, role=role, position=i)
            for i, (role, asset) in enumerate(references)
        )
        board.save(update_fields=["updated_at"])
    return shot


def shot_update(*, shot: Shot, prompt: str, duration: int, chain_from_previous: bool) -> Shot:
    """Change a shot's plan (not its tries). Raises ApplicationError as `shot_add` does."""
    prompt = _check_shot(prompt, duration)
    if chain_from_previous and shot.position == 0:
        raise ApplicationError(CHAIN_FIRST_SHOT)
    shot.prompt, shot.duration, shot.chain_from_previous = prompt, duration, chain_from_previous
    shot.save(update_fields=["prompt", "duration", "chain_from_previous"])
    Storyboard.objects.filter(pk=shot.storyboard_id).update(updated_at=timezone.now())
    return shot


def shots_reorder(*, storyboard: Storyboard, shot_ids: Sequence[str]) -> list[Shot]:
    """Put the storyboard's shots in the order of `shot_ids` (every shot's id once); the new
    first shot loses its chain (nothing comes before it). Returns the shots in order. Raises
    ApplicationError when `shot_ids` is not exactly the storyboard's shots."""
    with transaction.atomic():
        Storyboard.objects.select_for_update().filter(pk=storyboard.pk).get()
        shots = {str(s.pk): s for s in storyboard.shots.all()}
        if sorted(shot_ids) != sorted(shots) or len(set(shot_ids)) != len(shot_ids):
            raise ApplicationError(REORDER_MISMATCH)
        ordered = [shots[i] for i in shot_ids]
        # Two passes: positions are unique per storyboard at every statement.
        for index, shot in enumerate(ordered):
            shot.position = MAX_SHOTS + index
        Shot.objects.bulk_update(ordered, ["position"])
        for index, shot in enumerate(ordered):
            shot.position = index
            if index == 0:
                shot.chain_from_previous = False
        Shot.objects.bulk_update(ordered, ["position", "chain_from_previous"])
        storyboard.save(update_fields=["updated_at"])
    return ordered


def shot_delete(*, shot: Shot) -> None:
    """Remove a shot (its generations stay in the project) and close the gap in positions."""
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=shot.storyboard_id)
        shot.delete()
        rest = list(board.shots.order_by("position"))
        shots_reorder(storyboard=board, shot_ids=[str(s.pk) for s in rest])


def shot_submit(
    *, shot: Shot, user: AbstractBaseUser, shown_cost_micro: int | None = None
) -> GenerationTask:
    """Submit the shot as a new generation and make it the shot's take.

    A chained shot's first frame is the previous shot's chosen take's last frame, as an
    image asset of the project (made once per take). Raises ApplicationError (CHAIN_NEEDS_TAKE
    when the previous shot has no succeeded take) and whatever `generation_task_create`
    raises (InvalidRequest, NoPrice, PriceChanged, InsufficientCredits, BudgetExceeded):
    then nothing is held, and the take is unchanged."""
    board = shot.storyboard
    references = [
        ReferenceInput(role=ref.role, asset=ref.asset)
        for ref in shot.references.select_related("asset").order_by("position")
    ]
    if shot.chain_from_previous:
        first = chain_frame_asset(shot=shot, user=user)
        references = [r for r in references if r.role != "first_frame"]
        references.insert(0, ReferenceInput(role="first_frame", asset=first))
    params = GenerationParams(
        provider=board.provider,
        model=board.model,
        prompt=shot.prompt,
        ratio=board.ratio,
        resolution=board.resolution,
        duration=shot.duration,
        generate_audio=board.generate_audio,
        references=tuple(references),
        shown_cost_micro=shown_cost_micro,
    )
    with transaction.atomic():
        task = generation_task_create(project=board.project, user=user, params=params)
        shot.generations.add(task)
        shot.take = task
        shot.save(update_fields=["take"])
    return task


def previous_shot(shot: Shot) -> Shot | None:
    """The shot just before `shot` in its storyboard, or None for the first."""
    return (
        Shot.objects.filter(storyboard_id=shot.storyboard_id, position__lt=shot.position)
        .select_related("take")
        .order_by("-position")
        .first()
    )


def chain_frame_asset(*, shot: Shot, user: AbstractBaseUser) -> Asset:
    """The image asset a chained `shot` starts from: the previous shot's chosen take's
    stored last frame, else its stored video's own last frame decoded now with PyAV.
    Raises ApplicationError when there is no previous shot or its take has not succeeded."""
    before = previous_shot(shot)
    if before is None:
        raise ApplicationError(CHAIN_FIRST_SHOT)
    take = before.take
    if take is None or take.status != GenerationTask.Status.SUCCEEDED or not take.video:
        raise ApplicationError(CHAIN_NEEDS_TAKE.format(n=shot.position + 1, p=before.position + 1))
    if take.last_frame:
        return asset_from_last_frame(task=take, user=user)
    return _decoded_last_frame(take, user)


def _decoded_last_frame(take: GenerationTask, user: AbstractBaseUser) -> Asset:
    existing = Asset.objects.filter(
        source_task=take, kind=Asset.Kind.IMAGE, deleted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    with tempfile.TemporaryDirectory(dir=temp_dir()) as scratch:
        video, frame = Path(scratch) / "take.mp4", Path(scratch) / "last-frame.png"
        with open(video, "wb") as out, default_storage.open(take.video.name, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        if not write_last_frame(video, frame):
            raise ApplicationError("The chosen take's video has no frame to start from.")
        with upload_probed(frame, name=f"last-frame-{str(take.pk)[:8]}.png") as probed:
            asset = asset_store_files(
                project=take.project,
                user=user,
                probed=probed,
                name=f"Last frame of “{Truncator(take.prompt).words(8)}”",
                source_task=take,
            )
    try:
        asset.save(force_insert=True)
    except BaseException:
        asset_files_delete(asset)
        raise
    return asset


def shot_take_choose(*, shot: Shot, task: GenerationTask, user: AbstractBaseUser) -> Shot:
    """Make `task`, one of the shot's succeeded tries, its take. Raises ApplicationError
    (NOT_A_TRY, NOT_FINISHED)."""
    if not shot.generations.filter(pk=task.pk).exists():
        raise ApplicationError(NOT_A_TRY)
    if task.status != GenerationTask.Status.SUCCEEDED or task.deleted_at is not None:
        raise ApplicationError(NOT_FINISHED)
    shot.take = task
    shot.save(update_fields=["take"])
    audit_record(
        actor=user,
        action="storyboard.take_chosen",
        team=shot.storyboard.project.team,
        target=shot.storyboard,
        details={"shot": shot.position + 1, "task": str(task.pk)},
    )
    return shot
