"""Money: a credit account per team, its append-only ledger, and budgets (price rules are in
projects/models/prices.py).

Ledger amounts are integers in micro-USD (1 USD = 1_000_000 micro-USD), signed by their effect
on what the team can still spend: grant +, hold -, release +, charge -, adjustment +/-. Only
projects/money/ledger.py writes `CreditEntry` and `CreditAccount`. What admins type (a price per
second, per million tokens or per credit, a budget limit) is Decimal, converted to micro-USD
exactly (a CNY price at its rule's exchange rate, rounded to the micro-USD).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

MICRO_PER_USD = 1_000_000


def usd_to_micro(usd: Decimal | int | str) -> int:
    """Exact USD -> micro-USD; raises ValueError for a value finer than one micro-USD."""
    micro = Decimal(usd) * MICRO_PER_USD
    if micro != micro.to_integral_value():
        raise ValueError(f"{usd} USD is not a whole number of micro-USD.")
    return int(micro)


def micro_to_usd(micro: int) -> Decimal:
    """micro-USD -> Decimal USD (exact)."""
    return Decimal(micro) / MICRO_PER_USD


def usd_text(micro: int) -> str:
    """A decimal string of USD: '3.00', '-1.50', '0.024916' (cents always, more digits only
    when they are not zero)."""
    text = format(micro_to_usd(abs(micro)).quantize(Decimal("0.000001")), "f").rstrip("0")
    whole, _, frac = text.partition(".")
    text = f"{whole}.{frac.ljust(2, '0')}"
    return f"-{text}" if micro < 0 else text


def usd(micro: int) -> str:
    """For people, to the cent as they read prices: '$3.00', '-$1.50', '$0.26' (259,545
    micro-USD, rounded half-up), '$1,000.00'; a non-zero amount under half a cent is '<$0.01'
    rather than a misleading '$0.00'. Exact figures: `usd_exact` (ledger pages' titles, the
    CSV, operators' checks)."""
    if 0 < abs(micro) < 5_000:
        return "-<$0.01" if micro < 0 else "<$0.01"
    cents = int((micro_to_usd(abs(micro)) * 100).to_integral_value(rounding=ROUND_HALF_UP))
    text = f"${cents // 100:,}.{cents % 100:02d}"
    return f"-{text}" if micro < 0 else text


def usd_exact(micro: int) -> str:
    """Every micro-USD shown: '$3.00', '-$1.50', '$0.259545', '$1,000.00'."""
    whole, _, frac = usd_text(abs(micro)).partition(".")
    text = f"${int(whole):,}.{frac}"
    return f"-{text}" if micro < 0 else text


def usd_apart(*amounts: int) -> list[str]:
    """`usd` of each amount, unless rounding to the cent would make two different amounts
    read the same ("$10.00 available, this costs up to $10.00"): then every one exactly."""
    shown = [usd(micro) for micro in amounts]
    if len(set(shown)) < len(set(amounts)):
        return [usd_exact(micro) for micro in amounts]
    return shown


UNIT_RATE_SUFFIX = {"second": "/s", "mtokens": " per million tokens", "credit": " per credit"}


def unit_rate_text(unit: str, rate_micro: int | None) -> str:
    """A rate for people, in its unit, exact as price lists give it: '$0.20/s', '$7.00 per
    million tokens', '$0.025 per credit' ('' for None)."""
    if rate_micro is None:
        return ""
    return f"{usd_exact(rate_micro)}{UNIT_RATE_SUFFIX.get(unit or 'second', '')}"


def entry_billed_text(entry: CreditEntry) -> str:
    """What a hold or charge entry counted, in its unit: '108,900 tokens × $7.00 per million
    tokens', '15 s × $0.20/s' ('' for entries without a price)."""
    if entry.rate_micro is None:
        return ""
    unit = entry.unit or "second"
    quantity = entry.quantity if entry.quantity is not None else entry.seconds
    return f"{unit_quantity_text(unit, quantity)} × {unit_rate_text(unit, entry.rate_micro)}"


def unit_quantity_text(unit: str, quantity: Decimal | int | None) -> str:
    """A billed quantity for people: '15 s', '2.346 s', '108,900 tokens', '64 credits'
    ('' for None). An entry written before units existed (`unit` empty) is in seconds."""
    if quantity is None:
        return ""
    value = Decimal(quantity)
    if unit == "mtokens":
        return f"{int(value):,} tokens"
    text = f"{value.normalize():f}" if value != value.to_integral_value() else f"{int(value):,}"
    if unit == "credit":
        return f"{text} credit{'' if value == 1 else 's'}"
    return f"{text} s"


class CreditAccount(models.Model):
    """A team's credit. `balance_micro` and `held_micro` are caches of sums over the team's
    entries (`manage.py ledger_check` proves it), updated only by projects/money/ledger.py in the
    transaction that appends the entry, under this row's lock.

    balance = sum of all entries = what the team can still commit (open holds already
    subtracted); held = the open holds of unfinished generations.
    """

    team = models.OneToOneField(
        "projects.Team", on_delete=models.CASCADE, related_name="credit_account"
    )
    balance_micro = models.BigIntegerField(default=0)
    held_micro = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_micro__gte=0), name="credit_account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(held_micro__gte=0), name="credit_account_held_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} credit"


