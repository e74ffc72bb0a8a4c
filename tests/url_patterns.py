"""Every URL pattern of the site, and a path for each built from one team's objects: shared by
the access test (tests/test_url_access.py) and the fuzz pass (tests/test_fuzz_urls.py).

The patterns are enumerated from the root resolver (recursively: the app, auth, Django admin,
signed media, callbacks), and each one's path is built from KWARGS, one entry per URL keyword
argument name. A URL with a keyword this file does not know fails with a message saying to
add it, so nobody can add a URL that escapes the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from projects.models import (
    Asset,
    AuditEvent,
    Cut,
    GenerationTask,
    Membership,
    Project,
    Review,
    Shot,
    Storyboard,
    Team,
    VariationBatch,
)
from projects.storage import signed_url
from tests.factories import (
    GenerationTaskFactory,
    MembershipFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)


@dataclass
class World:
    """Our team's objects and everyone who asks for them."""

    team: Team
    project: Project
    task: GenerationTask
    asset: Asset
    other_task: GenerationTask  # in another team: its callback token must not open ours
    member: Any
    reviewer: Any
    admin: Any
    outsider: Any  # admin of another team
    superuser: Any

    def secrets(self) -> list[str]:
        """What no refusal may show."""
        return [
            self.team.name,
            self.project.name,
            self.task.prompt,
            str(self.team.pk),
            str(self.project.pk),
            str(self.task.pk),
            self.task.callback_token,
            self.asset.name,
            str(self.asset.pk),
        ]

    def user_for(self, role: str) -> Any:
        return {"member": self.member, "reviewer": self.reviewer, "admin": self.admin}[role]


def _admin_object_id(world: World, pattern_id: str) -> str:
    """A real object of the model an admin URL is about (or a harmless id)."""
    match = re.search(r"admin/(\w+)/(\w+)/", pattern_id)
    instances = {
        ("projects", "team"): world.team,
        ("projects", "project"): world.project,
        ("projects", "generationtask"): world.task,
        ("projects", "asset"): world.asset,
        ("projects", "review"): Review.objects.first(),
        ("projects", "auditevent"): AuditEvent.objects.first(),
        ("projects", "variationbatch"): VariationBatch.objects.get(pk=_batch_id(world, "")),
        ("auth", "user"): world.member,
        ("auth", "group"): Group.objects.first(),
    }
    obj = instances.get((match.group(1), match.group(2))) if match else None
    return str(obj.pk) if obj is not None else "1"


def _batch_id(world: World, _pattern_id: str) -> object:
    """A variation batch of our member's, with our finished task as a take (made on first use)."""
    batch = VariationBatch.objects.filter(project=world.project).first()
    if batch is None:
        batch = VariationBatch.objects.create(
            project=world.project, created_by=world.member, count=2
        )
        GenerationTask.objects.filter(pk=world.task.pk).update(variation_batch=batch)
    return batch.pk


def _api_key_id(world: World, _pattern_id: str) -> object:
    """Our member's API key (made on first use)."""
    from datetime import timedelta

    from django.utils import timezone

    from projects.api.keys import api_key_create
    from projects.models import ApiKey

    key = ApiKey.objects.filter(user=world.member).first()
    if key is None:
        key = api_key_create(
            user=world.member,
            name="KEY orbit W5",
            projects=[world.project],
            expires_at=timezone.now() + timedelta(days=7),
        ).key
    return key.pk


def _webhook_id(world: World, _pattern_id: str) -> object:
    """A webhook of our team (made on first use)."""
    from projects.models import TeamWebhook

    hook = TeamWebhook.objects.filter(team=world.team).first()
    if hook is None:
        hook = TeamWebhook.objects.create(
            team=world.team,
            name="HOOK lantern Q7",
            url="jsons://93.184.215.14/hook",
            events=["video_ready"],
            secret="s" * 64,
        )
    return hook.pk


