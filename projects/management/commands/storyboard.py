"""`manage.py storyboard`: storyboards from the command line (issue 15), through the same
access checks and services as the pages.

    storyboard create --project demo --user mia --title "Kite spot" [--provider tokenhub
        --model doubao-seedance-2.0 --ratio 16:9 --resolution 720p --no-audio]
    storyboard add-shot <storyboard id> --user mia --prompt "..." --duration 5 [--chain]
        [--reference reference_image=<asset id> ...]
    storyboard submit <storyboard id> --user mia [--shot N] [--wait]
    storyboard assemble <storyboard id> --user mia [--wait]
    storyboard show <storyboard id> --user mia

Every subcommand prints one JSON object. `submit` submits shot N (1-based), or every shot
without a take, in order (a chained shot needs the previous take finished: use --wait, which
follows each generation to its end in this process before the next). `assemble --wait` runs
the assembly job here; without it the worker does.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.test.utils import override_settings

from projects.access import access_asset, access_project_by_slug, access_storyboard
from projects.exceptions import ApplicationError
from projects.models import Cut, GenerationTask, Storyboard
from projects.providers.capabilities import ROLES
from projects.services import cuts, storyboards
from projects.services.sweep import generation_tasks_sweep
from projects.storyboard_selectors import storyboard_page


def board_summary(board: Storyboard) -> dict:
    """The JSON `storyboard show` prints: shots in order with their takes, total seconds,
    money in micro-USD, and the latest cut."""
    page = storyboard_page(storyboard=board)
    cut = page.cut
    return {
        "id": str(board.pk),
        "title": board.title,
        "shots": [
            {
                "number": row.number,
                "id": str(row.shot.pk),
                "prompt": row.shot.prompt,
                "duration": row.shot.duration,
                "chain_from_previous": row.shot.chain_from_previous,
                "take": str(row.take.pk) if row.take else None,
                "take_status": row.take.status if row.take else None,
            }
            for row in page.rows
        ],
        "total_s": page.total_s,
        "charged_micro": page.charged_micro,
        "to_come_micro": page.to_come_micro,
        "cut": None
        if cut is None
        else {
            "id": str(cut.pk),
            "status": cut.status,
            "progress": cut.progress,
            "file": cut.file.name or None,
            "sha256": cut.sha256 or None,
            "duration_s": cut.duration_s,
            "review_state": cut.review_state,
            "error": cut.error_message or None,
        },
    }


class Command(BaseCommand):
    help = "Storyboards: create, add-shot, submit, assemble, show."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="A new storyboard in a project.")
        create.add_argument("--project", required=True, help="Project slug.")
        create.add_argument("--title", required=True)
        create.add_argument("--provider", default="tokenhub")
        create.add_argument("--model", default="doubao-seedance-2.0")
        create.add_argument("--ratio", default="16:9")
        create.add_argument("--resolution", default="720p")
        create.add_argument("--no-audio", action="store_true")
        add = sub.add_parser("add-shot", help="Append a shot.")
        add.add_argument("storyboard")
        add.add_argument("--prompt", required=True)
        add.add_argument("--duration", type=int, default=5, help="Seconds.")
        add.add_argument("--chain", action="store_true", help="Start from the previous take.")
        add.add_argument(
            "--reference",
            action="append",
            default=[],
            metavar="ROLE=ASSET_ID",
            help="A library asset in a Seedance role (first_frame, last_frame, reference_image, "
            "reference_video, reference_audio); repeat for several, in prompt order.",
        )
        submit = sub.add_parser("submit", help="Submit shots as generations.")
        submit.add_argument("storyboard")
        submit.add_argument("--shot", type=int, help="Shot number (1-based); default: all.")
        submit.add_argument("--wait", action="store_true")
        assemble = sub.add_parser("assemble", help="Assemble the chosen takes into a cut.")
        assemble.add_argument("storyboard")
        assemble.add_argument("--wait", action="store_true")
        show = sub.add_parser("show", help="Print the storyboard.")
        show.add_argument("storyboard")
        for each in (create, add, submit, assemble, show):
            each.add_argument("--user", required=True, help="Username acting.")
            each.add_argument("--timeout", type=float, default=1800.0)

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        action = options["action"]
        try:
            if action == "create":
                board = self._create(options, user)
            else:
                board = self._board(options["storyboard"], user)
                steps = {
                    "add-shot": self._add_shot,
                    "submit": self._submit,
                    "assemble": self._assemble,
                }
                if action in steps:  # "show" only prints
                    steps[action](board, options, user)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(board_summary(board)))

    def _board(self, value: str, user) -> Storyboard:
        try:
            return access_storyboard(user, value)
        except (Http404, PermissionDenied) as exc:
            raise CommandError(f"No storyboard {value} in your teams.") from exc

    def _create(self, options, user) -> Storyboard:
        try:
            project = access_project_by_slug(user, options["project"])
        except (Http404, PermissionDenied) as exc:
            raise CommandError(f"No project {options['project']!r} in your teams.") from exc
        return storyboards.storyboard_create(
            project=project,
            user=user,
            title=options["title"],
            provider=options["provider"],
            model=options["model"],
            ratio=options["ratio"],
            resolution=options["resolution"],
            generate_audio=not options["no_audio"],
        )

    def _add_shot(self, board, options, user) -> None:
        references = []
        for value in options["reference"]:
            role, _, asset_id = value.partition("=")
            if role not in ROLES:
                raise CommandError(f"--reference {value}: the role is one of {', '.join(ROLES)}.")
            try:
                references.append((role, access_asset(user, asset_id)))
            except (Http404, PermissionDenied) as exc:
                raise CommandError(f"--reference {value}: no such asset in your teams.") from exc
        storyboards.shot_add(
            storyboard=board,
            prompt=options["prompt"],
            duration=options["duration"],
            chain_from_previous=options["chain"],
            references=references,
        )

    def _submit(self, board, options, user) -> None:
        shots = list(board.shots.select_related("take").order_by("position"))
        if options["shot"]:
            if not 1 <= options["shot"] <= len(shots):
                raise CommandError(f"--shot {options['shot']}: the storyboard has {len(shots)}.")
            shots = [shots[options["shot"] - 1]]
        else:
            shots = [s for s in shots if s.take is None]
        inline = options["wait"] or getattr(settings, "SEEDANCE_JOBS_INLINE", False)
        with override_settings(SEEDANCE_JOBS_INLINE=inline):
            for shot in shots:
                shot.refresh_from_db()
                task = storyboards.shot_submit(shot=shot, user=user)
                self.stderr.write(f"shot {shot.position + 1}: {task.pk}")
                if options["wait"]:
                    task = self._follow(task, options["timeout"])
                    if task.status != GenerationTask.Status.SUCCEEDED:
                        raise CommandError(
                            f"Shot {shot.position + 1} ended {task.status}: {task.error_message}"
                        )

    def _assemble(self, board, options, user) -> None:
        inline = options["wait"] or getattr(settings, "SEEDANCE_JOBS_INLINE", False)
        with override_settings(SEEDANCE_JOBS_INLINE=inline):
            cut = cuts.cut_start(storyboard=board, user=user)
        if options["wait"]:
            cut.refresh_from_db()
            if cut.status != Cut.Status.DONE:
                raise CommandError(f"The cut {cut.status}: {cut.error_message}")

    def _follow(self, task: GenerationTask, timeout: float) -> GenerationTask:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task.refresh_from_db()
            if task.is_terminal:
                return task
            generation_tasks_sweep(
                max_seconds=1.0, concurrency=1, until_idle=True, only=[str(task.pk)]
            )
            time.sleep(0.2)
        task.refresh_from_db()
        return task
