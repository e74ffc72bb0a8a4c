"""Variation batches: "Generate N" (2-8) takes of one request with distinct seeds, held and
budgeted as one, compared side by side, and one take picked (issue 15).

Each take is an ordinary GenerationTask (same submit, poll, store and settle path as a single
generation), with its own seed and its own hold entry, so a failed take releases only its own
hold. The batch is admitted all or nothing: one budget check of the total under the team
account's lock (money/billing.py `generation_batch_hold`); a refusal writes nothing.
"""

from __future__ import annotations

import random
from dataclasses import replace

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from projects.access import check_may_change
from projects.audit import audit_record
from projects.exceptions import ApplicationError, InvalidRequest
from projects.generation import lifecycle
from projects.models import GenerationTask, Project, VariationBatch
from projects.models.ledger import usd
from projects.models.variations import VARIATIONS_MAX, VARIATIONS_MIN
from projects.money.billing import generation_batch_hold
from projects.providers.registry import get_capabilities
from projects.services.generation import GenerationParams, generation_request_prepared
from projects.services.task_rows import (
    task_build,
    task_created_record,
    task_price_checked,
    task_rows_insert,
)

SEED_MAX = 2**32 - 1  # Ark's seed range is [-1, 2^32 - 1]; -1 means random
COUNT_ERROR = f"Variations: choose from {VARIATIONS_MIN} to {VARIATIONS_MAX} takes."
PICK_NOT_FINISHED = "Only a take that finished with a video can be picked."


def variation_seeds(*, count: int, seed: int | None, rng: random.Random | None = None) -> list[int]:
    """`count` distinct seeds in [0, 2^32 - 1]: `seed`, `seed` + 1, ... (wrapping) when the
    user gave one, so a batch can be reproduced; otherwise drawn at random."""
    if seed is not None and seed >= 0:
        return [(seed + offset) % (SEED_MAX + 1) for offset in range(count)]
    return (rng or random.SystemRandom()).sample(range(SEED_MAX + 1), count)


def variation_batch_create(
    *,
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    count: int,
    seeds: list[int] | None = None,
) -> VariationBatch:
    """Create `count` (2-8) takes of `params`, each a pending GenerationTask with its own
    seed (`seeds`, or `variation_seeds`; none where the model takes no seed: the gateway
    varies each take itself), and hold all their worst-case costs as one.

    Uploaded references are stored once and shared by every take. One transaction writes the
    batch, the takes, their references and one hold entry per take, after ONE check of the
    batch total (count x one take's quote, micro-USD) against the team's credit and every
    budget under the account lock; each take's submit job is enqueued on commit.
    `params.shown_cost_micro` is one take's price as the form showed it. Raises
    InvalidRequest (a bad count or request), NoPrice, PriceChanged, InsufficientCredits or
    BudgetExceeded: then no batch, task, hold or file is left. The caller must already have
    checked the user's access to `project` (projects/access.py)."""
    if not VARIATIONS_MIN <= count <= VARIATIONS_MAX:
        raise InvalidRequest({"variations": COUNT_ERROR})
    model = get_capabilities(params.provider).model(params.model)
    takes_seed = model is not None and model.seed
    if not takes_seed:
        per_take: list[int | None] = [None] * count
    else:
        per_take = list(seeds or variation_seeds(count=count, seed=params.seed))
    if len(per_take) != count or (takes_seed and len(set(per_take)) != count):
        raise InvalidRequest({"seed": f"{count} takes need {count} distinct seeds."})
    first = replace(params, seed=per_take[0])
    with generation_request_prepared(project=project, user=user, params=first) as (
        request,
        new_assets,
    ):
        now = timezone.now()
        batch = VariationBatch(project=project, created_by=user, count=count)
        tasks = [
            task_build(
                project=project,
                user=user,
                params=params,
                request=replace(request, seed=seed),
                now=now,
                variation_batch=batch,
            )
            for seed in per_take
        ]
        # Every take is the same request but its seed: one price for all, checked before
        # the transaction against the one take the form showed.
        price = task_price_checked(tasks[0], params=params, at=now)
        with transaction.atomic():
            for asset in new_assets.values():
                asset.save(force_insert=True)
            batch.save(force_insert=True)
            for task in tasks:
                task_rows_insert(task=task, params=params, new_assets=new_assets)
            holds = generation_batch_hold(tasks=tasks, price=price)
            for task, hold in zip(tasks, holds, strict=True):
                task_created_record(
                    task=task, user=user, params=params, held_micro=-hold.amount_micro
                )
            total = sum(-hold.amount_micro for hold in holds)
            audit_record(
                actor=user,
                action="variations.created",
                team=project.team,
                target=batch,
                details={
                    "project": project.name,
                    "count": count,
                    "seeds": per_take,
                    "held": usd(total),
                    "tasks": [str(task.pk) for task in tasks],
                },
            )
    return batch


def variation_pick(
    *, batch: VariationBatch, task: GenerationTask, user: AbstractBaseUser, role: str | None
) -> VariationBatch:
    """Make `task` the batch's pick (what review shows first), replacing any earlier pick.
    Only a member who may change the batch (access.may_change: its maker, a team admin, or
    any member where the team lets members manage all work) may pick; `role` is the user's role
    in the team when the caller has it. Raises ApplicationError when not allowed, when `task`
    is not a take of `batch`, or has no video (not succeeded, or deleted). Audited
    ('variations.picked'); the takes' page versions are bumped (their pages and the review
    queue show the pick). Picking the current pick again changes nothing."""
    team = batch.project.team
    check_may_change(user, owner_id=batch.created_by_id, team=team, role=role, action="pick a take")
    if task.variation_batch_id != batch.pk:
        raise ApplicationError("That generation is not a take of this batch.")
    if task.status != GenerationTask.Status.SUCCEEDED or task.deleted_at is not None:
        raise ApplicationError(PICK_NOT_FINISHED)
    with transaction.atomic():
        locked = VariationBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.pick_id == task.pk:
            return locked
        previous = locked.pick_id
        locked.pick = task
        locked.picked_at = timezone.now()
        locked.save(update_fields=["pick", "picked_at"])
        lifecycle.touch(task_ids=list(locked.takes.values_list("pk", flat=True)))
        audit_record(
            actor=user,
            action="variations.picked",
            team=team,
            target=locked,
            details={
                "project": batch.project.name,
                "pick": str(task.pk),
                "previous": str(previous) if previous else None,
                "seed": task.seed,
            },
        )
    return locked
