"""Variations in the pages: the form's Takes choice and total, the compare page, the htmx
pick and who may pick, and the links to the compare page from a take's page and tile."""

from decimal import Decimal

import pytest
from django.urls import reverse

from projects.models import Budget, CreditEntry, GenerationTask, Membership, VariationBatch
from projects.services.variations import variation_batch_create
from tests.conftest import tokenhub_params
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
FORM = {
    "provider": "tokenhub",
    "model": "doubao-seedance-2.0",
    "prompt": "A red kite",
    "ratio": "16:9",
    "resolution": "720p",
    "duration": "5",
}


@pytest.fixture
def client_in(client, member, project):
    client.force_login(member)
    return client


def test_the_estimate_shows_the_total_of_all_takes(client_in, project):
    url = reverse("projects:generation_estimate", args=[project.pk])
    body = client_in.get(url, {**FORM, "variations": "4"}).content.decode()
    assert "4 takes × $1.00 = $4.00" in body
    single = client_in.get(url, FORM).content.decode()
    assert "estimate-total" not in single


def test_the_estimate_warns_when_the_batch_is_over_a_budget(client_in, project):
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("3"))
    url = reverse("projects:generation_estimate", args=[project.pk])
    body = client_in.get(url, {**FORM, "variations": "4"}).content.decode()
    assert "estimate-problem" in body and "$3.00 is left" in body
    assert (
        "estimate-problem" not in client_in.get(url, {**FORM, "variations": "3"}).content.decode()
    )


def test_submitting_four_takes_makes_a_batch_and_opens_compare(
    client_in, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client_in.post(
            reverse("projects:generation_new", args=[project.pk]),
            {**FORM, "variations": "4", "shown_cost_micro": "1000000"},
        )
    batch = VariationBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:variation_compare", args=[batch.pk])
    assert batch.takes.count() == 4
    assert CreditEntry.objects.filter(kind="hold", task__variation_batch=batch).count() == 4
    page = client_in.get(response["Location"]).content.decode()
    assert page.count('class="card take') == 4 and "Compare 4 takes" in page
    assert 'hx-trigger="every 3s"' in page  # redrawn while the takes render


def test_a_batch_over_budget_is_refused_in_the_form_with_nothing_written(client_in, project):
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("3"))
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]), {**FORM, "variations": "4"}
    )
    assert response.status_code == 400
    assert "$3.00 is left" in response.content.decode()
    assert not GenerationTask.objects.exists() and not VariationBatch.objects.exists()


def _finished_batch(project, member, count=2) -> VariationBatch:
    batch = variation_batch_create(
        project=project, user=member, params=tokenhub_params(), count=count
    )
    batch.takes.update(
        status="succeeded", review_state="awaiting", video="v/x.mp4", video_sha256="0" * 64
    )
    return batch


def test_pick_by_htmx_marks_the_take_and_links_appear(client_in, project, member):
    batch = _finished_batch(project, member)
    take = batch.takes.order_by("created_at").last()
    compare = reverse("projects:variation_compare", args=[batch.pk])
    page = client_in.get(compare).content.decode()
    assert page.count("Pick this take") == 2 and "compare.js" in page
    response = client_in.post(
        reverse("projects:variation_pick", args=[batch.pk, take.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Picked" in body and body.count("Pick this take") == 1
    assert VariationBatch.objects.get(pk=batch.pk).pick_id == take.pk
    detail = client_in.get(reverse("projects:generation_detail", args=[take.pk])).content.decode()
    assert f'href="{compare}"' in detail and 'id="picked-badge"' in detail
    gallery = client_in.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert gallery.count(f'href="{compare}"') == 2  # one per take's tile


def test_a_member_who_may_not_change_the_project_cannot_pick(client, project, member):
    batch = _finished_batch(project, member)
    take = batch.takes.first()
    other = UserFactory(username="other")
    MembershipFactory(team=project.team, user=other, role=Membership.Role.MEMBER)
    client.force_login(other)
    page = client.get(reverse("projects:variation_compare", args=[batch.pk])).content.decode()
    assert "Pick this take" not in page
    response = client.post(
        reverse("projects:variation_pick", args=[batch.pk, take.pk]), HTTP_HX_REQUEST="true"
    )
    assert "can pick a take" in response.content.decode()
    assert VariationBatch.objects.get(pk=batch.pk).pick_id is None
