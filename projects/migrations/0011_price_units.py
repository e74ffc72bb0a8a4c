"""Price rules get a unit: per billed second, per million tokens, or per gateway credit.

Schema: PriceRule.usd_per_second becomes `price` (in `currency`, per `unit`), with `currency`
(USD, or CNY converted at the rule's `cny_per_usd`), the dimensions `video_input` and
`service_tier`, `min_tokens` for token rules and `credits_per_second` /
`media_credits_per_second` for credit rules.
CreditEntry gets `unit` and `quantity` (what a hold or charge counted: seconds, tokens,
credits). GenerationTask gets `service_tier`. Existing rules and entries are per second.

Data (effective 2026-01-01, the date of the 0005 seeds, so they apply at once):

1. Ark (Volcengine), per million tokens, CNY list prices (upstream-research §9 and §1.14:
   new-api PRs #5387/#6873, whose table QuantumNous/new-api relay/channel/task/doubao/
   constants.go carries as "豆包 2026-01-28 价格表"):
     doubao-seedance-2-0-260128       480p/720p: 46 (no video input), 28 (video input);
                                      1080p: 51 / 31
     doubao-seedance-2-0-fast-260128  480p/720p: 37 / 22
     doubao-seedance-1-0-pro-250528   15;  -1-0-lite-t2v/-i2v-250428: 14 (§1.14)
     doubao-seedance-1-0-pro-fast-251015: no price in the research: 1.0 pro's 15, an upper
                                      bound, until an admin sets its own
     doubao-seedance-1-5-pro-251215   no CNY price in the research: BytePlus's USD list price,
                                      2.4 with audio / 1.2 silent, flex 1.2 / 0.6 (302.ai's
                                      "flex at half price", §1.14 and §9)
   CNY is converted at 7 CNY per USD (`cny_per_usd` on each rule, editable in admin): the rate
   Crazyrouter's Seedance billing guide applies to these very prices ("46 / 7 USD / 1M
   tokens", research §9's explanation of the formula). E.g. 720p 16:9 5 s = 108,900 tokens x
   46 / 7 = $0.715629 (¥5.01 at list price, the research's worked example).
2. BytePlus ModelArk, per million tokens, USD list prices (§1.14 table):
     dreamina-seedance-2-0-260128      480p/720p: 7.0 / 4.3 (video input); 1080p: 7.7 / 4.7
     dreamina-seedance-2-0-fast-260128 480p/720p: 5.6 / 3.3
     seedance-1-5-pro-251215           2.4 audio / 1.2 silent; flex 1.2 / 0.6
     seedance-1-0-pro-250528           2.5; seedance-1-0-pro-fast-251015: 2.5 (as 1.0 pro)
   E.g. 720p 16:9 5 s: 108,900 x $7.00/M = $0.7623 (§1.14: "$0.76").
3. AceData, per million tokens: its answers carry Ark's `usage.completion_tokens`; it
   publishes no price in the stored doc, so the BytePlus USD list prices of its 1.x models,
   the basis of the per-second seeds this replaces (1.0 lite: 1.8).
4. seedance2.ink seedance-2.0 at 720p, per credit: its reference documents what a request
   costs in credits (`creditsCharged`: 40 for 5 s of text-to-video, 64 for 5 s from one
   image), i.e. 8 credits a second, 12.8 with reference files, and no price per credit;
   $0.025 a credit keeps the seeded $0.20/s for the documented text-to-video example
   (40 credits = $1.00). Its other models and resolutions have no documented credit cost in
   the stored pages (GET /api/open/v1/models lists them): they stay per second.

Ark's minimum token usage with video input (2.0 / 2.0 fast, "by resolution, ratio and
duration", §1.14) is left empty (`min_tokens`): the research quotes no figure of it, and the
two data points it has disagree with any simple floor (the official example bills 8 s of
reference video + 11 s of output at exactly the formula's 411,300 tokens, while Crazyrouter
measured 173,700 for a 4 s output with a reference video of unstated length). The hold is the
formula's count; a charge above it is capped at the hold and noted for admins (cost_note).

The per-second seeds of 0005 that these replace (all of ark's and acedata's, seedance2ink's
seedance-2.0 720p) are deleted when they are as seeded; a rule an admin changed is kept.
"""

