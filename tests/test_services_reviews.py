"""Reviews and the audit trail through the services: approve, reject, revise, self-review,
and the audit rows of submit, cancel and the decisions."""

import pytest
from django.core.exceptions import PermissionDenied

from projects.audit import audit_record
from projects.exceptions import ApplicationError, InvalidStateTransition
from projects.models import AuditEvent, GenerationTask, Review
from projects.services.cancel import generation_task_cancel
from projects.services.generation import GenerationParams
from projects.services.reviews import (
    SELF_REVIEW,
    ReviewPermissionError,
    generation_revise,
    generation_revise_initial,
    video_approve,
    video_reject,
)
from tests.conftest import create_task, drive
from tests.factories import GenerationTaskFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
ReviewState = GenerationTask.ReviewState


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="rey")
    MembershipFactory(team=project.team, user=user, role="reviewer")
    return user


@pytest.fixture
def video(project, member):
    return GenerationTaskFactory(
        project=project,
        created_by=member,
        status="succeeded",
        video="v.mp4",
        video_sha256="a" * 64,
        prompt="A glass whale over a city",
        duration=6,
        ratio="9:16",
        resolution="480p",
    )


def params(**overrides) -> GenerationParams:
    values = dict(
        provider="tokenhub",
        model="doubao-seedance-2.0-fast",
        prompt="A red kite",
        ratio="16:9",
        resolution="480p",
        duration=4,
    )
    values.update(overrides)
    return GenerationParams(**values)


def test_a_video_that_succeeds_awaits_review_and_the_submit_is_audited(sim, project, member):
    task = create_task(project=project, user=member, params=params())
    assert task.review_state == ReviewState.NONE
    task = drive(task)
    assert task.status == "succeeded" and task.review_state == ReviewState.AWAITING
    event = AuditEvent.objects.get(action="generation.submitted")
    assert (event.actor, event.team, event.target_id) == (member, project.team, str(task.pk))
    assert event.details["model"] == "doubao-seedance-2.0-fast" and event.actor_name == "member"


def test_a_failed_video_is_not_reviewed(project, member):
    task = GenerationTaskFactory(project=project, created_by=member, status="failed")
    assert task.review_state == ReviewState.NONE
    with pytest.raises(InvalidStateTransition):
        video_approve(task=task, user=UserFactory(is_superuser=True))


def test_the_database_refuses_a_review_state_without_success(project, member):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        GenerationTaskFactory(project=project, created_by=member, review_state="approved")


def test_approve_records_the_decision_and_the_audit_row(video, reviewer):
    review = video_approve(task=video, user=reviewer, comment="  Lovely motion. ")
    video.refresh_from_db()
    assert video.review_state == ReviewState.APPROVED and video.reviewed_at is not None
    assert (review.decision, review.comment, review.reviewer) == (
        "approved",
        "Lovely motion.",
        reviewer,
    )
    event = AuditEvent.objects.get(action="video.approved")
    assert event.actor == reviewer and event.details["comment"] == "Lovely motion."
    assert event.target_type == "generationtask" and event.target_id == str(video.pk)


def test_a_decision_is_made_once(video, reviewer, project):
    video_approve(task=video, user=reviewer)
    other = UserFactory()
    MembershipFactory(team=project.team, user=other, role="admin")
    with pytest.raises(InvalidStateTransition):
        video_reject(task=video, user=other, comment="Too late")
    assert Review.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="video.").count() == 1


def test_reject_needs_a_comment(video, reviewer):
    with pytest.raises(ApplicationError, match="needs a comment"):
        video_reject(task=video, user=reviewer, comment="   ")
    video.refresh_from_db()
    assert video.review_state == ReviewState.AWAITING and not Review.objects.exists()


def test_a_member_cannot_decide(video, member):
    with pytest.raises(PermissionDenied):
        video_approve(task=video, user=member)
    with pytest.raises(PermissionDenied):
        video_reject(task=video, user=member, comment="no")
    with pytest.raises(PermissionDenied):
        video_approve(task=video, user=UserFactory())  # not in the team at all
    assert not Review.objects.exists() and not AuditEvent.objects.exists()


def test_a_reviewer_cannot_approve_their_own_video_unless_the_team_allows_it(project, reviewer):
    own = GenerationTaskFactory(
        project=project,
        created_by=reviewer,
        status="succeeded",
        video="o.mp4",
        video_sha256="b" * 64,
    )
    with pytest.raises(ReviewPermissionError) as refused:
        video_approve(task=own, user=reviewer)
    assert refused.value.message == SELF_REVIEW
    own.refresh_from_db()
    assert own.review_state == ReviewState.AWAITING
    # Rejecting one's own video is always allowed (it only withdraws it).
    second = GenerationTaskFactory(
        project=project,
        created_by=reviewer,
        status="succeeded",
        video="p.mp4",
        video_sha256="c" * 64,
    )
    video_reject(task=second, user=reviewer, comment="Withdrawn")
    project.team.allow_self_review = True
    project.team.save()
    own.refresh_from_db()
    video_approve(task=own, user=reviewer)
    own.refresh_from_db()
    assert own.review_state == ReviewState.APPROVED


def test_the_self_review_rule_binds_superusers_too(project):
    root = UserFactory(is_superuser=True)
    own = GenerationTaskFactory(
        project=project, created_by=root, status="succeeded", video="r.mp4", video_sha256="d" * 64
    )
    with pytest.raises(ReviewPermissionError):
        video_approve(task=own, user=root)


def test_revise_a_rejected_video_links_the_new_generation(sim, video, reviewer, member):
    with pytest.raises(InvalidStateTransition):
        generation_revise_initial(task=video)
    video_reject(task=video, user=reviewer, comment="Make it daytime")
    video.refresh_from_db()
    initial = generation_revise_initial(task=video)
    assert initial == {
        "provider": "tokenhub",
        "model": "doubao-seedance-2.0",
        "prompt": "A glass whale over a city",
        "ratio": "9:16",
        "resolution": "480p",
        "duration": 6,
        "generate_audio": True,
        "watermark": False,
        "seed": None,
        "service_tier": "default",
        "revised_from": str(video.pk),
    }
    revision = generation_revise(
        task=video,
        user=member,
        params=params(prompt="A glass whale over a city, daytime", ratio="9:16", duration=6),
    )
    assert revision.revised_from == video and revision.project == video.project
    assert list(video.revisions.all()) == [revision]
    submitted = AuditEvent.objects.get(action="generation.submitted")
    assert submitted.details["revised_from"] == str(video.pk)


def test_only_a_rejected_video_can_be_revised(video, member, reviewer):
    video_approve(task=video, user=reviewer)
    video.refresh_from_db()
    with pytest.raises(InvalidStateTransition):
        generation_revise(task=video, user=member, params=params())
    assert GenerationTask.objects.count() == 1


def test_cancel_is_audited(project, member, settings):
    settings.SEEDANCE_JOBS_INLINE = False
    task = GenerationTaskFactory(project=project, created_by=member, status="pending")
    generation_task_cancel(task=task, user=member)
    event = AuditEvent.objects.get(action="generation.cancelled")
    assert event.actor == member and event.details["sent_upstream"] is False


def test_audit_events_are_append_only(project, member):
    event = audit_record(actor=member, action="x.y", team=project.team, target=project)
    assert (event.target_type, event.target_repr) == ("project", "Demo")
    event.action = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
