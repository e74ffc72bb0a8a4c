"""Pages through Django's test client: happy paths, field errors, and refusals."""

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from projects.models import GenerationTask, Membership, Project
from projects.storage import _SALT, signed_url
from projects.templatetags.studio import progress_percent
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in(client, member, project):
    client.force_login(member)
    return client


def test_pages_need_a_login(client, project):
    for url in (
        reverse("projects:project_list"),
        reverse("projects:project_detail", args=[project.pk]),
        reverse("projects:generation_new", args=[project.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_project_list_shows_only_my_teams_projects(client_in, project):
    ProjectFactory(name="Someone else's secret")
    body = client_in.get(reverse("projects:project_list")).content.decode()
    assert "Demo" in body
    assert "Someone else" not in body


def test_create_project_and_refuse_a_duplicate_address(client_in, team):
    response = client_in.post(
        reverse("projects:project_new"), {"team": team.pk, "name": "Spring ad"}
    )
    project = Project.objects.get(slug="spring-ad")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:project_detail", args=[project.pk])
    again = client_in.post(reverse("projects:project_new"), {"team": team.pk, "name": "Spring ad"})
    assert again.status_code == 200
    assert "already has a project with the address" in again.content.decode()
    assert Project.objects.filter(slug="spring-ad").count() == 1


def test_cannot_create_a_project_in_a_team_i_am_not_in(client_in, member):
    other = ProjectFactory().team
    response = client_in.post(reverse("projects:project_new"), {"team": other.pk, "name": "X"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Project.objects.filter(name="X").exists()


def test_generation_form_shows_the_gateway_limits(client_in, project):
    body = client_in.get(reverse("projects:generation_new", args=[project.pk])).content.decode()
    assert "doubao-seedance-2.0: 4 to 15 seconds." in body
    assert 'value="doubao-seedance-2.0-fast"' in body
    assert "TokenHub does not take a seed" in body


def test_generation_form_field_errors_name_the_limit(client_in, project):
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        {
            "provider": "tokenhub",
            "model": "doubao-seedance-2.0",
            "prompt": "A cat",
            "ratio": "16:9",
            "resolution": "1080p",
            "duration": "20",
            "seed": "5",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "doubao-seedance-2.0 accepts 4 to 15 seconds (TokenHub guide)." in body
    assert "doubao-seedance-2.0 accepts 480p or 720p (TokenHub guide)." in body
    assert "TokenHub does not accept a seed" in body
    assert GenerationTask.objects.count() == 0


def test_submitting_the_form_creates_a_task_and_shows_its_page(
    client_in, project, sim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(
            reverse("projects:generation_new", args=[project.pk]),
            {
                "provider": "tokenhub",
                "model": "doubao-seedance-2.0-fast",
                "prompt": "A cat",
                "ratio": "1:1",
                "resolution": "480p",
                "duration": "4",
                "generate_audio": "on",
            },
        )
    task = GenerationTask.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:generation_detail", args=[task.pk])
    assert (task.model, task.ratio, task.resolution, task.duration, task.generate_audio) == (
        "doubao-seedance-2.0-fast",
        "1:1",
        "480p",
        4,
        True,
    )
    assert task.status == GenerationTask.Status.QUEUED
    page = client_in.get(response["Location"]).content.decode()
    assert "Queued at the gateway" in page and 'hx-trigger="every 2s"' in page
    fragment = client_in.get(response["Location"], headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="live"')


def test_detail_of_a_succeeded_task_plays_and_downloads(client_in, project, member):
    name = f"teams/{project.team_id}/outputs/x/video.mp4"
    default_storage.save(name, ContentFile(b"\x00\x00\x00\x18ftypmp42video-bytes"))
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="succeeded",
        video=name,
        video_sha256="ab" * 32,
        video_duration_s=5.0,
    )
    page = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert '<video id="player"' in page and "/media/s/" in page
    assert "hx-trigger" not in page  # finished: no more polling
    download = client_in.get(reverse("projects:generation_download", args=[task.pk]))
    assert download.status_code == 302
    file_response = client_in.get(download["Location"])
    assert file_response.status_code == 200
    assert "attachment" in file_response["Content-Disposition"]
    assert b"".join(file_response.streaming_content).endswith(b"video-bytes")


def test_failed_task_shows_its_error(client_in, project, member):
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="failed",
        error_message="TokenHub rejected the request: bad duration",
    )
    page = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert "TokenHub rejected the request: bad duration" in page


def test_other_teams_objects_are_404_and_ids_are_not_guessable(client, project):
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider)  # in some other team
    task = GenerationTaskFactory(project=project)
    client.force_login(outsider)
    for url in (
        reverse("projects:project_detail", args=[project.pk]),
        reverse("projects:generation_new", args=[project.pk]),
        reverse("projects:generation_detail", args=[task.pk]),
        reverse("projects:generation_download", args=[task.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert task.prompt not in response.content.decode()
    assert len(str(task.pk)) == 36


def test_gallery_lists_generations_with_status_filters(client_in, project, member):
    GenerationTaskFactory(
        project=project,
        created_by=member,
        prompt="Alpha ok",
        status="succeeded",
        video="v.mp4",
        video_sha256="a" * 64,
    )
    GenerationTaskFactory(project=project, created_by=member, prompt="Beta broke", status="failed")
    url = reverse("projects:project_detail", args=[project.pk])
    everything = client_in.get(url).content.decode()
    assert "Alpha ok" in everything and "Beta broke" in everything
    failed = client_in.get(url + "?status=failed").content.decode()
    assert "Beta broke" in failed and "Alpha ok" not in failed


def test_signed_media_links_expire_and_reject_tampering(client, project, settings):
    name = f"teams/{project.team_id}/outputs/y/video.mp4"
    default_storage.save(name, ContentFile(b"0123456789"))
    url = signed_url(name, ttl=60)
    assert client.get(url).status_code == 200  # no login needed: the signature is the key
    ranged = client.get(url, headers={"Range": "bytes=2-5"})
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == b"2345"
    assert ranged["Content-Range"] == "bytes 2-5/10"
    assert client.get(url[:-3] + "abc").status_code == 403
    expired = signing.dumps({"n": name, "x": int(time.time()) - 1}, salt=_SALT, compress=True)
    response = client.get(reverse("signed_media", args=[expired]))
    assert response.status_code == 403 and b"expired" in response.content


def test_member_of_the_team_with_any_role_can_see_the_project(client, project):
    reviewer = UserFactory(username="rev")
    MembershipFactory(team=project.team, user=reviewer, role=Membership.Role.REVIEWER)
    client.force_login(reviewer)
    assert client.get(reverse("projects:project_detail", args=[project.pk])).status_code == 200


def test_a_running_task_shows_progress_on_the_gateway_clock(client_in, project, member, settings):
    """Against a simulator ten times faster than a gateway, a 120 s render is expected in 12
    real seconds: the bar and the "usually about" follow real time."""
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 0.1
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="running",
        expected_render_s=120.0,
        submitted_at=timezone.now() - timedelta(seconds=6),
        started_at=timezone.now() - timedelta(seconds=4),
    )
    body = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert "usually about 12 s" in body
    # 5 + 80 x (6 s / 12 s) = 45, a little more as the request runs; 9 on the gateway's
    # own clock (6 s of 120 s).
    percent = int(re.search(r'aria-valuenow="(\d+)"', body).group(1))
    assert 45 <= percent <= 55


@pytest.mark.parametrize(
    ("status", "seconds_ago", "low", "high"),
    [
        ("pending", 0, 3, 3),
        ("queued", 0, 5, 6),
        ("queued", 3, 24, 28),  # a queued task's bar moves too: the gateway reports no more
        ("running", 0, 15, 16),  # reported running: at least 15
        ("running", 12, 84, 86),  # the expected time: 85
        ("running", 120, 91, 92),  # ten times over: creeping, never done
        ("downloading", 0, 94, 94),
        ("succeeded", 0, 100, 100),
        ("failed", 0, 0, 0),
    ],
)
def test_progress_follows_the_clock_and_the_gateways_word(status, seconds_ago, low, high, settings):
    settings.SEEDANCE_UPSTREAM_TIME_SCALE = 0.1
    sent = timezone.now() - timedelta(seconds=seconds_ago)
    task = GenerationTaskFactory.build(status=status, expected_render_s=120.0, submitted_at=sent)
    task.created_at = sent
    assert low <= progress_percent(task) <= high


def test_cancel_is_offered_only_where_the_gateway_can_cancel(db):
    from projects.services.cancel import cancel_offered

    offered = {
        (provider, status): cancel_offered(
            GenerationTaskFactory.build(provider=provider, status=status)
        )
        for provider in ("tokenhub", "ark", "alltoken")
        for status in ("pending", "queued", "running", "downloading")
    }
    assert offered == {
        ("tokenhub", "pending"): True,
        ("tokenhub", "queued"): False,
        ("tokenhub", "running"): False,
        ("tokenhub", "downloading"): False,
        ("ark", "pending"): True,
        ("ark", "queued"): True,
        ("ark", "running"): False,
        ("ark", "downloading"): False,
        ("alltoken", "pending"): True,
        ("alltoken", "queued"): True,
        ("alltoken", "running"): True,
        ("alltoken", "downloading"): False,
    }


def test_the_failed_filter_leaves_cancelled_generations_to_their_own(client_in, project, member):
    for status in ("failed", "expired", "cancelled", "cancelled", "running"):
        GenerationTaskFactory(project=project, created_by=member, status=status)
    url = reverse("projects:project_detail", args=[project.pk])
    failed = client_in.get(url, {"status": "failed"}).content.decode()
    cancelled = client_in.get(url, {"status": "cancelled"}).content.decode()
    assert failed.count('class="tile') == 2 and cancelled.count('class="tile') == 2
    assert re.search(r"Failed\s*<span[^>]*>\s*2\b", failed), "the Failed count"
    assert re.search(r"Cancelled\s*<span[^>]*>\s*2\b", failed), "the Cancelled count"


def test_a_failed_generation_offers_retry_with_its_settings(client_in, project, member):
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        status="failed",
        prompt="A kite over dunes",
        duration=8,
        error_message="The gateway refused the prompt.",
    )
    page = client_in.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    retry = f"{reverse('projects:generation_new', args=[project.pk])}?retry={task.pk}"
    assert f'id="retry" href="{retry}"' in page
    form = client_in.get(retry).content.decode()
    assert "A kite over dunes" in form and 'name="revised_from"' not in form
    other = GenerationTaskFactory(status="failed")  # another team's task
    assert client_in.get(f"{retry[: retry.index('?')]}?retry={other.pk}").status_code == 404


def test_the_prompt_box_counts_against_the_models_limit_and_cuts_nothing(client_in, project):
    page = client_in.get(reverse("projects:generation_new", args=[project.pk])).content.decode()
    box = re.search(r"<textarea[^>]*id=\"id_prompt\"[^>]*>", page).group(0)
    assert 'data-limit="2000"' in box and "maxlength" not in box
    assert "0 / 2000 characters" in page
    response = client_in.post(
        reverse("projects:generation_new", args=[project.pk]),
        {"provider": "tokenhub", "model": "doubao-seedance-2.0", "prompt": "x" * 2500,
         "ratio": "16:9", "resolution": "480p", "duration": "5"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "2000" in response.content.decode() and not GenerationTask.objects.exists()
