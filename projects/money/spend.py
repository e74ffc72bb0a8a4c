"""The ledger's read side: a task's held/charged amounts, and spend reports per team or
project for the spend pages and their CSV export. Every figure is a sum of CreditEntry rows;
nothing here writes.

Spend = charges (the positive amount charged). Open holds are shown beside it (committed,
not yet spent); grants and adjustments are listed with the team's entries.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Abs, Coalesce, TruncDate
from django.utils import timezone

from projects.models import CreditEntry, GenerationTask, Project, Team
from projects.models.ledger import micro_to_usd, unit_quantity_text, unit_rate_text, usd_text

Kind = CreditEntry.Kind


@dataclass(frozen=True)
class TaskMoney:
    """One task's money in micro-USD: the hold placed at submit (its worst case), what it was
    charged, whether the hold was released, and how they were priced: `unit` (second,
    mtokens, credit), `rate_micro` (micro-USD per unit), the quantities in that unit
    (`held_quantity`, `charged_quantity`: seconds, tokens or credits) and the seconds."""

    held_micro: int = 0
    charged_micro: int = 0
    released: bool = False
    rate_micro: int | None = None
    held_seconds: object = None
    charged_seconds: object = None
    unit: str = "second"
    held_quantity: object = None
    charged_quantity: object = None

    @property
    def has_hold(self) -> bool:
        return self.rate_micro is not None

    @property
    def rate_text(self) -> str:
        """'$0.20/s', '$7.00 per million tokens'."""
        return unit_rate_text(self.unit, self.rate_micro)

    @property
    def held_text(self) -> str:
        """'15 s', '108,900 tokens', '64 credits' (what the hold counted)."""
        return unit_quantity_text(self.unit, self.held_quantity)

    @property
    def charged_text(self) -> str:
        return unit_quantity_text(self.unit, self.charged_quantity)


def task_money(task: GenerationTask) -> TaskMoney:
    """The task's hold, charge and release as the ledger records them (one query)."""
    rows = CreditEntry.objects.filter(task=task, kind__in=CreditEntry.TASK_KINDS).order_by()
    entries = {
        kind: (amount, rate, seconds, unit, quantity)
        for kind, amount, rate, seconds, unit, quantity in rows.values_list(
            "kind", "amount_micro", "rate_micro", "seconds", "unit", "quantity"
        )
    }
    hold, charge = entries.get(Kind.HOLD), entries.get(Kind.CHARGE)
    return TaskMoney(
        held_micro=-hold[0] if hold else 0,
        charged_micro=-charge[0] if charge else 0,
        released=Kind.RELEASE in entries,
        rate_micro=hold[1] if hold else None,
        held_seconds=hold[2] if hold else None,
        charged_seconds=charge[2] if charge else None,
        unit=(hold[3] if hold else "") or "second",
        held_quantity=_quantity(hold),
        charged_quantity=_quantity(charge),
    )


def _quantity(entry: tuple | None) -> object:
    """An entry's quantity; its seconds for entries written before units existed."""
    if entry is None:
        return None
    return entry[4] if entry[4] is not None else entry[2]


def with_money(tasks: QuerySet[GenerationTask]) -> QuerySet[GenerationTask]:
    """`tasks` annotated with `held_micro` and `charged_micro` (positive micro-USD, 0 when
    none) for gallery tiles and admin lists."""

    def amount(kind: str) -> Coalesce:
        # One entry per (task, kind) (a unique constraint): no ordering needed.
        entry = (
            CreditEntry.objects.filter(task=OuterRef("pk"), kind=kind)
            .order_by()
            .values("amount_micro")
        )
        return Coalesce(Abs(Subquery(entry[:1])), 0)

    return tasks.annotate(held_micro=amount(Kind.HOLD), charged_micro=amount(Kind.CHARGE))


def month_bounds(month: str | None) -> tuple[datetime, datetime, date]:
    """The aware local [start, end) of `month` ('YYYY-MM'; the current month when missing or
    malformed) and its first day."""
    today = timezone.localdate()
    first = today.replace(day=1)
    if month:
        try:
            year, number = (int(part) for part in month.split("-", 1))
            first = date(year, number, 1)
        except ValueError:
            pass
    days = calendar.monthrange(first.year, first.month)[1]
    after = first + timedelta(days=days)
    zone = timezone.get_current_timezone()
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(after.year, after.month, 1, tzinfo=zone)
    return start, end, first


@dataclass(frozen=True)
class SpendRow:
    """One line of a breakdown: what was charged, over how many generations and seconds, and
    what it paid for in each unit (`billed`: '108,900 tokens · 64 credits · 15 s')."""

    label: str
    charged_micro: int
    count: int
    seconds: object
    billed: str = ""


@dataclass
class SpendReport:
    """Spend of a team (all its projects) or of one project over [start, end)."""

    team: Team
    project: Project | None
    start: datetime
    end: datetime
    charged_micro: int = 0
    charges: int = 0
    held_micro: int = 0
    granted_micro: int = 0
    adjusted_micro: int = 0
    by_member: list[SpendRow] = field(default_factory=list)
    by_model: list[SpendRow] = field(default_factory=list)
    by_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    def entries(self) -> QuerySet[CreditEntry]:
        """The scope's entries in the period, newest first."""
        return (
            _scope(self.team, self.project)
            .filter(created_at__gte=self.start, created_at__lt=self.end)
            .select_related("user", "project", "task", "created_by")
            .order_by("-created_at", "-id")
        )


def _scope(team: Team, project: Project | None) -> QuerySet[CreditEntry]:
    entries = CreditEntry.objects.filter(account__team=team)
    return entries.filter(project=project) if project is not None else entries


