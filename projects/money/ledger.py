"""The credit ledger: the only writer of CreditEntry and CreditAccount.

Every write runs in one transaction that first locks the team's account row
(`SELECT ... FOR NO KEY UPDATE` on PostgreSQL; SQLite's IMMEDIATE transactions serialise
writers anyway), checks, appends entries and moves the cached totals by the same amounts.
So concurrent submits queue on the lock, each sees the holds committed before it, and no
check can be passed twice with the same money. Entries are never updated or deleted.

Amounts are integer micro-USD. Per generation task: one hold (its worst-case cost, placed in
the transaction that creates the task), then exactly one release of the whole hold when the
task ends, plus one charge if it succeeded. Unique (task, kind) constraints back this up, so a
job delivered twice settles once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F

from projects.exceptions import ApplicationError, InsufficientCredits
from projects.models import CreditAccount, CreditEntry, GenerationTask, Team
from projects.models.ledger import usd, usd_apart, usd_exact

logger = logging.getLogger("projects.money.ledger")
Kind = CreditEntry.Kind


@dataclass(frozen=True)
class Balance:
    """A team's credit in micro-USD: `balance` can still be committed (open holds already
    subtracted), `held` is reserved by unfinished generations."""

    balance_micro: int
    held_micro: int


def insufficient_credit_message(*, team_name: str, balance_micro: int, amount_micro: int) -> str:
    """The refusal when a team's credit does not cover a request."""
    balance, amount = usd_apart(balance_micro, amount_micro)
    return (
        f"Not enough team credit: {team_name} has {balance} available and this "
        f"request costs up to {amount}. Ask a team admin to add credit."
    )


def _locked_account(team_id: object) -> CreditAccount:
    """The team's account row, locked until the surrounding transaction ends (created on
    first use). Caller must be inside transaction.atomic()."""
    if connection.features.has_select_for_no_key_update:
        rows = CreditAccount.objects.select_for_update(no_key=True)
    else:
        rows = CreditAccount.objects.select_for_update()
    account = rows.filter(team_id=team_id).first()
    if account is None:
        # get_or_create survives a concurrent first use (unique team_id) with a savepoint.
        CreditAccount.objects.get_or_create(team_id=team_id)
        account = rows.get(team_id=team_id)
    return account


def _move(account: CreditAccount, *, balance: int = 0, held: int = 0) -> None:
    """Shift the cached totals (under the caller's lock) and keep `account` in step."""
    CreditAccount.objects.filter(pk=account.pk).update(
        balance_micro=F("balance_micro") + balance, held_micro=F("held_micro") + held
    )
    account.balance_micro += balance
    account.held_micro += held


def credit_balance(*, team: Team) -> Balance:
    """The team's cached balance and held amounts (zero for a team that never had credit)."""
    account = CreditAccount.objects.filter(team=team).first()
    if account is None:
        return Balance(0, 0)
    return Balance(account.balance_micro, account.held_micro)


def credit_grant(
    *, team: Team, amount_micro: int, actor: AbstractBaseUser | None, memo: str = ""
) -> CreditEntry:
    """Add credit to `team` (an admin's top-up). Raises ApplicationError unless amount > 0."""
    if amount_micro <= 0:
        raise ApplicationError("A grant must be more than $0.00.")
    with transaction.atomic():
        account = _locked_account(team.pk)
        entry = CreditEntry.objects.create(
            account=account,
            kind=Kind.GRANT,
            amount_micro=amount_micro,
            memo=memo[:300],
            created_by=actor,
        )
        _move(account, balance=amount_micro)
    logger.info("team=%s grant %s by %s", team.pk, usd_exact(amount_micro), actor)
    return entry


