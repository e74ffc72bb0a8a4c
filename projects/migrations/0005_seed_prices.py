"""Seed the price rules (USD per billed second, effective 2026-01-01) for every gateway model.

Billed seconds = reference (input) video seconds + output seconds, as the TokenHub guide
bills (../shared/upstream/tokenhub-seedance-2.0-guide.ko.txt): e.g. doubao-seedance-2.0 at
720p, 5 s input + 10 s output = (5 + 10) x $0.20 = $3.00. Admins change any of these in
Django admin (add a rule with a later effective date; holds keep the rate they were placed at).

1. Seedance 2.0 / 2.0 fast, published per-second prices (TokenHub guide, research §1.14):
   2.0: 720p $0.20/s, 480p $0.12/s; 2.0 fast: 720p $0.16/s, 480p $0.10/s. The same prices are
   used for the equivalent models of the other gateways (ark and acedata
   doubao-seedance-2-0[-fast]-260128, alltoken and seedance2ink seedance-2.0[-fast]), with or
   without audio (TokenHub prices do not depend on it).
   2.0 at 1080p (ark, acedata, alltoken, seedance2ink; TokenHub has no 1080p) has no published
   per-second price from TokenHub; $0.50/s is PiAPI's published 1080p price (research §1.14)
   and agrees with scaling TokenHub's 720p price by the official token prices:
   0.20 x (1920x1080 x 7.7) / (1280x720 x 7.0) = 0.495 $/s.

2. Seedance 1.x, derived from the official per-token prices (research §1.14, BytePlus USD per
   million tokens) with the official token formula tokens = floor(w x h / 1024 x (24 d + 1)):
   USD per second = price_per_M / 1e6 x tokens(5 s) / 5, rounded half-up to a micro-USD, i.e.
   the 5 s clip of the docs' worked examples spread over its 5 seconds (so the extra frame is
   included at the typical length). Pixel sizes (research §1.7, 16:9):
     1.0 pro / pro fast / lite: 480p 864x480 (49,005 tokens per 5 s), 720p 1248x704 (103,818),
                                1080p 1920x1088 (246,840);
     1.5 pro: the Seedance 2.0 sizes, as the docs' 1.5 pro worked example uses them:
                                480p 864x496 (50,638), 720p 1280x720 (108,900),
                                1080p 1920x1080 (245,025).
   Prices per million tokens: 1.5 pro $2.4 with audio, $1.2 silent ("audio doubles");
   1.0 pro $2.5; 1.0 lite (t2v and i2v) $1.8; 1.0 pro fast has no price in the research, so it
   is priced as 1.0 pro (an upper bound) until an admin sets its own.
   E.g. 1.5 pro 720p with audio: 2.4 / 1e6 x 108,900 / 5 = $0.052272/s ($0.26 for 5 s, the
   research's "$0.26 audio" example); 1.0 lite 480p: 1.8 / 1e6 x 49,005 / 5 = $0.017642/s.
   ark and acedata name them doubao-seedance-1-5-pro-251215, -1-0-pro-250528,
   -1-0-pro-fast-251015, -1-0-lite-t2v-250428, -1-0-lite-i2v-250428; alltoken and seedance2ink
   offer seedance-1.5-pro.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

EFFECTIVE = date(2026, 1, 1)
ANY, ON, OFF = "any", "on", "off"

SEEDANCE_2 = {"480p": "0.12", "720p": "0.20", "1080p": "0.50"}
SEEDANCE_2_FAST = {"480p": "0.10", "720p": "0.16"}
SIZES_1_0 = {"480p": (864, 480), "720p": (1248, 704), "1080p": (1920, 1088)}
SIZES_2_0 = {"480p": (864, 496), "720p": (1280, 720), "1080p": (1920, 1080)}


def per_second(usd_per_million: str, size: tuple[int, int]) -> Decimal:
    """USD per second from a per-million-token price: the 5 s clip's tokens over 5 s."""
    width, height = size
    tokens_5s = int(Decimal(width * height) / 1024 * (24 * 5 + 1))
    price = Decimal(usd_per_million) / 1_000_000 * tokens_5s / 5
    return price.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def rules():
    """(provider, model, resolution, audio, usd_per_second, note) for every seeded rule."""
    published = "TokenHub guide per-second price (research §1.14)"
    piapi = "PiAPI 1080p price; = TokenHub 720p scaled by official token prices (see migration)"
    names_2 = {
        "tokenhub": ("doubao-seedance-2.0", "doubao-seedance-2.0-fast"),
        "ark": ("doubao-seedance-2-0-260128", "doubao-seedance-2-0-fast-260128"),
        "acedata": ("doubao-seedance-2-0-260128", "doubao-seedance-2-0-fast-260128"),
        "alltoken": ("seedance-2.0", "seedance-2.0-fast"),
        "seedance2ink": ("seedance-2.0", "seedance-2.0-fast"),
    }
    for provider, (standard, fast) in names_2.items():
        for resolution, price in SEEDANCE_2.items():
            if provider == "tokenhub" and resolution == "1080p":
                continue  # TokenHub offers 480p and 720p only
            note = piapi if resolution == "1080p" else published
            yield provider, standard, resolution, ANY, Decimal(price), note
        for resolution, price in SEEDANCE_2_FAST.items():
            yield provider, fast, resolution, ANY, Decimal(price), published

    token_note = "derived from ${m}/M tokens (research §1.14), see migration"
    one_x = [
        ("doubao-seedance-1-0-pro-250528", "2.5", SIZES_1_0, "1.0 pro"),
        ("doubao-seedance-1-0-pro-fast-251015", "2.5", SIZES_1_0, "1.0 pro fast, priced as 1.0 pro"),
        ("doubao-seedance-1-0-lite-t2v-250428", "1.8", SIZES_1_0, "1.0 lite"),
        ("doubao-seedance-1-0-lite-i2v-250428", "1.8", SIZES_1_0, "1.0 lite"),
    ]
    for provider in ("ark", "acedata"):
        for model, per_million, sizes, what in one_x:
            for resolution, size in sizes.items():
                note = f"{what}: " + token_note.replace("{m}", per_million)
                yield provider, model, resolution, ANY, per_second(per_million, size), note
    pro_15 = {
        "ark": "doubao-seedance-1-5-pro-251215",
        "acedata": "doubao-seedance-1-5-pro-251215",
        "alltoken": "seedance-1.5-pro",
        "seedance2ink": "seedance-1.5-pro",
    }
    for provider, model in pro_15.items():
        for resolution, size in SIZES_2_0.items():
            for audio, per_million in ((ON, "2.4"), (OFF, "1.2")):
                note = "1.5 pro: " + token_note.replace("{m}", per_million)
                yield provider, model, resolution, audio, per_second(per_million, size), note


def seed(apps, schema_editor):
    PriceRule = apps.get_model("projects", "PriceRule")
    for provider, model, resolution, audio, price, note in rules():
        PriceRule.objects.get_or_create(
            provider=provider,
            model=model,
            resolution=resolution,
            generate_audio=audio,
            effective_from=EFFECTIVE,
            defaults={"usd_per_second": price, "note": note[:300]},
        )


def unseed(apps, schema_editor):
    PriceRule = apps.get_model("projects", "PriceRule")
    PriceRule.objects.filter(effective_from=EFFECTIVE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_ledger"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
