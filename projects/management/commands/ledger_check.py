"""`manage.py ledger_check`: prove the ledger is consistent; exit 1 with the problems if not.

Checks that every account's cached balance and held amounts equal the sums of its entries,
and that every generation task is settled as its status says: an unfinished task has an open
hold only; a finished one has its hold released exactly (release = hold), with one charge
not above the hold if it succeeded and no charge otherwise. Tasks with no hold at all (made
before the ledger existed) are counted, not failed.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Q, Sum

from projects.models import CreditAccount, CreditEntry, GenerationTask
from projects.models.ledger import usd_exact as usd

Kind = CreditEntry.Kind


def ledger_problems() -> tuple[list[str], dict[str, int]]:
    """Every inconsistency found (sentences) and counts of what was checked."""
    problems: list[str] = []
    sums = {
        row["account"]: row
        for row in CreditEntry.objects.values("account").annotate(
            total=Sum("amount_micro"),
            open=Sum("amount_micro", filter=Q(kind__in=[Kind.HOLD, Kind.RELEASE])),
        )
    }
    accounts = 0
    for account in CreditAccount.objects.select_related("team").iterator():
        accounts += 1
        row = sums.get(account.pk, {})
        total, held = row.get("total") or 0, -(row.get("open") or 0)
        if account.balance_micro != total:
            problems.append(
                f"{account.team}: cached balance {usd(account.balance_micro)} but the entries "
                f"sum to {usd(total)}."
            )
        if account.held_micro != held:
            problems.append(
                f"{account.team}: cached held {usd(account.held_micro)} but open holds sum to "
                f"{usd(held)}."
            )

    per_task: dict[object, dict[str, CreditEntry]] = defaultdict(dict)
    entries = CreditEntry.objects.filter(task__isnull=False, kind__in=CreditEntry.TASK_KINDS)
    for entry in entries.only("task_id", "kind", "amount_micro", "account_id").iterator():
        per_task[entry.task_id][entry.kind] = entry
    teams = dict(CreditAccount.objects.values_list("pk", "team_id"))
    tasks = GenerationTask.objects.values_list("pk", "status", "project__team_id")
    checked = unheld = 0
    for task_id, status, team_id in tasks.iterator():
        found = per_task.pop(task_id, {})
        hold, release, charge = (found.get(k) for k in (Kind.HOLD, Kind.RELEASE, Kind.CHARGE))
        if hold is None:
            if release or charge:
                problems.append(f"Task {task_id}: a release or charge without a hold.")
            elif status in GenerationTask.TERMINAL:
                unheld += 1
            continue
        checked += 1
        if any(teams.get(e.account_id) != team_id for e in found.values()):
            problems.append(f"Task {task_id}: entries in another team's account.")
        if status not in GenerationTask.TERMINAL:
            if release or charge:
                problems.append(f"Task {task_id} is {status} but already settled.")
            continue
        if release is None:
            problems.append(f"Task {task_id} is {status} but its hold was never released.")
        elif release.amount_micro != -hold.amount_micro:
            problems.append(
                f"Task {task_id}: released {usd(release.amount_micro)} of a "
                f"{usd(-hold.amount_micro)} hold."
            )
        if status == GenerationTask.Status.SUCCEEDED:
            if charge is None:
                problems.append(f"Task {task_id} succeeded but was never charged.")
            elif -charge.amount_micro > -hold.amount_micro:
                problems.append(f"Task {task_id}: charged more than it held.")
        elif charge is not None:
            problems.append(f"Task {task_id} is {status} but was charged.")
    for task_id in per_task:  # entries whose task is gone cannot happen (PROTECT); say so
        problems.append(f"Entries for unknown task {task_id}.")
    counts = {"accounts": accounts, "tasks": checked, "unheld": unheld}
    return problems, counts


class Command(BaseCommand):
    help = "Check that cached balances equal the ledger's sums and every ended task is settled."

    def handle(self, *args, **options) -> None:
        # One snapshot for all the queries, so a check running beside live traffic compares
        # sums and caches from the same moment.
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            problems, counts = ledger_problems()
        for problem in problems:
            self.stderr.write(problem)
        summary = f"{counts['accounts']} account(s), {counts['tasks']} task(s) with a hold checked"
        if counts["unheld"]:
            summary += f", {counts['unheld']} ended task(s) from before the ledger"
        if problems:
            self.stderr.write(f"ledger_check FAILED: {len(problems)} problem(s); {summary}.")
            sys.exit(1)
        self.stdout.write(f"ledger_check OK: {summary}.")
