"""Budgets: how much of each team, project and user limit is used, and the check at submit.

Used in a period = charges whose entries fall in the period + holds still open (they may be
charged any moment, so they count now, whenever they were placed). Periods are computed from
entry timestamps (local time, settings.TIME_ZONE); no job resets anything. `budgets_check`
must run under the team account's lock (projects/money/ledger.py calls it as the hold's guard), so
concurrent submits see each other's holds and can never overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, Sum
from django.utils import timezone

from projects.exceptions import BudgetExceeded
from projects.models import ApiKey, Budget, CreditEntry, Project, Team
from projects.models.ledger import usd, usd_apart, usd_to_micro

Kind = CreditEntry.Kind
PERIOD_WORDS = {
    "day": ("daily", "today"),
    "week": ("weekly", "this week"),
    "month": ("monthly", "this month"),
    "quarter": ("quarterly", "this quarter"),
    "year": ("yearly", "this year"),
}


def period_start(period: str, at: datetime | None = None) -> datetime:
    """The aware local datetime at which the `period` containing `at` began."""
    local = timezone.localtime(at or timezone.now())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start = day
    elif period == "week":
        start = day - timedelta(days=day.weekday())
    elif period == "month":
        start = day.replace(day=1)
    elif period == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif period == "year":
        start = day.replace(month=1, day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    # Rebuild from the wall-clock fields so a DST change inside the period is respected.
    return timezone.make_aware(start.replace(tzinfo=None))


@dataclass(frozen=True)
class BudgetState:
    """One budget right now: micro-USD `limit`, `used` (charged in the period + open holds),
    `left` (never negative), and `name` for messages ("the Studio team's monthly budget")."""

    budget: Budget
    name: str
    limit_micro: int
    used_micro: int

    @property
    def left_micro(self) -> int:
        return max(0, self.limit_micro - self.used_micro)

    @property
    def period_words(self) -> str:
        return PERIOD_WORDS[self.budget.period][1]


def _name(budget: Budget, user: AbstractBaseUser | None) -> str:
    adjective = PERIOD_WORDS[budget.period][0]
    if budget.api_key_id:
        return f"the API key “{budget.api_key.name}”'s {adjective} budget"
    if budget.project_id:
        return f"the {budget.project.name} project's {adjective} budget"
    if budget.user_id:
        whose = (
            "your"
            if user is not None and budget.user_id == user.pk
            else (f"{budget.user.get_username()}'s")
        )
        return f"{whose} {adjective} cap in {budget.team.name}"
    return f"the {budget.team.name} team's {adjective} budget"


def budget_title(budget: Budget) -> str:
    """The budget's name for anyone ("the Studio team's monthly budget", "mia's weekly cap
    in Studio"), as a notification to the team's admins says it."""
    return _name(budget, None)


def _used(budget: Budget, at: datetime | None) -> int:
    scope = Q(account__team_id=budget.team_id)
    if budget.project_id:
        scope &= Q(project_id=budget.project_id)
    if budget.user_id:
        scope &= Q(user_id=budget.user_id)
    if budget.api_key_id:
        scope &= Q(task__api_key_id=budget.api_key_id)
    start = period_start(budget.period, at)
    sums = CreditEntry.objects.filter(scope).aggregate(
        charged=Sum("amount_micro", filter=Q(kind=Kind.CHARGE, created_at__gte=start)),
        # hold + release per task is 0 once released, -hold while open.
        open=Sum("amount_micro", filter=Q(kind__in=[Kind.HOLD, Kind.RELEASE])),
    )
    return -(sums["charged"] or 0) - (sums["open"] or 0)


def budget_states(
    *,
    team: Team,
    project: Project | None,
    user: AbstractBaseUser | None,
    at: datetime | None = None,
    every: bool = False,
    api_key: ApiKey | None = None,
) -> list[BudgetState]:
    """Every budget that applies to spending by `user` in `project` of `team` (through
    `api_key`, when an API request spends): the team's, the project's, the user's and the
    key's, each with what is used and left now. With `every`, all the team's budgets (the
    team spend page)."""
    applies = Q(project__isnull=True, user__isnull=True, api_key__isnull=True)
    if project is not None:
        applies |= Q(project=project)
    if user is not None:
        applies |= Q(user=user)
    if api_key is not None:
        applies |= Q(api_key=api_key)
    budgets = Budget.objects.filter(team=team).select_related("team", "project", "user", "api_key")
    if not every:
        budgets = budgets.filter(applies)
    return [
        BudgetState(
            budget=budget,
            name=_name(budget, user),
            limit_micro=usd_to_micro(budget.limit_usd),
            used_micro=_used(budget, at),
        )
        # Team budgets first, then the project's, the user's, the key's: the first one a
        # request would exceed is the one the refusal names.
        for budget in sorted(
            budgets,
            key=lambda b: (bool(b.project_id), bool(b.user_id), bool(b.api_key_id), b.period, b.pk),
        )
    ]


def budgets_check(
    *,
    team: Team,
    project: Project,
    user: AbstractBaseUser,
    amount_micro: int,
    at: datetime | None = None,
    api_key: ApiKey | None = None,
) -> list[BudgetState]:
    """Refuse with BudgetExceeded when `amount_micro` more would take any applicable budget
    (with `api_key`'s, for an API request) over its limit; the message names the budget,
    what is left and what the request costs. Call under the team account's lock (see
    module docstring). Returns the states it checked, as they were before `amount_micro`."""
    states = budget_states(team=team, project=project, user=user, at=at, api_key=api_key)
    refusal = budget_refusal(states, amount_micro=amount_micro)
    if refusal:
        raise BudgetExceeded(refusal)
    return states


def budget_refusal(states: list[BudgetState], *, amount_micro: int) -> str:
    """The refusal for the first budget `amount_micro` more would exceed ('' when none)."""
    for state in states:
        if state.used_micro + amount_micro > state.limit_micro:
            left, amount = usd_apart(state.left_micro, amount_micro)
            return (
                f"This would go over {state.name} ({usd(state.limit_micro)}): "
                f"{left} is left {state.period_words} and this request costs up to {amount}."
            )
    return ""
