"""No gateway key or secret in any page, log line, error report or worker result.

Recognisable values are set for every secret the app knows (each gateway's API key, the
SECRET_KEY, the S3 secret, the per-task callback tokens), then the app is used the way people
and the worker use it: generations that succeed and fail through the simulator over HTTP with
every job going through django-q2 (sync mode, so its task results are stored), all logging at
DEBUG, every page a member, reviewer, admin and superuser sees, and a crash reported both as
Django's debug page and as the e-mail to ADMINS. Then everything is searched for the values.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.urls import path, reverse
from django_q.conf import Conf
from django_q.models import Failure, OrmQ, Success

from projects.models import GatewayStatus, GenerationTask, Membership
from projects.redaction import RedactSecretsFilter, redact
from projects.upstream_sim.faults import Fault
from tests.conftest import drive
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

CANARY_SECRET_KEY = "CANARY-django-secret-key-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
CANARY_S3 = "CANARY-s3-secret-access-key-77c1"


def canary_key(provider: str) -> str:
    return f"CANARY-{provider}-api-key-3f9e1d"


# A view that fails with secrets in its locals and its message: what a bug in an adapter
# could look like. Public like the real callback view.
@login_not_required
def _boom(request, task_id: str, token: str):
    from django.conf import settings

    conf = settings.SEEDANCE_PROVIDERS["tokenhub"]
    api_key = conf["api_key"]
    raise RuntimeError(f"gateway refused key {api_key} for callback {token}")


urlpatterns = [path("callbacks/<str:task_id>/<str:token>/", _boom)]


@pytest.fixture
def canaries(sim, settings, monkeypatch):
    settings.SEEDANCE_PROVIDERS = {
        name: {**conf, "api_key": canary_key(name)}
        for name, conf in settings.SEEDANCE_PROVIDERS.items()
    }
    settings.SECRET_KEY = CANARY_SECRET_KEY
    monkeypatch.setenv("SEEDANCE_S3_SECRET_ACCESS_KEY", CANARY_S3)
    monkeypatch.setenv("TOKENHUB_API_KEY", canary_key("tokenhub"))
    # Every job through django-q2, run in this process, its results stored as Success/Failure.
    settings.SEEDANCE_JOBS_INLINE = False
    monkeypatch.setattr(Conf, "SYNC", True)
    # Keep successes too (production keeps failures only) so their stored results are searched.
    monkeypatch.setattr(Conf, "SAVE_LIMIT", 0)
    return [canary_key(name) for name in settings.SEEDANCE_PROVIDERS] + [
        CANARY_SECRET_KEY,
        CANARY_S3,
    ]


@pytest.fixture
def debug_logs():
    """Everything logged, at DEBUG, as our handlers write it (redacting filter included),
    plus the raw messages as libraries emitted them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecretsFilter())
    raw: list[str] = []

    class Raw(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raw.append(record.getMessage())

    root = logging.getLogger()
    names = ["", "django", "django.request", "django.template", "httpx", "httpcore", "projects"]
    names.append("django_q")
    levels = {name: logging.getLogger(name).level for name in names}
    raw_handler = Raw()
    root.addHandler(raw_handler)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield stream, raw
    root.removeHandler(handler)
    root.removeHandler(raw_handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} appears in {where}"


def generate(client: Client, project, prompt: str) -> GenerationTask:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _post_generation(client, project, prompt)
    assert response.status_code == 302, response.content.decode()[:500]
    return drive(GenerationTask.objects.get(prompt=prompt))


def _post_generation(client: Client, project, prompt: str):
    return client.post(
        reverse("projects:generation_new", args=[project.pk]),
        {
            "provider": "tokenhub",
            "model": "doubao-seedance-2.0-fast",
            "prompt": prompt,
            "ratio": "16:9",
            "resolution": "480p",
            "duration": "4",
        },
    )


def test_no_secret_in_pages_logs_reports_or_worker_results(canaries, debug_logs, sim):
    stream, raw = debug_logs
    team = ProjectFactory().team
    project = ProjectFactory(team=team, name="Canary project", slug="canary")
    member, reviewer, admin = (UserFactory(username=n) for n in ("mia", "rey", "ada"))
    for user, role in ((member, "member"), (reviewer, "reviewer"), (admin, "admin")):
        MembershipFactory(team=team, user=user, role=role)
    other = GenerationTaskFactory(project=ProjectFactory(), created_by=UserFactory())
    root = UserFactory(username="root", is_staff=True, is_superuser=True)

    member_client = Client()
    member_client.force_login(member)
    ok = generate(member_client, project, "A canary in a coal mine, lit by lanterns")
    assert ok.status == "succeeded", ok.error_message
    sim.engine.inject(Fault(kind="moderation_output"))
    moderated = generate(member_client, project, "A canary refused by moderation")
    assert moderated.status == "failed"
    sim.engine.inject(Fault(kind="http_401", op="create"))
    refused = generate(member_client, project, "A canary whose key is refused")
    assert refused.status == "failed" and "API key" in refused.error_message
    # The gateway is not offered until an admin has the key fixed (Django admin's action).
    GatewayStatus.objects.filter(provider="tokenhub").update(key_refused_since=None)
    sim.engine.inject(Fault(kind="http_500", op="create"))
    retried = generate(member_client, project, "A canary after a server error")
    assert retried.status == "succeeded"
    tasks = list(GenerationTask.objects.filter(project=project))
    secrets = canaries + [task.callback_token for task in [*tasks, other]]
    assert Success.objects.exists()  # the jobs really went through django-q2

    # Every page, as everyone who sees them.
    reviewer_client, admin_client, root_client = Client(), Client(), Client()
    reviewer_client.force_login(reviewer)
    admin_client.force_login(admin)
    root_client.force_login(root)
    pages = [
        (member_client, reverse("projects:project_list")),
        (member_client, reverse("projects:project_detail", args=[project.pk])),
        (member_client, reverse("projects:generation_new", args=[project.pk])),
        (reviewer_client, reverse("projects:review_queue")),
        (admin_client, reverse("projects:team_detail", args=[team.pk])),
        (admin_client, reverse("projects:team_audit", args=[team.pk])),
        (admin_client, reverse("projects:project_access", args=[project.pk])),
        (root_client, reverse("admin:projects_generationtask_changelist")),
        (root_client, reverse("admin:projects_auditevent_changelist")),
        (root_client, reverse("admin:django_q_success_changelist")),
        (root_client, reverse("admin:django_q_failure_changelist")),
    ]
    for task in tasks:
        pages += [
            (member_client, reverse("projects:generation_detail", args=[task.pk])),
            (root_client, reverse("admin:projects_generationtask_change", args=[task.pk])),
        ]
    pages += [
        (root_client, reverse("admin:django_q_success_change", args=[s.pk]))
        for s in Success.objects.all()
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_clean(response.content.decode(), secrets, url)
    # The member's pages never show another task's secret either.
    assert other.callback_token not in "".join(
        member_client.get(url).content.decode() for _, url in pages[:3]
    )

    # The worker's stored results and queue.
    for model in (Success, Failure, OrmQ):
        for row in model.objects.all():
            assert_clean(repr(vars(row)), secrets, f"django-q {model.__name__}")

    # A crash with secrets in its locals and message, on a callback URL: the debug page, the
    # log line and the e-mail to ADMINS.
    boom_url = f"/callbacks/{other.pk}/{other.callback_token}/"
    crash_client = Client(raise_request_exception=False)
    environ = {"TOKENHUB_API_KEY": canary_key("tokenhub"), "DJANGO_SECRET_KEY": CANARY_SECRET_KEY}
    with override_settings(ROOT_URLCONF=__name__, DEBUG=True):
        page = crash_client.get(boom_url, **environ)
    assert page.status_code == 500 and "RuntimeError" in page.content.decode()
    assert_clean(page.content.decode(), secrets, "the debug 500 page")
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False, ADMINS=["ops@x.test"]):
        crash_client.get(boom_url, **environ)
    assert len(mail.outbox) == 1
    report = mail.outbox[0]
    assert "RuntimeError" in report.body
    assert_clean(report.subject + report.body, secrets, "the e-mail")
    for alternative, _ in getattr(report, "alternatives", []):
        assert_clean(alternative, secrets, "the e-mail's HTML")

    # Every log line, as written, and even as emitted before redaction (except the crash,
    # whose message carries the key on purpose).
    logged = stream.getvalue()
    assert "HTTP Request" in logged and "Internal Server Error" in logged  # DEBUG capture works
    assert_clean(logged, secrets, "the log")
    assert_clean(
        "\n".join(line for line in raw if "Internal Server Error" not in line), secrets, "raw logs"
    )


def test_redact_replaces_values_tokens_and_url_passwords(settings, monkeypatch):
    settings.SECRET_KEY = CANARY_SECRET_KEY
    monkeypatch.setenv("ACEDATA_API_KEY", "ad-CANARY-999999")
    text = (
        f"key={CANARY_SECRET_KEY} ad-CANARY-999999 Authorization: Bearer abc.def-123 "
        "POST /callbacks/1234/s3cr3t-token/ postgres://app:hunter22@db/x"
    )
    cleaned = redact(text)
    for secret in (
        CANARY_SECRET_KEY,
        "ad-CANARY-999999",
        "abc.def-123",
        "s3cr3t-token",
        "hunter22",
    ):
        assert secret not in cleaned
    assert "/callbacks/1234/[redacted]/" in cleaned and "Bearer [redacted]" in cleaned


def test_team_roles_are_unchanged_by_the_canary_fixture_helpers():
    # Guard: the module's users have exactly the roles the test above relies on.
    assert set(Membership.Role.values) == {"member", "reviewer", "admin"}
