"""/healthz: 200 when the database, the broker and storage answer, 503 naming the one that
does not; each gateway's last success and failure; nothing secret."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from projects.models import GatewayStatus
from projects.services import gateway_status, health
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task
from tests.test_generation_flow import params

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    gateway_status.forget_throttle()
    yield
    gateway_status.forget_throttle()


def get_health():
    response = Client().get("/healthz")  # anonymous: a load balancer has no session
    return response.status_code, response.json(), response.content.decode()


def test_all_answer_200_with_each_check_and_every_gateway(settings):
    status, body, text = get_health()
    assert status == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())
    # The suite runs on the ORM broker, and once more on Redis when REDIS_URL is set (CI).
    broker_kind = "redis" if settings.REDIS_URL else "orm"
    assert body["checks"]["broker"]["kind"] == broker_kind
    assert body["checks"]["broker"]["queued"] >= 0
    assert body["checks"]["storage"]["kind"] == "local"
    assert set(body["gateways"]) == set(settings.SEEDANCE_PROVIDERS)
    assert body["gateways"]["tokenhub"] == {
        "configured": True,
        "state": "unknown",
        "last_success_at": None,
        "last_error_at": None,
        "last_error_kind": "",
        "last_error_status": None,
        "render": {"p50_s": None, "p90_s": None, "samples": 0},
    }
    assert body["gateways"]["ark"]["configured"] is False
    for secret in (settings.SECRET_KEY, settings.SEEDANCE_PROVIDERS["tokenhub"]["api_key"]):
        assert secret not in text


class BrokenConnection:
    vendor = "sqlite"

    def cursor(self):
        raise OperationalError("could not connect to server at db.internal:5432 password=x")


def test_a_broken_database_is_503_and_named_without_its_message(monkeypatch):
    monkeypatch.setattr(health, "connection", BrokenConnection())
    status, body, text = get_health()
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == {
        "ok": False,
        "ms": body["checks"]["database"]["ms"],
        "error": "OperationalError",
    }
    assert body["checks"]["broker"]["ok"] and body["checks"]["storage"]["ok"]
    assert "db.internal" not in text and "password" not in text


def test_a_broken_broker_is_503(monkeypatch):
    class DeadRedis:
        def ping(self):
            raise ConnectionError("Error 111 connecting to 10.0.0.5:6379. Connection refused.")

    monkeypatch.setattr("django_q.brokers.get_broker", lambda *args, **kwargs: DeadRedis())
    status, body, text = get_health()
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["ok"] and "10.0.0.5" not in text


def test_broken_storage_is_503(settings, tmp_path):
    blocked = tmp_path / "media-is-a-file"
    blocked.write_text("not a directory")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocked},
        },
    }
    status, body, _ = get_health()
    assert status == 503 and body["checks"]["storage"]["ok"] is False
    assert body["checks"]["storage"]["error"] == "FileExistsError"


def test_unreachable_s3_is_503(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "projects.storage.MediaS3Storage",
            "OPTIONS": {
                "bucket_name": "nowhere",
                "endpoint_url": "http://127.0.0.1:9",  # nothing listens on the discard port
                "access_key": "k",
                "secret_key": "s" * 20,
                "region_name": "us-east-1",
            },
        },
    }
    status, body, text = get_health()
    assert status == 503 and body["checks"]["storage"]["ok"] is False
    assert "s" * 20 not in text


def test_a_refused_key_shows_as_key_refused_but_does_not_fail_the_check(sim, project, member):
    sim.engine.inject(Fault(kind="http_401", op="create", dialect="tokenhub"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    assert task.status == "failed" and "refused the API key" in task.error_message
    status, body, _ = get_health()
    assert status == 200
    tokenhub = body["gateways"]["tokenhub"]
    assert tokenhub["state"] == "key_refused"
    assert (tokenhub["last_error_kind"], tokenhub["last_error_status"]) == ("auth", 401)
    assert tokenhub["last_error_at"] and tokenhub["last_success_at"] is None
    # The key works again: the next call's success clears it.
    create_task(project=project, user=member, params=params())
    _, body, _ = get_health()
    assert body["gateways"]["tokenhub"]["state"] == "ok"
    assert GatewayStatus.objects.get(provider="tokenhub").key_refused_since is None


def test_health_is_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/login/").status_code == 301  # everything else is
