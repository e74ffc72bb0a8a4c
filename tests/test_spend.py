"""Spend pages and their CSV: numbers equal the ledger's sums; who may see which page; the
generation form's live estimate; held/charged on the gallery and the detail page."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from projects.generation import lifecycle
from projects.models import Budget, CreditEntry, GenerationTask, Membership, PriceRule
from projects.models.ledger import usd
from projects.money import ledger
from projects.money.billing import generation_task_hold, generation_task_settle
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = CreditEntry.Kind


def spent_task(project, user, *, model="doubao-seedance-2.0", resolution="720p", seconds=5,
               ok=True, days_ago=0):  # fmt: skip
    """A task held, then charged (ok) or released, its entries dated `days_ago` days back."""
    task = GenerationTaskFactory(
        project=project, created_by=user, model=model, resolution=resolution, duration=seconds
    )
    with transaction.atomic():
        generation_task_hold(task=task)
    if ok:
        GenerationTask.objects.filter(pk=task.pk).update(status="downloading")
        lifecycle.finish(
            task_id=task.pk,
            status="succeeded",
            from_statuses=["downloading"],
            video="v.mp4",
            video_sha256="0" * 64,
            billed_output_s=seconds,
        )
    else:
        lifecycle.finish(task_id=task.pk, status="failed", error_message="no")
    if days_ago:
        CreditEntry.objects.filter(task=task).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return task


@pytest.fixture
def admin_user(project):
    user = UserFactory(username="boss")
    MembershipFactory(team=project.team, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def spending(project, member, admin_user):
    """Spend by two members on two models in this month (days kept inside the month)."""
    other = ProjectFactory(team=project.team, name="Other", slug="other")
    day = timezone.localdate().day
    spent_task(project, member)  # $1.00
    spent_task(project, member, model="doubao-seedance-2.0-fast", resolution="480p", seconds=4)
    spent_task(project, admin_user, seconds=8, days_ago=min(2, day - 1))  # $1.60
    spent_task(project, member, ok=False)  # released, nothing charged
    spent_task(other, admin_user, seconds=10)  # $2.00, the other project
    open_task = GenerationTaskFactory(project=project, created_by=member, duration=6)
    with transaction.atomic():
        generation_task_hold(task=open_task)  # $1.20 held, still running
    return other


def ledger_charged(**scope) -> int:
    month_start = timezone.localdate().replace(day=1)
    total = CreditEntry.objects.filter(
        kind=Kind.CHARGE, created_at__date__gte=month_start, **scope
    ).aggregate(s=Sum("amount_micro"))["s"]
    return -(total or 0)


def test_project_spend_numbers_equal_the_ledger_sums(client, member, project, spending):
    client.force_login(member)
    response = client.get(reverse("projects:project_spend", args=[project.pk]))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.charged_micro == ledger_charged(project=project) == 3_000_000
    assert report.charges == 3
    assert report.held_micro == 1_200_000
    assert sum(row.charged_micro for row in report.by_member) == report.charged_micro
    assert {row.label: row.charged_micro for row in report.by_member} == {
        "member": 1_400_000,
        "boss": 1_600_000,
    }
    assert {row.label: row.charged_micro for row in report.by_model} == {
        "tokenhub · doubao-seedance-2.0": 2_600_000,
        "tokenhub · doubao-seedance-2.0-fast": 400_000,
    }
    assert sum(amount for _, amount in report.by_day) == report.charged_micro
    body = response.content.decode()
    assert f'id="total-charged">{usd(report.charged_micro)}<' in body
    assert 'id="total-held">$1.20<' in body
    assert body.count("<rect ") == len(report.by_day)


def test_team_spend_covers_every_project_and_shows_grants(client, admin_user, project, spending):
    client.force_login(admin_user)
    response = client.get(reverse("projects:team_spend", args=[project.team_id]))
    report = response.context["report"]
    assert report.charged_micro == ledger_charged(account__team=project.team) == 5_000_000
    assert report.granted_micro == 1000 * 1_000_000
    entries = CreditEntry.objects.filter(account__team=project.team)
    assert response.context["entry_count"] == entries.count()
    balance = ledger.credit_balance(team=project.team)
    assert balance.balance_micro == entries.aggregate(s=Sum("amount_micro"))["s"]
    assert f'id="balance">{usd(balance.balance_micro)}<' in response.content.decode()


def test_the_csv_has_every_entry_and_the_same_totals(client, admin_user, project, spending):
    client.force_login(admin_user)
    response = client.get(reverse("projects:team_spend", args=[project.team_id]), {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="spend-studio-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    page = client.get(reverse("projects:team_spend", args=[project.team_id])).context["report"]
    assert len(rows) == CreditEntry.objects.filter(account__team=project.team).count()
    spend = sum(Decimal(row["spend_usd"]) for row in rows)
    assert spend * 1_000_000 == page.charged_micro
    assert sum(Decimal(r["amount_usd"]) for r in rows if r["kind"] == "charge") == -spend
    per_member: dict[str, Decimal] = {}
    for row in rows:
        per_member[row["member"]] = per_member.get(row["member"], 0) + Decimal(row["spend_usd"])
    assert {m: v * 1_000_000 for m, v in per_member.items() if v} == {
        r.label: r.charged_micro for r in page.by_member
    }
    charge = next(r for r in rows if r["kind"] == "charge" and r["spend_usd"] == "2.00")
    assert (
        charge["project"],
        charge["billed_seconds"],
        charge["unit"],
        charge["quantity"],
        charge["usd_per_unit"],
    ) == ("other", "10.000", "second", "10.000", "0.2")


def test_a_past_month_shows_only_its_entries(client, admin_user, project, spending):
    client.force_login(admin_user)
    response = client.get(
        reverse("projects:team_spend", args=[project.team_id]), {"month": "2020-02"}
    )
    report = response.context["report"]
    assert report.charged_micro == 0 and len(report.by_day) == 29


def test_who_may_see_which_spend_page(client, member, project, admin_user):
    team_url = reverse("projects:team_spend", args=[project.team_id])
    project_url = reverse("projects:project_spend", args=[project.pk])
    client.force_login(member)
    assert client.get(project_url).status_code == 200
    assert client.get(team_url).status_code == 403  # a member, not a team admin
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get(project_url).status_code == 404
    assert client.get(team_url).status_code == 404
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    assert client.get(team_url).status_code == 200
    client.force_login(admin_user)
    index = client.get(reverse("projects:spend_index")).content.decode()
    assert team_url in index and project_url in index


def test_the_estimate_follows_the_options_and_shows_what_is_left(client, member, project):
    Budget.objects.create(team=project.team, user=member, period="month", limit_usd=Decimal(2))
    client.force_login(member)
    page = client.get(reverse("projects:generation_new", args=[project.pk])).content.decode()
    assert 'id="estimate-cost">$1.00<' in page  # 5 s at 720p, the defaults
    assert "Team credit: $1,000.00 available" in page
    assert "Your monthly cap in Studio: $2.00 of $2.00 left this month" in page
    url = reverse("projects:generation_estimate", args=[project.pk])
    fragment = client.get(
        url,
        {"provider": "tokenhub", "model": "doubao-seedance-2.0", "resolution": "480p",
         "duration": "15", "ratio": "16:9"},
        headers={"HX-Request": "true"},
    ).content.decode()  # fmt: skip
    assert fragment.startswith('\n    <div id="estimate"') or '<div id="estimate"' in fragment[:80]
    assert 'id="estimate-cost">$1.80<' in fragment
    assert "This would go over your monthly cap in Studio ($2.00)" not in fragment
    fragment = client.get(
        url, {"provider": "tokenhub", "model": "doubao-seedance-2.0", "resolution": "720p",
              "duration": "15"},
    ).content.decode()  # fmt: skip
    assert 'id="estimate-cost">$3.00<' in fragment
    assert (
        "This would go over your monthly cap in Studio ($2.00): $2.00 is left this month and "
        "this request costs up to $3.00."
    ) in fragment


def test_the_estimate_says_when_a_model_has_no_price(client, member, project):
    PriceRule.objects.filter(model="doubao-seedance-2.0-fast").delete()
    client.force_login(member)
    fragment = client.get(
        reverse("projects:generation_estimate", args=[project.pk]),
        {"provider": "tokenhub", "model": "doubao-seedance-2.0-fast"},
    ).content.decode()
    assert "estimate-cost" not in fragment
    assert "doubao-seedance-2.0-fast on tokenhub at 720p without audio has no price yet" in fragment


def test_a_refused_submit_shows_the_budget_message_in_the_form(client, member, project):
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("0.50"))
    client.force_login(member)
    response = client.post(
        reverse("projects:generation_new", args=[project.pk]),
        {"provider": "tokenhub", "model": "doubao-seedance-2.0", "prompt": "A cat",
         "ratio": "16:9", "resolution": "720p", "duration": "5", "generate_audio": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    assert (
        "This would go over the Studio team&#x27;s monthly budget ($0.50): $0.50 is left this "
        "month and this request costs up to $1.00."
    ) in response.content.decode()
    assert GenerationTask.objects.count() == 0


def test_gallery_and_detail_show_held_and_charged(client, member, project):
    done = spent_task(project, member, seconds=4)
    running = GenerationTaskFactory(project=project, created_by=member, duration=6)
    with transaction.atomic():
        generation_task_hold(task=running)
    failed = spent_task(project, member, ok=False)
    client.force_login(member)
    gallery = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-held="800000" data-charged="800000">charged $0.80<' in gallery
    assert 'data-held="1200000" data-charged="0">$1.20 held<' in gallery
    assert 'data-held="1000000" data-charged="0">nothing charged<' in gallery
    detail = client.get(reverse("projects:generation_detail", args=[done.pk])).content.decode()
    assert "<strong>$0.80 charged</strong>" in detail and "4 s × $0.20/s" in detail
    detail = client.get(reverse("projects:generation_detail", args=[running.pk])).content.decode()
    assert "$1.20 held" in detail and "up to 6 s × $0.20/s" in detail
    detail = client.get(reverse("projects:generation_detail", args=[failed.pk])).content.decode()
    assert "nothing charged" in detail and "$1.00 held, released" in detail
    generation_task_settle(task_id=failed.pk, succeeded=False)  # idempotent


def test_csv_text_cells_cannot_run_as_formulas(client, admin_user, project):
    ledger.credit_grant(team=project.team, amount_micro=1, actor=admin_user, memo="=1+1")
    client.force_login(admin_user)
    response = client.get(reverse("projects:team_spend", args=[project.team_id]), {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["memo"] for row in rows if row["by"] == "boss"] == ["'=1+1"]
    assert [row["amount_usd"] for row in rows if row["by"] == "boss"] == ["0.000001"]
