"""Variations (issue 15): N takes of one request with distinct seeds, ONE budget check and
hold for the batch (one hold entry per take), released per failed take, refused whole over
budget or credit with nothing written; the pick, its rights, its audit row and the review
queue's order."""

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError
from django.test import TestCase

from projects.exceptions import (
    ApplicationError,
    BudgetExceeded,
    InsufficientCredits,
    InvalidRequest,
)
from projects.generation import lifecycle
from projects.management.commands.ledger_check import ledger_problems
from projects.models import (
    Asset,
    AuditEvent,
    Budget,
    CreditEntry,
    GenerationTask,
    Membership,
    VariationBatch,
)
from projects.money import billing
from projects.selectors import review_queue_list
from projects.services.generation import ReferenceInput
from projects.services.variations import variation_batch_create, variation_pick, variation_seeds
from projects.upstream_sim.faults import Fault
from projects.variation_selectors import picked_first
from tests.conftest import drive, funded_team, generate_json, tokenhub_params
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.media_files import image

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
DOLLAR = 1_000_000


def ark_params(**overrides):
    return tokenhub_params(
        provider="ark", model="doubao-seedance-2-0-260128", resolution="480p", **overrides
    )


def single_estimate(project, user, params) -> int:
    return billing.generation_estimate(
        project=project,
        user=user,
        provider=params.provider,
        model=params.model,
        resolution=params.resolution,
        generate_audio=params.generate_audio,
        duration=params.duration,
        ratio=params.ratio,
    ).quote.amount_micro


def holds(batch) -> list[int]:
    return list(
        CreditEntry.objects.filter(task__variation_batch=batch, kind="hold")
        .order_by("task__created_at")
        .values_list("amount_micro", flat=True)
    )


def nothing_written(before_tasks: int) -> None:
    assert GenerationTask.objects.count() == before_tasks
    assert VariationBatch.objects.count() == 0
    assert not CreditEntry.objects.filter(kind="hold").exists()
    assert ledger_problems()[0] == []


def test_one_budget_check_and_one_hold_per_take_equal_to_n_times_the_estimate(
    sim, project, member, monkeypatch
):
    params = ark_params(prompt="A red kite over dunes")
    each = single_estimate(project, member, params)
    checked = []
    real_check = billing.budgets_check
    monkeypatch.setattr(
        billing,
        "budgets_check",
        lambda **kw: checked.append(kw["amount_micro"]) or real_check(**kw),
    )
    balance_before = project.team.credit_account.balance_micro
    batch = variation_batch_create(
        project=project, user=member, params=replace(params, shown_cost_micro=each), count=4
    )
    assert checked == [4 * each]  # ONE budget check, of the whole batch
    assert holds(batch) == [-each] * 4
    takes = list(batch.takes.order_by("created_at"))
    assert len(takes) == 4 and batch.count == 4 and batch.pick is None
    seeds = [take.seed for take in takes]
    assert None not in seeds and len(set(seeds)) == 4  # explicit distinct seeds, per take
    assert {(t.prompt, t.model, t.resolution, t.duration) for t in takes} == {
        ("A red kite over dunes", "doubao-seedance-2-0-260128", "480p", 5)
    }
    assert all(t.status == Status.PENDING or t.status in GenerationTask.ACTIVE for t in takes)
    project.team.credit_account.refresh_from_db()
    assert project.team.credit_account.balance_micro == balance_before - 4 * each
    assert project.team.credit_account.held_micro == 4 * each
    audit = AuditEvent.objects.get(action="variations.created")
    assert audit.details["count"] == 4 and audit.details["seeds"] == seeds
    assert ledger_problems()[0] == []


def test_seeds_follow_a_given_seed_and_are_distinct_at_random():
    assert variation_seeds(count=3, seed=41) == [41, 42, 43]
    assert variation_seeds(count=2, seed=2**32 - 1) == [2**32 - 1, 0]
    drawn = variation_seeds(count=8, seed=None)
    assert len(set(drawn)) == 8 and all(0 <= s <= 2**32 - 1 for s in drawn)


def test_a_given_seed_is_the_first_take_and_the_others_follow(sim, project, member):
    batch = variation_batch_create(project=project, user=member, params=ark_params(seed=7), count=3)
    assert sorted(batch.takes.values_list("seed", flat=True)) == [7, 8, 9]


def test_a_gateway_without_seeds_gets_n_plain_takes(project, member):
    batch = variation_batch_create(project=project, user=member, params=tokenhub_params(), count=2)
    assert list(batch.takes.values_list("seed", flat=True)) == [None, None]
    assert holds(batch) == [-1 * DOLLAR] * 2  # 5 s x $0.20/s each


@pytest.mark.parametrize("count", [1, 9])
def test_a_count_outside_two_to_eight_is_refused(project, member, count):
    with pytest.raises(InvalidRequest) as info:
        variation_batch_create(project=project, user=member, params=tokenhub_params(), count=count)
    assert "from 2 to 8" in str(info.value.errors["variations"])
    nothing_written(0)


