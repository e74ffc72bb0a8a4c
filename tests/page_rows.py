"""Realistic rows in bulk for page tests and bench/pages.py: a team with a member and a
reviewer, a project, a small asset library, and `count` generations of every kind.

Of every ten generations: seven succeeded (video, cover, last frame; awaiting review,
approved with a Review, or rejected with a comment), one rendering, one failed with a vendor
message, one queued. Each has two or three references to the library, a history of four to
six events, and its ledger entries (hold; release, plus a charge when it succeeded), with the
team's cached balance kept equal to the sum of its entries. Rows are written with
bulk_create, a few statements per thousand generations.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from projects.models import (
    Asset,
    CreditAccount,
    CreditEntry,
    GenerationReference,
    GenerationTask,
    Membership,
    Project,
    Review,
    TaskEvent,
    Team,
)

Status = GenerationTask.Status
Kind = CreditEntry.Kind
RATE_MICRO = 200_000  # $0.20 per second: TokenHub's seedance 2.0 720p price
PROMPTS = [
    "A lighthouse in a storm, waves crashing over the rocks, cinematic",
    "A red fox trotting through fresh snow at dawn, slow motion",
    "Neon rain on a Tokyo side street, a cyclist passing, 35 mm film look",
    "A paper boat drifting down a gutter stream after a summer storm",
    "Close-up of hands kneading dough, flour dust in warm window light",
    "Drone shot over terraced rice fields at golden hour, mist in the valleys",
]
FAIL_MESSAGE = "TokenHub refused the content: the prompt may violate the content policy."


@dataclass
class PageWorld:
    """What `page_world` made: the team, project, its people and one generation of each
    kind (`succeeded` has references, reviews and a full history)."""

    team: Team
    project: Project
    member: Any
    reviewer: Any
    succeeded: GenerationTask
    count: int


def page_world(*, count: int, label: str = "", seed: int = 1) -> PageWorld:
    """A team, project and people (`member`, `reviewer`; usernames end with `label`), and
    `count` generations as the module docstring describes."""
    User = get_user_model()
    label = label or str(count)
    team = Team.objects.create(name=f"Studio {label}", slug=f"studio-{label}")
    member = User.objects.create_user(f"member-{label}", password="pass-word-123")
    reviewer = User.objects.create_user(f"reviewer-{label}", password="pass-word-123")
    Membership.objects.bulk_create(
        [
            Membership(team=team, user=member, role=Membership.Role.MEMBER),
            Membership(team=team, user=reviewer, role=Membership.Role.REVIEWER),
        ]
    )
    project = Project.objects.create(
        team=team, name=f"Campaign {label}", slug=f"campaign-{label}", created_by=member
    )
    first = generations_add(
        project=project, member=member, reviewer=reviewer, count=count, seed=seed
    )
    return PageWorld(
        team=team,
        project=project,
        member=member,
        reviewer=reviewer,
        succeeded=first,
        count=count,
    )


def _assets(project: Project, member: Any) -> list[Asset]:
    prefix = f"teams/{project.team_id}/assets"
    made = []
    for index, (kind, name) in enumerate(
        [
            ("image", "storyboard-1.png"),
            ("image", "storyboard-2.png"),
            ("image", "palette.jpg"),
            ("video", "motion-ref.mp4"),
            ("audio", "beat.mp3"),
        ]
    ):
        made.append(
            Asset(
                team_id=project.team_id,
                project=project,
                kind=kind,
                name=name,
                file=f"{prefix}/{index}/{name}",
                poster=f"{prefix}/{index}/poster.jpg" if kind != "audio" else "",
                uploaded_by=member,
                size_bytes=200_000 + index,
                width=1280 if kind != "audio" else None,
                height=720 if kind != "audio" else None,
                duration_s=4.0 if kind in ("video", "audio") else None,
            )
        )
    return Asset.objects.bulk_create(made)


@transaction.atomic
def generations_add(
    *, project: Project, member: Any, reviewer: Any, count: int, seed: int = 1
) -> GenerationTask:
    """Add `count` generations (and their references, events, reviews and ledger entries)
    to `project`; returns the oldest succeeded one, fully loaded."""
    rng = random.Random(seed)
    assets = _assets(project, member)
    images = [a for a in assets if a.kind == "image"]
    account, _ = CreditAccount.objects.get_or_create(team_id=project.team_id)
    if not CreditEntry.objects.filter(account=account, kind=Kind.GRANT).exists():
        CreditEntry.objects.create(
            account=account, kind=Kind.GRANT, amount_micro=10_000_000_000, memo="Page rows."
        )
    now = timezone.now()
    kinds = itertools.cycle(
        ["ok", "ok-approved", "ok", "running", "ok-rejected", "ok", "failed", "ok", "queued", "ok"]
    )
    tasks = []
    for index in range(count):
        kind = next(kinds)
        created = now - timedelta(minutes=5 * (count - index))
        duration = rng.choice([5, 8, 10])
        task = GenerationTask(
            project=project,
            created_by=member,
            provider="tokenhub",
            model="doubao-seedance-2.0",
            prompt=f"{PROMPTS[index % len(PROMPTS)]} (take {index + 1})",
            ratio="16:9",
            resolution="720p",
            duration=duration,
            expected_render_s=120.0,
            upstream_task_id=f"cgt-{project.pk.hex[:8]}-{index:05d}",
            submitted_at=created + timedelta(seconds=1),
            deadline_at=created + timedelta(hours=49),
            usage={"completion_tokens": 108900 * duration // 5},
        )
        task.created_at = created  # auto_now_add: overwritten below with an UPDATE
        if kind.startswith("ok"):
            keys = f"teams/{project.team_id}/outputs/{task.pk}"
            task.status = Status.SUCCEEDED
            task.review_state = {
                "ok": "awaiting",
                "ok-approved": "approved",
                "ok-rejected": "rejected",
            }[kind]
            task.started_at = created + timedelta(seconds=6)
            task.finished_at = created + timedelta(seconds=130)
            task.upstream_status = "succeeded"
            task.video = f"{keys}/video.mp4"
            task.cover = f"{keys}/cover.jpg"
            task.last_frame = f"{keys}/last_frame.png"
            task.video_sha256 = f"{index:064x}"
            task.video_size_bytes = 2_400_000 + index
            task.video_duration_s = float(duration)
            task.video_width, task.video_height = 1280, 720
            task.billed_output_s = duration
        elif kind == "failed":
            task.status = Status.FAILED
            task.error_code = "OutputVideoSensitiveContentDetected"
            task.error_message = FAIL_MESSAGE
            task.finished_at = created + timedelta(seconds=40)
            task.upstream_status = "failed"
        elif kind == "running":
            task.status = Status.RUNNING
            task.upstream_status = "processing"
            task.started_at = created + timedelta(seconds=6)
            task.next_poll_at = now + timedelta(seconds=30)
        else:
            task.status = Status.QUEUED
            task.upstream_status = "queued"
            task.next_poll_at = now + timedelta(seconds=30)
        tasks.append((task, kind))
    GenerationTask.objects.bulk_create([t for t, _ in tasks])
    for task, _ in tasks:  # created_at is auto_now_add: bulk_create stamped "now" on each
        GenerationTask.objects.filter(pk=task.pk).update(created_at=task.created_at)

    references, events, reviews, entries = [], [], [], []
    for task, kind in tasks:
        chosen = rng.sample(images, 2) + ([assets[3]] if rng.random() < 0.3 else [])
        for position, asset in enumerate(chosen):
            role = "reference_video" if asset.kind == "video" else "reference_image"
            references.append(
                GenerationReference(task=task, asset=asset, role=role, position=position)
            )
        held = RATE_MICRO * task.duration
        seconds = Decimal(task.duration)
        common = {"account": account, "task": task, "project": project, "user": member}
        entries.append(
            CreditEntry(
                kind=Kind.HOLD, amount_micro=-held, seconds=seconds, rate_micro=RATE_MICRO, **common
            )
        )
        lines = [
            ("submitted", f"Accepted by tokenhub as {task.upstream_task_id}."),
            ("running", "Rendering started."),
        ]
        if task.is_terminal:
            entries.append(CreditEntry(kind=Kind.RELEASE, amount_micro=held, **common))
        if task.status == Status.SUCCEEDED:
            entries.append(
                CreditEntry(
                    kind=Kind.CHARGE,
                    amount_micro=-held,
                    seconds=seconds,
                    rate_micro=RATE_MICRO,
                    **common,
                )
            )
            lines += [
                ("rendered", "The gateway finished; saving the video."),
                ("settled", f"Charged ${held / 1e6:.2f}; hold released."),
                ("succeeded", "succeeded"),
            ]
        elif task.status == Status.FAILED:
            lines += [("failed", FAIL_MESSAGE)]
        for event_kind, message in lines:
            events.append(TaskEvent(task=task, kind=event_kind, message=message))
        if kind in ("ok-approved", "ok-rejected"):
            approved = kind == "ok-approved"
            reviews.append(
                Review(
                    task=task,
                    reviewer=reviewer,
                    decision="approved" if approved else "rejected",
                    comment="" if approved else "The horizon tilts; keep the camera level.",
                )
            )
    GenerationReference.objects.bulk_create(references)
    TaskEvent.objects.bulk_create(events)
    Review.objects.bulk_create(reviews)
    CreditEntry.objects.bulk_create(entries)
    totals = CreditEntry.objects.filter(account=account).aggregate(total=Sum("amount_micro"))
    open_holds = CreditEntry.objects.filter(
        account=account, kind__in=[Kind.HOLD, Kind.RELEASE]
    ).aggregate(total=Sum("amount_micro"))
    CreditAccount.objects.filter(pk=account.pk).update(
        balance_micro=totals["total"] or 0, held_micro=-(open_holds["total"] or 0)
    )
    # The detail page's example: a rejected video (review, comment, references, history).
    first = next((t for t, kind in tasks if kind == "ok-rejected"), None)
    first = first or next(t for t, kind in tasks if kind.startswith("ok"))
    return GenerationTask.objects.get(pk=first.pk)
