"""Who may cancel or delete a generation and rename or delete an asset (access.may_change): its
maker or a team admin; every member once the team's admins allow it. Driven through the pages,
as the maker, another member, a reviewer and an admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Asset, AuditEvent, GenerationTask, Membership
from projects.services.assets import asset_create
from tests import media_files as mf
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role
Status = GenerationTask.Status


@pytest.fixture
def team_people():
    """{role name: logged-in Client} for a maker, another member, a reviewer and an admin of
    one team, plus the team's project."""
    maker = MembershipFactory(role=Role.MEMBER)
    team = maker.team
    people = {"maker": maker}
    for name, role in (("other", Role.MEMBER), ("reviewer", Role.REVIEWER), ("admin", Role.ADMIN)):
        people[name] = MembershipFactory(team=team, role=role)
    clients = {}
    for name, membership in people.items():
        clients[name] = Client()
        clients[name].force_login(membership.user)
    return clients, people, ProjectFactory(team=team)


ALLOWED = {"maker": True, "other": False, "reviewer": False, "admin": True}


def queued_task(project, maker) -> GenerationTask:
    # Not yet sent: cancelling it needs no gateway.
    return GenerationTaskFactory(project=project, created_by=maker.user, status=Status.PENDING)


@pytest.mark.parametrize("who", ALLOWED)
def test_cancel_follows_maker_or_admin(team_people, who):
    clients, people, project = team_people
    task = queued_task(project, people["maker"])
    page = clients[who].get(reverse("projects:generation_detail", args=[task.pk])).content
    assert (b"generation_cancel" in page or b"/cancel/" in page) == ALLOWED[who]
    response = clients[who].post(reverse("projects:generation_cancel", args=[task.pk]), follow=True)
    task.refresh_from_db()
    if ALLOWED[who]:
        assert task.status == Status.CANCELLED
    else:
        assert task.status == Status.PENDING
        assert "Only the member who made it or a team admin can cancel it." in (
            response.content.decode()
        )
        assert not AuditEvent.objects.filter(action__startswith="generation.cancel").exists()


@pytest.mark.parametrize("who", ALLOWED)
def test_delete_follows_maker_or_admin(team_people, who):
    clients, people, project = team_people
    task = GenerationTaskFactory(
        project=project, created_by=people["maker"].user, status=Status.FAILED
    )
    response = clients[who].post(reverse("projects:generation_delete", args=[task.pk]), follow=True)
    task.refresh_from_db()
    assert (task.deleted_at is not None) == ALLOWED[who]
    if not ALLOWED[who]:
        assert "Only the member who made it or a team admin can delete it." in (
            response.content.decode()
        )


@pytest.fixture
def maker_asset(team_people, tmp_path):
    _, people, project = team_people
    return asset_create(
        project=project, user=people["maker"].user, upload=mf.image(tmp_path, "still.png")
    )


@pytest.mark.parametrize("who", ALLOWED)
def test_asset_rename_and_delete_follow_maker_or_admin(team_people, maker_asset, who):
    clients, _, _ = team_people
    detail = reverse("projects:asset_detail", args=[maker_asset.pk])
    page = clients[who].get(detail).content.decode()
    assert ('id="asset-form"' in page) == ALLOWED[who]
    assert ('id="asset-owner-only"' in page) == (not ALLOWED[who])
    renamed = clients[who].post(detail, {"name": "Renamed", "alltoken_asset_id": ""})
    maker_asset.refresh_from_db()
    assert (maker_asset.name == "Renamed") == ALLOWED[who]
    if not ALLOWED[who]:
        assert renamed.status_code == 400
        assert "Only the member who made it or a team admin can change it." in (
            renamed.content.decode()
        )
    clients[who].post(reverse("projects:asset_delete", args=[maker_asset.pk]))
    assert Asset.objects.filter(pk=maker_asset.pk).exists() != ALLOWED[who]


def test_a_team_that_allows_it_lets_every_member_change_anything(team_people, maker_asset):
    clients, people, project = team_people
    response = clients["admin"].post(
        reverse("projects:team_settings", args=[project.team_id]), {"members_manage_all": "on"}
    )
    assert response.status_code == 302
    project.team.refresh_from_db()
    assert project.team.members_manage_all and not project.team.allow_self_review
    event = AuditEvent.objects.get(action="team.settings_changed")
    assert event.details == {"members_manage_all": [False, True]}
    task = queued_task(project, people["maker"])
    clients["other"].post(reverse("projects:generation_cancel", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == Status.CANCELLED
    clients["other"].post(reverse("projects:asset_delete", args=[maker_asset.pk]))
    assert not Asset.objects.filter(pk=maker_asset.pk).exists()


def test_a_member_may_not_turn_the_rule_on(team_people):
    clients, _, project = team_people
    response = clients["other"].post(
        reverse("projects:team_settings", args=[project.team_id]), {"members_manage_all": "on"}
    )
    assert response.status_code in (403, 404)
    project.team.refresh_from_db()
    assert not project.team.members_manage_all