from datetime import date
from decimal import Decimal
from importlib import import_module

from django.db import migrations, models

EFFECTIVE = date(2026, 1, 1)
CNY_PER_USD = Decimal("7")
ANY, ON, OFF = "any", "on", "off"
WITH, WITHOUT = "with", "without"
DEFAULT, FLEX = "default", "flex"
RES = ("480p", "720p", "1080p")

CNY_NOTE = "Volcengine list price ¥{p}/M tokens (research §9, new-api #5387); ¥7 = $1"
CNY_1_0_NOTE = "Volcengine list price ¥{p}/M tokens (research §1.14); ¥7 = $1"
BYTEPLUS_NOTE = "BytePlus list price ${p}/M tokens (research §1.14)"
ACEDATA_NOTE = "BytePlus list price ${p}/M tokens (research §1.14); AceData publishes none"


def _seeded_0005():
    """The per-second rules 0005 seeded: (provider, model, resolution, audio, price, note)."""
    return list(import_module("projects.migrations.0005_seed_prices").rules())


def _replaced(provider: str, model: str, resolution: str) -> bool:
    """Whether 0005's per-second rule for this is replaced by a rule in another unit here."""
    return provider in ("ark", "acedata") or (
        provider == "seedance2ink" and model == "seedance-2.0" and resolution == "720p"
    )


def new_rules():
    """Every rule this migration adds, as PriceRule field dicts."""

    def token(provider, model, resolution, price, note, **dims):
        rule = dict(
            provider=provider,
            model=model,
            resolution=resolution,
            unit="mtokens",
            price=Decimal(price),
            note=note.format(p=price)[:300],
            generate_audio=dims.get("audio", ANY),
            video_input=dims.get("video", ANY),
            service_tier=dims.get("tier", DEFAULT),
        )
        if dims.get("cny"):
            rule.update(currency="CNY", cny_per_usd=CNY_PER_USD)
        return rule

    rules = []
    # 2.0 / 2.0 fast: priced by whether the input has video.
    two = {
        "ark": (
            CNY_NOTE,
            True,
            {
                "doubao-seedance-2-0-260128": {"480p": ("46", "28"), "720p": ("46", "28"),
                                               "1080p": ("51", "31")},
                "doubao-seedance-2-0-fast-260128": {"480p": ("37", "22"), "720p": ("37", "22")},
            },
        ),
        "byteplus": (
            BYTEPLUS_NOTE,
            False,
            {
                "dreamina-seedance-2-0-260128": {"480p": ("7.0", "4.3"), "720p": ("7.0", "4.3"),
                                                 "1080p": ("7.7", "4.7")},
                "dreamina-seedance-2-0-fast-260128": {"480p": ("5.6", "3.3"),
                                                      "720p": ("5.6", "3.3")},
            },
        ),
    }  # fmt: skip
    for provider, (note, cny, models_) in two.items():
        for model, prices in models_.items():
            for resolution, (without, with_video) in prices.items():
                rules.append(token(provider, model, resolution, without, note, video=WITHOUT,
                                   cny=cny))  # fmt: skip
                rules.append(token(provider, model, resolution, with_video, note, video=WITH,
                                   cny=cny))  # fmt: skip
    # 1.5 pro: audio doubles the price; the flex tier halves it. USD everywhere.
    pro_15 = {
        "ark": ("doubao-seedance-1-5-pro-251215", BYTEPLUS_NOTE + "; no CNY price researched"),
        "byteplus": ("seedance-1-5-pro-251215", BYTEPLUS_NOTE),
        "acedata": ("doubao-seedance-1-5-pro-251215", ACEDATA_NOTE),
    }
    for provider, (model, note) in pro_15.items():
        for resolution in RES:
            for tier, on, off in ((DEFAULT, "2.4", "1.2"), (FLEX, "1.2", "0.6")):
                flex = "; flex at half price (302.ai, research §9)" if tier == FLEX else ""
                rules.append(token(provider, model, resolution, on, note + flex, audio=ON,
                                   tier=tier))  # fmt: skip
                rules.append(token(provider, model, resolution, off, note + flex, audio=OFF,
                                   tier=tier))  # fmt: skip
    # 1.0: one price per model.
    upper = "; no price researched for pro fast: 1.0 pro's, an upper bound"
    one_0 = [
        ("ark", "doubao-seedance-1-0-pro-250528", "15", CNY_1_0_NOTE, True),
        ("ark", "doubao-seedance-1-0-pro-fast-251015", "15", CNY_1_0_NOTE + upper, True),
        ("ark", "doubao-seedance-1-0-lite-t2v-250428", "14", CNY_1_0_NOTE, True),
        ("ark", "doubao-seedance-1-0-lite-i2v-250428", "14", CNY_1_0_NOTE, True),
        ("byteplus", "seedance-1-0-pro-250528", "2.5", BYTEPLUS_NOTE, False),
        ("byteplus", "seedance-1-0-pro-fast-251015", "2.5", BYTEPLUS_NOTE + upper, False),
        ("acedata", "doubao-seedance-1-0-pro-250528", "2.5", ACEDATA_NOTE, False),
        ("acedata", "doubao-seedance-1-0-pro-fast-251015", "2.5", ACEDATA_NOTE + upper, False),
        ("acedata", "doubao-seedance-1-0-lite-t2v-250428", "1.8", ACEDATA_NOTE, False),
        ("acedata", "doubao-seedance-1-0-lite-i2v-250428", "1.8", ACEDATA_NOTE, False),
    ]
    for provider, model, price, note, cny in one_0:
        for resolution in RES:
            rules.append(token(provider, model, resolution, price, note, cny=cny))
    rules.append(
        dict(
            provider="seedance2ink",
            model="seedance-2.0",
            resolution="720p",
            generate_audio=ANY,
            video_input=ANY,
            service_tier=DEFAULT,
            unit="credit",
            price=Decimal("0.025"),
            credits_per_second=Decimal("8"),
            media_credits_per_second=Decimal("12.8"),
            note="Documented creditsCharged: 40 for 5 s text-to-video, 64 for 5 s from an "
            "image (seedance2.ink reference); $0.025/credit keeps $0.20/s for the first",
        )
    )
    return rules


