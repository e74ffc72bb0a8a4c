"""Django admin for money: credit accounts and the ledger (read-only, plus grants and
adjustments written through projects/money/ledger.py), price rules and budgets; and the pieces
the generation task admin uses to show held/charged and the gateway's differing figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from projects.audit import AuditedModelAdmin
from projects.exceptions import ApplicationError
from projects.models import Budget, CreditAccount, CreditEntry, GenerationTask, PriceRule, Team
from projects.models.ledger import entry_billed_text as entry_billed
from projects.models.ledger import unit_rate_text, usd, usd_to_micro
from projects.money import ledger
from projects.money.budgets import budget_states
from projects.providers.registry import get_capabilities, provider_names

Kind = CreditEntry.Kind


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    """Balances are caches of the ledger: nobody edits them here."""

    list_display = ["team", "available", "held", "updated_at"]
    search_fields = ["team__name", "team__slug"]
    readonly_fields = ["team", "available", "held", "updated_at"]
    exclude = ["balance_micro", "held_micro"]

    @admin.display(description="available")
    def available(self, account: CreditAccount) -> str:
        return usd(account.balance_micro)

    @admin.display(description="held")
    def held(self, account: CreditAccount) -> str:
        return usd(account.held_micro)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditEntryAddForm(forms.ModelForm):
    """A grant (top-up) or an adjustment, in dollars; saved by projects/money/ledger.py."""

    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))
    kind = forms.ChoiceField(
        choices=[(Kind.GRANT, "Grant (add credit)"), (Kind.ADJUSTMENT, "Adjustment (+/-)")]
    )
    amount_usd = forms.DecimalField(
        label="Amount (USD)",
        max_digits=14,
        decimal_places=6,
        help_text="A grant is positive; an adjustment may be negative (a debit).",
    )

    class Meta:
        model = CreditEntry
        fields = ["memo"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        amount = data.get("amount_usd")
        if amount is not None:
            if data.get("kind") == Kind.GRANT and amount <= 0:
                self.add_error("amount_usd", "A grant must be more than $0.00.")
            if amount == 0:
                self.add_error("amount_usd", "Enter an amount other than $0.00.")
            team = data.get("team")
            if team is not None and amount < 0:
                available = ledger.credit_balance(team=team).balance_micro
                if available + usd_to_micro(amount) < 0:
                    self.add_error(
                        "amount_usd",
                        f"{team.name} has {usd(available)} available; a debit cannot take it "
                        "below zero.",
                    )
        return data


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """The ledger: append-only. Admins add grants and adjustments; nothing is changed or
    deleted (entries are corrected by another adjustment)."""

    list_display = [
        "created_at",
        "team",
        "kind",
        "amount",
        "billed",
        "user",
        "project",
        "task",
        "memo",
    ]
    list_filter = ["kind", "account__team", "created_at"]
    search_fields = ["memo", "task__id", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["account__team", "user", "project", "task"]

    @admin.display(description="team", ordering="account__team__name")
    def team(self, entry: CreditEntry) -> str:
        return str(entry.account.team)

    @admin.display(description="amount", ordering="amount_micro")
    def amount(self, entry: CreditEntry) -> str:
        return usd(entry.amount_micro)

    @admin.display(description="billed")
    def billed(self, entry: CreditEntry) -> str:
        """A hold's or charge's quantity and rate in its unit: '108,900 tokens × $7.00 per
        million tokens', '15 s × $0.20/s'."""
        if entry.kind == Kind.RELEASE:
            return ""
        return entry_billed(entry)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        if obj is None:
            return CreditEntryAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return [(None, {"fields": ["team", "kind", "amount_usd", "memo"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [f.name for f in CreditEntry._meta.fields]

    def save_model(self, request: HttpRequest, obj: CreditEntry, form, change: bool) -> None:
        data = form.cleaned_data
        amount = usd_to_micro(Decimal(data["amount_usd"]).quantize(Decimal("0.000001")))
        try:
            if data["kind"] == Kind.GRANT:
                entry = ledger.credit_grant(
                    team=data["team"], amount_micro=amount, actor=request.user, memo=data["memo"]
                )
            else:
                entry = ledger.credit_adjust(
                    team=data["team"], amount_micro=amount, actor=request.user, memo=data["memo"]
                )
        except ApplicationError as exc:
            # The form was valid but the ledger refused (e.g. a debit below zero).
            self.message_user(request, exc.message, messages.ERROR)
            raise _Refused from exc
        obj.pk = entry.pk
        obj.__dict__.update({k: v for k, v in entry.__dict__.items() if not k.startswith("_")})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused:
            from django.shortcuts import redirect

            return redirect(request.get_full_path())

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _Refused(Exception):
    pass


class PriceEditForm(forms.ModelForm):
    """The price and exchange rate as edited in the list (list_editable), refused in words."""

    def clean_price(self) -> Any:
        price = self.cleaned_data.get("price")
        if price is not None and price < 0:
            raise forms.ValidationError("A price cannot be negative.")
        return price

    def clean_cny_per_usd(self) -> Any:
        rate = self.cleaned_data.get("cny_per_usd")
        if rate is not None and rate <= 0:
            raise forms.ValidationError("An exchange rate must be more than 0.")
        return rate


class PriceRuleForm(PriceEditForm):
    """A price rule as typed in admin: the gateway and its model picked from the capability
    tables (a typo would make a rule that never applies), the price not negative, each
    refusal in words instead of a constraint's name."""

    class Meta:
        model = PriceRule
        fields = [
            "provider",
            "model",
            "resolution",
            "effective_from",
            "generate_audio",
            "video_input",
            "service_tier",
            "unit",
            "price",
            "currency",
            "cny_per_usd",
            "min_tokens",
            "credits_per_second",
            "media_credits_per_second",
            "note",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"] = forms.ChoiceField(
            choices=[(name, name) for name in provider_names()],
            help_text="The gateway, as configured in settings (SEEDANCE_PROVIDERS).",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        provider, model = data.get("provider"), data.get("model")
        if provider and model:
            known = [m.id for m in get_capabilities(provider).models]
            if model not in known:
                self.add_error(
                    "model", f"{provider} has no model {model!r}; it offers {', '.join(known)}."
                )
        if data.get("currency") == "CNY" and not (data.get("cny_per_usd") or 0) > 0:
            self.add_error("cny_per_usd", "A CNY price needs its exchange rate (CNY per USD).")
        if data.get("unit") == "credit" and not (data.get("credits_per_second") or 0) > 0:
            self.add_error(
                "credits_per_second", "A per-credit price needs the credits a second costs."
            )
        return data


@admin.register(PriceRule)
class PriceRuleAdmin(AuditedModelAdmin):
    """Prices in the unit each gateway bills by: per billed second, per million tokens or per
    gateway credit (PriceRule's docstring). A CNY price shows its exchange rate and the USD
    rate it makes. To change a price from a date, add a rule with that `effective_from`
    ("Save as new"); holds already placed keep their rate."""

    list_display = [
        "provider",
        "model",
        "resolution",
        "generate_audio",
        "video_input",
        "service_tier",
        "unit",
        "price",
        "currency",
        "cny_per_usd",
        "usd_rate",
        "effective_from",
        "note",
    ]
    list_filter = [
        "provider",
        "unit",
        "currency",
        "resolution",
        "service_tier",
        "video_input",
        "generate_audio",
        "effective_from",
    ]
    search_fields = ["model", "note"]
    list_editable = ["price", "cny_per_usd"]
    list_per_page = 300  # the whole seeded table (about 120 rules) on one page
    fieldsets = [
        (None, {"fields": ["provider", "model", "resolution", "effective_from"]}),
        ("Applies to", {"fields": ["generate_audio", "video_input", "service_tier"]}),
        (
            "Price",
            {
                "fields": [
                    "unit",
                    "price",
                    "currency",
                    "cny_per_usd",
                    "min_tokens",
                    "credits_per_second",
                    "media_credits_per_second",
                    "note",
                ]
            },
        ),
    ]
    save_as = True
    form = PriceRuleForm

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        return super().get_changelist_form(request, form=PriceEditForm, **kwargs)

    @admin.display(description="USD rate")
    def usd_rate(self, rule: PriceRule) -> str:
        """What a hold is priced at: '$6.571429 per million tokens'."""
        try:
            return unit_rate_text(rule.unit, rule.rate_micro)
        except (ArithmeticError, TypeError, ValueError):  # a half-typed CNY rule
            return "–"


@admin.register(Budget)
class BudgetAdmin(AuditedModelAdmin):
    """Spending limits per team, project, user or API key, per period. Leave project, user
    and key empty for a team budget; set one of them to limit that project, member or key."""

    list_display = ["scope", "period", "limit_usd", "used", "left", "note"]
    list_filter = ["period", "team"]
    search_fields = ["team__name", "project__name", "user__username", "note"]
    fields = ["team", "project", "user", "api_key", "period", "limit_usd", "note"]
    list_select_related = ["team", "project", "user", "api_key__user"]

    @admin.display(description="budget", ordering="team__name")
    def scope(self, budget: Budget) -> str:
        return budget.scope_label()

    def _state(self, budget: Budget):
        states = budget_states(team=budget.team, project=None, user=None, every=True)
        return next((s for s in states if s.budget.pk == budget.pk), None)

    @admin.display(description="used this period")
    def used(self, budget: Budget) -> str:
        state = self._state(budget)
        return usd(state.used_micro) if state else "–"

    @admin.display(description="left")
    def left(self, budget: Budget) -> str:
        state = self._state(budget)
        return usd(state.left_micro) if state else "–"


class VendorCostFilter(admin.SimpleListFilter):
    """Generation tasks whose gateway-reported figures (duration, usage tokens, cost) differ
    from what we charged, or that reported any."""

    title = "vendor-reported cost"
    parameter_name = "vendor_cost"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("differs", "Differs from our charge"), ("reported", "Reported by the gateway")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "differs":
            return queryset.exclude(cost_note="")
        if self.value() == "reported":
            return queryset.filter(
                ~Q(vendor_cost="") | ~Q(usage={}) | Q(upstream_duration_s__isnull=False)
            )
        return queryset


def task_money_columns() -> tuple:
    """`held` and `charged` list columns for tasks annotated by projects.money.spend.with_money."""

    @admin.display(description="held", ordering="held_micro")
    def held(obj: GenerationTask) -> str:
        return usd(getattr(obj, "held_micro", 0) or 0)

    @admin.display(description="charged", ordering="charged_micro")
    def charged(obj: GenerationTask) -> str:
        return usd(getattr(obj, "charged_micro", 0) or 0)

    return held, charged
