"""A generation task's money: the hold at submit, the settlement when it ends.

`generation_task_hold` runs inside the transaction that creates the task (services/
generation.py); `generation_task_settle` inside the one that ends it (generation/lifecycle.py
`task_finish`). Both go through projects/money/ledger.py; the rules live in money/pricing.py (the
price, in the gateway's unit), money/charges.py (what a finished task is charged) and
money/budgets.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from projects.exceptions import NoPrice, PriceChanged
from projects.models import CreditAccount, CreditEntry, GenerationTask, Project
from projects.models.ledger import usd
from projects.money.budget_alerts import budget_alerts_check
from projects.money.budgets import BudgetState, budget_refusal, budget_states, budgets_check
from projects.money.charges import task_charge, vendor_differences
from projects.money.ledger import (
    Balance,
    credit_balance,
    credit_hold,
    credit_hold_batch,
    credit_release,
    credit_settle,
    insufficient_credit_message,
)
from projects.money.pricing import Quote, quote, seconds_text

logger = logging.getLogger("projects.money.ledger")


def generation_task_quote(
    task: GenerationTask, *, has_references: bool | None = None, at: datetime | None = None
) -> Quote:
    """The worst-case price of a task: its choices, its reference video seconds and whether
    it has reference files, priced on the day it was created. For a task not yet saved, give
    `has_references` and `at` (the moment it is being created). Raises NoPrice."""
    return quote(
        provider=task.provider,
        model=task.model,
        resolution=task.resolution,
        generate_audio=task.generate_audio,
        duration=task.duration,
        ratio=task.ratio,
        service_tier=task.service_tier,
        input_video_seconds=task.input_video_seconds,
        has_references=task.references.exists() if has_references is None else has_references,
        frames=task.frames,
        at=at or task.created_at,
    )


@dataclass(frozen=True)
class Estimate:
    """What the form shows before submit: the worst-case `quote` (None when there is no
    price), the team's credit, every applicable budget, and `problem`, the refusal a submit
    would get now ('' when it would be accepted)."""

    quote: Quote | None
    balance: Balance
    budgets: list[BudgetState]
    problem: str
    count: int = 1

    @property
    def total_micro(self) -> int:
        """The worst case of all `count` takes (a variation batch), micro-USD; 0 unpriced."""
        return self.quote.amount_micro * self.count if self.quote is not None else 0


def generation_estimate(
    *,
    project: Project,
    user: AbstractBaseUser,
    provider: str,
    model: str,
    resolution: str,
    generate_audio: bool,
    duration: int,
    ratio: str = "adaptive",
    service_tier: str = "default",
    input_video_seconds: float = 0.0,
    has_references: bool = False,
    frames: int | None = None,
    count: int = 1,
) -> Estimate:
    """The live cost estimate and remaining budgets for the generation form (no lock, no
    write: the submit checks again under the lock). The price is `quote`'s, the function the
    hold uses, with the same inputs the task will have (`input_video_seconds` summed by
    pricing.input_video_seconds), so what the form shows is what a submit holds. `count`
    takes (a variation batch) are checked against credit and budgets as one total."""
    balance = credit_balance(team=project.team)
    states = budget_states(team=project.team, project=project, user=user)
    try:
        price = quote(
            provider=provider,
            model=model,
            resolution=resolution,
            generate_audio=generate_audio,
            duration=duration,
            ratio=ratio,
            service_tier=service_tier,
            input_video_seconds=input_video_seconds,
            has_references=has_references,
            frames=frames,
        )
    except NoPrice as exc:
        return Estimate(
            quote=None, balance=balance, budgets=states, problem=exc.message, count=count
        )
    total = price.amount_micro * count
    problem = ""
    if total > balance.balance_micro:
        problem = insufficient_credit_message(
            team_name=project.team.name, balance_micro=balance.balance_micro, amount_micro=total
        )
    else:
        problem = budget_refusal(states, amount_micro=total)
    return Estimate(quote=price, balance=balance, budgets=states, problem=problem, count=count)


def generation_price_check(price: Quote, *, shown_micro: int | None) -> None:
    """Refuse with PriceChanged, naming the new amount, when `shown_micro` (the estimate the
    user saw, micro-USD) is given and is not `price`'s amount."""
    if shown_micro is not None and shown_micro != price.amount_micro:
        raise PriceChanged(
            f"This request costs up to {usd(price.amount_micro)} ({price.quantity_text} x "
            f"{price.rate_text}; {price.basis}), not the {usd(shown_micro)} shown"
            + (
                f": the reference video measures {seconds_text(price.input_seconds)} s"
                if price.input_seconds
                else ""
            )
            + ". Nothing was held; check the new estimate and submit again."
        )


def generation_task_hold(
    *, task: GenerationTask, shown_micro: int | None = None, price: Quote | None = None
) -> CreditEntry:
    """Hold the task's worst-case cost (`price`, else `generation_task_quote`) from its
    team's credit, checking every budget under the account lock. Must run in the transaction
    that created `task` (after its references), so a refusal (NoPrice, PriceChanged,
    InsufficientCredits, BudgetExceeded) rolls the task back with it. `shown_micro` is the
    estimate the user saw: a hold of any other amount is refused (PriceChanged), naming the
    new amount. services/generation.py prices the request before its transaction (the price
    rule is read outside the account lock and SQLite's write lock) and passes `price`."""
    if price is None:
        price = generation_task_quote(task)
    generation_price_check(price, shown_micro=shown_micro)
    checked: list[BudgetState] = []
    entry = credit_hold(
        task=task,
        team_id=task.project.team_id,
        amount_micro=price.amount_micro,
        seconds=price.billed_seconds,
        unit=price.unit,
        quantity=price.quantity,
        rate_micro=price.rate_micro,
        memo=_memo(price, task),
        guard=_budgets_guard(task, price.amount_micro, checked),
    )
    _alerts_after_hold(task, checked, held_micro=price.amount_micro)
    return entry


