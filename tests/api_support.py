"""Helpers for the team API's tests: a team with a member, a project and an API key, an
official Ark client pointed at a live server, and waiting on a task through the SDK."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from projects.api.keys import NewKey, api_key_create
from projects.models import Membership, Project, Team
from tests.factories import MembershipFactory, ProjectFactory, TeamFactory, UserFactory

ARK_MODEL = "doubao-seedance-2-0-260128"
PROMPT = "A red kite over the dunes"


@dataclass
class Studio:
    """One team with a member (role `role`), a project and the member's API key."""

    team: Team
    project: Project
    member: Any
    key: NewKey

    @property
    def auth(self) -> dict[str, str]:
        """Test-client headers that carry the key."""
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key.secret}"}


def make_studio(
    *,
    name: str = "Studio",
    credit_usd: int = 1000,
    role: str = Membership.Role.MEMBER,
    key_budget_usd: Decimal | None = None,
    username: str | None = None,
) -> Studio:
    slug = name.lower().replace(" ", "-")
    team = TeamFactory(name=name, slug=slug, credit_usd=credit_usd)
    member = UserFactory(username=username or f"{slug}-member")
    MembershipFactory(team=team, user=member, role=role)
    project = ProjectFactory(team=team, name=f"{name} project", slug="demo")
    key = api_key_create(
        user=member,
        name=f"{slug} script",
        projects=[project],
        expires_at=timezone.now() + timedelta(days=30),
        budget_usd=key_budget_usd,
    )
    return Studio(team=team, project=project, member=member, key=key)


def ark_client(base_url: str, secret: str):
    from volcenginesdkarkruntime import Ark

    return Ark(base_url=f"{base_url}/api/v3", api_key=secret, max_retries=0, timeout=20.0)


def wait_for(client, task_id: str, status: str = "succeeded", timeout: float = 40.0):
    """(the task once it is `status`, the Ark statuses seen on the way), polling get()."""
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        task = client.content_generation.tasks.get(task_id=task_id)
        if not seen or seen[-1] != task.status:
            seen.append(task.status)
        if task.status == status:
            return task, seen
        if task.status in ("failed", "expired", "cancelled") and status != task.status:
            raise AssertionError(f"{task_id} ended {task.status}: {task.error}")
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never became {status}: {seen}")
