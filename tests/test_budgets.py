"""Budgets at submit: each kind refuses with a message naming the budget, what is left and
what the request costs; nothing is stored or held; periods come from entry timestamps."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from projects.exceptions import BudgetExceeded, InsufficientCredits, NoPrice
from projects.models import Budget, CreditEntry, GenerationTask, Membership, PriceRule
from projects.money.budgets import budget_states, period_start
from projects.money.ledger import credit_balance
from projects.services.generation import generation_task_create
from tests.conftest import funded_team, tokenhub_params
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_jobs(monkeypatch):
    """Submissions are not sent anywhere: these tests are about the hold."""
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)


params = tokenhub_params  # 5 s at 720p: $1.00


def submit(project, user, **overrides) -> GenerationTask:
    return generation_task_create(project=project, user=user, params=params(**overrides))


def test_team_budget_refusal_names_the_budget_what_is_left_and_the_cost(project, member):
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("2.50"))
    submit(project, member)
    submit(project, member)
    before = credit_balance(team=project.team)
    with pytest.raises(BudgetExceeded) as info:
        submit(project, member)
    assert info.value.message == (
        "This would go over the Studio team's monthly budget ($2.50): $0.50 is left this "
        "month and this request costs up to $1.00."
    )
    assert GenerationTask.objects.count() == 2
    assert credit_balance(team=project.team) == before
    submit(project, member, resolution="480p", duration=4)  # $0.48 still fits


def test_project_budget_applies_to_that_project_only(project, member):
    Budget.objects.create(team=project.team, project=project, period="week", limit_usd=1)
    submit(project, member)
    with pytest.raises(BudgetExceeded) as info:
        submit(project, member)
    assert info.value.message == (
        "This would go over the Demo project's weekly budget ($1.00): $0.00 is left this week "
        "and this request costs up to $1.00."
    )
    other = ProjectFactory(team=project.team, name="Other")
    submit(other, member)


def test_user_cap_applies_to_that_member_only(project, member):
    colleague = UserFactory(username="colleague")
    MembershipFactory(team=project.team, user=colleague, role=Membership.Role.MEMBER)
    Budget.objects.create(team=project.team, user=member, period="day", limit_usd=Decimal("1.5"))
    submit(project, member)
    with pytest.raises(BudgetExceeded) as info:
        submit(project, member)
    assert info.value.message == (
        "This would go over your daily cap in Studio ($1.50): $0.50 is left today and this "
        "request costs up to $1.00."
    )
    submit(project, colleague)


def test_team_credit_refusal(member):
    team = funded_team(usd=1, name="Thin", slug="thin")
    MembershipFactory(team=team, user=member)
    project = ProjectFactory(team=team, name="P")
    submit(project, member)
    with pytest.raises(InsufficientCredits) as info:
        submit(project, member)
    assert info.value.message == (
        "Not enough team credit: Thin has $0.00 available and this request costs up to $1.00. "
        "Ask a team admin to add credit."
    )
    assert GenerationTask.objects.filter(project=project).count() == 1


def test_no_price_refuses_before_anything_is_stored(project, member):
    PriceRule.objects.filter(model="doubao-seedance-2.0-fast").delete()
    with pytest.raises(NoPrice, match="has no price yet"):
        submit(project, member, model="doubao-seedance-2.0-fast")
    assert (
        GenerationTask.objects.count() == 0 and CreditEntry.objects.filter(kind="hold").count() == 0
    )


def test_open_holds_count_and_released_holds_free_the_budget(project, member):
    from projects.generation import lifecycle

    Budget.objects.create(team=project.team, period="month", limit_usd=1)
    first = submit(project, member)
    with pytest.raises(BudgetExceeded):
        submit(project, member)
    lifecycle.finish(task_id=first.pk, status="failed", error_message="boom")
    submit(project, member)  # the failed task's hold was released: nothing was spent


def test_charges_count_in_the_period_of_their_entry(project, member):
    Budget.objects.create(team=project.team, period="month", limit_usd=1)
    task = submit(project, member)
    GenerationTask.objects.filter(pk=task.pk).update(status="downloading")
    from projects.generation import lifecycle

    lifecycle.finish(
        task_id=task.pk,
        status="succeeded",
        from_statuses=["downloading"],
        video="v.mp4",
        video_sha256="0" * 64,
        billed_output_s=5,
    )
    [state] = budget_states(team=project.team, project=project, user=member)
    assert (state.used_micro, state.left_micro) == (1_000_000, 0)
    # Last month's charge no longer counts this month.
    last_month = period_start("month") - timedelta(hours=1)
    CreditEntry.objects.filter(task=task).update(created_at=last_month)
    [state] = budget_states(team=project.team, project=project, user=member)
    assert (state.used_micro, state.left_micro) == (0, 1_000_000)
    submit(project, member)


def test_periods_start_at_local_midnight_on_their_first_day():
    at = datetime(2026, 11, 19, 15, 30, tzinfo=UTC)  # a Thursday
    assert period_start("day", at) == datetime(2026, 11, 19, tzinfo=UTC)
    assert period_start("week", at) == datetime(2026, 11, 16, tzinfo=UTC)
    assert period_start("month", at) == datetime(2026, 11, 1, tzinfo=UTC)
    assert period_start("quarter", at) == datetime(2026, 10, 1, tzinfo=UTC)
    assert period_start("year", at) == datetime(2026, 1, 1, tzinfo=UTC)
