"""Telling a team's admins that a budget is 80 % used or used up (issue 16).

Called after a hold (a submit) and after a settle (a task's charge), in their transactions:
each budget that applies to the spend and stands at 80 % or more of its limit raises its
notification (projects/notifications/outbox.py `budget_crossed`). The event key names the
budget, the period and the level, so each fires once per budget per period however often it
is checked; a budget used up raises only "used up" (not "80 %" as well).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from projects.models import ApiKey, Event, Project, Team
from projects.models.ledger import usd
from projects.money.budgets import BudgetState, budget_states, budget_title, period_start
from projects.notifications.outbox import budget_crossed, never_raises

WARN_AT = 0.8  # share of the limit that raises BUDGET_80


@never_raises
def budget_alerts_check(
    *,
    team: Team,
    project: Project | None,
    user: AbstractBaseUser | None,
    api_key: ApiKey | None = None,
    states: list[BudgetState] | None = None,
) -> None:
    """Raise the alert of each budget of this spend now at 80 % or its limit (alerts
    already sent this period are not sent again). `states`: the budgets as they stand now,
    when the caller has just read them under the account lock (else they are read here).
    Never raises: a failure is logged."""
    if states is None:
        states = budget_states(team=team, project=project, user=user, api_key=api_key)
    for state in states:
        limit, used = state.limit_micro, state.used_micro
        if limit <= 0 and used <= 0:
            continue
        if used >= limit:
            event = Event.BUDGET_EXHAUSTED
        elif used >= WARN_AT * limit:
            event = Event.BUDGET_80
        else:
            continue
        budget_crossed(
            event=event,
            team_id=team.pk,
            budget_id=state.budget.pk,
            period_start=period_start(state.budget.period).date().isoformat(),
            name=budget_title(state.budget),
            used=usd(used),
            limit=usd(limit),
            period=state.period_words,
        )