class CreditEntry(models.Model):
    """One line of a team's ledger; never updated or deleted.

    A generation task has exactly one hold (its worst-case cost, at submit) and, once it ends,
    exactly one release (the whole hold back) plus, only if it succeeded, one charge (what the
    gateway actually produced). Unique (task, kind) makes a job delivered twice harmless.
    How a hold or charge was priced: `unit` (the price rule's: second, mtokens, credit; empty
    on entries from before units, which are per second), `quantity` in that unit (seconds,
    tokens, credits), `rate_micro` (micro-USD per second, per million tokens or per credit)
    and `seconds` (input + output seconds behind it, whatever the unit). `project` and `user`
    are copied from the task so budgets sum without joins.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        HOLD = "hold", "Hold"
        RELEASE = "release", "Release"
        CHARGE = "charge", "Charge"
        ADJUSTMENT = "adjustment", "Adjustment"

    TASK_KINDS = (Kind.HOLD, Kind.RELEASE, Kind.CHARGE)

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_micro = models.BigIntegerField(help_text="Signed micro-USD (1 USD = 1,000,000).")
    task = models.ForeignKey(
        "projects.GenerationTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose spend this is (the task's creator).",
    )
    seconds = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=8, blank=True)
    quantity = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    rate_micro = models.BigIntegerField(null=True, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who wrote it: an admin for grants and adjustments, empty for the system.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        indexes = [
            models.Index(fields=["account", "kind", "created_at"], name="entry_account_kind_time"),
            models.Index(fields=["project", "kind"], name="entry_project_kind"),
            models.Index(fields=["user", "kind"], name="entry_user_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind"],
                condition=Q(kind__in=["hold", "release", "charge"]),
                name="entry_one_per_task_and_kind",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(kind="grant") & Q(amount_micro__gt=0) & Q(task__isnull=True))
                    | (Q(kind="hold") & Q(amount_micro__lte=0) & Q(task__isnull=False))
                    | (Q(kind="release") & Q(amount_micro__gte=0) & Q(task__isnull=False))
                    | (Q(kind="charge") & Q(amount_micro__lte=0) & Q(task__isnull=False))
                    | (Q(kind="adjustment") & ~Q(amount_micro=0))
                ),
                name="entry_kind_sign_and_task",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {micro_to_usd(self.amount_micro):+.2f} USD"


class Budget(models.Model):
    """A spending limit per period: for a whole team, one project, one user in a team, or
    one API key (projects/models/api_keys.py).

    Spend in a period = the charges whose entries fall in it plus the holds still open (they
    may be charged now). Periods start at local midnight (settings.TIME_ZONE) on the first day
    of the day/week (Monday)/month/quarter/year and come from entry timestamps: nothing resets.
    """

    class Period(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="budgets")
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
        help_text="Set to limit one project; leave empty for the whole team.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
        help_text="Set to cap one member's spend in this team.",
    )
    api_key = models.ForeignKey(
        "projects.ApiKey",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
        help_text="Set to cap what one API key spends (leave project and user empty).",
    )
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    limit_usd = models.DecimalField("limit (USD)", max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "project", "user", "period"]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=True) | Q(user__isnull=True),
                name="budget_project_or_user",
            ),
            models.CheckConstraint(
                condition=Q(api_key__isnull=True)
                | (Q(project__isnull=True) & Q(user__isnull=True)),
                name="budget_key_alone",
            ),
            models.CheckConstraint(condition=Q(limit_usd__gte=0), name="budget_not_negative"),
            models.CheckConstraint(
                condition=Q(period__in=["day", "week", "month", "quarter", "year"]),
                name="budget_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label()}: ${self.limit_usd} per {self.period}"

    def scope_label(self) -> str:
        """'team Studio', 'project Demo', 'user mia in Studio'."""
        if self.api_key_id:
            return f"API key {self.api_key} of {self.api_key.user} in {self.team}"
        if self.project_id:
            return f"project {self.project}"
        if self.user_id:
            return f"user {self.user} in {self.team}"
        return f"team {self.team}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from projects.models.teams import Membership

        if self.project_id and self.user_id:
            raise ValidationError("A budget limits a project or a user, not both.")
        if self.api_key_id and (self.project_id or self.user_id):
            raise ValidationError(
                "A key's budget limits the key alone: leave project and user empty."
            )
        if self.api_key_id and self.team_id and self.api_key.team_id != self.team_id:
            raise ValidationError({"api_key": "This key belongs to another team."})
        if self.project_id and self.team_id and self.project.team_id != self.team_id:
            raise ValidationError({"project": "This project belongs to another team."})
        if (
            self.user_id
            and self.team_id
            and not Membership.objects.filter(team_id=self.team_id, user_id=self.user_id).exists()
        ):
            raise ValidationError({"user": "This user is not a member of the team."})