def spend_report(
    *, team: Team, project: Project | None, start: datetime, end: datetime
) -> SpendReport:
    """Totals, per member, per model and per day for `team` (or one `project` of it)."""
    scope = _scope(team, project)
    period = scope.filter(created_at__gte=start, created_at__lt=end)
    charges = period.filter(kind=Kind.CHARGE)
    totals = period.aggregate(
        charged=Sum("amount_micro", filter=Q(kind=Kind.CHARGE)),
        granted=Sum("amount_micro", filter=Q(kind=Kind.GRANT)),
        adjusted=Sum("amount_micro", filter=Q(kind=Kind.ADJUSTMENT)),
    )
    open_holds = scope.filter(kind__in=[Kind.HOLD, Kind.RELEASE]).aggregate(s=Sum("amount_micro"))
    report = SpendReport(
        team=team,
        project=project,
        start=start,
        end=end,
        charged_micro=-(totals["charged"] or 0),
        charges=charges.count(),
        held_micro=-(open_holds["s"] or 0),
        granted_micro=totals["granted"] or 0,
        adjusted_micro=totals["adjusted"] or 0,
    )
    member_units = _billed(charges, "user__username")
    report.by_member = [
        SpendRow(
            label=row["user__username"] or "(nobody)",
            charged_micro=-row["amount"],
            count=row["count"],
            seconds=row["seconds"],
            billed=member_units.get((row["user__username"],), ""),
        )
        for row in _breakdown(charges, "user__username")
    ]
    model_units = _billed(charges, "task__provider", "task__model")
    report.by_model = [
        SpendRow(
            label=f"{row['task__provider']} · {row['task__model']}",
            charged_micro=-row["amount"],
            count=row["count"],
            seconds=row["seconds"],
            billed=model_units.get((row["task__provider"], row["task__model"]), ""),
        )
        for row in _breakdown(charges, "task__provider", "task__model")
    ]
    per_day = {
        row["day"]: -row["amount"]
        for row in charges.annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone())
        )
        .values("day")
        .annotate(amount=Sum("amount_micro"))
    }
    day = report.first_day
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    while day <= last:
        report.by_day.append((day, per_day.get(day, 0)))
        day += timedelta(days=1)
    return report


def _breakdown(charges: QuerySet[CreditEntry], *keys: str) -> list[dict]:
    return list(
        charges.values(*keys)
        .annotate(amount=Sum("amount_micro"), count=Count("pk"), seconds=Sum("seconds"))
        .order_by("amount", *keys)  # amounts are negative: biggest spend first
    )


def _billed(charges: QuerySet[CreditEntry], *keys: str) -> dict[tuple, str]:
    """Per breakdown key, the charged quantities in each unit ('1,234 tokens · 40 s'); an
    entry from before units counts its seconds."""
    rows = (
        charges.values(*keys, "unit")
        .annotate(quantity=Sum(Coalesce("quantity", "seconds")))
        .order_by(*keys, "unit")
    )
    found: dict[tuple, list[str]] = {}
    for row in rows:
        text = unit_quantity_text(row["unit"] or "second", row["quantity"])
        found.setdefault(tuple(row[k] for k in keys), []).append(text)
    return {key: " · ".join(texts) for key, texts in found.items()}


@dataclass(frozen=True)
class Bar:
    """One bar of the spend-per-day chart, in SVG user units."""

    day: date
    amount_micro: int
    x: float
    y: float
    width: float
    height: float


def day_bars(by_day: list[tuple[date, int]], *, width: int = 720, height: int = 160) -> list[Bar]:
    """Bars for an inline SVG chart: one per day, scaled to the biggest day."""
    if not by_day:
        return []
    top = max(amount for _, amount in by_day) or 1
    step = width / len(by_day)
    bars = []
    for index, (day, amount) in enumerate(by_day):
        bar_height = round(height * amount / top, 1)
        bars.append(
            Bar(
                day=day,
                amount_micro=amount,
                x=round(index * step + step * 0.15, 1),
                y=round(height - bar_height, 1),
                width=round(step * 0.7, 1),
                height=bar_height,
            )
        )
    return bars


CSV_HEADER = [
    "created_at",
    "kind",
    "amount_usd",
    "spend_usd",
    "member",
    "project",
    "task",
    "provider",
    "model",
    "billed_seconds",
    "unit",
    "quantity",
    "usd_per_unit",
    "memo",
    "by",
]


def spend_csv_rows(report: SpendReport) -> Iterator[list[str]]:
    """The header and one row per entry of the report's period. `amount_usd` is the signed
    ledger amount; `spend_usd` is what the row adds to spend (charges), so its column total
    equals the page's "charged" total. `unit` (second, mtokens, credit), `quantity` in it and
    `usd_per_unit` (USD per second, per million tokens, per credit) say how it was priced."""
    yield CSV_HEADER
    entries = report.entries().annotate(provider=F("task__provider"), model=F("task__model"))
    for entry in entries.iterator(chunk_size=2000):
        yield [
            timezone.localtime(entry.created_at).isoformat(),
            entry.kind,
            usd_text(entry.amount_micro),
            usd_text(-entry.amount_micro) if entry.kind == Kind.CHARGE else "0.00",
            _text(entry.user.get_username() if entry.user else ""),
            _text(entry.project.slug if entry.project else ""),
            str(entry.task_id or ""),
            _text(entry.provider or ""),
            _text(entry.model or ""),
            str(entry.seconds) if entry.seconds is not None else "",
            (entry.unit or "second") if entry.rate_micro is not None else "",
            str(entry.quantity if entry.quantity is not None else entry.seconds or ""),
            str(micro_to_usd(entry.rate_micro)) if entry.rate_micro is not None else "",
            _text(entry.memo),
            _text(entry.created_by.get_username() if entry.created_by else ""),
        ]


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
