"""`manage.py generate --variations N`: N takes of one request with distinct seeds, held and
budgeted as one batch (services/variations.py), through the same checks as the form.

Without --wait it prints the batch id and its takes' ids (or one JSON object with --json);
with --wait it follows every take to its end in this process, prints each, and exits
non-zero unless every take succeeded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from projects.exceptions import ApplicationError, InvalidRequest
from projects.models import GenerationTask, Project
from projects.services.generation import GenerationParams
from projects.services.variations import variation_batch_create


def generate_variations(
    command: BaseCommand,
    *,
    project: Project,
    user: AbstractBaseUser,
    params: GenerationParams,
    count: int,
    options: dict,
    follow: Callable[[GenerationTask, float], GenerationTask],
    summary: Callable[[GenerationTask], dict],
) -> None:
    """Create the batch, then (with --wait) `follow` each take; print and exit as the module
    docstring says. Raises CommandError when the batch is refused (nothing held)."""
    try:
        batch = variation_batch_create(project=project, user=user, params=params, count=count)
    except InvalidRequest as exc:
        lines = "\n".join(f"  {field}: {message}" for field, message in exc.errors.items())
        raise CommandError(f"The request was refused:\n{lines}") from exc
    except ApplicationError as exc:  # no price, not enough credit, over a budget
        raise CommandError(f"The request was refused: {exc.message}") from exc
    takes = list(batch.takes.order_by("created_at", "id"))
    if options["wait"]:
        takes = [follow(take, options["timeout"]) for take in takes]
    if options["json"]:
        command.stdout.write(
            json.dumps(
                {
                    "batch": str(batch.pk),
                    "compare": reverse("projects:variation_compare", args=[batch.pk]),
                    "takes": [summary(take) for take in takes],
                }
            )
        )
    else:
        command.stdout.write(f"Variation batch {batch.pk}: {count} takes.")
        for take in takes:
            command.stdout.write(f"  {take.pk}  seed={take.seed}  {take.status}")
    if options["wait"] and any(t.status != GenerationTask.Status.SUCCEEDED for t in takes):
        sys.exit(1)
