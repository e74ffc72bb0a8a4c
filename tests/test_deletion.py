"""Deleting a generation: who may, when, and what goes (files, pages) and stays (ledger)."""

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse

from projects.access import access_generation_task
from projects.exceptions import ApplicationError, InvalidStateTransition
from projects.models import AuditEvent, CreditEntry, GenerationReference, GenerationTask, Membership
from projects.selectors import generation_status_counts, generation_task_list
from projects.services.assets import asset_create, asset_delete
from projects.services.deletion import generation_task_delete
from tests import media_files as mf
from tests.conftest import create_task, drive, tokenhub_params
from tests.factories import GenerationTaskFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def made_by(user, project, **params) -> GenerationTask:
    task = drive(create_task(project=project, user=user, params=tokenhub_params(**params)))
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    return task


def test_the_maker_deletes_a_video_its_files_go_and_its_cost_stays(
    sim, project, member, django_capture_on_commit_callbacks, capsys
):
    task = made_by(member, project)
    files = [task.video.name, task.cover.name]
    assert all(default_storage.exists(name) for name in files)
    entries = list(CreditEntry.objects.filter(task=task).values_list("kind", "amount_micro"))
    task = access_generation_task(member, task.pk)
    with django_capture_on_commit_callbacks(execute=True):
        message = generation_task_delete(task=task, user=member)
    assert "deleted" in message
    assert not any(default_storage.exists(name) for name in files)
    with pytest.raises(Http404):
        access_generation_task(member, task.pk)
    assert list(generation_task_list(project=project)) == []
    assert generation_status_counts(project=project)["all"] == 0
    # The ledger is append-only: the hold, charge and release that name it are all still there.
    assert list(CreditEntry.objects.filter(task=task).values_list("kind", "amount_micro")) == (
        entries
    )
    call_command("ledger_check")
    assert "OK" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="generation.deleted", target_id=str(task.pk)).exists()
    # A second delete (another tab) changes nothing.
    assert "already deleted" in generation_task_delete(task=task, user=member)


def test_a_running_generation_is_not_deleted(project, member):
    task = GenerationTaskFactory(project=project, created_by=member, status="running")
    task = access_generation_task(member, task.pk)
    with pytest.raises(InvalidStateTransition, match="cancel it first"):
        generation_task_delete(task=task, user=member)
    assert GenerationTask.objects.get(pk=task.pk).deleted_at is None


def test_only_the_maker_or_a_team_admin_deletes(project, member):
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    colleague, admin = UserFactory(), UserFactory()
    MembershipFactory(team=project.team, user=colleague, role=Membership.Role.REVIEWER)
    MembershipFactory(team=project.team, user=admin, role=Membership.Role.ADMIN)
    with pytest.raises(ApplicationError, match="made it or a team admin"):
        generation_task_delete(task=access_generation_task(colleague, task.pk), user=colleague)
    assert GenerationTask.objects.get(pk=task.pk).deleted_at is None
    generation_task_delete(task=access_generation_task(admin, task.pk), user=admin)
    assert GenerationTask.objects.get(pk=task.pk).deleted_at is not None


def test_an_asset_kept_only_for_a_deleted_generation_is_purged(
    project, member, tmp_path, django_capture_on_commit_callbacks
):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    GenerationReference.objects.create(task=task, asset=asset, role="first_frame", position=0)
    with django_capture_on_commit_callbacks(execute=True):
        asset_delete(
            asset=asset, user=asset.uploaded_by
        )  # used: removed from the library, file kept
    assert default_storage.exists(asset.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        generation_task_delete(task=access_generation_task(member, task.pk), user=member)
    assert not default_storage.exists(asset.file.name)
    assert not type(asset).objects.filter(pk=asset.pk).exists()


def test_the_detail_page_offers_delete_and_the_gallery_forgets_it(client, project, member):
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    client.force_login(member)
    detail = client.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert 'id="delete-generation"' in detail and "data-confirm=" in detail
    response = client.post(reverse("projects:generation_delete", args=[task.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("projects:project_detail", args=[project.pk])
    body = response.content.decode()
    assert "Generation deleted" in body and f'data-task="{task.pk}"' not in body
    gone = client.get(reverse("projects:generation_detail", args=[task.pk]))
    assert gone.status_code == 404


def test_a_revision_stops_linking_to_its_deleted_original(client, project, member):
    original = GenerationTaskFactory(project=project, created_by=member, status="failed")
    revision = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="succeeded",
        video="videos/revision.mp4",
        video_sha256="0" * 64,
        revised_from=original,
    )
    client.force_login(member)
    page = reverse("projects:generation_detail", args=[revision.pk])
    # The revision's page is kept (projects/page_cache.py) before the original goes.
    assert "an earlier video" in client.get(page).content.decode()
    client.post(reverse("projects:generation_delete", args=[original.pk]))
    assert "an earlier video" not in client.get(page).content.decode()
    assert client.get(page).status_code == 200


def test_a_deleted_generations_link_says_it_was_deleted_to_its_team_only(client, project, member):
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    task = access_generation_task(member, task.pk)
    generation_task_delete(task=task, user=member)
    url = reverse("projects:generation_detail", args=[task.pk])
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 404
    assert "This generation was deleted by its maker or a team admin." in response.content.decode()
    outsider = MembershipFactory().user
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 404
    text = response.content.decode()
    assert "deleted by" not in text and "No such generation." in text
    assert 'rel="icon"' in text  # the site's own page, with its favicon
