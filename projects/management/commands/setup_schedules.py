"""`manage.py setup_schedules`: the worker's periodic jobs, declared in one place.

It also queues one sweep turn, so polling starts as soon as a worker does instead of at the
scheduler's first pass (django-q2 looks at schedules every 30 s); a turn that finds the
sweeper slots taken returns at once (projects/services/sweeper.py).
"""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from projects.queue import enqueue
from projects.services.sweeper import SWEEP_JOB

SCHEDULES = [
    {
        "name": "generation-sweep",
        "func": "projects.tasks.generation_tasks_sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Retries of notifications that failed (30 s x 2^n backoff) and any whose job was lost.
        "name": "notifications-due",
        "func": "projects.tasks.notifications_deliver_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # The daily e-mail to reviewers who chose a digest of the videos awaiting them.
        "name": "notifications-review-digest",
        "func": "projects.tasks.notifications_review_digest",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
]


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules (the due-task sweep and the notification "
        "retries, every minute)."
    )

    def handle(self, *args, **options) -> None:
        for spec in SCHEDULES:
            spec = dict(spec)
            name = spec.pop("name")
            _, created = Schedule.objects.update_or_create(name=name, defaults=spec)
            self.stdout.write(f"{'created' if created else 'updated'} schedule {name}")
        enqueue(SWEEP_JOB)
        self.stdout.write("queued a sweep turn")
