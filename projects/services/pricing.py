"""What a generation costs: price rules -> a quote in micro-USD.

The rule every gateway is billed by here is TokenHub's (its guide): billed seconds = reference
(input) video seconds + output seconds, times the model's price per second at the requested
resolution (and audio choice, where the price depends on it). Example from the guide:
doubao-seedance-2.0 at 720p, 5 s input video + 10 s output = (5 + 10) x $0.20 = $3.00.

Rounding: input seconds are billed to the millisecond (what the TokenHub adapter sends as
`video_durations`), output seconds in whole seconds (see `billed_output_seconds`), and the
product is rounded half-up to the micro-USD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from projects.exceptions import NoPrice
from projects.models import PriceRule
from projects.providers.registry import UnknownProvider, get_capabilities

MILLISECOND = Decimal("0.001")


@dataclass(frozen=True)
class Quote:
    """The worst-case price of one request. `rate_micro` is micro-USD per billed second,
    `output_seconds` the longest output the request can produce (the model's longest duration
    when duration is auto), `billed_seconds` input + output, `amount_micro` their cost."""

    rate_micro: int
    input_seconds: Decimal
    output_seconds: int
    billed_seconds: Decimal
    amount_micro: int
    rule: PriceRule

    @property
    def usd_per_second(self) -> Decimal:
        return self.rule.usd_per_second


def cost_micro(*, rate_micro: int, seconds: Decimal) -> int:
    """rate x seconds, rounded half-up to a whole micro-USD."""
    return int((Decimal(rate_micro) * seconds).to_integral_value(rounding=ROUND_HALF_UP))


def billed_input_seconds(seconds: float | None) -> Decimal:
    """Reference video seconds as billed: to the millisecond, never negative."""
    return max(Decimal(0), Decimal(str(seconds or 0)).quantize(MILLISECOND, ROUND_HALF_UP))


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
    *, provider: str, model: str, resolution: str, generate_audio: bool, at: datetime | None = None
) -> PriceRule | None:
    """The rule in force on the (local) day of `at`: the newest `effective_from` not after
    it, an exact audio on/off rule before an "any" rule of the same day."""
    day = timezone.localdate(at or timezone.now())
    audio = PriceRule.Audio.ON if generate_audio else PriceRule.Audio.OFF
    return (
        PriceRule.objects.filter(
            provider=provider,
            model=model,
            resolution=resolution,
            effective_from__lte=day,
        )
        .filter(Q(generate_audio=audio) | Q(generate_audio=PriceRule.Audio.ANY))
        .annotate(
            exact=Case(
                When(generate_audio=audio, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-effective_from", "-exact")
        .first()
    )


def longest_duration(*, provider: str, model: str) -> int:
    """The model's longest duration in seconds (what an auto duration may produce)."""
    try:
        caps = get_capabilities(provider).model(model)
    except UnknownProvider:
        caps = None
    if caps is None:
        raise NoPrice(f"{provider} has no model {model!r} to price.")
    return caps.max_duration


def quote(
    *,
    provider: str,
    model: str,
    resolution: str,
    generate_audio: bool,
    duration: int,
    input_video_seconds: float = 0.0,
    at: datetime | None = None,
) -> Quote:
    """The worst-case cost of a request (`duration` in seconds, -1 = auto: the model's
    longest). Raises NoPrice, naming what has no price, when no rule covers it."""
    rule = price_rule_for(
        provider=provider,
        model=model,
        resolution=resolution,
        generate_audio=generate_audio,
        at=at,
    )
    if rule is None:
        audio = "with audio" if generate_audio else "without audio"
        raise NoPrice(
            f"{model} on {provider} at {resolution} {audio} has no price yet, so it cannot be "
            "submitted. Ask an admin to add a price rule (Django admin, Price rules)."
        )
    output = longest_duration(provider=provider, model=model) if duration == -1 else duration
    inputs = billed_input_seconds(input_video_seconds)
    billed = inputs + output
    rate = rule.rate_micro
    return Quote(
        rate_micro=rate,
        input_seconds=inputs,
        output_seconds=output,
        billed_seconds=billed,
        amount_micro=cost_micro(rate_micro=rate, seconds=billed),
        rule=rule,
    )
