"""Price rules: what a generation costs on a gateway's model, in the unit the gateway bills
by (per second, per million tokens, per credit), from a date. money/pricing.py reads them;
admins edit them (projects/money/admin.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import Q

from projects.models.ledger import MICRO_PER_USD, unit_rate_text


class PriceRule(models.Model):
    """What a generation costs on a provider's model at a resolution, from a date, in the unit
    the gateway bills by (upstream-research §1.14, §9):

    - `second`: USD per billed second, billed seconds = reference (input) video seconds +
      output seconds (TokenHub's guide; the per-second gateways).
    - `mtokens`: per million tokens (Ark, BytePlus, AceData, which report
      `usage.completion_tokens`); tokens = floor(w x h / 1024 x (24 x seconds + 1)),
      projects/providers/output_sizes.py. The hold is that formula's worst case (raised to
      `min_tokens`, Ark's minimum usage with video input, where an admin has set it), the
      charge the gateway's `completion_tokens` x the rate.
    - `credit`: per gateway credit (seedance2.ink's `creditsCharged`); the hold is
      `credits_per_second` (or `media_credits_per_second` when the request has reference
      files) x output seconds, the charge the reported credits x the rate.

    `price` is in `currency`; a CNY price (Volcengine's list prices) is converted at the
    rule's own `cny_per_usd`, shown and edited beside it, so every rate in use is visible in
    admin. Dimensions: `generate_audio` (1.5 pro's price doubles with audio), `video_input`
    (Ark prices tokens cheaper when the input has video) and `service_tier` (Ark's offline
    "flex" tier has its own, half, price). The newest rule whose `effective_from` is not
    after the day of the request applies; on the same day a rule naming the audio choice or
    the video input beats an "any" rule. There is no "any" tier: a flex request needs a flex
    rule. Changing a price never changes a hold already placed: holds record their rate.
    """

    class Audio(models.TextChoices):
        ANY = "any", "With or without audio"
        ON = "on", "Audio on"
        OFF = "off", "Audio off"

    class Unit(models.TextChoices):
        SECOND = "second", "per billed second"
        MILLION_TOKENS = "mtokens", "per million tokens"
        CREDIT = "credit", "per gateway credit"

    class Currency(models.TextChoices):
        USD = "USD", "USD"
        CNY = "CNY", "CNY (converted at cny_per_usd)"

    class VideoInput(models.TextChoices):
        ANY = "any", "With or without input video"
        WITH = "with", "Input has video"
        WITHOUT = "without", "No input video"

    class Tier(models.TextChoices):
        DEFAULT = "default", "default (online)"
        FLEX = "flex", "flex (offline)"

    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    resolution = models.CharField(max_length=16)
    generate_audio = models.CharField(max_length=8, choices=Audio.choices, default=Audio.ANY)
    video_input = models.CharField(max_length=8, choices=VideoInput.choices, default=VideoInput.ANY)
    service_tier = models.CharField(max_length=8, choices=Tier.choices, default=Tier.DEFAULT)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.SECOND)
    price = models.DecimalField(
        "price per unit",
        max_digits=14,
        decimal_places=6,
        help_text="In the rule's currency, per its unit (a second, a million tokens, a credit).",
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    cny_per_usd = models.DecimalField(
        "CNY per USD",
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="For a CNY price: the exchange rate it is converted at (CNY for one USD).",
    )
    min_tokens = models.PositiveIntegerField(
        "minimum tokens",
        null=True,
        blank=True,
        help_text="Token rules: the fewest tokens the gateway bills a task (Ark's minimum "
        "usage with video input); the hold never counts fewer.",
    )
    credits_per_second = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Credit rules: the gateway's documented credits per output second, held at "
        "submit.",
    )
    media_credits_per_second = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Credit rules: credits per output second when the request has reference "
        "files (empty: as without).",
    )
    effective_from = models.DateField()
    note = models.CharField(max_length=300, blank=True, help_text="Where the price comes from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [
            "provider",
            "model",
            "resolution",
            "generate_audio",
            "video_input",
            "service_tier",
            "-effective_from",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "provider",
                    "model",
                    "resolution",
                    "generate_audio",
                    "video_input",
                    "service_tier",
                    "effective_from",
                ],
                name="price_rule_unique_day",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="price_rule_not_negative"),
            models.CheckConstraint(
                condition=Q(generate_audio__in=["any", "on", "off"]), name="price_rule_audio_valid"
            ),
            models.CheckConstraint(
                condition=Q(video_input__in=["any", "with", "without"]),
                name="price_rule_video_input_valid",
            ),
            models.CheckConstraint(
                condition=Q(service_tier__in=["default", "flex"]), name="price_rule_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=["second", "mtokens", "credit"]), name="price_rule_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency="USD") | Q(currency="CNY", cny_per_usd__gt=0),
                name="price_rule_cny_has_rate",
            ),
            models.CheckConstraint(
                condition=~Q(unit="credit") | Q(credits_per_second__gt=0),
                name="price_rule_credits_held",
            ),
        ]

    def __str__(self) -> str:
        tier = " flex" if self.service_tier == self.Tier.FLEX else ""
        video = {"with": ", video input", "without": ", no video input"}.get(self.video_input, "")
        return (
            f"{self.provider} {self.model} {self.resolution}{tier} "
            f"({self.get_generate_audio_display().lower()}{video}): "
            f"{unit_rate_text(self.unit, self.rate_micro)} from {self.effective_from}"
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.currency == self.Currency.CNY and not self.cny_per_usd:
            raise ValidationError({"cny_per_usd": "A CNY price needs its exchange rate."})
        if self.unit == self.Unit.CREDIT and not self.credits_per_second:
            raise ValidationError(
                {"credits_per_second": "A credit price needs the credits held per second."}
            )

    @property
    def usd_per_unit(self) -> Decimal:
        """The price in USD per unit (a CNY price divided by `cny_per_usd`), unrounded."""
        price = Decimal(self.price)
        if self.currency == self.Currency.CNY:
            return price / Decimal(self.cny_per_usd)
        return price

    @property
    def rate_micro(self) -> int:
        """micro-USD per unit (per billed second, per million tokens, per credit); a CNY
        price is converted and rounded half-up to a whole micro-USD."""
        return int((self.usd_per_unit * MICRO_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))
