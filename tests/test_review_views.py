"""Review, team and audit pages through Django's test client, and audited admin edits."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.audit import HIDDEN, audit_value
from projects.models import AuditEvent, GenerationTask, Membership, ProjectMember
from projects.services.reviews import video_reject
from tests.factories import GenerationTaskFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="rey")
    MembershipFactory(team=project.team, user=user, role="reviewer")
    return user


@pytest.fixture
def team_admin(project):
    user = UserFactory(username="ada")
    MembershipFactory(team=project.team, user=user, role="admin")
    return user


def finished(project, user, prompt, *, minutes_ago=0):
    return GenerationTaskFactory(
        project=project,
        created_by=user,
        prompt=prompt,
        status="succeeded",
        video=f"teams/{project.team_id}/outputs/{prompt[:5]}/video.mp4",
        video_sha256="a" * 64,
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_queue_lists_awaiting_videos_oldest_first_playing_inline(client, project, member, reviewer):
    newer = finished(project, member, "Newer fox", minutes_ago=1)
    older = finished(project, member, "Older owl", minutes_ago=30)
    finished(project, member, "Done deer", minutes_ago=50).__class__.objects.filter(
        prompt="Done deer"
    ).update(review_state="approved")
    elsewhere = finished(ProjectFactory(), UserFactory(), "Other team's eel")
    client.force_login(reviewer)
    page = client.get(reverse("projects:review_queue")).content.decode()
    assert page.index("Older owl") < page.index("Newer fox")
    assert "Done deer" not in page and elsewhere.prompt not in page
    assert page.count("<video") == 2 and "/media/s/" in page
    assert str(older.pk) in page and str(newer.pk) in page


def test_reviewer_approves_in_the_queue_and_the_member_sees_it(client, project, member, reviewer):
    task = finished(project, member, "Paper boat")
    client.force_login(reviewer)
    response = client.post(
        reverse("projects:generation_review", args=[task.pk]),
        {"decision": "approved", "comment": "Ship it", "next": reverse("projects:review_queue")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("projects:review_queue")
    task.refresh_from_db()
    assert task.review_state == "approved"
    client.force_login(member)
    detail = client.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert 'id="review-badge">Approved' in detail and "Ship it" in detail and "rey" in detail
    gallery = client.get(reverse("projects:project_detail", args=[project.pk]) + "?review=approved")
    text = gallery.content.decode()
    assert "Paper boat" in text and "Ship it" in text and "Approved" in text


def test_review_next_must_stay_on_this_site(client, project, member, reviewer):
    task = finished(project, member, "Kite")
    client.force_login(reviewer)
    response = client.post(
        reverse("projects:generation_review", args=[task.pk]),
        {"decision": "rejected", "comment": "Too dark", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("projects:generation_detail", args=[task.pk])


def test_reject_without_comment_is_refused_with_a_message(client, project, member, reviewer):
    task = finished(project, member, "Kite")
    client.force_login(reviewer)
    response = client.post(
        reverse("projects:generation_review", args=[task.pk]), {"decision": "rejected"}, follow=True
    )
    assert "a rejection needs a comment" in response.content.decode()
    task.refresh_from_db()
    assert task.review_state == "awaiting"


def test_own_video_shows_no_approve_button_and_a_post_is_403(client, project, reviewer):
    own = finished(project, reviewer, "My own")
    client.force_login(reviewer)
    page = client.get(reverse("projects:review_queue")).content.decode()
    assert "another reviewer must approve it" in page and 'value="approved"' not in page
    response = client.post(
        reverse("projects:generation_review", args=[own.pk]), {"decision": "approved"}
    )
    assert response.status_code == 403


def test_gallery_filters_by_review_state(client, project, member, reviewer):
    approved = finished(project, member, "Alpha approved")
    finished(project, member, "Beta waiting")
    rejected = finished(project, member, "Gamma rejected")
    GenerationTask.objects.filter(pk=approved.pk).update(review_state="approved")
    video_reject(task=rejected, user=reviewer, comment="Wrong colours")
    client.force_login(member)
    url = reverse("projects:project_detail", args=[project.pk])
    prompts = {
        "approved": "Alpha approved",
        "awaiting": "Beta waiting",
        "rejected": "Gamma rejected",
    }
    for review, shown in prompts.items():
        text = client.get(f"{url}?review={review}").content.decode()
        assert [p for p in prompts.values() if p in text] == [shown]
    assert "Wrong colours" in client.get(f"{url}?review=rejected").content.decode()


def test_revise_prefills_the_form_and_links_the_new_task(
    client, project, member, reviewer, sim, django_capture_on_commit_callbacks
):
    task = finished(project, member, "Night market")
    GenerationTask.objects.filter(pk=task.pk).update(ratio="9:16", duration=7, resolution="480p")
    task.refresh_from_db()
    video_reject(task=task, user=reviewer, comment="Brighter please")
    client.force_login(member)
    detail = client.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert 'id="revise"' in detail
    form_url = reverse("projects:generation_new", args=[project.pk])
    page = client.get(f"{form_url}?revise={task.pk}").content.decode()
    assert "Revise a rejected video" in page and "Night market</textarea>" in page
    assert f'name="revised_from" value="{task.pk}"' in page
    assert '<option value="9:16" selected>' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            form_url,
            {
                "provider": "tokenhub",
                "model": "doubao-seedance-2.0",
                "prompt": "Night market, brighter",
                "ratio": "9:16",
                "resolution": "480p",
                "duration": "7",
                "revised_from": str(task.pk),
            },
        )
    revision = GenerationTask.objects.exclude(pk=task.pk).get()
    assert response.status_code == 302 and revision.revised_from == task
    detail = client.get(reverse("projects:generation_detail", args=[task.pk])).content.decode()
    assert "Revised as" in detail and "Night market, brighter" in detail


def test_revise_refuses_a_video_that_was_not_rejected(client, project, member):
    task = finished(project, member, "Still waiting")
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    assert client.get(f"{url}?revise={task.pk}").status_code == 404


def test_team_admin_manages_members_and_settings(client, project, member, team_admin):
    newcomer = UserFactory(username="neo")
    team = project.team
    client.force_login(team_admin)
    page = client.get(reverse("projects:team_detail", args=[team.pk])).content.decode()
    assert "member" in page and "ada" in page
    client.post(
        reverse("projects:team_member_save", args=[team.pk]),
        {"username": "neo", "role": "reviewer"},
    )
    assert Membership.objects.get(team=team, user=newcomer).role == "reviewer"
    client.post(
        reverse("projects:team_member_save", args=[team.pk]), {"username": "neo", "role": "member"}
    )
    assert Membership.objects.get(team=team, user=newcomer).role == "member"
    client.post(reverse("projects:team_member_delete", args=[team.pk]), {"username": "neo"})
    assert not Membership.objects.filter(team=team, user=newcomer).exists()
    # The last admin cannot step down or leave.
    response = client.post(
        reverse("projects:team_member_save", args=[team.pk]),
        {"username": "ada", "role": "member"},
        follow=True,
    )
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(team=team, user=team_admin).role == "admin"
    client.post(reverse("projects:team_settings", args=[team.pk]), {"allow_self_review": "on"})
    team.refresh_from_db()
    assert team.allow_self_review
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "member.added",
        "member.role_changed",
        "member.removed",
        "team.settings_changed",
    ]
    audit = client.get(reverse("projects:team_audit", args=[team.pk])).content.decode()
    assert "member.role_changed" in audit and "team.settings_changed" in audit


def test_audit_page_shows_the_team_events_only(client, project, team_admin, member):
    GenerationTaskFactory(project=project, created_by=member)
    from projects.audit import audit_record

    audit_record(actor=member, action="generation.submitted", team=project.team, target=project)
    audit_record(actor=member, action="generation.submitted", team=ProjectFactory().team)
    client.force_login(team_admin)
    page = client.get(reverse("projects:team_audit", args=[project.team.pk])).content.decode()
    assert page.count('data-action="generation.submitted"') == 1


def test_project_access_restricts_and_lists_members(client, project, member, team_admin, reviewer):
    client.force_login(team_admin)
    url = reverse("projects:project_access", args=[project.pk])
    response = client.post(url, {"restricted": "on", "members": [reviewer.pk]})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.restricted
    assert list(ProjectMember.objects.values_list("user__username", flat=True)) == ["rey"]
    client.force_login(member)
    assert client.get(reverse("projects:project_detail", args=[project.pk])).status_code == 404
    assert "Demo" not in client.get(reverse("projects:project_list")).content.decode()
    client.force_login(reviewer)
    assert client.get(reverse("projects:project_detail", args=[project.pk])).status_code == 200
    event = AuditEvent.objects.get(action="project.access_changed")
    assert event.details["restricted"] == [False, True] and event.details["added"] == ["rey"]


def test_project_access_refuses_outsiders_in_the_list(client, project, team_admin):
    stranger = UserFactory(username="stranger")
    client.force_login(team_admin)
    response = client.post(
        reverse("projects:project_access", args=[project.pk]), {"members": [stranger.pk]}
    )
    assert response.status_code == 200  # the choice is not offered: a form error
    assert not ProjectMember.objects.exists()


def test_nav_links_follow_roles(client, project, member, reviewer, team_admin):
    client.force_login(member)
    page = client.get(reverse("projects:project_list")).content.decode()
    assert 'id="nav-review"' not in page
    client.force_login(reviewer)
    assert 'id="nav-review"' in client.get(reverse("projects:project_list")).content.decode()
    client.force_login(team_admin)
    page = client.get(reverse("projects:project_list")).content.decode()
    assert reverse("projects:team_detail", args=[project.team.pk]) in page


def test_admin_edits_are_audited_with_changed_fields(client, project):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    team = project.team
    url = reverse("admin:projects_team_change", args=[team.pk])
    response = client.post(
        url,
        {
            "name": "Studio North",
            "slug": team.slug,
            "allow_self_review": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="team.changed")
    assert event.actor == root and event.team == team
    assert event.details["fields"] == {
        "name": ["Studio", "Studio North"],
        "allow_self_review": [False, True],
    }
    client.post(reverse("admin:projects_project_delete", args=[project.pk]), {"post": "yes"})
    deleted = AuditEvent.objects.get(action="project.deleted")
    assert deleted.details["fields"]["name"] == "Demo" and deleted.team == team


def test_audit_values_never_hold_secrets():
    assert audit_value("api_key", "sk-123") == HIDDEN
    assert audit_value("secret_access_key", "x") == HIDDEN
    assert audit_value("usd_per_second", 0.2) == 0.2


def test_adding_a_member_says_the_same_for_unknown_inactive_and_staff_names(
    client, project, team_admin
):
    """A team admin cannot tell a missing account from one that may not be added."""
    UserFactory(username="sleeper", is_active=False)
    UserFactory(username="operator", is_staff=True)
    UserFactory(username="root", is_superuser=True)
    client.force_login(team_admin)
    url = reverse("projects:team_member_save", args=[project.team.pk])
    answers = {}
    for name in ("nobody-here", "sleeper", "operator", "root"):
        page = client.post(url, {"username": name, "role": "member"}, follow=True)
        text = page.content.decode()
        start = text.index("No user called")
        answers[name] = text[start : text.index("account.", start)].replace(name, "NAME")
    assert len(set(answers.values())) == 1, answers
    assert not Membership.objects.filter(
        team=project.team, user__username__in=list(answers)
    ).exists()


def test_member_additions_are_rate_limited_per_admin(client, project, team_admin, settings):
    settings.SEEDANCE_MEMBER_ADD_RATE = "3/h"
    client.force_login(team_admin)
    url = reverse("projects:team_member_save", args=[project.team.pk])
    for n in range(3):
        UserFactory(username=f"new{n}")
        client.post(url, {"username": f"new{n}", "role": "member"})
    UserFactory(username="new3")
    page = client.post(url, {"username": "new3", "role": "member"}, follow=True)
    assert "Too many member changes" in page.content.decode()
    added = Membership.objects.filter(team=project.team, user__username__startswith="new")
    assert sorted(added.values_list("user__username", flat=True)) == ["new0", "new1", "new2"]


def test_the_audit_trail_reads_as_words_not_python_values():
    from projects.templatetags.audit import audit_details

    assert audit_details(
        {
            "restricted": [False, True],
            "added": ["mia", "rey"],
            "removed": [],
            "role": ["member", "admin"],
            "fields": {"price": ["0.12", "0.10"], "enabled": True},
            "comment": "",
        }
    ) == [
        ("restricted", "off → on"),
        ("added", "mia, rey"),
        ("role", "member → admin"),
        ("fields", "price: 0.12 → 0.10; enabled: on"),
    ]
