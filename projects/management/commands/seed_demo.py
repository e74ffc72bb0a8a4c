"""`manage.py seed_demo`: a demo team, its three people, a project called `demo`, and
$100 of credit for the team (granted once: teams spend only granted credit).

Idempotent: running it again finds what exists and resets the demo passwords.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects.models import CreditEntry, Membership, Project, Team
from projects.models.ledger import usd
from projects.money.ledger import credit_balance, credit_grant
from projects.services.teams import membership_set

DEMO_PASSWORD = "seedance-demo"
DEMO_CREDIT_MICRO = 100_000_000  # $100: about 100 five-second 720p clips of Seedance 2.0
PEOPLE = [
    ("mia", "member", "Mia Member"),
    ("rey", "reviewer", "Rey Reviewer"),
    ("ada", "admin", "Ada Admin"),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo team, users and project, and print the logins."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(
                slug="demo-studio", defaults={"name": "Demo Studio"}
            )
            for username, role, full_name in PEOPLE:
                first, last = full_name.split(" ", 1)
                user, _ = User.objects.get_or_create(
                    username=username, defaults={"first_name": first, "last_name": last}
                )
                user.set_password(DEMO_PASSWORD)
                # Notifications are e-mailed; `make run` prints them on the console.
                user.email = user.email or f"{username}@demo.invalid"
                # The demo admin also runs Django admin (budgets, prices, stuck tasks).
                user.is_staff = user.is_superuser = role == Membership.Role.ADMIN
                user.save()
                membership_set(team=team, user=user, role=role)
            Project.objects.get_or_create(
                team=team,
                slug="demo",
                defaults={
                    "name": "Demo",
                    "description": "A first project to try things in.",
                    "created_by": User.objects.get(username="mia"),
                },
            )
            granted = CreditEntry.objects.filter(
                account__team=team, kind=CreditEntry.Kind.GRANT
            ).exists()
            if not granted:
                credit_grant(
                    team=team,
                    amount_micro=DEMO_CREDIT_MICRO,
                    actor=None,
                    memo="Demo credit (seed_demo).",
                )
        self.stdout.write(self.style.SUCCESS("Demo team 'Demo Studio', project slug 'demo'."))
        balance = credit_balance(team=team)
        self.stdout.write(
            f"Team credit: {usd(balance.balance_micro)} available, {usd(balance.held_micro)} held."
        )
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, role, _ in PEOPLE:
            self.stdout.write(f"  {username:<4} {role}")
        self.stdout.write(
            "rey reviews the team's finished videos at /review/; ada manages the team."
        )
