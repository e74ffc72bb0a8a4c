"""The storyboard pages through the Django test client (issue 15): the project page lists
storyboards and makes one, the storyboard page shows shots, totals and the cut, its board
and cut partials answer htmx, reordering answers with the re-rendered board, and only a
reviewer decides on a cut."""

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Cut, Membership, Storyboard
from projects.services import storyboards
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(member):
    def make(user=member):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def board(project, member):
    board = storyboards.storyboard_create(
        project=project,
        user=member,
        title="Kite film",
        provider="tokenhub",
        model="doubao-seedance-2.0",
        resolution="480p",
    )
    for prompt in ("One", "Two", "Three"):
        storyboards.shot_add(storyboard=board, prompt=prompt, duration=4)
    return board


def test_the_project_page_lists_and_makes_storyboards(client_for, project, board):
    client = client_for()
    page = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert "Kite film" in page and 'id="new-storyboard"' in page
    response = client.post(
        reverse("projects:storyboard_new", args=[project.pk]),
        {
            "title": "Second",
            "provider": "tokenhub",
            "model": "doubao-seedance-2.0",
            "ratio": "16:9",
            "resolution": "720p",
        },
    )
    made = Storyboard.objects.get(title="Second")
    assert response["Location"] == reverse("projects:storyboard_detail", args=[made.pk])


def test_the_storyboard_page_and_its_partials(client_for, board):
    client = client_for()
    url = reverse("projects:storyboard_detail", args=[board.pk])
    page = client.get(url).content.decode()
    assert page.count('class="card shot"') == 3
    assert 'id="total-length">12.00 s' in page
    assert "js/sortable.min.js" in page and "<script>" not in page  # no inline script (CSP)
    part = client.get(url + "?part=board", headers={"HX-Request": "true"}).content.decode()
    assert part.strip().startswith('<section id="board"') and "<html" not in part
    part = client.get(url + "?part=cut", headers={"HX-Request": "true"}).content.decode()
    assert part.strip().startswith('<div id="cut"')


def test_reorder_answers_with_the_board(client_for, board):
    ids = [str(s.pk) for s in board.shots.order_by("position")]
    response = client_for().post(
        reverse("projects:shots_order", args=[board.pk]),
        {"order": ",".join([ids[2], ids[0], ids[1]])},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(">Three</textarea>") < body.index(">One</textarea>")
    bad = client_for().post(
        reverse("projects:shots_order", args=[board.pk]),
        {"order": ids[0]},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 400
    empty = client_for().post(
        reverse("projects:shots_order", args=[board.pk]), {"order": ""}, follow=True
    )
    assert "This field is required." in empty.content.decode()
    junk = client_for().post(
        reverse("projects:shot_take", args=[ids[0]]), {"task": "not-a-uuid"}, follow=True
    )
    assert "Enter a valid UUID." in junk.content.decode()
    assert [str(s.pk) for s in board.shots.order_by("position")] == [ids[2], ids[0], ids[1]]


def test_a_member_of_another_team_finds_nothing(board):
    stranger = UserFactory(username="eve")
    client = Client()
    client.force_login(stranger)
    assert client.get(reverse("projects:storyboard_detail", args=[board.pk])).status_code == 404


def test_only_reviewers_decide_on_a_cut(client_for, board, member, team):
    cut = Cut.objects.create(
        storyboard=board,
        created_by=member,
        status=Cut.Status.DONE,
        file="teams/x/cuts/y/cut.mp4",
        sha256="a" * 64,
        duration_s=12.0,
    )
    url = reverse("projects:cut_review", args=[cut.pk])
    assert client_for().post(url, {"decision": "approved"}).status_code == 403
    reviewer = UserFactory(username="rita")
    MembershipFactory(team=team, user=reviewer, role=Membership.Role.REVIEWER)
    page = client_for(reviewer).get(reverse("projects:storyboard_detail", args=[board.pk]))
    assert 'id="cut-review"' in page.content.decode()
    refused = client_for(reviewer).post(url, {"decision": "maybe"}, follow=True)
    assert "maybe is not one of the available choices" in refused.content.decode()
    cut.refresh_from_db()
    assert cut.review_state != "approved" and not cut.review_comment
    client_for(reviewer).post(url, {"decision": "rejected", "comment": "Too short"})
    cut.refresh_from_db()
    assert cut.review_state == "rejected" and cut.review_comment == "Too short"
    download = client_for().get(reverse("projects:cut_download", args=[cut.pk]))
    assert download.status_code == 302 and "/media/s/" in download["Location"]


def test_finished_cuts_wait_in_the_review_queue(client_for, board, member, team):
    Cut.objects.create(
        storyboard=board,
        created_by=member,
        status=Cut.Status.DONE,
        file="teams/x/cuts/y/cut.mp4",
        sha256="a" * 64,
        duration_s=12.0,
    )
    reviewer = UserFactory(username="rita")
    MembershipFactory(team=team, user=reviewer, role=Membership.Role.REVIEWER)
    page = client_for(reviewer).get(reverse("projects:review_queue")).content.decode()
    assert 'id="cuts-awaiting"' in page and "Kite film" in page


def test_the_storyboard_page_costs_a_fixed_number_of_queries(client_for, board):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for()
    url = reverse("projects:storyboard_detail", args=[board.pk])
    client.get(url)  # warm: the session, the price rules' cache
    with CaptureQueriesContext(connection) as three:
        client.get(url)
    for index in range(5):
        storyboards.shot_add(storyboard=board, prompt=f"More {index}", duration=4)
    with CaptureQueriesContext(connection) as eight:
        client.get(url)
    assert len(eight) == len(three)
