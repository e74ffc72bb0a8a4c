"""200 creates through the team API, from 25 concurrent clients, with one API key whose budget
covers exactly ten: exactly ten are admitted and held, the 190 others get the key budget's
403, and the ledger checks out. PostgreSQL only (DATABASE_URL): SQLite serialises writers, so
it proves nothing about the lock (tests/test_ledger_concurrency.py covers SQLite's own case)."""

from __future__ import annotations

import io
import threading
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from projects.models import CreditEntry, GenerationTask
from projects.money.ledger import credit_balance
from tests.api_support import make_studio

POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not POSTGRES, reason="needs DATABASE_URL pointing at PostgreSQL"),
]
CREATES, CLIENTS, ADMITTED = 200, 25, 10
PRICE = 1_000_000  # TokenHub doubao-seedance-2.0, 720p, 5 s: $1.00


def test_200_concurrent_creates_on_a_key_budget_for_ten_admit_exactly_ten(
    live_server, settings, monkeypatch
):
    settings.SEEDANCE_API_RATE = settings.SEEDANCE_API_CREATE_RATE = "100000/m"
    # Admitted tasks are not sent anywhere: this is about the hold.
    monkeypatch.setattr("projects.services.task_rows.enqueue_on_commit", lambda *a: None)
    studio = make_studio(name="Rush", key_budget_usd=Decimal(ADMITTED))
    body = {
        "model": "doubao-seedance-2-0-260128",
        "content": [{"type": "text", "text": "A crowd of paper lanterns rising"}],
        "resolution": "720p",
        "duration": 5,
    }
    headers = {
        "Authorization": f"Bearer {studio.key.secret}",
        "X-Seedance-Provider": "tokenhub",
    }
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(index: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=120) as http:
            barrier.wait()
            for _ in range(index, CREATES, CLIENTS):
                response = http.post(
                    "/api/v3/contents/generations/tasks", json=body, headers=headers
                )
                error = response.json().get("error", {})
                with lock:
                    answers.append((response.status_code, error.get("message", "")))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert len(answers) == CREATES
    assert Counter(status for status, _ in answers) == {200: ADMITTED, 403: CREATES - ADMITTED}
    assert {message for status, message in answers if status == 403} == {
        "This would go over the API key “rush script”'s monthly budget ($10.00): $0.00 is "
        "left this month and this request costs up to $1.00."
    }
    assert GenerationTask.objects.filter(api_key=studio.key.key).count() == ADMITTED
    assert CreditEntry.objects.filter(kind="hold").count() == ADMITTED
    assert credit_balance(team=studio.team).held_micro == ADMITTED * PRICE
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert "ledger_check OK" in out.getvalue()