def test_a_batch_over_budget_is_refused_whole_with_nothing_held(project, member, tmp_path):
    # Three $1.00 takes against $2.50: each alone fits, the batch does not.
    Budget.objects.create(team=project.team, period="month", limit_usd=Decimal("2.50"))
    files_before = _stored_files()
    upload = ReferenceInput(role="reference_image", upload=image(tmp_path, "kite.png"))
    with pytest.raises(BudgetExceeded) as info:
        variation_batch_create(
            project=project, user=member, params=tokenhub_params(references=(upload,)), count=3
        )
    message = info.value.message
    assert "the Studio team's monthly budget ($2.50)" in message
    assert "$2.50 is left" in message and "$3.00" in message
    nothing_written(0)
    assert not Asset.objects.exists()
    assert _stored_files() == files_before
    # Two takes fit.
    batch = variation_batch_create(project=project, user=member, params=tokenhub_params(), count=2)
    assert holds(batch) == [-DOLLAR, -DOLLAR]


def test_a_batch_over_the_team_credit_is_refused_whole(member):
    team = funded_team(usd=3, name="Small")
    MembershipFactory(team=team, user=member, role=Membership.Role.MEMBER)
    project = ProjectFactory(team=team)
    with pytest.raises(InsufficientCredits) as info:
        variation_batch_create(project=project, user=member, params=tokenhub_params(), count=4)
    assert "$3.00 available" in info.value.message and "$4.00" in info.value.message
    nothing_written(0)


def test_a_failed_take_releases_only_its_own_hold_and_the_others_settle(sim, project, member):
    sim.engine.inject(Fault(kind="fail", count=1))  # the first take sent fails upstream
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = variation_batch_create(
            project=project, user=member, params=tokenhub_params(duration=4), count=3
        )
    takes = [drive(take) for take in batch.takes.order_by("created_at")]
    statuses = sorted(take.status for take in takes)
    assert statuses == [Status.FAILED, Status.SUCCEEDED, Status.SUCCEEDED]
    for take in takes:
        kinds = dict(CreditEntry.objects.filter(task=take).values_list("kind", "amount_micro"))
        if take.status == Status.FAILED:
            assert kinds == {"hold": -800_000, "release": 800_000}
        else:
            assert kinds == {"hold": -800_000, "charge": -800_000, "release": 800_000}
    assert ledger_problems()[0] == []


def _stored_files() -> set[str]:
    root = Path(default_storage.location) if hasattr(default_storage, "location") else None
    if root is None or not root.exists():
        return set()
    return {str(p) for p in root.rglob("*") if p.is_file()}


def _succeed(task: GenerationTask) -> None:
    # A stored video, as the store job leaves it (the review rules read these fields).
    GenerationTask.objects.filter(pk=task.pk).update(
        status=Status.SUCCEEDED,
        review_state=GenerationTask.ReviewState.AWAITING,
        video="videos/x.mp4",
        video_sha256="0" * 64,
    )
    lifecycle.touch(task.pk)


def test_the_pick_is_audited_and_reviewed_first(project, member):
    batch = variation_batch_create(project=project, user=member, params=tokenhub_params(), count=3)
    takes = list(batch.takes.order_by("created_at"))
    with pytest.raises(ApplicationError, match="finished with a video"):
        variation_pick(batch=batch, task=takes[0], user=member, role="member")
    for take in takes:
        _succeed(take)
    take = GenerationTask.objects.get(pk=takes[2].pk)
    version = take.version
    batch = variation_pick(batch=batch, task=take, user=member, role="member")
    assert batch.pick_id == take.pk
    take.refresh_from_db()
    assert take.version > version  # the pages that show the pick are redrawn
    audit = AuditEvent.objects.get(action="variations.picked")
    assert audit.details["pick"] == str(take.pk) and audit.actor == member
    queue = list(picked_first(review_queue_list(project_ids=[project.pk])))
    assert queue[0].pk == take.pk and queue[0].picked
    assert not any(item.picked for item in queue[1:])


def test_only_members_who_may_change_the_project_pick(project, member):
    batch = variation_batch_create(project=project, user=member, params=tokenhub_params(), count=2)
    take = batch.takes.first()
    _succeed(take)
    take.refresh_from_db()
    other = UserFactory(username="other")
    MembershipFactory(team=project.team, user=other, role=Membership.Role.MEMBER)
    with pytest.raises(ApplicationError, match="can pick a take"):
        variation_pick(batch=batch, task=take, user=other, role="member")
    assert VariationBatch.objects.get(pk=batch.pk).pick_id is None
    admin = UserFactory(username="boss")
    MembershipFactory(team=project.team, user=admin, role=Membership.Role.ADMIN)
    variation_pick(batch=batch, task=take, user=admin, role="admin")
    assert VariationBatch.objects.get(pk=batch.pk).pick_id == take.pk


@pytest.mark.django_db(transaction=True)  # the takes' submit jobs run on commit
def test_generate_variations_from_the_cli(sim):
    out = generate_json(
        "--prompt=A lighthouse at dusk", "--provider=ark", "--resolution=480p", "--variations=3"
    )
    batch = VariationBatch.objects.get(pk=out["batch"])
    assert out["compare"] == f"/v/{batch.pk}/"
    takes = out["takes"]
    assert [t["status"] for t in takes] == ["succeeded"] * 3
    assert len({t["id"] for t in takes}) == 3
    seeds = list(batch.takes.order_by("created_at", "id").values_list("seed", flat=True))
    assert len(set(seeds)) == 3 and None not in seeds
    assert all(t["held_usd"] == takes[0]["held_usd"] for t in takes)
    assert ledger_problems()[0] == []


def test_the_cli_refuses_a_bad_count_with_nothing_written(sim):
    with pytest.raises(CommandError, match="from 2 to 8"):
        generate_json("--prompt=A kite", "--variations=9")
    nothing_written(0)
