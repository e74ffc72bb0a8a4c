"""`manage.py generate`: make a video from the command line, through the same validation,
services and ledger as the web form.

`--draft` makes a Seedance 1.5 pro draft (a cheap 480p preview, Ark and BytePlus);
`--from-draft <task id>` renders the final from a succeeded draft (our task id or the
gateway's), which takes the draft's prompt, references, ratio, duration, seed and audio
(services/drafts.py); it chooses only --resolution, --service-tier, --watermark and
--expires-after.

`--variations N` makes N takes of the request with distinct seeds, held as one batch
(management/variations_cli.py).

Without --wait it enqueues the task for the worker and prints its id. With --wait it drives
the task itself in this process until it ends (safe beside a running worker: every step is
claimed), then prints a summary, or one JSON object with --json, and exits non-zero unless
the task succeeded.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.test.utils import override_settings

from projects.access import access_asset, access_generation_task, access_project_by_slug
from projects.exceptions import ApplicationError, InvalidRequest
from projects.management.variations_cli import generate_variations
from projects.models import GenerationTask
from projects.models.ledger import usd_text
from projects.money.spend import task_money
from projects.providers.capabilities import DRAFT_RESOLUTION
from projects.providers.registry import configured_provider_names, get_capabilities
from projects.services.drafts import FinalChoices, generation_final_from_draft
from projects.services.generation import (
    GenerationParams,
    ReferenceInput,
    generation_task_create,
)
from projects.services.sweep import generation_tasks_sweep
from projects.storage import signed_url


def task_summary(task: GenerationTask) -> dict:
    """The JSON object `generate --json` prints for a task. `held_usd` is the worst-case cost
    held at submit, `charged_usd` what the finished task was charged ("0.00" until it
    succeeds); both decimal strings of USD, e.g. "3.00". `billing_unit` (second, mtokens,
    credit) and `held_quantity` / `charged_quantity` in it (seconds, tokens, credits) say
    what they paid for; `usage` and `vendor_cost` are the gateway's own figures."""
    money = task_money(task)
    return {
        "id": str(task.pk),
        "status": task.status,
        "provider": task.provider,
        "model": task.model,
        "prompt": task.prompt,
        "ratio": task.ratio,
        "resolution": task.resolution,
        "requested_duration_s": task.duration,
        "upstream_task_id": task.upstream_task_id or None,
        "duration_s": task.video_duration_s,
        "width": task.video_width,
        "height": task.video_height,
        "size_bytes": task.video_size_bytes,
        "video": task.video.name or None,
        "video_url": signed_url(task.video.name, absolute=True) if task.video else None,
        "video_sha256": task.video_sha256 or None,
        "cover": task.cover.name or None,
        "last_frame": task.last_frame.name or None,
        "references": [
            {"role": ref.role, "asset_id": str(ref.asset_id), "name": ref.asset.name}
            for ref in task.references.select_related("asset").order_by("position")
        ],
        "input_video_seconds": task.input_video_seconds,
        "error": task.error_message or None,
        "error_code": task.error_code or None,
        "held_usd": usd_text(money.held_micro),
        "charged_usd": usd_text(money.charged_micro),
        "service_tier": task.service_tier,
        "draft": task.draft,
        "draft_source": str(task.draft_source_id) if task.draft_source_id else None,
        "frames": task.frames,
        "camera_fixed": task.camera_fixed,
        "execution_expires_after": task.execution_expires_after,
        "billing_unit": money.unit if money.has_hold else None,
        "held_quantity": _number(money.held_quantity),
        "charged_quantity": _number(money.charged_quantity),
        "usage": task.usage or None,
        "vendor_cost": task.vendor_cost or None,
    }


def _number(value) -> int | float | None:
    """A ledger quantity (Decimal) for JSON: an int when whole (108900), else a float."""
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)


# (flag, Seedance role, repeatable): first and last frame take one file each.
REFERENCE_FLAGS = (
    ("--first-frame", "first_frame", False),
    ("--last-frame", "last_frame", False),
    ("--reference-image", "reference_image", True),
    ("--reference-video", "reference_video", True),
    ("--reference-audio", "reference_audio", True),
)


