"""A generation task's money: the hold at submit, the settlement when it ends.

`generation_task_hold` runs inside the transaction that creates the task (services/
generation.py); `generation_task_settle` inside the one that ends it (services/task_state.py
`task_finish`). Both go through projects/ledger.py; the rules (price, budgets, what is billed)
live in services/pricing.py and services/budgets.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser

from projects.exceptions import NoPrice
from projects.ledger import (
    Balance,
    credit_balance,
    credit_hold,
    credit_release,
    credit_settle,
    insufficient_credit_message,
)
from projects.models import CreditEntry, GenerationTask, Project
from projects.models.ledger import usd
from projects.services.budgets import BudgetState, budget_refusal, budget_states, budgets_check
from projects.services.pricing import (
    Quote,
    billed_input_seconds,
    billed_output_seconds,
    cost_micro,
    quote,
)

logger = logging.getLogger("projects.ledger")


def generation_task_quote(task: GenerationTask) -> Quote:
    """The worst-case price of a stored task (input seconds from the task's references).
    Raises NoPrice."""
    return quote(
        provider=task.provider,
        model=task.model,
        resolution=task.resolution,
        generate_audio=task.generate_audio,
        duration=task.duration,
        input_video_seconds=task.input_video_seconds,
        at=task.created_at,
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


def generation_estimate(
    *,
    project: Project,
    user: AbstractBaseUser,
    provider: str,
    model: str,
    resolution: str,
    generate_audio: bool,
    duration: int,
    input_video_seconds: float = 0.0,
) -> Estimate:
    """The live cost estimate and remaining budgets for the generation form (no lock, no
    write: the submit checks again under the lock)."""
    balance = credit_balance(team=project.team)
    states = budget_states(team=project.team, project=project, user=user)
    try:
        price = quote(
            provider=provider,
            model=model,
            resolution=resolution,
            generate_audio=generate_audio,
            duration=duration,
            input_video_seconds=input_video_seconds,
        )
    except NoPrice as exc:
        return Estimate(quote=None, balance=balance, budgets=states, problem=exc.message)
    problem = ""
    if price.amount_micro > balance.balance_micro:
        problem = insufficient_credit_message(
            team_name=project.team.name,
            balance_micro=balance.balance_micro,
            amount_micro=price.amount_micro,
        )
    else:
        problem = budget_refusal(states, amount_micro=price.amount_micro)
    return Estimate(quote=price, balance=balance, budgets=states, problem=problem)


def generation_task_hold(*, task: GenerationTask) -> CreditEntry:
    """Hold the task's worst-case cost from its team's credit, checking every budget under the
    account lock. Must run in the transaction that created `task`, so a refusal (NoPrice,
    InsufficientCredits, BudgetExceeded) rolls the task back with it."""
    price = generation_task_quote(task)
    project = task.project
    inputs = f"{_s(price.input_seconds)} s input + " if price.input_seconds else ""
    return credit_hold(
        task=task,
        team_id=project.team_id,
        amount_micro=price.amount_micro,
        seconds=price.billed_seconds,
        rate_micro=price.rate_micro,
        memo=(
            f"Up to {inputs}{price.output_seconds} s output x {usd(price.rate_micro)}/s "
            f"({task.model}, {task.resolution})."
        ),
        guard=lambda account: budgets_check(
            team=project.team,
            project=project,
            user=task.created_by,
            amount_micro=price.amount_micro,
            at=task.created_at,
        ),
    )


def generation_task_settle(*, task_id: object, succeeded: bool) -> str:
    """Settle an ended task: charge what the gateway produced and release the hold when it
    succeeded, release only (nothing charged) on any other ending. Idempotent; call in the
    transaction that changes the task's status. Returns a sentence for the task's history
    ('' when there was nothing to settle)."""
    if not succeeded:
        release = credit_release(task_id=task_id, memo="Ended without a video: nothing charged.")
        if release is None:
            return ""
        vendor_cost = GenerationTask.objects.filter(pk=task_id).values_list(
            "vendor_cost", flat=True
        )[0]
        if vendor_cost:  # e.g. seedance2.ink charges credits up front at create
            GenerationTask.objects.filter(pk=task_id).update(
                cost_note=f"The gateway reported a cost of {vendor_cost} but the task ended "
                "without a video; we charged nothing (check that the gateway refunded it)."
            )
        return f"The {usd(release.amount_micro)} hold was released; nothing was charged."
    task = GenerationTask.objects.get(pk=task_id)
    hold = CreditEntry.objects.filter(task_id=task_id, kind=CreditEntry.Kind.HOLD).first()
    if hold is None:  # a task from before the ledger: nothing was held, nothing to settle
        logger.warning(
            "task=%s succeeded without a hold; not charged", task_id, extra={"task": str(task_id)}
        )
        return ""
    output = task.billed_output_s
    if output is None:
        output = billed_output_seconds(
            reported=task.upstream_duration_s, probed=task.video_duration_s
        )
    inputs = billed_input_seconds(task.input_video_seconds)
    seconds = inputs + output
    rate = hold.rate_micro or 0
    amount = cost_micro(rate_micro=rate, seconds=seconds)
    billed = f"{_s(inputs)} s input + {output} s output" if inputs else f"{output} s output"
    charge = credit_settle(
        task_id=task_id, charge_micro=amount, seconds=seconds, memo=f"{billed} x {usd(rate)}/s."
    )
    if charge is None:
        return ""
    note = _vendor_differences(
        task, output_s=output, charged_micro=-charge.amount_micro, wanted_micro=amount
    )
    GenerationTask.objects.filter(pk=task_id).update(billed_output_s=output, cost_note=note)
    return (
        f"Charged {usd(-charge.amount_micro)} ({billed} x {usd(rate)}/s); the "
        f"{usd(-hold.amount_micro)} hold was released."
    )


def _s(seconds: Decimal) -> str:
    """'5', '2.346': seconds without trailing zeros."""
    return f"{seconds.normalize():f}"


def _vendor_differences(
    task: GenerationTask, *, output_s: int, charged_micro: int, wanted_micro: int
) -> str:
    """Sentences on where the gateway's own figures differ from our charge ('' if nowhere)."""
    notes = []
    if wanted_micro > charged_micro:
        notes.append(
            f"The output cost {usd(wanted_micro)} but the hold was {usd(charged_micro)}: "
            "charged the hold (the gateway produced more than the worst case)."
        )
    if task.upstream_duration_s and task.video_duration_s:
        if abs(task.upstream_duration_s - task.video_duration_s) >= 0.5:
            notes.append(
                f"The gateway reported {task.upstream_duration_s:g} s; the stored file is "
                f"{task.video_duration_s:g} s (billed {output_s} s)."
            )
    tokens = _usage_tokens(task.usage)
    expected = expected_tokens(task, output_s=output_s)
    if tokens is not None and expected and abs(tokens - expected) > expected * 0.02:
        notes.append(
            f"The gateway counted {tokens:,} tokens; {output_s} s at {task.resolution} "
            f"{task.ratio} is about {expected:,} (upstream-research.md §1.14)."
        )
    if task.vendor_cost:
        notes.append(
            f"The gateway reported a cost of {task.vendor_cost}; we charged {usd(charged_micro)}."
        )
    return " ".join(notes)


def _usage_tokens(usage: dict) -> int | None:
    value = usage.get("completion_tokens", usage.get("total_tokens")) if usage else None
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# Seedance 2.0 output pixel sizes by resolution and ratio (upstream-research.md §1.7).
PIXELS = {
    "480p": {"16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "3:4": (560, 752),
             "9:16": (496, 864), "21:9": (992, 432)},
    "720p": {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
             "9:16": (720, 1280), "21:9": (1470, 630)},
    "1080p": {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440),
              "3:4": (1248, 1664), "9:16": (1080, 1920), "21:9": (2206, 946)},
}  # fmt: skip


def expected_tokens(task: GenerationTask, *, output_s: int) -> int | None:
    """The token count the official formula gives for the task (floor(w*h/1024 * (24 d + 1)),
    d = input + output seconds), or None when its pixel size is not in the table."""
    size = PIXELS.get(task.resolution, {}).get(task.ratio)
    if size is None:  # adaptive: the size follows the input, unknown here
        return None
    seconds = Decimal(str(task.input_video_seconds or 0)) + output_s
    return int(Decimal(size[0] * size[1]) / 1024 * (24 * seconds + 1))
