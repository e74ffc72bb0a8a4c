"""Storyboards and cuts through the services (issue 15), against the simulator: shots are
normal generations (same hold), a chained shot starts from the previous take's last frame
resolved at submit, the order can change, and the cut assembled by the worker job lasts the
sum of the takes, is stored with its sha256 and is reviewed like a video."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase

from projects.exceptions import ApplicationError, InvalidStateTransition
from projects.models import AuditEvent, CreditEntry, Cut, GenerationTask, Membership, Storyboard
from projects.services import cuts, storyboards
from projects.upstream_sim.render import render_size
from tests.conftest import drive
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "doubao-seedance-2.0"


@pytest.fixture
def site(live_server, settings):
    """The simulator fetches a chained shot's first frame from SITE_URL: the live server."""
    settings.SITE_URL = live_server.url
    return live_server


@pytest.fixture
def board(project, member):
    return storyboards.storyboard_create(
        project=project,
        user=member,
        title="Kite film",
        provider="tokenhub",
        model=MODEL,
        ratio="16:9",
        resolution="480p",
        generate_audio=False,
    )


def submit(shot, user):
    with TestCase.captureOnCommitCallbacks(execute=True):
        task = storyboards.shot_submit(shot=shot, user=user)
    return drive(task)


def test_shots_chain_and_assemble_into_one_cut(site, sim, board, member):
    one = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    two = storyboards.shot_add(storyboard=board, prompt="It loops", duration=5)
    three = storyboards.shot_add(
        storyboard=board, prompt="It lands", duration=4, chain_from_previous=True
    )
    first = submit(one, member)
    assert first.status == "succeeded", first.error_message
    hold = CreditEntry.objects.get(task=first, kind=CreditEntry.Kind.HOLD)
    assert hold.amount_micro < 0  # the same hold as any generation
    second = submit(two, member)
    # Resolved now, from shot 2's take as it is at this moment.
    third = submit(three, member)
    assert third.status == "succeeded", third.error_message
    (ref,) = third.references.all()
    assert ref.role == "first_frame" and ref.asset.source_task_id == second.pk
    assert (ref.asset.width, ref.asset.height) == render_size(MODEL, "480p", "16:9")
    for shot, task in ((one, first), (two, second), (three, third)):
        shot.refresh_from_db()
        assert shot.take_id == task.pk and list(shot.generations.all()) == [task]

    with TestCase.captureOnCommitCallbacks(execute=True):
        cut = cuts.cut_start(storyboard=board, user=member)
    cut.refresh_from_db()
    assert cut.status == Cut.Status.DONE, cut.error_message
    assert cut.progress == 100 and cut.reencoded is False
    assert cut.take_ids == [str(first.pk), str(second.pk), str(third.pk)]
    takes_s = sum(t.video_duration_s for t in (first, second, third))
    assert abs(cut.duration_s - takes_s) <= 1 / 24
    with default_storage.open(cut.file.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == cut.sha256
    assert cut.file.name.endswith(f"/cuts/{cut.pk}/cut.mp4")


def test_a_chained_shot_needs_the_previous_take_finished(sim, board, member):
    storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    chained = storyboards.shot_add(
        storyboard=board, prompt="It lands", duration=4, chain_from_previous=True
    )
    with pytest.raises(ApplicationError, match="shot 1"):
        storyboards.shot_submit(shot=chained, user=member)
    assert (
        not GenerationTask.objects.exists()
        and not CreditEntry.objects.filter(kind=CreditEntry.Kind.HOLD).exists()
    )
    with pytest.raises(ApplicationError):
        storyboards.shot_add(
            storyboard=type(board).objects.create(
                project=board.project,
                title="Empty",
                created_by=member,
                provider="tokenhub",
                model=MODEL,
            ),
            prompt="x",
            duration=4,
            chain_from_previous=True,
        )


def test_a_chain_falls_back_to_a_frame_decoded_from_the_stored_video(sim, board, member):
    one = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    two = storyboards.shot_add(
        storyboard=board, prompt="It lands", duration=4, chain_from_previous=True
    )
    take = submit(one, member)
    GenerationTask.objects.filter(pk=take.pk).update(last_frame="")
    asset = storyboards.chain_frame_asset(shot=two, user=member)
    assert asset.source_task_id == take.pk and asset.kind == "image"
    assert (asset.width, asset.height) == render_size(MODEL, "480p", "16:9")
    assert storyboards.chain_frame_asset(shot=two, user=member).pk == asset.pk  # made once


def test_reorder_moves_shots_and_unchains_the_new_first(board):
    a = storyboards.shot_add(storyboard=board, prompt="A", duration=4)
    b = storyboards.shot_add(storyboard=board, prompt="B", duration=4, chain_from_previous=True)
    c = storyboards.shot_add(storyboard=board, prompt="C", duration=4)
    ordered = storyboards.shots_reorder(
        storyboard=board, shot_ids=[str(b.pk), str(c.pk), str(a.pk)]
    )
    assert [s.prompt for s in ordered] == ["B", "C", "A"]
    assert [s.prompt for s in board.shots.order_by("position")] == ["B", "C", "A"]
    b.refresh_from_db()
    assert b.position == 0 and b.chain_from_previous is False
    with pytest.raises(ApplicationError):
        storyboards.shots_reorder(storyboard=board, shot_ids=[str(a.pk), str(b.pk)])
    storyboards.shot_delete(shot=c)
    assert [s.position for s in board.shots.order_by("position")] == [0, 1]


def test_a_take_is_one_of_the_shots_finished_tries(sim, board, member, project):
    one = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    two = storyboards.shot_add(storyboard=board, prompt="Other", duration=4)
    first = submit(one, member)
    again = submit(one, member)
    one.refresh_from_db()
    assert one.take_id == again.pk and one.generations.count() == 2
    storyboards.shot_take_choose(shot=one, task=first, user=member)
    one.refresh_from_db()
    assert one.take_id == first.pk
    with pytest.raises(ApplicationError, match="not one of"):
        storyboards.shot_take_choose(shot=two, task=first, user=member)
    with pytest.raises(ApplicationError, match="shot 2"):
        cuts.cut_start(storyboard=board, user=member)


def test_a_cut_is_reviewed_like_a_video(sim, board, member, team):
    shot = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    submit(shot, member)
    with TestCase.captureOnCommitCallbacks(execute=True):
        cut = cuts.cut_start(storyboard=board, user=member)
    cut.refresh_from_db()
    assert cut.status == "done"
    with pytest.raises(ApplicationError, match="reviewer role"):
        cuts.cut_decide(cut=cut, user=member, decision="approved")
    reviewer = UserFactory(username="rita")
    MembershipFactory(team=team, user=reviewer, role=Membership.Role.REVIEWER)
    with pytest.raises(ApplicationError, match="comment"):
        cuts.cut_decide(cut=cut, user=reviewer, decision="rejected")
    cuts.cut_decide(cut=cut, user=reviewer, decision="approved", comment="Lovely")
    cut.refresh_from_db()
    assert (cut.review_state, cut.reviewer_id) == ("approved", reviewer.pk)
    event = AuditEvent.objects.get(action="cut.approved")
    assert event.actor_id == reviewer.pk and event.target_id == str(cut.pk)
    with pytest.raises(InvalidStateTransition):
        cuts.cut_decide(cut=cut, user=reviewer, decision="rejected", comment="No")


def test_a_deleted_take_fails_the_cut_with_a_reason(sim, board, member):
    shot = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    take = submit(shot, member)
    cut = Cut.objects.create(storyboard=board, created_by=member, take_ids=[str(take.pk)])
    GenerationTask.objects.filter(pk=take.pk).update(deleted_at=take.created_at)
    cuts.cut_assemble(cut_id=str(cut.pk))
    cut.refresh_from_db()
    assert cut.status == "failed" and "deleted" in cut.error_message
    cuts.cut_assemble(cut_id=str(cut.pk))  # a second delivery changes nothing
    cut.refresh_from_db()
    assert cut.status == "failed"


def cli(*args: str) -> dict:
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("storyboard", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_the_command_line_creates_submits_and_assembles(site, sim, project, member):
    board = cli(
        "create",
        "--project",
        project.slug,
        "--user",
        member.username,
        "--title",
        "CLI film",
        "--resolution",
        "480p",
        "--no-audio",
    )
    for prompt, extra in (("A kite rises", []), ("It lands", ["--chain"])):
        cli(
            "add-shot",
            board["id"],
            "--user",
            member.username,
            "--prompt",
            prompt,
            "--duration",
            "4",
            *extra,
        )
    shown = cli("submit", board["id"], "--user", member.username, "--wait")
    assert [s["take_status"] for s in shown["shots"]] == ["succeeded", "succeeded"]
    shown = cli("assemble", board["id"], "--user", member.username, "--wait")
    assert shown["cut"]["status"] == "done" and len(shown["cut"]["sha256"]) == 64
    assert abs(shown["cut"]["duration_s"] - 8.0) <= 1 / 24
    assert shown["charged_micro"] > 0 and shown["to_come_micro"] == 0


def test_the_command_line_takes_references_from_the_library(project, member, tmp_path):
    from django.core.management.base import CommandError

    from projects.services.assets import asset_create
    from tests import media_files

    image = asset_create(
        project=project, user=member, upload=media_files.image(tmp_path, "look.png")
    )
    board = cli("create", "--project", project.slug, "--user", member.username, "--title", "Refs")
    cli(
        "add-shot",
        board["id"],
        "--user",
        member.username,
        "--prompt",
        "Like [Image 1]",
        "--reference",
        f"reference_image={image.pk}",
    )
    (ref,) = Storyboard.objects.get(pk=board["id"]).shots.get().references.all()
    assert (ref.role, ref.asset_id) == ("reference_image", image.pk)
    with pytest.raises(CommandError, match="role"):
        cli(
            "add-shot",
            board["id"],
            "--user",
            member.username,
            "--prompt",
            "x",
            "--reference",
            f"poster={image.pk}",
        )


def test_an_abandoned_assembly_is_taken_over_and_a_live_one_left_alone(sim, board, member):
    from datetime import timedelta

    from django.utils import timezone

    shot = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    take = submit(shot, member)
    live = Cut.objects.create(
        storyboard=board,
        created_by=member,
        take_ids=[str(take.pk)],
        status="assembling",
        attempt=1,
        heartbeat_at=timezone.now(),
    )
    cuts.cut_assemble(cut_id=str(live.pk))
    live.refresh_from_db()
    assert (live.status, live.attempt) == ("assembling", 1)  # its worker is still at it
    Cut.objects.filter(pk=live.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    cuts.cut_assemble(cut_id=str(live.pk))  # django-q2 delivered the job again
    live.refresh_from_db()
    assert (live.status, live.attempt, live.progress) == ("done", 2, 100)


def test_takes_in_remote_storage_are_streamed_to_scratch_first(sim, board, member, monkeypatch):
    shot = storyboards.shot_add(storyboard=board, prompt="A kite rises", duration=4)
    take = submit(shot, member)
    monkeypatch.setattr(cuts, "is_local", lambda: False)  # as on S3: no local path to read
    with TestCase.captureOnCommitCallbacks(execute=True):
        cut = cuts.cut_start(storyboard=board, user=member)
    cut.refresh_from_db()
    assert cut.status == "done" and abs(cut.duration_s - take.video_duration_s) <= 1 / 24