def _budgets_guard(
    task: GenerationTask, amount_micro: int, checked: list[BudgetState]
) -> Callable[[CreditAccount], None]:
    """The hold's guard: every budget of `task`'s spend checked for `amount_micro` more under
    the account lock (BudgetExceeded), the states it read kept in `checked`."""
    project = task.project
    return lambda account: checked.extend(
        budgets_check(
            team=project.team,
            project=project,
            user=task.created_by,
            amount_micro=amount_micro,
            at=task.created_at,
            api_key=task.api_key,
        )
    )


def _alerts_after_hold(
    task: GenerationTask, checked: list[BudgetState], *, held_micro: int
) -> None:
    """A hold may take a budget to 80 % or its limit: its admins hear of it (once a period).
    The states the guard read under the lock, plus the `held_micro` just held, are the
    budgets now; no budget, nothing to read again."""
    if checked:
        project = task.project
        budget_alerts_check(
            team=project.team,
            project=project,
            user=task.created_by,
            api_key=task.api_key,
            states=[replace(s, used_micro=s.used_micro + held_micro) for s in checked],
        )


def _memo(price: Quote, task: GenerationTask) -> str:
    return (
        f"Up to {price.quantity_text} x {price.rate_text} ({price.basis}; {task.model}, "
        f"{task.resolution})."
    )


def generation_batch_hold(
    *, tasks: Sequence[GenerationTask], shown_micro: int | None = None, price: Quote | None = None
) -> list[CreditEntry]:
    """Hold the worst-case cost of every take of a variation batch, all or nothing: ONE
    budget check of the total (len(tasks) x one take's `price`, else its
    `generation_task_quote`, in micro-USD) under the team account's lock, then one hold per
    take (so each is settled or released on its own by `generation_task_settle`). `tasks` are
    the same request with different seeds, created in the caller's transaction (after their
    references); `shown_micro` is ONE take's estimate as the form showed it. Raises NoPrice,
    PriceChanged, InsufficientCredits or BudgetExceeded (naming the budget, what is left and
    the batch total): nothing held, and the caller's transaction rolls the tasks back."""
    first = tasks[0]
    if price is None:
        price = generation_task_quote(first)
    generation_price_check(price, shown_micro=shown_micro)
    total = price.amount_micro * len(tasks)
    checked: list[BudgetState] = []
    entries = credit_hold_batch(
        tasks=tasks,
        team_id=first.project.team_id,
        amount_micro=price.amount_micro,
        seconds=price.billed_seconds,
        unit=price.unit,
        quantity=price.quantity,
        rate_micro=price.rate_micro,
        memo=_memo(price, first) + f" One of {len(tasks)} takes.",
        guard=_budgets_guard(first, total, checked),
    )
    _alerts_after_hold(first, checked, held_micro=total)
    return entries


@dataclass(frozen=True)
class Settlement:
    """What settling a task did: `message`, a sentence for its history ('' when there was
    nothing to settle), and `fields`, what the task's row should now say (billed seconds, a
    cost note), which the caller writes (generation/lifecycle.py, the one writer of tasks)."""

    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def generation_task_settle(*, task_id: object, succeeded: bool) -> Settlement:
    """Settle an ended task: charge what the gateway produced and release the hold when it
    succeeded, release only (nothing charged) on any other ending. Idempotent; call in the
    transaction that changes the task's status. Returns the Settlement.

    The charge is in the hold's unit (money/charges.py `task_charge`): billed seconds, the
    gateway's `completion_tokens`, or its reported credits, times the hold's rate, never more
    than the hold (projects/money/ledger.py `credit_settle` caps it)."""
    if not succeeded:
        release = credit_release(task_id=task_id, memo="Ended without a video: nothing charged.")
        if release is None:
            return Settlement()
        vendor_cost = GenerationTask.objects.filter(pk=task_id).values_list(
            "vendor_cost", flat=True
        )[0]
        fields = {}
        if vendor_cost:  # e.g. seedance2.ink charges credits up front at create
            fields["cost_note"] = (
                f"The gateway reported a cost of {vendor_cost} but the task ended "
                "without a video; we charged nothing (check that the gateway refunded it)."
            )
        return Settlement(
            f"The {usd(release.amount_micro)} hold was released; nothing was charged.", fields
        )
    task = GenerationTask.objects.get(pk=task_id)
    hold = CreditEntry.objects.filter(task_id=task_id, kind=CreditEntry.Kind.HOLD).first()
    if hold is None:  # a task from before the ledger: nothing was held, nothing to settle
        logger.warning(
            "task=%s succeeded without a hold; not charged", task_id, extra={"task": str(task_id)}
        )
        return Settlement()
    charge = task_charge(task=task, hold=hold)
    entry = credit_settle(
        task_id=task_id,
        charge_micro=charge.amount_micro,
        seconds=charge.seconds,
        quantity=charge.quantity,
        memo=f"{charge.text}.",
    )
    if entry is None:
        return Settlement()
    note = vendor_differences(task, charge=charge, charged_micro=-entry.amount_micro)
    # A charge in a new period can cross a budget the hold did not (once a period).
    budget_alerts_check(
        team=task.project.team, project=task.project, user=task.created_by, api_key=task.api_key
    )
    return Settlement(
        f"Charged {usd(-entry.amount_micro)} ({charge.text}); the "
        f"{usd(-hold.amount_micro)} hold was released.",
        {"billed_output_s": charge.output_seconds, "cost_note": note},
    )
