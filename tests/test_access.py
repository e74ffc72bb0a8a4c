"""projects/access.py, branch by branch: teams, roles, restricted projects, listings."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from projects.access import (
    access_generation_task,
    access_project,
    access_project_by_slug,
    access_review_queue,
    access_review_task,
    access_team,
    min_role,
    projects_visible_to,
    roles_at_least,
    tasks_visible_to,
    team_role,
)
from projects.models import ProjectMember
from tests.factories import (
    GenerationTaskFactory,
    MembershipFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(team):
    """One user per role in `team`, a superuser, and an admin of another team."""
    users = {}
    for role in ("member", "reviewer", "admin"):
        users[role] = UserFactory(username=f"u-{role}")
        MembershipFactory(team=team, user=users[role], role=role)
    users["root"] = UserFactory(username="root", is_superuser=True)
    users["outsider"] = UserFactory(username="outsider")
    MembershipFactory(user=users["outsider"], role="admin")
    return users


@pytest.fixture
def restricted(team, people):
    project = ProjectFactory(team=team, name="Secret launch", slug="secret", restricted=True)
    listed = UserFactory(username="listed")
    MembershipFactory(team=team, user=listed, role="member")
    ProjectMember.objects.create(project=project, user=listed)
    people["listed"] = listed
    return project


def test_roles_are_cumulative():
    assert roles_at_least("member") == ["member", "reviewer", "admin"]
    assert roles_at_least("reviewer") == ["reviewer", "admin"]
    assert roles_at_least("admin") == ["admin"]


def test_team_role(team, people):
    assert team_role(AnonymousUser(), team) is None
    assert team_role(people["root"], team) == "admin"
    assert team_role(people["reviewer"], team) == "reviewer"
    assert team_role(people["outsider"], team) is None


def test_min_role_marks_the_view_and_refuses_unknown_roles():
    @min_role("reviewer")
    def view(request):
        return None

    assert view.min_role == "reviewer"
    with pytest.raises(ValueError):
        min_role("owner")


def test_access_team(team, people):
    assert access_team(people["member"], team.pk) == team
    assert access_team(people["admin"], str(team.pk), min_role="admin") == team
    with pytest.raises(PermissionDenied):
        access_team(people["reviewer"], team.pk, min_role="admin")
    for bad in (people["outsider"], AnonymousUser()):
        with pytest.raises(Http404):
            access_team(bad, team.pk)
    for missing in (uuid.uuid4(), "not-a-uuid", None):
        with pytest.raises(Http404):
            access_team(people["root"], missing)


def test_access_project_roles(project, people):
    assert access_project(people["member"], project.pk) == project
    assert access_project(people["reviewer"], project.pk, min_role="reviewer") == project
    with pytest.raises(PermissionDenied) as refused:
        access_project(people["member"], project.pk, min_role="reviewer")
    assert project.team.name not in str(refused.value)  # refusals name nothing
    with pytest.raises(Http404):
        access_project(people["outsider"], project.pk)
    with pytest.raises(Http404):
        access_project(people["member"], uuid.uuid4())
    assert access_project(people["root"], project.pk, min_role="admin") == project


def test_restricted_project_is_seen_by_listed_members_and_admins_only(restricted, people):
    assert access_project(people["listed"], restricted.pk) == restricted
    assert access_project(people["admin"], restricted.pk) == restricted
    assert access_project(people["root"], restricted.pk) == restricted
    # Unlisted: it does not exist for them, whatever their role below admin.
    for name in ("member", "reviewer", "outsider"):
        with pytest.raises(Http404):
            access_project(people[name], restricted.pk)
    # Listed but below the role: 403, as anywhere.
    with pytest.raises(PermissionDenied):
        access_project(people["listed"], restricted.pk, min_role="reviewer")


def test_access_generation_task(project, restricted, people):
    task = GenerationTaskFactory(project=project)
    hidden = GenerationTaskFactory(project=restricted)
    assert access_generation_task(people["member"], task.pk) == task
    with pytest.raises(PermissionDenied):
        access_generation_task(people["member"], task.pk, min_role="admin")
    with pytest.raises(Http404):
        access_generation_task(people["outsider"], task.pk)
    with pytest.raises(Http404):
        access_generation_task(people["member"], uuid.uuid4())
    with pytest.raises(Http404):
        access_generation_task(people["reviewer"], hidden.pk)
    assert access_generation_task(people["listed"], hidden.pk) == hidden


def test_access_review_task_needs_the_reviewer_role(project, people):
    task = GenerationTaskFactory(project=project)
    assert access_review_task(people["reviewer"], task.pk) == task
    assert access_review_task(people["admin"], task.pk) == task
    with pytest.raises(PermissionDenied):
        access_review_task(people["member"], task.pk)
    with pytest.raises(Http404):
        access_review_task(people["outsider"], task.pk)


def test_access_review_queue(project, restricted, people):
    def reviewed(user) -> set:
        return {pk for pk, _ in access_review_queue(user)}

    assert reviewed(people["reviewer"]) == {project.pk}
    assert reviewed(people["admin"]) == {project.pk, restricted.pk}
    assert access_review_queue(people["reviewer"]) == [(project.pk, False)]
    with pytest.raises(PermissionDenied):
        access_review_queue(people["member"])
    with pytest.raises(PermissionDenied):
        access_review_queue(AnonymousUser())
    # An admin elsewhere reviews there, not here.
    assert project.pk not in reviewed(people["outsider"])


def test_listings_agree_with_access_checks(project, restricted, people):
    other = ProjectFactory()
    assert set(projects_visible_to(people["member"])) == {project}
    assert set(projects_visible_to(people["listed"])) == {project, restricted}
    assert set(projects_visible_to(people["admin"])) == {project, restricted}
    assert set(projects_visible_to(people["member"], min_role="reviewer")) == set()
    assert set(projects_visible_to(people["root"])) >= {project, restricted, other}
    assert list(projects_visible_to(AnonymousUser())) == []
    task = GenerationTaskFactory(project=restricted)
    assert task not in set(tasks_visible_to(people["member"]))
    assert task in set(tasks_visible_to(people["listed"]))


def test_access_project_by_slug(project, restricted, people):
    assert access_project_by_slug(people["member"], "demo") == project
    with pytest.raises(Http404):
        access_project_by_slug(people["member"], "secret")  # restricted, not listed
    assert access_project_by_slug(people["listed"], "secret") == restricted
    with pytest.raises(Http404):
        access_project_by_slug(AnonymousUser(), "demo")
    with pytest.raises(PermissionDenied):
        access_project_by_slug(people["member"], "demo", min_role="admin")
    # Two of my teams with the same slug: ambiguous.
    second = TeamFactory()
    MembershipFactory(team=second, user=people["member"])
    ProjectFactory(team=second, slug="demo")
    with pytest.raises(PermissionDenied, match="Several of your teams"):
        access_project_by_slug(people["member"], "demo")