def _token(world: World, pattern_id: str) -> str:
    # The secret is what these URLs check: give the callback another task's token and the
    # media link a signature that does not verify.
    if "callbacks/" in pattern_id:
        return world.other_task.callback_token
    return signed_url("teams/x/outputs/y/video.mp4").rsplit("/", 1)[-1][:-4] + "AAAA"


def _storyboard(world: World) -> Storyboard:
    board = Storyboard.objects.filter(project=world.project).first()
    if board is None:
        board = Storyboard.objects.create(
            project=world.project,
            title=world.project.name,
            created_by=world.member,
            provider="tokenhub",
            model="doubao-seedance-2.0",
        )
    return board


def _shot_id(world: World, _: str) -> object:
    board = _storyboard(world)
    shot = board.shots.first() or Shot.objects.create(
        storyboard=board, position=0, prompt=world.task.prompt, duration=5
    )
    return shot.pk


def _cut_id(world: World, _: str) -> object:
    board = _storyboard(world)
    cut = board.cuts.first() or Cut.objects.create(
        storyboard=board,
        created_by=world.member,
        status=Cut.Status.DONE,
        file=f"teams/{world.team.pk}/cuts/x/cut.mp4",
        sha256="0" * 64,
    )
    return cut.pk


# URL keyword -> its value for a pattern. A new URL keyword must be added here.
KWARGS: dict[str, Callable[[World, str], object]] = {
    "project_id": lambda world, _: world.project.pk,
    "task_id": lambda world, _: world.task.pk,
    "team_id": lambda world, _: world.team.pk,
    "asset_id": lambda world, _: world.asset.pk,
    "storyboard_id": lambda world, _: _storyboard(world).pk,
    "shot_id": _shot_id,
    "cut_id": _cut_id,
    "batch_id": _batch_id,
    "token": _token,
    "key_id": _api_key_id,
    "webhook_id": _webhook_id,
    "rest": lambda world, _: "contents/nothing-here",  # the team API's catch-all 404
    # Django admin's own URLs.
    "object_id": _admin_object_id,
    "content_type_id": lambda world, _: ContentType.objects.get_for_model(Project).pk,
    "id": lambda world, _: world.member.pk,
    "app_label": lambda world, _: "projects",
    "url": lambda world, _: "projects/nothing-here/",
}
# Keywords naming one of a team's objects: an outsider must get 404 for these.
OBJECT_KWARGS = {
    "project_id",
    "task_id",
    "team_id",
    "asset_id",
    "key_id",
    "storyboard_id",
    "shot_id",
    "cut_id",
    "webhook_id",
    "batch_id",
}

# Views marked login_not_required, and how each refuses a stranger without its secret.
PUBLIC: dict[str, dict[str, int]] = {
    "login": {"GET": 200},
    "admin:login": {"GET": 200},
    "signed_media": {"GET": 403},
    "projects:generation_callback": {"GET": 405, "POST": 404},
    "favicon": {"GET": 301},  # a redirect to the static icon
    "healthz": {"GET": 200},  # public by design: dependency states, nothing of any team
    # The team API authenticates each request by its API key (projects/api/), not a session.
    "arkapi:tasks": {"GET": 401, "POST": 401},
    "arkapi:task": {"GET": 401, "DELETE": 401},
    "arkapi:openapi-json": {"GET": 200},  # the API's shape, nothing of any team
    "arkapi:openapi-view": {"GET": 200},
    "arkapi:api-root": {"GET": 404},
    "arkapi:not_found": {"GET": 404},
}


@dataclass(frozen=True)
class Pattern:
    id: str  # the full route, e.g. "p/<uuid:project_id>/access/"
    name: str | None  # "projects:project_access"; None for some admin patterns
    namespace: str
    pieces: tuple  # the pattern objects from the root down
    callback: Callable