class Command(BaseCommand):
    help = "Generate a video: validate, submit, and (with --wait) follow it to the end."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--project", help="Project slug (with --from-draft: the draft's, by default)."
        )
        parser.add_argument("--user", required=True, help="Username acting.")
        parser.add_argument("--prompt", help="Required, except with --from-draft.")
        parser.add_argument(
            "--provider", default=None, help="Gateway (default SEEDANCE_DEFAULT_PROVIDER)."
        )
        parser.add_argument("--model", default=None)
        parser.add_argument("--duration", type=int, default=None, help="Seconds; -1 = auto.")
        parser.add_argument("--resolution", default=None)
        parser.add_argument("--ratio", default=None)
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--watermark", action="store_true")
        parser.add_argument("--no-audio", action="store_true", help="Do not generate audio.")
        parser.add_argument(
            "--service-tier",
            default="default",
            help="Ark/BytePlus service tier: default, or flex (offline, priced apart) where "
            "the model offers it.",
        )
        parser.add_argument(
            "--expires-after",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Ark/BytePlus/AceData execution_expires_after: 3600-259200 s (default 172800).",
        )
        parser.add_argument(
            "--frames",
            type=int,
            default=None,
            help="A frame count (25+4n, 29-289) in place of --duration, where the model "
            "takes one (Seedance 1.0).",
        )
        parser.add_argument(
            "--camera-fixed",
            action="store_true",
            help="Ask for a fixed camera, where the model takes it.",
        )
        parser.add_argument(
            "--draft",
            action="store_true",
            help="A 480p draft preview (Seedance 1.5 pro on Ark/BytePlus); render the final "
            "with --from-draft.",
        )
        parser.add_argument(
            "--from-draft",
            metavar="TASK_ID",
            help="Render the final of a succeeded draft (our task id or the gateway's).",
        )
        # References: a file path (stored in the project's library if the request is accepted,
        # through the same probing and checks as an upload) or the id of a library asset.
        for flag, role, repeatable in REFERENCE_FLAGS:
            parser.add_argument(
                flag,
                dest=role,
                action="append" if repeatable else "store",
                default=[] if repeatable else None,
                metavar="PATH_OR_ASSET_ID",
                help=f"{role} reference{' (repeatable)' if repeatable else ''}: a file or an "
                "asset id.",
            )
        parser.add_argument(
            "--variations",
            type=int,
            default=None,
            metavar="N",
            help="Generate N (2-8) takes with distinct seeds, held as one batch "
            "(management/variations_cli.py).",
        )
        parser.add_argument("--wait", action="store_true", help="Follow the task to its end.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--timeout",
            type=float,
            default=1800.0,
            help="Seconds to wait with --wait (default 1800).",
        )

    def handle(self, *args, **options) -> None:
        self.quiet = options["json"]
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        draft = self._draft(options, user=user) if options["from_draft"] else None
        if draft is None:
            if not options["project"] or not options["prompt"]:
                raise CommandError("--project and --prompt are required (except --from-draft).")
            try:
                project = access_project_by_slug(user, options["project"])
            except (Http404, PermissionDenied) as exc:
                raise CommandError(str(exc)) from exc
            params = self._params(options, user=user)
        with override_settings(
            SEEDANCE_JOBS_INLINE=options["wait"] or getattr(settings, "SEEDANCE_JOBS_INLINE", False)
        ):
            if options["variations"] is not None:
                if draft is not None:
                    raise CommandError("--variations cannot be used with --from-draft.")
                return generate_variations(
                    self,
                    project=project,
                    user=user,
                    params=params,
                    count=options["variations"],
                    options=options,
                    follow=self._follow,
                    summary=task_summary,
                )
            try:
                if draft is not None:
                    task = generation_final_from_draft(
                        draft=draft, user=user, choices=self._final_choices(options, draft)
                    )
                else:
                    task = generation_task_create(project=project, user=user, params=params)
            except InvalidRequest as exc:
                lines = "\n".join(f"  {field}: {message}" for field, message in exc.errors.items())
                raise CommandError(f"The request was refused:\n{lines}") from exc
            except ApplicationError as exc:  # no price, not enough credit, over a budget
                raise CommandError(f"The request was refused: {exc.message}") from exc
            if not options["wait"]:
                self._print(task, options, waited=False)
                return
            task = self._follow(task, options["timeout"])
        self._print(task, options, waited=True)
        if task.status != GenerationTask.Status.SUCCEEDED:
            sys.exit(1)

    # What a final takes from its draft (services/drafts.py): these options cannot be given.
    INHERITED = (
        ("prompt", "--prompt"),
        ("model", "--model"),
        ("provider", "--provider"),
        ("duration", "--duration"),
        ("ratio", "--ratio"),
        ("seed", "--seed"),
        ("no_audio", "--no-audio"),
        ("frames", "--frames"),
        ("camera_fixed", "--camera-fixed"),
        ("draft", "--draft"),
        *((role, flag) for flag, role, _ in REFERENCE_FLAGS),
    )

    def _draft(self, options, *, user) -> GenerationTask:
        """The draft --from-draft names (our task id, or the gateway's), through access."""
        given = [flag for name, flag in self.INHERITED if options[name]]
        if given:
            raise CommandError(
                f"--from-draft takes {', '.join(given)} from the draft; leave them out."
            )
        value = options["from_draft"]
        try:
            task_id = uuid.UUID(value)
        except ValueError:
            found = GenerationTask.objects.filter(upstream_task_id=value, draft=True)
            task_id = found.values_list("pk", flat=True).first()
        try:
            draft = access_generation_task(user, task_id)
        except (Http404, PermissionDenied) as exc:
            raise CommandError(f"--from-draft {value}: no such draft in your teams.") from exc
        if options["project"] and options["project"] != draft.project.slug:
            raise CommandError(f"--from-draft {value} is in project {draft.project.slug!r}.")
        return draft

    def _final_choices(self, options, draft: GenerationTask) -> FinalChoices:
        model = get_capabilities(draft.provider).model(draft.model)
        return FinalChoices(
            resolution=options["resolution"] or (model.default_resolution if model else "720p"),
            service_tier=options["service_tier"],
            watermark=options["watermark"],
            execution_expires_after=options["expires_after"],
        )

    def _references(self, options, *, user) -> tuple[ReferenceInput, ...]:
        references = []
        for flag, role, repeatable in REFERENCE_FLAGS:
            values = options[role] if repeatable else [options[role]] if options[role] else []
            for value in values:
                references.append(self._reference(flag, role, value, user=user))
        return tuple(references)

    def _reference(self, flag: str, role: str, value: str, *, user) -> ReferenceInput:
        try:
            asset_id = uuid.UUID(value)
        except ValueError:
            path = Path(value).expanduser()
            if not path.is_file():
                raise CommandError(f"{flag} {value}: no such file (or asset id).") from None
            return ReferenceInput(role=role, upload=path)
        try:
            return ReferenceInput(role=role, asset=access_asset(user, asset_id))
        except (Http404, PermissionDenied) as exc:
            raise CommandError(f"{flag} {value}: no such asset in your teams.") from exc

    def _params(self, options, *, user) -> GenerationParams:
        provider = options["provider"] or settings.SEEDANCE_DEFAULT_PROVIDER
        if provider not in configured_provider_names():
            configured = ", ".join(configured_provider_names()) or "none"
            raise CommandError(
                f"Provider {provider!r} is not configured (configured: "
                f"{configured}). Set its API key, e.g. "
                f"{provider.upper()}_API_KEY."
            )
        if options["frames"] is not None and options["duration"] is not None:
            raise CommandError("Give --frames or --duration, not both: frames replace it.")
        caps = get_capabilities(provider)
        model = caps.model(options["model"] or "") or caps.default_model
        if options["model"] and options["model"] != model.id:
            model_id = options["model"]  # let validation name the offered models
        else:
            model_id = model.id
        return GenerationParams(
            provider=provider,
            model=model_id,
            prompt=options["prompt"],
            ratio=options["ratio"] or ("16:9" if "16:9" in model.ratios else model.default_ratio),
            # A draft renders at 480p only (upstream-research §1.3).
            resolution=options["resolution"]
            or (DRAFT_RESOLUTION if options["draft"] else model.default_resolution),
            duration=options["duration"]
            if options["duration"] is not None
            else model.default_duration,
            generate_audio=model.audio and not options["no_audio"],
            watermark=options["watermark"],
            seed=options["seed"],
            references=self._references(options, user=user),
            service_tier=options["service_tier"],
            draft=options["draft"],
            frames=options["frames"],
            camera_fixed=True if options["camera_fixed"] else None,
            execution_expires_after=options["expires_after"],
        )

    def _follow(self, task: GenerationTask, timeout: float) -> GenerationTask:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            task.refresh_from_db()
            if task.status != last and not self.quiet:
                self.stderr.write(f"{task.status}…")
                last = task.status
            if task.is_terminal:
                return task
            generation_tasks_sweep(
                max_seconds=1.0, concurrency=1, until_idle=True, only=[str(task.pk)]
            )
            time.sleep(0.2)
        task.refresh_from_db()
        return task

    def _print(self, task: GenerationTask, options, *, waited: bool) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(task_summary(task)))
        elif not waited:
            self.stdout.write(
                f"Submitted {task.pk} ({task.status}); the worker takes it from here."
            )
        else:
            summary = task_summary(task)
            for key in (
                "id",
                "status",
                "upstream_task_id",
                "input_video_seconds",
                "duration_s",
                "video",
                "video_sha256",
                "error",
            ):
                self.stdout.write(f"{key:>16}: {summary[key]}")