def credit_adjust(
    *,
    team: Team,
    amount_micro: int,
    actor: AbstractBaseUser | None,
    memo: str,
    task: GenerationTask | None = None,
) -> CreditEntry:
    """An admin's correction (+ refund, - debit), with a memo saying why. A debit may take the
    balance to zero, not below. Raises ApplicationError for 0, a missing memo or a debit larger
    than the balance."""
    if amount_micro == 0:
        raise ApplicationError("An adjustment must not be $0.00.")
    if not memo.strip():
        raise ApplicationError("Say why in the memo: adjustments are audited.")
    with transaction.atomic():
        account = _locked_account(team.pk)
        if account.balance_micro + amount_micro < 0:
            raise ApplicationError(
                f"{team.name} has {usd(account.balance_micro)} available; a debit of "
                f"{usd(-amount_micro)} would take it below zero."
            )
        entry = CreditEntry.objects.create(
            account=account,
            kind=Kind.ADJUSTMENT,
            amount_micro=amount_micro,
            task=task,
            project_id=task.project_id if task else None,
            user_id=task.created_by_id if task else None,
            memo=memo[:300],
            created_by=actor,
        )
        _move(account, balance=amount_micro)
    return entry


def credit_hold(
    *,
    task: GenerationTask,
    team_id: object,
    amount_micro: int,
    seconds: Decimal,
    rate_micro: int,
    unit: str = "second",
    quantity: Decimal | None = None,
    memo: str = "",
    guard: Callable[[CreditAccount], None] | None = None,
) -> CreditEntry:
    """Reserve `amount_micro` of `team_id`'s credit for `task` (its worst-case cost).

    How it was priced is recorded with it: `unit` (second, mtokens, credit), `quantity` in
    that unit (seconds when not given), `rate_micro` micro-USD per unit, `seconds` the input +
    output seconds behind it. The settlement charges at this unit and rate.

    Under the account lock: refuses with InsufficientCredits when the balance does not cover
    it, then calls `guard(account)` (the budget checks, which raise BudgetExceeded) while the
    lock is held, then appends the hold. Idempotent: a task already holding returns its hold.
    The caller's transaction must also create the task, so a refusal leaves nothing behind.
    """
    if amount_micro < 0:
        raise ValueError("amount_micro must not be negative")
    with transaction.atomic():
        account = _locked_account(team_id)
        existing = CreditEntry.objects.filter(task=task, kind=Kind.HOLD).first()
        if existing is not None:
            return existing
        if amount_micro > account.balance_micro:
            name = Team.objects.filter(pk=team_id).values_list("name", flat=True).first()
            raise InsufficientCredits(
                insufficient_credit_message(
                    team_name=name, balance_micro=account.balance_micro, amount_micro=amount_micro
                )
            )
        if guard is not None:
            guard(account)
        entry = _hold_entry(account, task, amount_micro, seconds, rate_micro, unit, quantity, memo)
        entry.save(force_insert=True)
        _move(account, balance=entry.amount_micro, held=-entry.amount_micro)
    return entry


def _hold_entry(
    account: CreditAccount,
    task: GenerationTask,
    amount_micro: int,
    seconds: Decimal,
    rate_micro: int,
    unit: str,
    quantity: Decimal | None,
    memo: str,
) -> CreditEntry:
    """An unsaved hold of `amount_micro` for `task` (see `credit_hold`)."""
    return CreditEntry(
        account=account,
        kind=Kind.HOLD,
        amount_micro=-amount_micro,
        task=task,
        project_id=task.project_id,
        user_id=task.created_by_id,
        seconds=seconds,
        unit=unit,
        quantity=seconds if quantity is None else quantity,
        rate_micro=rate_micro,
        memo=memo[:300],
    )


