"""`bench/polling.py --spread`: the poll schedules over a realistic mix of renders.

The simulator times renders with its model (projects/upstream_sim/render_time.py: model,
resolution, output seconds, references, load, noise) instead of a flat 60-180 s draw. Every
mode sees the same mix, drawn with one seed: output seconds 4-15 (uniform), resolutions of
the gateway's own (480p and 720p at TokenHub; 480p-1080p where the model has them), one
in five tasks with one or two reference images. Modes, each in a fresh deployment:

  today     our worker, fixed schedule (SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES out of reach)
  learned   our worker, the schedule that follows the render estimate (the default)
  callbacks our worker, callbacks on (for a gateway that calls back)
  naive-5s  every task asked every 5 s (no worker: detection time only)

Our worker's modes first run `--warm` tasks (default 200) to the end, so the estimator has
history, then measure `--tasks`; only the measured tasks are counted.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

WARM_ENV = {"today": {"SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES": "1000000000"}}
REFERENCE_SHARE = 0.2


def mix(count: int, *, resolutions: tuple[str, ...], seed: int) -> list[dict]:
    """`count` task shapes: {duration, resolution, references} (see the module docstring)."""
    rng = random.Random(seed)
    shapes = []
    for _ in range(count):
        refs = rng.choice((1, 2)) if rng.random() < REFERENCE_SHARE else 0
        shapes.append(
            {
                "duration": rng.randint(4, 15),
                "resolution": rng.choice(resolutions),
                "references": refs,
            }
        )
    return shapes


def resolutions_of(provider: str, model: str) -> tuple[str, ...]:
    from projects.providers.registry import get_capabilities

    offered = get_capabilities(provider).model(model).resolutions
    return tuple(r for r in ("480p", "720p", "1080p") if r in offered)


def submit_mix(stack, provider: str, model: str, shapes: list[dict], funder) -> set[int]:
    """Create one task per shape through the form's service; their ids."""
    from projects.models import Project
    from projects.providers.registry import get_capabilities
    from projects.services.generation import (
        GenerationParams,
        ReferenceInput,
        generation_task_create,
    )

    project = Project.objects.get(slug="demo")
    user = project.team.memberships.get(role="member").user
    funder(project.team, len(shapes) * 4)
    image = _reference_asset(stack, project, user)
    audio = get_capabilities(provider).model(model).audio
    ids = set()
    for shape in shapes:
        refs = tuple(
            ReferenceInput(role="reference_image", asset=image) for _ in range(shape["references"])
        )
        params = GenerationParams(
            provider=provider,
            model=model,
            prompt="A lighthouse in a storm, cinematic",
            ratio="16:9",
            resolution=shape["resolution"],
            duration=shape["duration"],
            generate_audio=audio,
            references=refs,
        )
        ids.add(generation_task_create(project=project, user=user, params=params).pk)
    return ids


def wait_ended(ids: set[int], *, limit_s: float) -> None:
    from projects.models import GenerationTask

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not GenerationTask.objects.filter(pk__in=ids, status__in=GenerationTask.ACTIVE).exists():
            return
        time.sleep(2)


def outcomes(ids: set[int]) -> dict[str, float | None]:
    """{upstream id: unix time it was stored as succeeded, or None} of tasks `ids`."""
    from projects.models import GenerationTask

    return {
        task.upstream_task_id: (
            task.finished_at.timestamp() if task.status == "succeeded" else None
        )
        for task in GenerationTask.objects.filter(pk__in=ids).exclude(upstream_task_id="")
    }


def noticed(ids: set[int]) -> dict[str, float]:
    """{upstream id: unix time a status request first saw the render finished} ("rendered" in
    the task's history), to tell the schedule's share of the delay from the store's."""
    from projects.models import TaskEvent

    return {
        event.task.upstream_task_id: event.created_at.timestamp()
        for event in TaskEvent.objects.filter(task_id__in=ids, kind="rendered").select_related(
            "task"
        )
    }


def run_spread(stack, *, provider: str, model: str, warm: int, count: int, seed: int, funder):
    """Warm the estimator with `warm` tasks, then send `count` and wait for them; (stored,
    noticed) times of the measured tasks (outcomes, noticed)."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    resolutions = resolutions_of(provider, model)
    shapes = mix(warm + count, resolutions=resolutions, seed=seed)
    limit = 900 / stack.speed + 300
    if warm:
        wait_ended(submit_mix(stack, provider, model, shapes[:warm], funder), limit_s=limit)
    measured = submit_mix(stack, provider, model, shapes[warm:], funder)
    wait_ended(measured, limit_s=limit)
    return outcomes(measured), noticed(measured)


_asset = {}


def _reference_asset(stack, project, user):
    """One 640x360 PNG in the project's library, the reference image of the mix."""
    if "image" not in _asset:
        from PIL import Image

        from projects.services.assets import asset_create

        path = Path(stack.var_dir) / "reference.png"
        Image.new("RGB", (640, 360), (40, 90, 160)).save(path)
        _asset["image"] = asset_create(project=project, user=user, upload=path, name="ref")
    return _asset["image"]