def _add(PriceRule, rule: dict) -> None:
    key = {k: rule[k] for k in ("provider", "model", "resolution", "generate_audio")}
    key.update(
        video_input=rule["video_input"], service_tier=rule["service_tier"], effective_from=EFFECTIVE
    )
    if not PriceRule.objects.filter(**key).exists():  # an admin's own rule of that day stays
        PriceRule.objects.create(effective_from=EFFECTIVE, **rule)


def seed(apps, schema_editor):
    """Replace 0005's per-second seeds where the gateway bills otherwise, add the rest."""
    PriceRule = apps.get_model("projects", "PriceRule")
    for provider, model, resolution, audio, price, _note in _seeded_0005():
        if _replaced(provider, model, resolution):
            PriceRule.objects.filter(
                provider=provider,
                model=model,
                resolution=resolution,
                generate_audio=audio,
                video_input=ANY,
                service_tier=DEFAULT,
                effective_from=EFFECTIVE,
                unit="second",
                price=price,
            ).delete()
    for rule in new_rules():
        _add(PriceRule, rule)


def unseed(apps, schema_editor):
    PriceRule = apps.get_model("projects", "PriceRule")
    PriceRule.objects.filter(effective_from=EFFECTIVE).exclude(unit="second").delete()
    PriceRule.objects.filter(effective_from=EFFECTIVE, provider="byteplus").delete()
    for provider, model, resolution, audio, price, note in _seeded_0005():
        if _replaced(provider, model, resolution):
            PriceRule.objects.get_or_create(
                provider=provider,
                model=model,
                resolution=resolution,
                generate_audio=audio,
                video_input=ANY,
                service_tier=DEFAULT,
                effective_from=EFFECTIVE,
                defaults={"price": price, "note": note[:300]},
            )


