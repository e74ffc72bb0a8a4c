"""What a generation costs: price rules -> a quote in micro-USD, in the gateway's own unit.

`quote` is the one function behind both the form's estimate and the hold placed at submit, so
the money shown before a submit is the money held. Per unit (PriceRule's docstring):

- per second (TokenHub's guide, the per-second gateways): billed seconds = reference (input)
  video seconds + output seconds. doubao-seedance-2.0 at 720p, 5 s input + 10 s output =
  (5 + 10) x $0.20 = $3.00. Input seconds to the millisecond (what TokenHub is sent as
  `video_durations`), output in whole seconds (`billed_output_seconds`).
- per million tokens (Ark, BytePlus, AceData): Ark's formula over the model's frame size for
  the ratio and resolution (the largest frame for `adaptive`), the longest output when the
  duration is auto and the input video seconds
  (projects/providers/output_sizes.py), at least the rule's `min_tokens`. 2.0 at 720p 16:9
  for 5 s = 108,900 tokens, $0.76 at BytePlus's $7.00 per million.
- per credit (seedance2.ink): the rule's documented credits per output second (more when the
  request has reference files), rounded up to whole credits.

Amounts are rounded half-up to the micro-USD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from projects.exceptions import NoPrice
from projects.models import PriceRule
from projects.models.ledger import unit_quantity_text, unit_rate_text
from projects.providers.capabilities import ModelCapabilities, frames_seconds
from projects.providers.output_sizes import FPS, output_size, video_tokens
from projects.providers.registry import UnknownProvider, get_capabilities

MILLISECOND = Decimal("0.001")
MILLION = 1_000_000
Unit = PriceRule.Unit


@dataclass(frozen=True)
class Quote:
    """The worst-case price of one request, in the rule's unit.

    `unit` second | mtokens | credit; `rate_micro` micro-USD per second, per million tokens or
    per credit; `quantity` what is paid for in that unit (billed seconds, tokens, credits);
    `amount_micro` its cost. `input_seconds` (reference video, to the ms) and `output_seconds`
    (the longest the request can produce: the model's longest when duration is auto) are
    there whatever the unit; `billed_seconds` is their sum. Token quotes also say the frame
    (`width` x `height` pixels) and the formula's count (`formula_tokens`; `quantity` is the
    rule's `min_tokens` when that is more).
    """

    unit: str
    rate_micro: int
    input_seconds: Decimal
    output_seconds: int
    billed_seconds: Decimal
    quantity: Decimal
    amount_micro: int
    rule: PriceRule
    width: int | None = None
    height: int | None = None
    formula_tokens: int | None = None
    frames: int | None = None  # an output asked for as a frame count (Ark's `frames`, §1.3)

    @property
    def usd_per_second(self) -> Decimal:
        """The rule's USD price per billed second (per-second rules)."""
        return self.rule.usd_per_unit

    @property
    def quantity_text(self) -> str:
        """'15 s', '108,900 tokens', '64 credits'."""
        return unit_quantity_text(self.unit, self.quantity)

    @property
    def rate_text(self) -> str:
        """'$0.20/s', '$7.00 per million tokens', '$0.025 per credit'."""
        return unit_rate_text(self.unit, self.rate_micro)

    @property
    def basis(self) -> str:
        """How the quantity was counted, for the form and the hold's memo: '5 s input + 10 s
        output', '5 s output at 1280x720, 24 fps', '5 s output'."""
        inputs = f"{seconds_text(self.input_seconds)} s input + " if self.input_seconds else ""
        if self.frames is not None:
            text = f"{inputs}{self.frames} frames of output"
        else:
            text = f"{inputs}{self.output_seconds} s output"
        if self.unit == Unit.MILLION_TOKENS:
            text += f" at {self.width}x{self.height}, {FPS} fps"
            if self.formula_tokens is not None and self.quantity > self.formula_tokens:
                text += f"; the minimum billed is {int(self.quantity):,} tokens"
        return text


def unit_cost_micro(*, unit: str, rate_micro: int, quantity: Decimal | int) -> int:
    """What `quantity` of `unit` costs at `rate_micro` (micro-USD per second, per million
    tokens, per credit), rounded half-up to a whole micro-USD."""
    amount = Decimal(rate_micro) * Decimal(quantity)
    if unit == Unit.MILLION_TOKENS:
        amount /= MILLION
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def billed_input_seconds(seconds: float | None) -> Decimal:
    """Reference video seconds as billed: to the millisecond, never negative."""
    return max(Decimal(0), Decimal(str(seconds or 0)).quantize(MILLISECOND, ROUND_HALF_UP))


def input_video_seconds(durations: list[float | None]) -> float:
    """The reference video seconds a request carries, as the task stores them: the sum of the
    videos' probed lengths, to the millisecond. The form's estimate and the task creation both
    use this, so the estimate and the hold count the same seconds."""
    return round(sum(d or 0.0 for d in durations), 3)


def billed_output_seconds(*, reported: float | None, probed: float | None) -> int:
    """The output seconds a generation is charged for: the gateway's own figure (`usage`
    duration) when it gives one, else the stored file's probed length, rounded half-up to a
    whole second.

    Why whole seconds: Seedance renders whole seconds at 24 fps plus one frame (a 10 s clip is
    241 frames, 10.04 s; upstream-research.md §1.14), and every gateway prices the requested
    seconds, so the extra frame must not be billed: the guide's 10 s output costs exactly
    10 x the rate. Rounding to nearest (not up) also absorbs container timing jitter.
    """
    value = reported if reported is not None and reported > 0 else probed
    if value is None or value <= 0:
        return 0
    return int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_UP))


