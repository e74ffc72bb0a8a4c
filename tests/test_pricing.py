"""Price rules and quotes: the seeded prices, the TokenHub guide's arithmetic, rounding,
effective dates, audio-specific rules, and the refusal when nothing is priced."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from projects.exceptions import NoPrice
from projects.models import PriceRule
from projects.models.ledger import usd, usd_text, usd_to_micro
from projects.money.pricing import (
    billed_input_seconds,
    billed_output_seconds,
    price_rule_for,
    quote,
    unit_cost_micro,
)

pytestmark = pytest.mark.django_db


def tokenhub(**overrides):
    values = dict(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="720p",
        generate_audio=True,
        duration=10,
    )
    values.update(overrides)
    return quote(**values)


def test_the_tokenhub_guide_example_costs_exactly_three_dollars():
    # (5 s input video + 10 s output) x $0.20/s = $3.00 (TokenHub guide, "청구 세부정보")
    price = tokenhub(input_video_seconds=5.0)
    assert price.rate_micro == 200_000
    assert price.billed_seconds == Decimal("15.000")
    assert price.amount_micro == 3_000_000
    assert usd(price.amount_micro) == "$3.00"


@pytest.mark.parametrize(
    "model, resolution, per_second",
    [
        ("doubao-seedance-2.0", "720p", "0.20"),
        ("doubao-seedance-2.0", "480p", "0.12"),
        ("doubao-seedance-2.0-fast", "720p", "0.16"),
        ("doubao-seedance-2.0-fast", "480p", "0.10"),
    ],
)
def test_tokenhub_prices_are_seeded_as_published(model, resolution, per_second):
    for audio in (True, False):
        price = tokenhub(model=model, resolution=resolution, generate_audio=audio, duration=5)
        assert price.usd_per_second == Decimal(per_second)
        assert price.amount_micro == usd_to_micro(Decimal(per_second) * 5)


def test_every_gateway_model_has_seeded_prices_in_its_unit():
    expected = {
        ("ark", "doubao-seedance-2-0-260128", "720p"): ("mtokens", "46", "CNY"),
        ("ark", "doubao-seedance-2-0-260128", "1080p"): ("mtokens", "51", "CNY"),
        ("ark", "doubao-seedance-2-0-fast-260128", "480p"): ("mtokens", "37", "CNY"),
        ("byteplus", "dreamina-seedance-2-0-260128", "720p"): ("mtokens", "7.0", "USD"),
        ("acedata", "doubao-seedance-1-0-pro-250528", "1080p"): ("mtokens", "2.5", "USD"),
        ("alltoken", "seedance-2.0-fast", "720p"): ("second", "0.16", "USD"),
        ("seedance2ink", "seedance-2.0", "480p"): ("second", "0.12", "USD"),
        ("seedance2ink", "seedance-2.0", "720p"): ("credit", "0.025", "USD"),
        ("tokenhub", "doubao-seedance-2.0", "720p"): ("second", "0.20", "USD"),
    }
    for (provider, model, resolution), (unit, price, currency) in expected.items():
        rule = price_rule_for(
            provider=provider, model=model, resolution=resolution, generate_audio=False
        )
        assert rule is not None, (provider, model)
        assert (rule.unit, rule.price, rule.currency) == (unit, Decimal(price), currency)
    assert not PriceRule.objects.filter(provider="tokenhub", resolution="1080p").exists()
    # Ark's and AceData's per-second seeds were replaced, not left beside the token prices.
    assert not PriceRule.objects.filter(provider__in=["ark", "acedata"], unit="second").exists()
    assert PriceRule.objects.filter(effective_from=date(2026, 1, 1)).count() > 100


def test_seedance_1_5_pro_prices_follow_the_token_price_with_audio_doubling():
    # 720p 16:9: floor(1280*720/1024 * 121) = 108,900 tokens per 5 s; $2.4/M with audio, $1.2/M
    # without (upstream-research.md §1.14): $0.26 and $0.13 for 5 s.
    on = quote(provider="ark", model="doubao-seedance-1-5-pro-251215", resolution="720p",
               generate_audio=True, duration=5, ratio="16:9")  # fmt: skip
    off = quote(provider="ark", model="doubao-seedance-1-5-pro-251215", resolution="720p",
                generate_audio=False, duration=5, ratio="16:9")  # fmt: skip
    assert (on.unit, on.quantity, on.rate_micro) == ("mtokens", 108_900, 2_400_000)
    assert (on.amount_micro, off.amount_micro) == (261_360, 130_680)
    assert on.amount_micro == 261_360 and usd(on.amount_micro) == "$0.26"


def test_auto_duration_holds_the_models_longest_output():
    price = tokenhub(duration=-1, resolution="480p")
    assert price.output_seconds == 15
    assert price.amount_micro == 15 * 120_000


def test_a_model_without_a_price_cannot_be_quoted_and_the_message_says_why():
    PriceRule.objects.filter(provider="tokenhub", model="doubao-seedance-2.0-fast").delete()
    with pytest.raises(NoPrice) as info:
        tokenhub(model="doubao-seedance-2.0-fast", resolution="480p")
    assert info.value.message == (
        "doubao-seedance-2.0-fast on tokenhub at 480p with audio has no price yet, so it cannot "
        "be submitted. Ask an admin to add a price rule (Django admin, Price rules)."
    )


def test_the_newest_rule_in_force_wins_and_audio_specific_beats_any_on_the_same_day():
    at = datetime(2026, 6, 15, 12, tzinfo=UTC)
    PriceRule.objects.create(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="720p",
        price=Decimal("0.25"),
        effective_from=date(2026, 6, 1),
    )
    PriceRule.objects.create(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="720p",
        generate_audio=PriceRule.Audio.OFF,
        price=Decimal("0.18"),
        effective_from=date(2026, 6, 1),
    )
    PriceRule.objects.create(  # not yet in force on the 15th
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="720p",
        price=Decimal("0.30"),
        effective_from=date(2026, 7, 1),
    )
    assert tokenhub(at=at).usd_per_second == Decimal("0.25")
    assert tokenhub(at=at, generate_audio=False).usd_per_second == Decimal("0.18")
    before = datetime(2026, 5, 31, 12, tzinfo=UTC)
    assert tokenhub(at=before).usd_per_second == Decimal("0.20")


@pytest.mark.parametrize(
    "reported, probed, billed",
    [
        (10, 10.041667, 10),  # the gateway's usage duration wins
        (None, 10.041667, 10),  # 241 frames at 24 fps: the extra frame is not billed
        (None, 4.96, 5),
        (None, 5.5, 6),  # half-up
        (0, 7.0, 7),  # a zero report is no report
        (None, None, 0),
    ],
)
def test_billed_output_seconds_are_whole_seconds(reported, probed, billed):
    assert billed_output_seconds(reported=reported, probed=probed) == billed


def test_input_seconds_are_billed_to_the_millisecond_and_costs_round_half_up():
    assert billed_input_seconds(5.0004) == Decimal("5.000")
    assert billed_input_seconds(2.3456) == Decimal("2.346")
    assert billed_input_seconds(None) == Decimal("0.000")
    assert unit_cost_micro(unit="second", rate_micro=120_000, quantity=Decimal("2.346")) == 281_520
    assert unit_cost_micro(unit="second", rate_micro=3, quantity=Decimal("0.5")) == 2


def test_usd_formatting_keeps_cents_and_real_digits():
    assert usd_text(3_000_000) == "3.00"
    assert usd_text(0) == "0.00"
    assert usd_text(-1_500_000) == "-1.50"
    assert usd_text(24_916) == "0.024916"
    assert usd(-250_000) == "-$0.25"
    assert usd(1_234_567_000_000) == "$1,234,567.00"
