"""What a succeeded task is charged, in the unit its hold was priced in, and where the
gateway's own figures differ from it.

Per unit (the hold's `unit`, from its price rule; money/pricing.py):

- second: (reference video seconds + the output's billed seconds) x the hold's rate;
- mtokens: the gateway's `usage.completion_tokens` (else `total_tokens`) x the rate per
  million: that is what Ark and BytePlus charge (upstream-research §1.14, "the accurate usage
  is subject to usage.completion_tokens");
- credit: the gateway's reported credits (seedance2.ink's `creditsCharged`, kept as
  `vendor_cost`) x the rate per credit.

When the gateway reported no tokens or credits, the count is `quote`'s for the output the
task really has (the same formula as its hold, at its real length) and a note says so. The
ledger caps the charge at the hold (projects/money/ledger.py `credit_settle`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from projects.exceptions import NoPrice
from projects.models import CreditEntry, GenerationTask
from projects.models.ledger import unit_quantity_text, unit_rate_text, usd
from projects.money.pricing import (
    Unit,
    billed_input_seconds,
    billed_output_seconds,
    model_capabilities,
    quote,
    seconds_text,
    unit_cost_micro,
)
from projects.providers.output_sizes import output_size, video_tokens


@dataclass(frozen=True)
class Charge:
    """A succeeded task's charge before the ledger caps it at the hold: `quantity` of `unit`
    (seconds, tokens, credits) x `rate_micro` = `amount_micro`; `seconds` the input + output
    seconds behind it; `output_seconds` the output's billed seconds; `text` how it was
    counted ('108,900 tokens x $7.00 per million tokens'); `notes` sentences for admins."""

    unit: str
    quantity: Decimal
    rate_micro: int
    amount_micro: int
    seconds: Decimal
    output_seconds: int
    text: str
    notes: list[str] = field(default_factory=list)


def task_charge(*, task: GenerationTask, hold: CreditEntry) -> Charge:
    """What `task` (succeeded, with its outputs stored) is charged, priced at its `hold`'s
    unit and rate (see module docstring)."""
    output = task.billed_output_s
    if output is None:
        output = billed_output_seconds(
            reported=task.upstream_duration_s, probed=task.video_duration_s
        )
    inputs = billed_input_seconds(task.input_video_seconds)
    seconds = inputs + output
    unit = hold.unit or Unit.SECOND
    rate = hold.rate_micro or 0
    notes: list[str] = []
    if unit == Unit.MILLION_TOKENS:
        reported = usage_tokens(task.usage)
        quantity = Decimal(reported) if reported is not None else None
        what = "token count"
    elif unit == Unit.CREDIT:
        quantity = reported_credits(task.vendor_cost)
        what = "credit count"
    else:
        quantity = seconds
        what = ""
    if quantity is None:
        quantity = _counted(task, output_s=output, hold=hold)
        notes.append(
            f"The gateway reported no {what}; charged {unit_quantity_text(unit, quantity)}, "
            f"the price rule's count for {output} s of output."
        )
    if unit == Unit.SECOND:
        billed = f"{output} s output"
        if inputs:
            billed = f"{seconds_text(inputs)} s input + {billed}"
        text = f"{billed} x {unit_rate_text(unit, rate)}"
    else:
        text = f"{unit_quantity_text(unit, quantity)} x {unit_rate_text(unit, rate)}"
    return Charge(
        unit=unit,
        quantity=quantity,
        rate_micro=rate,
        amount_micro=unit_cost_micro(unit=unit, rate_micro=rate, quantity=quantity),
        seconds=seconds,
        output_seconds=output,
        text=text,
        notes=notes,
    )


def _counted(task: GenerationTask, *, output_s: int, hold: CreditEntry) -> Decimal:
    """The tokens or credits `quote` counts for the task at its real output length, from the
    rule in force when it was created; the hold's own count if that rule is gone."""
    try:
        price = quote(
            provider=task.provider,
            model=task.model,
            resolution=task.resolution,
            generate_audio=task.generate_audio,
            duration=output_s,
            ratio=task.ratio,
            service_tier=task.service_tier,
            input_video_seconds=task.input_video_seconds,
            has_references=task.references.exists(),
            frames=task.frames,
            at=task.created_at,
        )
    except NoPrice:
        return Decimal(hold.quantity or 0)
    if price.unit != (hold.unit or Unit.SECOND):
        return Decimal(hold.quantity or 0)
    return price.quantity


def usage_tokens(usage: dict) -> int | None:
    """The tokens a gateway's `usage` object charges: `completion_tokens`, else
    `total_tokens` (Ark reports both, equal, §1.8); None when neither is a number."""
    value = usage.get("completion_tokens", usage.get("total_tokens")) if usage else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def reported_credits(vendor_cost: str) -> Decimal | None:
    """seedance2.ink's `creditsCharged` as we stored it ('64'), or None when absent or not a
    non-negative number."""
    try:
        credits = Decimal(vendor_cost)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return credits if credits.is_finite() and credits >= 0 else None


def vendor_differences(task: GenerationTask, *, charge: Charge, charged_micro: int) -> str:
    """Sentences on where the gateway's own figures differ from our charge ('' if nowhere):
    a charge capped at the hold, a reported duration unlike the stored file's, a token count
    off the formula's by more than 2 %, a vendor cost we did not charge by."""
    notes = list(charge.notes)
    if charge.amount_micro > charged_micro:
        notes.append(
            f"The output cost {usd(charge.amount_micro)} but the hold was "
            f"{usd(charged_micro)}: charged the hold (the gateway produced more than the worst "
            "case)."
        )
    if task.upstream_duration_s and task.video_duration_s:
        if abs(task.upstream_duration_s - task.video_duration_s) >= 0.5:
            notes.append(
                f"The gateway reported {task.upstream_duration_s:g} s; the stored file is "
                f"{task.video_duration_s:g} s (billed {charge.output_seconds} s)."
            )
    tokens = usage_tokens(task.usage)
    expected = expected_tokens(task, output_s=charge.output_seconds)
    if tokens is not None and expected and abs(tokens - expected) > expected * 0.02:
        notes.append(
            f"The gateway counted {tokens:,} tokens; {charge.output_seconds} s at "
            f"{task.resolution} {task.ratio} is about {expected:,} by the gateway's token "
            "formula."
        )
    if task.vendor_cost and charge.unit != Unit.CREDIT:
        notes.append(
            f"The gateway reported a cost of {task.vendor_cost}; we charged {usd(charged_micro)}."
        )
    return " ".join(notes)


def expected_tokens(task: GenerationTask, *, output_s: int) -> int | None:
    """The token count Ark's formula gives for the task (its model's frame size for its
    ratio, input + output seconds, or its frame count), or None when the frame is
    not known beforehand (`adaptive` follows the input picture) or not documented."""
    if task.ratio == "adaptive":
        return None
    try:
        table = model_capabilities(provider=task.provider, model=task.model).size_table
    except NoPrice:
        return None
    size = output_size(table=table, resolution=task.resolution, ratio=task.ratio)
    if size is None:
        return None
    inputs = billed_input_seconds(task.input_video_seconds)
    if task.frames is not None:  # the frames asked for, exactly (§1.3, §1.14)
        return video_tokens(width=size[0], height=size[1], seconds=inputs, frames=task.frames)
    return video_tokens(width=size[0], height=size[1], seconds=inputs + output_s)