def credit_hold_batch(
    *,
    tasks: Sequence[GenerationTask],
    team_id: object,
    amount_micro: int,
    seconds: Decimal,
    rate_micro: int,
    unit: str = "second",
    quantity: Decimal | None = None,
    memo: str = "",
    guard: Callable[[CreditAccount], None] | None = None,
) -> list[CreditEntry]:
    """Reserve `amount_micro` for each of `tasks` (the takes of one variation batch, each
    priced the same; units as in `credit_hold`), all or nothing.

    Under ONE account lock: refuses with InsufficientCredits when the balance does not cover
    the whole batch (len(tasks) x amount_micro), then calls `guard(account)` once (the budget
    checks of the batch total, raising BudgetExceeded), then appends one hold per task, so
    each take is settled or released on its own. Raises ValueError when a task already has a
    hold. The caller's transaction must also create the tasks, so a refusal leaves nothing.
    """
    if amount_micro < 0:
        raise ValueError("amount_micro must not be negative")
    total = amount_micro * len(tasks)
    with transaction.atomic():
        account = _locked_account(team_id)
        if CreditEntry.objects.filter(task__in=tasks, kind=Kind.HOLD).exists():
            raise ValueError("a task of the batch already holds credit")
        if total > account.balance_micro:
            name = Team.objects.filter(pk=team_id).values_list("name", flat=True).first()
            raise InsufficientCredits(
                insufficient_credit_message(
                    team_name=name, balance_micro=account.balance_micro, amount_micro=total
                )
            )
        if guard is not None:
            guard(account)
        entries = CreditEntry.objects.bulk_create(
            _hold_entry(account, task, amount_micro, seconds, rate_micro, unit, quantity, memo)
            for task in tasks
        )
        _move(account, balance=-total, held=total)
    return entries


def _task_hold(task_id: object) -> tuple[CreditAccount, CreditEntry] | None:
    """The locked account and the task's hold, or None when the task never held anything."""
    hold = (
        CreditEntry.objects.filter(task_id=task_id, kind=Kind.HOLD)
        .only("pk", "account_id", "amount_micro", "project_id", "user_id", "rate_micro", "unit")
        .first()
    )
    if hold is None:
        return None
    team_id = CreditAccount.objects.filter(pk=hold.account_id).values_list("team_id", flat=True)[0]
    return _locked_account(team_id), hold


def credit_release(*, task_id: object, memo: str = "") -> CreditEntry | None:
    """Give a finished task's whole hold back (nothing charged). Returns the release, or None
    when there is nothing to release (no hold, or already released): safe to call twice."""
    with transaction.atomic():
        found = _task_hold(task_id)
        if found is None:
            return None
        account, hold = found
        if CreditEntry.objects.filter(task_id=task_id, kind=Kind.RELEASE).exists():
            return None
        release = CreditEntry.objects.create(
            account=account,
            kind=Kind.RELEASE,
            amount_micro=-hold.amount_micro,
            task_id=task_id,
            project_id=hold.project_id,
            user_id=hold.user_id,
            memo=memo[:300],
        )
        _move(account, balance=release.amount_micro, held=-release.amount_micro)
    return release


def credit_settle(
    *,
    task_id: object,
    charge_micro: int,
    seconds: Decimal,
    quantity: Decimal | None = None,
    memo: str = "",
) -> CreditEntry | None:
    """Charge a succeeded task and release its hold, in one step. The charge records the
    hold's unit and rate, `quantity` in that unit (seconds when not given) and `seconds`.

    The charge is `charge_micro`, capped at the hold: the hold is the most the user agreed to,
    so a gateway producing more than the worst case never takes a team over its credit or
    budgets (the caller records such a difference for admins). Returns the charge, or None
    when there is nothing to settle (no hold, or already settled): safe to call twice.
    """
    if charge_micro < 0:
        raise ValueError("charge_micro must not be negative")
    with transaction.atomic():
        found = _task_hold(task_id)
        if found is None:
            return None
        account, hold = found
        if CreditEntry.objects.filter(task_id=task_id, kind=Kind.RELEASE).exists():
            return None
        held = -hold.amount_micro
        charge = CreditEntry.objects.create(
            account=account,
            kind=Kind.CHARGE,
            amount_micro=-min(charge_micro, held),
            task_id=task_id,
            project_id=hold.project_id,
            user_id=hold.user_id,
            seconds=seconds,
            unit=hold.unit,
            quantity=seconds if quantity is None else quantity,
            rate_micro=hold.rate_micro,
            memo=memo[:300],
        )
        CreditEntry.objects.create(
            account=account,
            kind=Kind.RELEASE,
            amount_micro=held,
            task_id=task_id,
            project_id=hold.project_id,
            user_id=hold.user_id,
            memo="Hold released at settlement.",
        )
        _move(account, balance=held + charge.amount_micro, held=-held)
    return charge
