"""Concurrent submits against a budget or a balance that covers exactly ten: exactly ten are
admitted, the rest get the refusal, and the ledger checks out afterwards.

Threads each use their own database connection (Django opens one per thread). PostgreSQL:
200 submits from 25 threads (the server allows 100 connections, shared with other test
databases); SQLite: 40 submits from 8 threads (one writer at a time, IMMEDIATE transactions).
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from projects.exceptions import BudgetExceeded, InsufficientCredits
from projects.models import Budget, CreditEntry, GenerationTask, Membership
from projects.money.ledger import credit_balance
from projects.services.generation import GenerationParams, generation_task_create
from tests.conftest import funded_team
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
SUBMITS, THREADS = (200, 25) if POSTGRES else (40, 8)
ADMITTED = 10
PRICE = 1_000_000  # doubao-seedance-2.0, 720p, 5 s: $1.00


def submit_all(project, users) -> tuple[list[str], list[BaseException]]:
    """SUBMITS submits from THREADS threads released together; returns each outcome
    ('ok' or the refusal's message) and any unexpected errors."""
    params = GenerationParams(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        prompt="A crowd of paper lanterns rising",
        ratio="16:9",
        resolution="720p",
        duration=5,
    )
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for n in range(index, SUBMITS, THREADS):
                try:
                    generation_task_create(
                        project=project, user=users[n % len(users)], params=params
                    )
                    outcome = "ok"
                except (BudgetExceeded, InsufficientCredits) as exc:
                    outcome = exc.message
                with lock:
                    outcomes.append(outcome)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes, errors


@pytest.fixture
def team_of_ten(monkeypatch):
    """A team with ten members and a project; submissions are not sent anywhere."""
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)

    def make(*, credit_usd: int):
        team = funded_team(usd=credit_usd, name="Rush", slug="rush")
        users = [UserFactory(username=f"rush{i}") for i in range(10)]
        for user in users:
            MembershipFactory(team=team, user=user, role=Membership.Role.MEMBER)
        return team, ProjectFactory(team=team, name="Launch", slug="launch"), users

    return make


def assert_exactly_ten_admitted(outcomes, errors, team, refusal: str) -> None:
    assert errors == []
    assert len(outcomes) == SUBMITS
    assert outcomes.count("ok") == ADMITTED
    refusals = [o for o in outcomes if o != "ok"]
    assert len(refusals) == SUBMITS - ADMITTED
    assert set(refusals) == {refusal}
    assert GenerationTask.objects.count() == ADMITTED
    assert CreditEntry.objects.filter(kind="hold").count() == ADMITTED
    assert credit_balance(team=team).held_micro == ADMITTED * PRICE
    out = io.StringIO()
    call_command("ledger_check", stdout=out)  # exits 1 on any problem
    assert out.getvalue().strip() == (
        f"ledger_check OK: 1 account(s), {ADMITTED} task(s) with a hold checked."
    )


def test_a_budget_for_exactly_ten_admits_exactly_ten(team_of_ten):
    team, project, users = team_of_ten(credit_usd=1000)
    Budget.objects.create(team=team, period="month", limit_usd=Decimal(ADMITTED))
    outcomes, errors = submit_all(project, users)
    assert_exactly_ten_admitted(
        outcomes,
        errors,
        team,
        "This would go over the Rush team's monthly budget ($10.00): $0.00 is left this month "
        "and this request costs up to $1.00.",
    )


def test_a_balance_for_exactly_ten_admits_exactly_ten(team_of_ten):
    team, project, users = team_of_ten(credit_usd=ADMITTED)
    outcomes, errors = submit_all(project, users)
    assert_exactly_ten_admitted(
        outcomes,
        errors,
        team,
        "Not enough team credit: Rush has $0.00 available and this request costs up to $1.00. "
        "Ask a team admin to add credit.",
    )
    assert credit_balance(team=team).balance_micro == 0
