"""Each gateway's last success and failure, recorded where services call it, throttled; the
admin is told when a gateway refuses our key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import AuditEvent, GatewayStatus, GenerationTask
from projects.providers.base import ProviderRejectedError, ProviderTransientError
from projects.services import gateway_status
from projects.services.gateway_status import gateway_call, gateway_state
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive
from tests.factories import UserFactory
from tests.test_generation_flow import params

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    gateway_status.forget_throttle()
    yield
    gateway_status.forget_throttle()


def row(provider: str = "tokenhub") -> GatewayStatus:
    return GatewayStatus.objects.get(provider=provider)


def test_a_generation_records_the_gateways_success(sim, project, member):
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == GenerationTask.Status.SUCCEEDED
    status = row()
    assert status.last_success_at is not None and status.last_error_at is None
    assert gateway_state(status) == "ok"


def test_successes_are_written_at_most_once_per_interval():
    with gateway_call("ark"):
        pass
    first = row("ark").last_success_at
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            with gateway_call("ark"):
                pass
    assert queries.captured_queries == []  # a poll is not a write
    assert row("ark").last_success_at == first


def test_failures_are_recorded_by_kind_and_a_success_after_one_at_once():
    error = ProviderTransientError("AllToken had a server error: HTTP 503", http_status=503)
    with pytest.raises(ProviderTransientError), gateway_call("alltoken"):
        raise error
    status = row("alltoken")
    assert (status.last_error_kind, status.last_error_status) == ("unavailable", 503)
    assert gateway_state(status) == "failing"
    with gateway_call("alltoken"):
        pass  # written at once: the state changed
    assert gateway_state(row("alltoken")) == "ok"
    rate = ProviderTransientError("rate limited", http_status=429)
    with pytest.raises(ProviderTransientError), gateway_call("alltoken"):
        raise rate
    assert row("alltoken").last_error_kind == "rate_limited"
    # A refusal of one request on its merits leaves the gateway "ok".
    with pytest.raises(ProviderRejectedError), gateway_call("alltoken"):
        raise ProviderRejectedError("bad ratio", kind="validation", http_status=400)
    assert gateway_state(row("alltoken")) == "ok"


def test_a_recording_failure_never_breaks_the_call(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(GatewayStatus.objects, "update_or_create", broken)
    with gateway_call("ark"):
        result = 42
    assert result == 42


def test_a_refused_key_is_shown_to_admins_until_fixed(sim, project, member):
    sim.engine.inject(Fault(kind="http_403", op="create", dialect="tokenhub"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == "failed"
    status = row()
    assert status.key_refused_since is not None and status.last_error_status == 403
    assert "tokenhub-test-key" not in status.last_error_message

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="gateway-key-alerts"' in page
    assert "tokenhub refuses our API key" in page and "TOKENHUB_API_KEY" in page
    # Members never see it (the studio has no such banner) and the list says why.
    listing = client.get(reverse("admin:projects_gatewaystatus_changelist")).content.decode()
    assert "key_refused" in listing

    response = client.post(
        reverse("admin:projects_gatewaystatus_changelist"),
        {"action": "clear_refused_key", "_selected_action": ["tokenhub"]},
        follow=True,
    )
    assert "1 warning(s) cleared." in response.content.decode()
    assert row().key_refused_since is None
    assert 'id="gateway-key-alerts"' not in client.get(reverse("admin:index")).content.decode()
    assert AuditEvent.objects.filter(
        action="gateway.key_warning_cleared", actor=admin, details__provider="tokenhub"
    ).exists()


def test_a_gateway_refusing_our_key_is_not_offered_to_members(sim, project, member):
    sim.engine.inject(Fault(kind="http_403", op="create", dialect="tokenhub"))
    create_task(project=project, user=member, params=params())
    assert row().key_refused_since is not None
    client = Client()
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    page = client.get(url).content.decode()
    options = page[
        page.index('id="id_provider"') : page.index("</select>", page.index("id_provider"))
    ]
    assert 'value="tokenhub"' not in options and 'value="ark"' in options
    # Chosen anyway (an old tab), it is refused with the reason, before anything is held.
    response = client.post(
        url,
        {"provider": "tokenhub", "model": "doubao-seedance-2.0", "prompt": "A boat",
         "ratio": "16:9", "resolution": "480p", "duration": "5"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "tokenhub refuses the studio&#x27;s API key" in response.content.decode()
    assert GenerationTask.objects.count() == 1  # only the first, failed one
