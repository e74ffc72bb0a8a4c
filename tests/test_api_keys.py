"""API keys: what a key may reach and what it may not, its budget, the audit trail, the keys
pages, and that the secret never shows again after it is made."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.api.keys import api_key_create
from projects.models import ApiKey, AuditEvent, Budget, CreditEntry, GenerationTask, Membership
from projects.redaction import RedactSecretsFilter, redact
from tests.api_support import ARK_MODEL, make_studio
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
TASKS = "/api/v3/contents/generations/tasks"


def create_body(**overrides) -> dict:
    body = {
        "model": ARK_MODEL,
        "content": [{"type": "text", "text": "A red kite"}],
        "resolution": "720p",
        "duration": 5,
    }
    body.update(overrides)
    return body


def post(client: Client, studio, body: dict, **headers):
    return client.post(
        TASKS, json.dumps(body), content_type="application/json", **studio.auth, **headers
    )


def error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


# --- reach ------------------------------------------------------------------------------------
def test_a_key_gets_404_for_another_teams_tasks_and_never_lists_them():
    mine, theirs = make_studio(name="Alpha"), make_studio(name="Beta")
    other = GenerationTaskFactory(project=theirs.project, created_by=theirs.member)
    client = Client()
    for method in ("get", "delete"):
        response = getattr(client, method)(f"{TASKS}/{other.pk}", **mine.auth)
        assert response.status_code == 404 and error(response)["code"] == "ResourceNotFound"
    listed = client.get(TASKS, {"filter.task_ids": [str(other.pk)]}, **mine.auth).json()
    assert listed == {"total": 0, "items": []}
    assert client.get(f"{TASKS}/{other.pk}", **theirs.auth).status_code == 200


def test_a_key_reaches_only_its_own_projects_in_its_team():
    studio = make_studio()
    elsewhere = ProjectFactory(team=studio.team, name="Other", slug="other")
    task = GenerationTaskFactory(project=elsewhere, created_by=studio.member)
    response = Client().get(f"{TASKS}/{task.pk}", **studio.auth)
    assert response.status_code == 404
    # Nor may it create there.
    response = post(Client(), studio, create_body(), HTTP_X_SEEDANCE_PROJECT="other")
    assert response.status_code == 400 and error(response)["param"] == "X-Seedance-Project"


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "missing", "left the team"])
def test_a_dead_key_gets_401_without_its_secret_in_the_answer(how):
    studio = make_studio()
    key = studio.key.key
    headers = studio.auth
    if how == "revoked":
        ApiKey.objects.filter(pk=key.pk).update(revoked=True)
    elif how == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    elif how == "unknown":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key.prefix}.{'x' * 40}"}
    elif how == "missing":
        headers = {}
    else:
        Membership.objects.filter(user=studio.member).delete()
    created = Client().post(
        TASKS, json.dumps(create_body()), content_type="application/json", **headers
    )
    for response in (Client().get(TASKS, **headers), created):
        assert response.status_code == 401, (how, response.content)
        assert error(response)["code"] == "AuthenticationError"
        assert studio.key.secret not in response.content.decode()
    assert not GenerationTask.objects.exists()


def test_a_members_key_cannot_review_manage_the_team_or_open_django_admin():
    studio = make_studio()
    task = GenerationTaskFactory(
        project=studio.project,
        created_by=UserFactory(),
        status="succeeded",
        review_state="awaiting",
        video="x.mp4",
        video_sha256="a" * 64,
    )
    client = Client()
    review = reverse("projects:generation_review", args=[task.pk])
    members = reverse("projects:team_member_save", args=[studio.team.pk])
    for path, data in ((review, {"decision": "approve"}), (members, {"username": "x"})):
        response = client.post(path, data, **studio.auth)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.get("/admin/", **studio.auth)
    assert response.status_code == 302 and "/login/" in response["Location"]
    task.refresh_from_db()
    assert task.review_state == "awaiting"
    # The API has no such operations: Ark's 404, not a page.
    response = client.post(f"{TASKS}/{task.pk}/review", **studio.auth)
    assert response.status_code == 404 and error(response)["code"] == "NotFound"


def test_a_members_key_cannot_delete_another_members_task():
    studio = make_studio()
    colleague = UserFactory()
    MembershipFactory(team=studio.team, user=colleague, role="member")
    task = GenerationTaskFactory(
        project=studio.project, created_by=colleague, status="failed", error_message="x"
    )
    response = Client().delete(f"{TASKS}/{task.pk}", **studio.auth)
    assert response.status_code == 403 and error(response)["code"] == "AccessDenied"
    task.refresh_from_db()
    assert task.deleted_at is None


# --- money --------------------------------------------------------------------------------------
def test_a_key_over_its_budget_is_refused_naming_it_and_nothing_is_held():
    studio = make_studio(key_budget_usd=Decimal("0.50"))
    response = post(Client(), studio, create_body())  # TokenHub 720p 5 s: $1.00
    assert response.status_code == 403
    body = error(response)
    assert body["code"] == "QuotaExceeded"
    assert body["message"] == (
        "This would go over the API key “studio script”'s monthly budget ($0.50): $0.50 is "
        "left this month and this request costs up to $1.00."
    )
    assert not GenerationTask.objects.exists()
    assert not CreditEntry.objects.exclude(kind="grant").exists()


def test_a_keys_budget_counts_only_its_own_tasks():
    studio = make_studio(key_budget_usd=Decimal("1.00"))
    # The member's work in the form does not use the key's budget...
    GenerationTaskFactory(project=studio.project, created_by=studio.member)
    assert post(Client(), studio, create_body()).status_code == 200
    # ...its own hold does: $1.00 held of $1.00, the next is refused.
    response = post(Client(), studio, create_body())
    assert response.status_code == 403 and "$0.00 is left" in error(response)["message"]
    (task,) = GenerationTask.objects.filter(api_key=studio.key.key)
    assert CreditEntry.objects.get(task=task, kind="hold").amount_micro == -1_000_000


def test_team_budgets_still_apply_to_a_key():
    studio = make_studio()
    Budget.objects.create(team=studio.team, limit_usd=Decimal("0.10"))
    response = post(Client(), studio, create_body())
    assert (
        response.status_code == 403
        and "the Studio team's monthly budget" in (error(response)["message"])
    )


# --- audit -------------------------------------------------------------------------------------
def test_what_a_key_does_is_audited_under_its_member_and_its_name():
    studio = make_studio()
    created = post(Client(), studio, create_body()).json()
    Client().delete(f"{TASKS}/{created['id']}", **studio.auth)
    events = {
        e.action: e for e in AuditEvent.objects.filter(actor=studio.member).order_by("created_at")
    }
    assert set(events) >= {"apikey.created", "generation.submitted", "generation.cancelled"}
    for action in ("generation.submitted", "generation.cancelled"):
        assert events[action].details["api_key"] == "studio script"
        assert events[action].actor_name == studio.member.username
    assert events["apikey.created"].details["projects"] == [studio.project.name]
    for event in AuditEvent.objects.all():
        assert studio.key.secret not in json.dumps(event.details)


# --- pages ---------------------------------------------------------------------------------------
def test_the_keys_page_shows_a_new_key_once_and_stores_only_its_hash():
    studio = make_studio()
    client = Client()
    client.force_login(studio.member)
    response = client.post(
        reverse("projects:api_keys"),
        {"name": "n8n flow", "projects": [studio.project.pk], "lifetime_days": "30"},
    )
    assert response.status_code == 201
    key = ApiKey.objects.get(name="n8n flow")
    page = response.content.decode()
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith(f"{key.prefix}.") and len(secret) == 49
    assert key.is_valid(secret) and secret not in key.hashed_key
    assert response["Cache-Control"].startswith("max-age=0")
    again = client.get(reverse("projects:api_keys")).content.decode()
    assert "n8n flow" in again and secret not in again and key.prefix in again
    assert Client().get(TASKS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_a_key_needs_projects_of_one_team_that_its_member_sees():
    studio, other = make_studio(name="Alpha"), make_studio(name="Beta")
    client = Client()
    client.force_login(studio.member)
    response = client.post(
        reverse("projects:api_keys"),
        {"name": "x", "projects": [other.project.pk], "lifetime_days": "30"},
    )
    assert response.status_code == 400 and not ApiKey.objects.filter(name="x").exists()


def test_team_admins_see_and_revoke_every_key_others_get_404():
    studio = make_studio()
    admin, colleague = UserFactory(), UserFactory()
    MembershipFactory(team=studio.team, user=admin, role="admin")
    MembershipFactory(team=studio.team, user=colleague, role="member")
    revoke = reverse("projects:api_key_revoke", args=[studio.key.key.pk])
    client = Client()
    client.force_login(colleague)
    assert client.post(revoke).status_code == 404
    client.force_login(admin)
    team_page = client.get(reverse("projects:team_detail", args=[studio.team.pk]))
    assert "studio script" in team_page.content.decode()
    assert studio.key.secret not in team_page.content.decode()
    response = client.post(revoke, {"next": team_page.request["PATH_INFO"]})
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=studio.key.key.pk).revoked
    assert Client().get(TASKS, **studio.auth).status_code == 401
    event = AuditEvent.objects.get(action="apikey.revoked")
    assert (event.actor, event.details["member"]) == (admin, studio.member.username)


def test_a_key_lives_at_most_a_year():
    from projects.exceptions import ApplicationError

    studio = make_studio()
    with pytest.raises(ApplicationError):
        api_key_create(
            user=studio.member,
            name="forever",
            projects=[studio.project],
            expires_at=timezone.now() + timedelta(days=400),
        )


# --- secrets ----------------------------------------------------------------------------------
def test_keys_never_reach_a_log_line(caplog):
    studio = make_studio()
    secret = studio.key.secret
    assert secret not in redact(f"request with {secret} failed")
    assert secret not in redact(f"Authorization: Bearer {secret}")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key=%s", (secret,), None)
    RedactSecretsFilter().filter(record)
    assert secret not in record.getMessage()


def test_the_rate_per_key_answers_429_with_retry_after(settings):
    settings.SEEDANCE_API_RATE = "3/m"
    studio = make_studio()
    client = Client()
    answers = [client.get(TASKS, **studio.auth) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert error(answers[-1])["code"] == "RateLimitExceeded"
    assert answers[-1]["Retry-After"] == "60"
    # Another key has its own count.
    assert client.get(TASKS, **make_studio(name="Other").auth).status_code == 200


def test_a_key_in_several_projects_names_one_in_a_header():
    studio = make_studio()
    second = ProjectFactory(team=studio.team, name="Second", slug="second")
    studio.key.key.projects.add(second)
    response = post(Client(), studio, create_body())
    assert response.status_code == 400 and "X-Seedance-Project" in error(response)["message"]
    response = post(Client(), studio, create_body(), HTTP_X_SEEDANCE_PROJECT="second")
    assert response.status_code == 200
    assert GenerationTask.objects.get(pk=response.json()["id"]).project == second