def seed_current(apps, schema_editor=None):
    """The whole seeded price table for the current schema (0005's rules as they stand after
    this migration, plus this one's), for tests that flush the tables (tests/conftest.py)."""
    PriceRule = apps.get_model("projects", "PriceRule")
    for provider, model, resolution, audio, price, note in _seeded_0005():
        if not _replaced(provider, model, resolution):
            _add(
                PriceRule,
                dict(
                    provider=provider,
                    model=model,
                    resolution=resolution,
                    generate_audio=audio,
                    video_input=ANY,
                    service_tier=DEFAULT,
                    unit="second",
                    price=price,
                    note=note[:300],
                ),
            )
    for rule in new_rules():
        _add(PriceRule, rule)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0010_team_members_manage_all"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="pricerule",
            options={
                "ordering": [
                    "provider",
                    "model",
                    "resolution",
                    "generate_audio",
                    "video_input",
                    "service_tier",
                    "-effective_from",
                ]
            },
        ),
        migrations.RemoveConstraint(model_name="pricerule", name="price_rule_unique_day"),
        migrations.RemoveConstraint(model_name="pricerule", name="price_rule_not_negative"),
        migrations.RenameField(model_name="pricerule", old_name="usd_per_second", new_name="price"),
        migrations.AlterField(
            model_name="pricerule",
            name="price",
            field=models.DecimalField(
                decimal_places=6,
                help_text="In the rule's currency, per its unit (a second, a million tokens, a "
                "credit).",
                max_digits=14,
                verbose_name="price per unit",
            ),
        ),
        migrations.AddField(
            model_name="creditentry",
            name="quantity",
            field=models.DecimalField(blank=True, decimal_places=3, max_digits=16, null=True),
        ),
        migrations.AddField(
            model_name="creditentry",
            name="unit",
            field=models.CharField(blank=True, max_length=8),
        ),
        migrations.AddField(
            model_name="generationtask",
            name="service_tier",
            field=models.CharField(default="default", max_length=8),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="cny_per_usd",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="For a CNY price: the exchange rate it is converted at (CNY for one "
                "USD).",
                max_digits=10,
                null=True,
                verbose_name="CNY per USD",
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="min_tokens",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Token rules: the fewest tokens the gateway bills a task (Ark's minimum "
                "usage with video input); the hold never counts fewer.",
                null=True,
                verbose_name="minimum tokens",
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="credits_per_second",
            field=models.DecimalField(
                blank=True,
                decimal_places=3,
                help_text="Credit rules: the gateway's documented credits per output second, "
                "held at submit.",
                max_digits=10,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="currency",
            field=models.CharField(
                choices=[("USD", "USD"), ("CNY", "CNY (converted at cny_per_usd)")],
                default="USD",
                max_length=3,
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="media_credits_per_second",
            field=models.DecimalField(
                blank=True,
                decimal_places=3,
                help_text="Credit rules: credits per output second when the request has "
                "reference files (empty: as without).",
                max_digits=10,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="service_tier",
            field=models.CharField(
                choices=[("default", "default (online)"), ("flex", "flex (offline)")],
                default="default",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="unit",
            field=models.CharField(
                choices=[
                    ("second", "per billed second"),
                    ("mtokens", "per million tokens"),
                    ("credit", "per gateway credit"),
                ],
                default="second",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="pricerule",
            name="video_input",
            field=models.CharField(
                choices=[
                    ("any", "With or without input video"),
                    ("with", "Input has video"),
                    ("without", "No input video"),
                ],
                default="any",
                max_length=8,
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.UniqueConstraint(
                fields=(
                    "provider",
                    "model",
                    "resolution",
                    "generate_audio",
                    "video_input",
                    "service_tier",
                    "effective_from",
                ),
                name="price_rule_unique_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=models.Q(price__gte=0), name="price_rule_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=models.Q(video_input__in=["any", "with", "without"]),
                name="price_rule_video_input_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=models.Q(service_tier__in=["default", "flex"]),
                name="price_rule_tier_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=models.Q(unit__in=["second", "mtokens", "credit"]),
                name="price_rule_unit_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=models.Q(currency="USD") | models.Q(currency="CNY", cny_per_usd__gt=0),
                name="price_rule_cny_has_rate",
            ),
        ),
        migrations.AddConstraint(
            model_name="pricerule",
            constraint=models.CheckConstraint(
                condition=~models.Q(unit="credit") | models.Q(credits_per_second__gt=0),
                name="price_rule_credits_held",
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