def price_rule_for(
    *,
    provider: str,
    model: str,
    resolution: str,
    generate_audio: bool,
    video_input: bool = False,
    service_tier: str = "default",
    at: datetime | None = None,
) -> PriceRule | None:
    """The rule in force on the (local) day of `at` for this request: the newest
    `effective_from` not after it; on the same day, a rule naming the audio choice and one
    naming whether the input has video (`video_input`) before an "any" rule. The service tier
    must match exactly (a flex request needs a flex rule)."""
    day = timezone.localdate(at or timezone.now())
    audio = PriceRule.Audio.ON if generate_audio else PriceRule.Audio.OFF
    video = PriceRule.VideoInput.WITH if video_input else PriceRule.VideoInput.WITHOUT
    return (
        PriceRule.objects.filter(
            provider=provider,
            model=model,
            resolution=resolution,
            service_tier=service_tier,
            effective_from__lte=day,
        )
        .filter(Q(generate_audio=audio) | Q(generate_audio=PriceRule.Audio.ANY))
        .filter(Q(video_input=video) | Q(video_input=PriceRule.VideoInput.ANY))
        .annotate(
            exact=Case(
                When(generate_audio=audio, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            + Case(
                When(video_input=video, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-effective_from", "-exact")
        .first()
    )


def model_capabilities(*, provider: str, model: str) -> ModelCapabilities:
    """The model's capability table; raises NoPrice when the gateway or model is unknown."""
    try:
        caps = get_capabilities(provider).model(model)
    except UnknownProvider:
        caps = None
    if caps is None:
        raise NoPrice(f"{provider} has no model {model!r} to price.")
    return caps


def quote(
    *,
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
    at: datetime | None = None,
) -> Quote:
    """The worst-case cost of a request: `duration` in seconds (-1 = auto: the model's
    longest), or `frames` (Ark's frame count in its place, §1.3: tokens count those frames
    exactly, seconds round up), `ratio` for the frame size of token prices (default
    `adaptive`, the largest),
    `input_video_seconds` of reference video, `has_references` for credit prices that
    differ with reference files. The hold placed at submit and the form's estimate both come
    from here. Raises NoPrice, naming what has no price, when no rule covers the request."""
    has_video = billed_input_seconds(input_video_seconds) > 0
    rule = price_rule_for(
        provider=provider,
        model=model,
        resolution=resolution,
        generate_audio=generate_audio,
        video_input=has_video,
        service_tier=service_tier,
        at=at,
    )
    if rule is None:
        audio = "with audio" if generate_audio else "without audio"
        tier = f" on the {service_tier} tier" if service_tier != "default" else ""
        video = " with a reference video" if has_video else ""
        raise NoPrice(
            f"{model} on {provider} at {resolution} {audio}{video}{tier} has no price yet, so "
            "it cannot be submitted. Ask an admin to add a price rule (Django admin, Price "
            "rules)."
        )
    caps = model_capabilities(provider=provider, model=model)
    output = caps.max_duration if duration == -1 else duration
    if frames is not None:
        output = max(1, math.ceil(frames_seconds(frames)))
    inputs = billed_input_seconds(input_video_seconds)
    billed = inputs + output
    rate = rule.rate_micro
    extra: dict = {}
    if rule.unit == Unit.MILLION_TOKENS:
        size = output_size(table=caps.size_table, resolution=resolution, ratio=ratio)
        if size is None:
            raise NoPrice(
                f"{model} has no documented frame size at {resolution} {ratio}, so its tokens "
                "cannot be counted; it cannot be submitted there."
            )
        if frames is not None:
            tokens = video_tokens(width=size[0], height=size[1], seconds=inputs, frames=frames)
        else:
            tokens = video_tokens(width=size[0], height=size[1], seconds=billed)
        quantity = Decimal(max(tokens, rule.min_tokens or 0))
        extra = {"width": size[0], "height": size[1], "formula_tokens": tokens, "frames": frames}
    elif rule.unit == Unit.CREDIT:
        per_second = rule.credits_per_second
        if has_references and rule.media_credits_per_second:
            per_second = rule.media_credits_per_second
        quantity = Decimal(math.ceil(Decimal(per_second) * output))
    else:
        quantity = billed
    return Quote(
        unit=rule.unit,
        rate_micro=rate,
        input_seconds=inputs,
        output_seconds=output,
        billed_seconds=billed,
        quantity=quantity,
        amount_micro=unit_cost_micro(unit=rule.unit, rate_micro=rate, quantity=quantity),
        rule=rule,
        **extra,
    )


def seconds_text(seconds: Decimal) -> str:
    """'5', '2.346': seconds without trailing zeros."""
    return f"{seconds.normalize():f}"
