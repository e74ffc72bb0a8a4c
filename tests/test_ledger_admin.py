"""Django admin for money: grants and adjustments go through the ledger; entries can't be
changed or deleted; price rules and budgets are editable; tasks list held/charged and the
gateway's differing figures."""

from decimal import Decimal

import pytest
from django.urls import reverse

from projects.management.commands.ledger_check import ledger_problems
from projects.models import Budget, CreditEntry, GenerationTask, PriceRule
from projects.money import ledger
from tests.factories import GenerationTaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_an_admin_grants_credit_through_the_ledger(admin_client, team):
    response = admin_client.post(
        reverse("admin:projects_creditentry_add"),
        {"team": team.pk, "kind": "grant", "amount_usd": "25.50", "memo": "November top-up"},
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.filter(memo="November top-up").get()
    assert (entry.kind, entry.amount_micro, entry.created_by.username) == (
        "grant",
        25_500_000,
        "root",
    )
    assert ledger.credit_balance(team=team).balance_micro == 1025_500_000
    assert ledger_problems()[0] == []


def test_a_debit_below_zero_is_refused_in_the_form(admin_client, team):
    response = admin_client.post(
        reverse("admin:projects_creditentry_add"),
        {"team": team.pk, "kind": "adjustment", "amount_usd": "-2000", "memo": "claw back"},
    )
    assert response.status_code == 200
    assert "a debit cannot take it below zero" in response.content.decode()
    assert not CreditEntry.objects.filter(kind="adjustment").exists()


def test_entries_cannot_be_changed_or_deleted(admin_client, team):
    entry = CreditEntry.objects.get(account__team=team)
    change = reverse("admin:projects_creditentry_change", args=[entry.pk])
    page = admin_client.get(change)
    assert page.status_code == 200  # view only
    assert 'name="_save"' not in page.content.decode()
    admin_client.post(change, {"memo": "tampered"})
    delete = admin_client.post(
        reverse("admin:projects_creditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    entry.refresh_from_db()
    assert entry.memo == "Test credit." and CreditEntry.objects.count() == 1


def test_price_rules_and_budgets_are_editable(admin_client, team):
    rule = PriceRule.objects.get(
        provider="tokenhub", model="doubao-seedance-2.0", resolution="480p"
    )
    changelist = admin_client.get(reverse("admin:projects_pricerule_changelist"))
    assert (
        changelist.status_code == 200 and "doubao-seedance-2.0-fast" in changelist.content.decode()
    )
    response = admin_client.post(
        reverse("admin:projects_pricerule_add"),
        {
            "provider": "tokenhub",
            "model": "doubao-seedance-2.0",
            "resolution": "480p",
            "generate_audio": "any",
            "unit": "second",
            "price": "0.11",
            "currency": "USD",
            "video_input": "any",
            "service_tier": "default",
            "effective_from": "2026-02-01",
            "note": "price cut",
        },
    )
    assert response.status_code == 302
    assert PriceRule.objects.filter(price=Decimal("0.11")).exclude(pk=rule.pk).exists()
    # A token price in CNY: its unit and exchange rate are part of the rule, and the list
    # shows the USD rate it makes.
    response = admin_client.post(
        reverse("admin:projects_pricerule_add"),
        {
            "provider": "ark",
            "model": "doubao-seedance-2-0-260128",
            "resolution": "720p",
            "generate_audio": "any",
            "video_input": "without",
            "service_tier": "default",
            "unit": "mtokens",
            "price": "40",
            "currency": "CNY",
            "cny_per_usd": "8",
            "effective_from": "2026-03-01",
            "note": "new list price",
        },
    )
    assert response.status_code == 302
    added = PriceRule.objects.get(provider="ark", effective_from="2026-03-01")
    assert (added.unit, added.rate_micro) == ("mtokens", 5_000_000)
    listing = admin_client.get(
        reverse("admin:projects_pricerule_changelist"), {"provider": "ark"}
    ).content.decode()
    assert "$5.00 per million tokens" in listing and "$6.571429 per million tokens" in listing
    # A CNY price without its rate is refused with a clear error.
    response = admin_client.post(
        reverse("admin:projects_pricerule_add"),
        {
            "provider": "ark",
            "model": "doubao-seedance-2-0-260128",
            "resolution": "480p",
            "generate_audio": "any",
            "video_input": "without",
            "service_tier": "default",
            "unit": "mtokens",
            "price": "40",
            "currency": "CNY",
            "cny_per_usd": "",
            "effective_from": "2026-03-01",
        },
    )
    assert response.status_code == 200
    assert "A CNY price needs its exchange rate." in response.content.decode()
    response = admin_client.post(
        reverse("admin:projects_budget_add"),
        {"team": team.pk, "period": "month", "limit_usd": "100", "note": ""},
    )
    assert response.status_code == 302
    assert Budget.objects.get().limit_usd == 100
    listing = admin_client.get(reverse("admin:projects_budget_changelist")).content.decode()
    assert "team Studio" in listing and "$100.00" in listing


def test_a_budget_for_someone_outside_the_team_is_refused(admin_client, team):
    stranger = UserFactory(username="stranger")
    response = admin_client.post(
        reverse("admin:projects_budget_add"),
        {"team": team.pk, "user": stranger.pk, "period": "month", "limit_usd": "5"},
    )
    assert response.status_code == 200
    assert "This user is not a member of the team." in response.content.decode()


def test_tasks_list_money_and_filter_vendor_differences(admin_client, project):
    differs = GenerationTaskFactory(project=project, cost_note="The gateway reported 5 s.")
    reported = GenerationTaskFactory(project=project, vendor_cost="40")
    GenerationTaskFactory(project=project)
    url = reverse("admin:projects_generationtask_changelist")
    listing = admin_client.get(url)
    assert listing.status_code == 200
    assert "<th" in listing.content.decode() and "charged" in listing.content.decode()
    only = admin_client.get(url, {"vendor_cost": "differs"}).context["cl"].result_list
    assert [t.pk for t in only] == [differs.pk]
    reported_ids = {
        t.pk for t in admin_client.get(url, {"vendor_cost": "reported"}).context["cl"].result_list
    }
    assert reported_ids == {reported.pk}
    assert GenerationTask.objects.count() == 3


def test_a_price_rule_with_a_typo_or_a_negative_price_is_refused_in_words(admin_client):
    before = PriceRule.objects.count()
    fields = {
        "provider": "tokenhub",
        "model": "doubao-seedance-2.O",  # letter O
        "resolution": "480p",
        "generate_audio": "any",
        "unit": "second",
        "price": "-0.10",
        "currency": "USD",
        "video_input": "any",
        "service_tier": "default",
        "effective_from": "2026-02-01",
    }
    response = admin_client.post(reverse("admin:projects_pricerule_add"), fields)
    text = response.content.decode()
    assert response.status_code == 200 and PriceRule.objects.count() == before
    assert "tokenhub has no model &#x27;doubao-seedance-2.O&#x27;; it offers" in text
    assert "A price cannot be negative." in text and "price_rule_not_negative" not in text
    response = admin_client.post(
        reverse("admin:projects_pricerule_add"), {**fields, "provider": "tokenhb"}
    )
    assert "Select a valid choice. tokenhb is not one of the available choices." in (
        response.content.decode()
    )
    assert PriceRule.objects.count() == before
