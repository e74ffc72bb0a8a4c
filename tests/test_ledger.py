"""projects/money/ledger.py: grants, holds, settlement and release; idempotency, the database
constraints behind it, no negative balance, and cached totals equal to the entries' sums."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from projects.exceptions import ApplicationError, InsufficientCredits
from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditAccount, CreditEntry, GenerationTask
from projects.money import ledger
from tests.conftest import funded_team
from tests.factories import GenerationTaskFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = CreditEntry.Kind
DOLLAR = 1_000_000


@pytest.fixture
def team():
    return funded_team(usd=10, name="Ledger team")


@pytest.fixture
def task(team):
    return GenerationTaskFactory(project=ProjectFactory(team=team))


def hold(task, amount=3 * DOLLAR, **kwargs):
    return ledger.credit_hold(
        task=task,
        team_id=task.project.team_id,
        amount_micro=amount,
        seconds=Decimal(15),
        rate_micro=200_000,
        **kwargs,
    )


def account(team) -> CreditAccount:
    return CreditAccount.objects.get(team=team)


def entries(task) -> dict[str, int]:
    return dict(CreditEntry.objects.filter(task=task).values_list("kind", "amount_micro"))


def test_a_grant_adds_credit_and_the_cache_equals_the_sum(team):
    ledger.credit_grant(team=team, amount_micro=5 * DOLLAR, actor=None, memo="top-up")
    assert ledger.credit_balance(team=team) == ledger.Balance(15 * DOLLAR, 0)
    assert ledger_problems()[0] == []
    with pytest.raises(ApplicationError, match="more than"):
        ledger.credit_grant(team=team, amount_micro=0, actor=None)


def test_hold_then_settle_charges_the_actual_and_releases_the_hold(team, task):
    hold(task)
    assert ledger.credit_balance(team=team) == ledger.Balance(7 * DOLLAR, 3 * DOLLAR)
    charge = ledger.credit_settle(task_id=task.pk, charge_micro=2 * DOLLAR, seconds=Decimal(10))
    assert charge.amount_micro == -2 * DOLLAR and charge.rate_micro == 200_000
    assert entries(task) == {"hold": -3 * DOLLAR, "charge": -2 * DOLLAR, "release": 3 * DOLLAR}
    assert ledger.credit_balance(team=team) == ledger.Balance(8 * DOLLAR, 0)


def test_hold_then_release_charges_nothing(team, task):
    hold(task)
    release = ledger.credit_release(task_id=task.pk)
    assert release.amount_micro == 3 * DOLLAR
    assert entries(task) == {"hold": -3 * DOLLAR, "release": 3 * DOLLAR}
    assert ledger.credit_balance(team=team) == ledger.Balance(10 * DOLLAR, 0)


def test_every_operation_is_idempotent_per_task(team, task):
    first = hold(task)
    assert hold(task, amount=9 * DOLLAR) == first  # a second hold returns the first
    assert ledger.credit_release(task_id=task.pk) is not None
    assert ledger.credit_release(task_id=task.pk) is None
    assert ledger.credit_settle(task_id=task.pk, charge_micro=1, seconds=Decimal(1)) is None
    assert CreditEntry.objects.filter(task=task).count() == 2
    assert ledger.credit_balance(team=team) == ledger.Balance(10 * DOLLAR, 0)


def test_a_settled_task_cannot_be_released_or_settled_again(team, task):
    hold(task)
    ledger.credit_settle(task_id=task.pk, charge_micro=3 * DOLLAR, seconds=Decimal(15))
    assert (
        ledger.credit_settle(task_id=task.pk, charge_micro=3 * DOLLAR, seconds=Decimal(15)) is None
    )
    assert ledger.credit_release(task_id=task.pk) is None
    assert entries(task) == {"hold": -3 * DOLLAR, "charge": -3 * DOLLAR, "release": 3 * DOLLAR}
    assert ledger.credit_balance(team=team).balance_micro == 7 * DOLLAR


def test_a_task_without_a_hold_settles_to_nothing(task):
    assert ledger.credit_release(task_id=task.pk) is None
    assert ledger.credit_settle(task_id=task.pk, charge_micro=5, seconds=Decimal(1)) is None
    assert not CreditEntry.objects.filter(task=task).exists()


def test_the_charge_never_exceeds_the_hold(team, task):
    hold(task)
    charge = ledger.credit_settle(task_id=task.pk, charge_micro=4 * DOLLAR, seconds=Decimal(20))
    assert charge.amount_micro == -3 * DOLLAR
    assert ledger.credit_balance(team=team).balance_micro == 7 * DOLLAR


def test_a_hold_beyond_the_balance_is_refused_and_writes_nothing(team, task):
    with pytest.raises(InsufficientCredits) as info:
        hold(task, amount=10 * DOLLAR + 1)
    assert info.value.message == (
        "Not enough team credit: Ledger team has $10.00 available and this request costs up to "
        "$10.000001. Ask a team admin to add credit."
    )
    assert not CreditEntry.objects.filter(task=task).exists()
    hold(task, amount=10 * DOLLAR)  # exactly the balance is fine
    assert ledger.credit_balance(team=team) == ledger.Balance(0, 10 * DOLLAR)


def test_a_team_that_never_had_credit_cannot_spend(db):
    poor = GenerationTaskFactory(project__team__credit_usd=0)
    with pytest.raises(InsufficientCredits, match=r"has \$0.00 available"):
        hold(poor, amount=1)
    assert ledger.credit_balance(team=poor.project.team) == ledger.Balance(0, 0)


def test_a_guard_refusal_under_the_lock_writes_nothing(team, task):
    def refuse(locked):
        assert locked.team_id == team.pk
        raise ApplicationError("over budget")

    with pytest.raises(ApplicationError, match="over budget"):
        hold(task, guard=refuse)
    assert not CreditEntry.objects.filter(task=task).exists()
    assert ledger.credit_balance(team=team) == ledger.Balance(10 * DOLLAR, 0)


def test_adjustments_need_a_memo_and_cannot_take_the_balance_below_zero(team, task):
    admin = UserFactory(username="boss")
    with pytest.raises(ApplicationError, match="memo"):
        ledger.credit_adjust(team=team, amount_micro=-DOLLAR, actor=admin, memo=" ")
    with pytest.raises(ApplicationError, match="below zero"):
        ledger.credit_adjust(team=team, amount_micro=-11 * DOLLAR, actor=admin, memo="oops")
    refund = ledger.credit_adjust(
        team=team, amount_micro=DOLLAR // 2, actor=admin, memo="goodwill", task=task
    )
    assert (refund.kind, refund.project_id, refund.created_by) == (
        "adjustment",
        task.project_id,
        admin,
    )
    ledger.credit_adjust(team=team, amount_micro=-10 * DOLLAR - DOLLAR // 2, actor=admin, memo="x")
    assert ledger.credit_balance(team=team).balance_micro == 0
    assert ledger_problems()[0] == []


def test_the_database_refuses_a_second_hold_charge_or_release_for_a_task(team, task):
    first = hold(task)
    for kind, amount in (("hold", -1), ("release", 1), ("charge", -1)):
        if kind != "hold":
            CreditEntry.objects.create(
                account=first.account, kind=kind, amount_micro=amount, task=task
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditEntry.objects.create(
                account=first.account, kind=kind, amount_micro=amount, task=task
            )


@pytest.mark.parametrize(
    "kind, amount, with_task",
    [
        ("grant", -5, False),
        ("grant", 5, True),
        ("hold", 5, True),
        ("hold", -5, False),
        ("release", -5, True),
        ("charge", 5, True),
        ("adjustment", 0, False),
        ("refund", 5, False),
    ],
)
def test_the_database_refuses_entries_with_the_wrong_sign_or_task(
    team, task, kind, amount, with_task
):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(
            account=account(team),
            kind=kind,
            amount_micro=amount,
            task=task if with_task else None,
        )


def test_the_database_refuses_a_negative_balance(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(team=team).update(balance_micro=-1)


def test_ledger_check_spots_a_tampered_cache_and_unsettled_tasks(team, task):
    hold(task)
    assert ledger_problems()[0] == []
    GenerationTask.objects.filter(pk=task.pk).update(status="failed")
    problems, _ = ledger_problems()
    assert problems == [f"Task {task.pk} is failed but its hold was never released."]
    ledger.credit_release(task_id=task.pk)
    CreditAccount.objects.filter(team=team).update(balance_micro=123)
    problems, _ = ledger_problems()
    assert problems == ["Ledger team: cached balance $0.000123 but the entries sum to $10.00."]


def run_ledger_check() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_ledger_check_command_passes_then_fails_on_a_tampered_total(team, task):
    hold(task)
    GenerationTask.objects.filter(pk=task.pk).update(status="failed")
    ledger.credit_release(task_id=task.pk)
    code, out, _ = run_ledger_check()
    assert code == 0
    assert out.strip() == "ledger_check OK: 1 account(s), 1 task(s) with a hold checked."
    CreditAccount.objects.filter(team=team).update(held_micro=5)
    code, _, err = run_ledger_check()
    assert code == 1
    assert err.splitlines() == [
        "Ledger team: cached held $0.000005 but open holds sum to $0.00.",
        "ledger_check FAILED: 1 problem(s); 1 account(s), 1 task(s) with a hold checked.",
    ]


@pytest.mark.parametrize(
    ("micro", "shown"),
    [
        (3_000_000, "$3.00"),
        (259_545, "$0.26"),
        (255_000, "$0.26"),  # half-up
        (254_999, "$0.25"),
        (4_999, "<$0.01"),
        (0, "$0.00"),
        (-1_500_000, "-$1.50"),
        (1_000_000_000, "$1,000.00"),
    ],
)
def test_money_for_people_is_to_the_cent(micro, shown):
    from projects.models.ledger import usd

    assert usd(micro) == shown


def test_amounts_compared_in_one_sentence_stay_apart():
    from projects.models.ledger import usd_apart

    assert usd_apart(10_000_000, 10_000_001) == ["$10.00", "$10.000001"]
    assert usd_apart(10_000_000, 12_000_000) == ["$10.00", "$12.00"]


def test_the_money_filter_keeps_the_exact_figure_in_a_title():
    from projects.templatetags.money import usd

    assert usd(3_000_000) == "$3.00"
    assert usd(259_545) == (
        '<span class="money" title="$0.259545 (259,545 micro-USD)">$0.26</span>'
    )


def test_an_adjustment_records_exactly_what_it_was_and_refuses_in_words(team, task):
    """The refusals' exact words and every field of the entry (mutation testing found each
    of them unchecked)."""
    admin = UserFactory(username="auditor")
    with pytest.raises(ApplicationError) as zero:
        ledger.credit_adjust(team=team, amount_micro=0, actor=admin, memo="nothing")
    assert zero.value.message == "An adjustment must not be $0.00."
    with pytest.raises(ApplicationError) as no_memo:
        ledger.credit_adjust(team=team, amount_micro=DOLLAR, actor=admin, memo="")
    assert no_memo.value.message == "Say why in the memo: adjustments are audited."
    with pytest.raises(ApplicationError) as too_much:
        ledger.credit_adjust(team=team, amount_micro=-12 * DOLLAR, actor=admin, memo="oops")
    assert too_much.value.message == (
        "Ledger team has $10.00 available; a debit of $12.00 would take it below zero."
    )
    tiny = ledger.credit_adjust(team=team, amount_micro=1, actor=admin, memo="a micro-dollar")
    assert (tiny.amount_micro, tiny.task, tiny.project_id, tiny.user_id) == (1, None, None, None)
    refund = ledger.credit_adjust(
        team=team, amount_micro=DOLLAR, actor=admin, memo="goodwill " * 50, task=task
    )
    assert refund.task == task and refund.user_id == task.created_by_id
    assert refund.memo == ("goodwill " * 50)[:300] and refund.created_by == admin
    assert account(team).balance_micro == 11 * DOLLAR + 1
    assert ledger_problems()[0] == []


def test_a_release_names_the_holds_task_project_and_member(team, task):
    hold(task)
    release = ledger.credit_release(task_id=task.pk)
    assert release.memo == "" and release.amount_micro == 3 * DOLLAR
    assert (release.task_id, release.project_id, release.user_id) == (
        task.pk,
        task.project_id,
        task.created_by_id,
    )
    other = GenerationTaskFactory(project=task.project)
    hold(other)
    long = ledger.credit_release(task_id=other.pk, memo="m" * 400)
    assert long.memo == "m" * 300
