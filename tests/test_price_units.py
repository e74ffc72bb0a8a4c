"""Price units: Ark's token formula, token / credit / per-second quotes, CNY rules, flex, the
minimum, the refusals, and the form's estimate equal to what a submit holds (issue 12 and
issue 20's first item)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from projects.exceptions import InvalidRequest, NoPrice, PriceChanged
from projects.models import CreditEntry, GenerationTask, PriceRule
from projects.models.ledger import unit_quantity_text, unit_rate_text
from projects.money.pricing import quote
from projects.providers.output_sizes import output_size, video_tokens
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.conftest import create_task, tokenhub_params

pytestmark = pytest.mark.django_db
BYTEPLUS_2 = "dreamina-seedance-2-0-260128"
ARK_2 = "doubao-seedance-2-0-260128"


@pytest.fixture
def gateways(settings):
    """Ark, BytePlus and seedance2.ink configured (keys set; nothing is sent in these tests)."""
    settings.SEEDANCE_PROVIDERS = {
        name: {**conf, "api_key": f"{name}-key"}
        for name, conf in settings.SEEDANCE_PROVIDERS.items()
    }


def price(provider="byteplus", model=BYTEPLUS_2, **overrides):
    values = dict(
        provider=provider,
        model=model,
        resolution="720p",
        generate_audio=True,
        duration=5,
        ratio="16:9",
    )
    values.update(overrides)
    return quote(**values)


# --- the formula ---------------------------------------------------------------------------


def test_the_token_formula_gives_the_documented_counts():
    # upstream-research §1.14: floor(w*h/1024 * (24*d + 1)).
    assert video_tokens(width=1280, height=720, seconds=5) == 108_900
    assert video_tokens(width=864, height=496, seconds=5) == 50_638
    assert video_tokens(width=1920, height=1080, seconds=5) == 245_025
    # 11 s of 720p output with an 8 s reference video: 238,500 + 172,800.
    assert video_tokens(width=1280, height=720, seconds=19) == 411_300
    assert video_tokens(width=1280, height=720, seconds=Decimal("2.5")) == 54_900


def test_adaptive_takes_the_largest_frame_of_the_models_table():
    assert output_size(table="seedance-2", resolution="720p", ratio="16:9") == (1280, 720)
    # 1112x834 (927,408 px) is the largest 2.0 frame at 720p; 1504x640 for 1.0.
    assert output_size(table="seedance-2", resolution="720p", ratio="adaptive") == (1112, 834)
    assert output_size(table="seedance-1.0", resolution="720p", ratio="adaptive") == (1504, 640)
    assert output_size(table="seedance-1.0", resolution="1080p", ratio="16:9") == (1920, 1088)
    assert output_size(table="seedance-2", resolution="4k", ratio="16:9") is None


# --- quotes in each unit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "tokens", "rate", "amount"),
    [
        ("480p", 50_638, 7_000_000, 354_466),
        ("720p", 108_900, 7_000_000, 762_300),  # research §1.14: "$0.76"
        ("1080p", 245_025, 7_700_000, 1_886_693),  # "$1.89"
    ],
)
def test_byteplus_quotes_tokens_at_its_usd_list_price(resolution, tokens, rate, amount):
    got = price(resolution=resolution)
    assert (got.unit, got.quantity, got.rate_micro, got.amount_micro) == (
        "mtokens",
        tokens,
        rate,
        amount,
    )
    assert got.quantity_text == f"{tokens:,} tokens"
    assert got.rate_text == f"${rate / 1e6:.2f} per million tokens"


def test_ark_converts_its_cny_price_at_the_rules_rate():
    got = price(provider="ark", model=ARK_2)
    rule = got.rule
    assert (rule.price, rule.currency, rule.cny_per_usd) == (Decimal(46), "CNY", Decimal(7))
    assert got.rate_micro == 6_571_429  # 46 / 7 USD per million tokens, to the micro-USD
    assert got.amount_micro == 715_629  # 108,900 tokens (¥5.01 at list price)


def test_video_input_is_counted_in_the_formula_at_the_cheaper_rate():
    got = price(input_video_seconds=5.0)
    # (5 s input + 5 s output) at 1280x720: 900 x 241 tokens, at $4.30 per million.
    assert (got.quantity, got.rate_micro, got.amount_micro) == (216_900, 4_300_000, 932_670)
    assert got.rule.video_input == "with"
    assert got.basis == "5 s input + 5 s output at 1280x720, 24 fps"


def test_auto_duration_and_adaptive_ratio_hold_the_worst_case():
    got = price(duration=-1, ratio="adaptive")
    assert got.output_seconds == 15
    assert got.quantity == video_tokens(width=1112, height=834, seconds=15)  # 327,006


def test_flex_has_its_own_half_price():
    kwargs = dict(model="seedance-1-5-pro-251215", resolution="480p")
    default, flex = price(**kwargs), price(service_tier="flex", **kwargs)
    assert default.quantity == flex.quantity == 50_638
    assert (default.rate_micro, flex.rate_micro) == (2_400_000, 1_200_000)
    assert flex.amount_micro * 2 == default.amount_micro + 1  # 121,531 and 60,766 (half-up)
    silent = price(generate_audio=False, service_tier="flex", **kwargs)
    assert silent.rate_micro == 600_000


def test_a_minimum_token_count_raises_the_hold():
    rule = price(input_video_seconds=2.0).rule
    PriceRule.objects.filter(pk=rule.pk).update(min_tokens=300_000)
    got = price(input_video_seconds=2.0)
    assert got.formula_tokens == 900 * 169 and got.quantity == 300_000
    assert got.amount_micro == 1_290_000
    assert got.basis.endswith("the minimum billed is 300,000 tokens")


def test_seedance2ink_720p_is_priced_in_its_documented_credits():
    text = quote(provider="seedance2ink", model="seedance-2.0", resolution="720p",
                 generate_audio=False, duration=5)  # fmt: skip
    media = quote(provider="seedance2ink", model="seedance-2.0", resolution="720p",
                  generate_audio=False, duration=5, has_references=True)  # fmt: skip
    # The reference: creditsCharged 40 for 5 s text-to-video, 64 for 5 s from an image.
    assert (text.unit, text.quantity, text.amount_micro) == ("credit", 40, 1_000_000)
    assert (media.quantity, media.amount_micro) == (64, 1_600_000)
    assert text.rate_text == "$0.025 per credit" and media.quantity_text == "64 credits"


def test_the_tokenhub_guide_example_is_still_three_dollars():
    got = quote(provider="tokenhub", model="doubao-seedance-2.0", resolution="720p",
                generate_audio=True, duration=10, input_video_seconds=5.0)  # fmt: skip
    assert (got.unit, got.quantity, got.amount_micro) == ("second", Decimal(15), 3_000_000)


def test_unit_texts():
    assert unit_quantity_text("mtokens", Decimal("108900.000")) == "108,900 tokens"
    assert unit_quantity_text("second", Decimal("2.346")) == "2.346 s"
    assert unit_quantity_text("", Decimal("15.000")) == "15 s"  # entries from before units
    assert unit_quantity_text("credit", 1) == "1 credit"
    assert unit_rate_text("second", 200_000) == "$0.20/s"
    assert unit_rate_text("credit", 25_000) == "$0.025 per credit"


def test_a_cny_rule_without_its_rate_is_invalid():
    rule = PriceRule(
        provider="ark",
        model=ARK_2,
        resolution="720p",
        unit="mtokens",
        price=Decimal(46),
        currency="CNY",
        effective_from=date(2026, 6, 1),
    )
    with pytest.raises(ValidationError, match="exchange rate"):
        rule.clean()


# --- refusals: nothing held ----------------------------------------------------------------


def test_a_model_without_a_price_is_refused_with_a_clear_error_and_nothing_held(
    gateways, project, member
):
    PriceRule.objects.filter(provider="byteplus", model=BYTEPLUS_2).delete()
    params = tokenhub_params(provider="byteplus", model=BYTEPLUS_2, resolution="1080p")
    with pytest.raises(NoPrice) as refused:
        create_task(project=project, user=member, params=params)
    assert refused.value.message == (
        f"{BYTEPLUS_2} on byteplus at 1080p with audio has no price yet, so it cannot be "
        "submitted. Ask an admin to add a price rule (Django admin, Price rules)."
    )
    assert GenerationTask.objects.count() == 0 and CreditEntry.objects.count() == 1  # the grant


def test_flex_is_refused_where_the_model_has_no_flex(gateways, project, member):
    params = tokenhub_params(provider="byteplus", model=BYTEPLUS_2, service_tier="flex")
    with pytest.raises(InvalidRequest) as refused:
        create_task(project=project, user=member, params=params)
    assert "takes the service tier default, not 'flex'" in refused.value.errors["service_tier"]
    assert GenerationTask.objects.count() == 0


def test_a_hold_different_from_the_estimate_shown_is_refused(gateways, project, member):
    params = tokenhub_params(provider="byteplus", model=BYTEPLUS_2, shown_cost_micro=700_000)
    with pytest.raises(PriceChanged) as refused:
        create_task(project=project, user=member, params=params)
    assert refused.value.message.startswith(
        "This request costs up to $0.76 (108,900 tokens x $7.00 per million tokens"
    )
    assert GenerationTask.objects.count() == 0
    task = create_task(
        project=project,
        user=member,
        params=tokenhub_params(provider="byteplus", model=BYTEPLUS_2, shown_cost_micro=762_300),
    )
    hold = CreditEntry.objects.get(task=task, kind="hold")
    assert (hold.amount_micro, hold.unit, hold.quantity) == (-762_300, "mtokens", 108_900)


# --- the form: estimate in the unit, and equal to the hold ---------------------------------


def test_the_estimate_shows_tokens_and_equals_the_hold(client, gateways, project, member):
    client.force_login(member)
    url = reverse("projects:generation_estimate", args=[project.pk])
    choices = {"provider": "byteplus", "model": BYTEPLUS_2, "resolution": "720p",
               "duration": "5", "ratio": "16:9", "generate_audio": "on"}  # fmt: skip
    fragment = client.get(url, choices).content.decode()
    # To the cent for people, the exact figure in the title.
    assert (
        'id="estimate-cost"><span class="money" title="$0.7623 (762,300 micro-USD)">$0.76</span><'
        in fragment
    )
    assert 'id="estimate-quantity">108,900 tokens<' in fragment
    assert "$7.00 per million tokens: 5 s output at 1280x720, 24 fps" in fragment
    assert 'name="shown_cost_micro" value="762300"' in fragment
    response = client.post(
        reverse("projects:generation_new", args=[project.pk]),
        {**choices, "prompt": "A red kite", "service_tier": "default",
         "shown_cost_micro": "762300"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-2000:]
    hold = CreditEntry.objects.get(kind="hold")
    assert -hold.amount_micro == 762_300


def test_the_form_offers_flex_only_where_the_model_has_it(client, gateways, project, member):
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    page = client.get(url, {"provider": "byteplus", "model": BYTEPLUS_2}).content.decode()
    assert 'name="service_tier"' not in page
    page = client.get(
        url, {"provider": "byteplus", "model": "seedance-1-5-pro-251215"}
    ).content.decode()
    assert 'value="flex"' in page and "Flex (offline, cheaper)" in page
    fragment = client.get(
        reverse("projects:generation_estimate", args=[project.pk]),
        {"provider": "byteplus", "model": "seedance-1-5-pro-251215", "resolution": "480p",
         "duration": "5", "ratio": "16:9", "generate_audio": "on", "service_tier": "flex"},
    ).content.decode()  # fmt: skip
    # 50,638 tokens x $1.20/M
    assert 'title="$0.060766 (60,766 micro-USD)">$0.06</span>' in fragment


def test_a_library_reference_video_changes_the_estimate_and_the_hold_matches(
    client, project, member, tmp_path
):
    """Issue 20: TokenHub 480p 5 s with a 5 s reference video showed "up to $0.60" but held
    $1.20. Picking the library video now prices it, and the submit holds what was shown."""
    clip = asset_create(project=project, user=member, upload=mf.video(tmp_path, "a.mp4", seconds=5))
    assert clip.duration_s == 5.0
    client.force_login(member)
    choices = {"provider": "tokenhub", "model": "doubao-seedance-2.0", "resolution": "480p",
               "duration": "5", "ratio": "16:9", "generate_audio": "on"}  # fmt: skip
    url = reverse("projects:generation_estimate", args=[project.pk])
    assert 'id="estimate-cost">$0.60<' in client.get(url, choices).content.decode()
    fragment = client.get(url, {**choices, "reference_video": str(clip.pk)}).content.decode()
    assert 'id="estimate-cost">$1.20<' in fragment
    assert "(5 s input + 5 s × $0.12/s)" in fragment
    response = client.post(
        reverse("projects:generation_new", args=[project.pk]),
        {**choices, "prompt": "The kite from [Video 1]", "reference_video": str(clip.pk),
         "shown_cost_micro": "1200000"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert -CreditEntry.objects.get(kind="hold").amount_micro == 1_200_000


def test_an_upload_read_differently_than_the_server_measures_is_refused(
    client, project, member, tmp_path
):
    """The browser's reading of a video chosen for upload prices the estimate; if the server
    measures the file otherwise the submit is refused with the new price, nothing held."""
    client.force_login(member)
    path = mf.video(tmp_path, "b.mp4", seconds=3)
    choices = {"provider": "tokenhub", "model": "doubao-seedance-2.0", "resolution": "480p",
               "duration": "5", "ratio": "16:9", "generate_audio": "on"}  # fmt: skip
    fragment = client.get(
        reverse("projects:generation_estimate", args=[project.pk]),
        {**choices, "upload_video_seconds": "2.5"},
    ).content.decode()
    assert 'id="estimate-cost">$0.90<' in fragment  # (2.5 + 5) s x $0.12
    with path.open("rb") as upload:
        response = client.post(
            reverse("projects:generation_new", args=[project.pk]),
            {**choices, "prompt": "A kite", "reference_video_files": upload,
             "upload_video_seconds": "2.5", "shown_cost_micro": "900000"},
        )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    assert "This request costs up to $0.96 (8 s x $0.12/s; 3 s input + 5 s output)" in page
    assert "not the $0.90 shown: the reference video measures 3 s." in page
    assert GenerationTask.objects.count() == 0
    assert not CreditEntry.objects.filter(kind="hold").exists()