def _walk(resolver: URLResolver, pieces: tuple = (), namespace: str = "") -> list[Pattern]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            found += _walk(entry, (*pieces, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            chain = (*pieces, entry.pattern)
            found.append(
                Pattern(
                    id="".join(str(p) for p in chain),
                    name=f"{namespace}:{entry.name}" if namespace and entry.name else entry.name,
                    namespace=namespace,
                    pieces=chain,
                    callback=entry.callback,
                )
            )
    return found


PATTERNS = _walk(get_resolver())


def kwarg_names(pattern: Pattern) -> list[str]:
    names = []
    for piece in pattern.pieces:
        names += list(piece.regex.groupindex)
    return names


def _substitute_regex(regex: str, values: dict[str, str]) -> str:
    # Replace each (?P<name>...) group, balanced parentheses and all, by its value.
    out, i = "", 0
    while i < len(regex):
        match = re.compile(r"\(\?P<(\w+)>").match(regex, i)
        if match:
            depth, j = 1, match.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
            out += values[match.group(1)]
            i = j
        else:
            out += regex[i]
            i += 1
    return out.lstrip("^").rstrip("$")


def build_path(pattern: Pattern, world: World) -> str:
    """The path of `pattern` with KWARGS' values, checked to resolve back to its view."""
    values = {}
    for name in kwarg_names(pattern):
        if name not in KWARGS:
            pytest.fail(
                f"URL {pattern.name or pattern.id!r} takes the keyword {name!r}, which "
                f"tests/url_patterns.py does not know: add it to KWARGS (its value for our "
                f"team's object) and, if it names a team's object, to OBJECT_KWARGS."
            )
        values[name] = str(KWARGS[name](world, pattern.id))
    path = "/"
    for piece in pattern.pieces:
        if isinstance(piece, RoutePattern):
            path += re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], str(piece))
        elif isinstance(piece, RegexPattern):
            path += _substitute_regex(piece.regex.pattern, values)
        else:  # pragma: no cover - a new kind of pattern
            pytest.fail(f"Unknown pattern type {type(piece).__name__} in {pattern.id}")
    assert resolve(path).func == pattern.callback, f"{path} does not resolve to {pattern.id}"
    return path


@pytest.fixture(name="world")
def world_fixture() -> World:
    """Our team (member, reviewer, admin) with a project, a finished task and an asset; another
    team's admin and task; a superuser. Import `world_fixture` to use the `world` fixture."""
    team = TeamFactory(name="Team Zephyr Q7", slug="zephyr-q7")
    project = ProjectFactory(team=team, name="Project Quasar K2", slug="quasar-k2")
    member = UserFactory(username="m-member")
    reviewer = UserFactory(username="r-reviewer")
    admin = UserFactory(username="a-admin")
    for user, role in ((member, "member"), (reviewer, "reviewer"), (admin, "admin")):
        MembershipFactory(team=team, user=user, role=role)
    task = GenerationTaskFactory(
        project=project,
        created_by=member,
        prompt="PROMPT lighthouse nebula X9",
        status="succeeded",
        video=f"teams/{team.pk}/outputs/t/video.mp4",
        video_sha256="c" * 64,
    )
    asset = Asset.objects.create(
        team=team,
        project=project,
        kind="image",
        name="ASSET moonwalk Z3",
        file=f"teams/{team.pk}/assets/a/moon.png",
        uploaded_by=member,
        width=640,
        height=360,
    )
    outsider = UserFactory(username="o-outsider")
    other_team = TeamFactory(name="Elsewhere", slug="elsewhere")
    MembershipFactory(team=other_team, user=outsider, role=Membership.Role.ADMIN)
    other_task = GenerationTaskFactory(project=ProjectFactory(team=other_team), created_by=outsider)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    return World(
        team=team,
        project=project,
        task=task,
        asset=asset,
        other_task=other_task,
        member=member,
        reviewer=reviewer,
        admin=admin,
        outsider=outsider,
        superuser=superuser,
    )
