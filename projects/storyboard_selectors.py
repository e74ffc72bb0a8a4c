"""Read side of storyboards (issue 15): a project's storyboards, and one storyboard's page
(its shots with their takes and tries, total length, money so far and to come, last cut)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet, Sum

from projects.exceptions import NoPrice
from projects.models import CreditEntry, Cut, GenerationTask, Project, Shot, Storyboard
from projects.money.pricing import quote

Status = GenerationTask.Status


def storyboard_list(*, project: Project) -> QuerySet[Storyboard]:
    """The project's storyboards, most recently changed first, each with `shot_count`."""
    return project.storyboards.annotate(shot_count=Count("shots")).order_by("-updated_at")


@dataclass
class ShotRow:
    """One shot on the page: `take` its chosen generation (or None), `tries` its succeeded
    generations (what may be chosen), `estimate_micro` what submitting it now would hold
    (None without a price), `length_s` the take's seconds or else the planned ones."""

    shot: Shot
    number: int
    take: GenerationTask | None
    tries: list[GenerationTask]
    estimate_micro: int | None
    length_s: float

    @property
    def busy(self) -> bool:
        return self.take is not None and self.take.status in GenerationTask.ACTIVE

    @property
    def ready(self) -> bool:
        return self.take is not None and self.take.status == Status.SUCCEEDED


@dataclass
class BoardPage:
    """Everything the storyboard page shows. Money in micro-USD: `charged_micro` what the
    shots' generations were charged (every try), `to_come_micro` the holds of renders under
    way plus the estimates of the shots with no take yet; seconds in `total_s`."""

    rows: list[ShotRow]
    total_s: float
    charged_micro: int
    to_come_micro: int
    cut: Cut | None
    busy: bool = False
    missing_prices: list[int] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.rows) and all(row.ready for row in self.rows)


def storyboard_page(*, storyboard: Storyboard) -> BoardPage:
    """The storyboard's page data (a handful of queries whatever the number of shots)."""
    shots = list(
        storyboard.shots.select_related("take")
        .prefetch_related("generations", "references__asset")
        .order_by("position")
    )
    all_ids = [g.pk for s in shots for g in s.generations.all()]
    money = dict(
        CreditEntry.objects.filter(task_id__in=all_ids)
        .values_list("kind")
        .annotate(total=Sum("amount_micro"))
        .order_by()
    )
    charged = -(money.get(CreditEntry.Kind.CHARGE) or 0)
    in_flight = _in_flight_holds(all_ids)
    rows, to_come, missing = [], in_flight, []
    estimates: dict[tuple, int | None] = {}  # one price lookup per (seconds, references)
    for number, shot in enumerate(shots, start=1):
        take = shot.take if shot.take is not None and shot.take.deleted_at is None else None
        tries = [
            g
            for g in sorted(shot.generations.all(), key=lambda g: g.created_at)
            if g.status == Status.SUCCEEDED and g.deleted_at is None
        ]
        has_references = shot.chain_from_previous or bool(shot.references.all())
        key = (shot.duration, has_references)
        if key not in estimates:
            estimates[key] = _estimate(storyboard, shot.duration, has_references)
        estimate = estimates[key]
        if take is None or take.status not in (Status.SUCCEEDED, *GenerationTask.ACTIVE):
            if estimate is None:
                missing.append(number)
            else:
                to_come += estimate
        length = (
            take.video_duration_s
            if take is not None and take.video_duration_s
            else float(shot.duration)
        )
        rows.append(ShotRow(shot, number, take, tries, estimate, length))
    cut = storyboard.cuts.order_by("-created_at").first()
    busy = any(row.busy for row in rows)
    return BoardPage(
        rows=rows,
        total_s=sum(row.length_s for row in rows),
        charged_micro=charged,
        to_come_micro=to_come,
        cut=cut,
        busy=busy,
        missing_prices=missing,
    )


def _in_flight_holds(task_ids: list) -> int:
    """The holds of the tasks still rendering (not yet charged or released)."""
    active = GenerationTask.objects.filter(pk__in=task_ids, status__in=GenerationTask.ACTIVE)
    total = CreditEntry.objects.filter(task__in=active, kind=CreditEntry.Kind.HOLD).aggregate(
        total=Sum("amount_micro")
    )["total"]
    return -(total or 0)


def _estimate(storyboard: Storyboard, seconds: int, has_references: bool) -> int | None:
    try:
        price = quote(
            provider=storyboard.provider,
            model=storyboard.model,
            resolution=storyboard.resolution,
            generate_audio=storyboard.generate_audio,
            duration=seconds,
            ratio=storyboard.ratio,
            has_references=has_references,
        )
    except NoPrice:
        return None
    return price.amount_micro


def cuts_awaiting_review(*, project_ids: list, limit: int = 50) -> list[Cut]:
    """Finished cuts awaiting a reviewer in these projects, oldest first (one query)."""
    rows = Cut.objects.filter(
        storyboard__project_id__in=project_ids,
        status=Cut.Status.DONE,
        review_state=Cut.ReviewState.PENDING,
    )
    return list(rows.select_related("storyboard__project").order_by("finished_at")[:limit])
