"""Every URL pattern, requested by everyone who must be refused.

The patterns and their paths come from tests/url_patterns.py (every pattern of the root
resolver, each path built from one team's objects). For each pattern:
- anonymous: a redirect to a login page, except the views marked login_not_required, which
  must refuse without their secret (PUBLIC says how);
- a member of another team (an admin there): 404 for a URL naming one of our objects; any
  other page must show nothing of ours;
- a member whose role is below the view's `@min_role`: 403;
- the holder of exactly that role gets through (so the refusals above are not vacuous);
and no refusal's body contains our objects' names, prompt, ids or callback token.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from projects.access import ROLE_RANK
from tests.url_patterns import (  # noqa: F401 (world_fixture is the "world" fixture)
    OBJECT_KWARGS,
    PATTERNS,
    PUBLIC,
    Pattern,
    World,
    build_path,
    kwarg_names,
    world_fixture,
)

pytestmark = pytest.mark.django_db


def request(client: Client, path: str):
    """GET, or POST (empty) where the view only takes POST: the refusal must come first."""
    response = client.get(path)
    if response.status_code == 405:
        response = client.post(path, {})
    return response


def body(response) -> str:
    if getattr(response, "streaming", False):
        return ""  # only file downloads stream, and no refusal is one
    return response.content.decode(errors="replace")


def assert_nothing_leaked(response, world: World, who: str, path: str) -> None:
    text = body(response)
    for secret in world.secrets():
        assert secret not in text, f"{who} {path}: the body shows {secret!r}"


def assert_login_redirect(response, path: str, *, admin: bool) -> None:
    assert response.status_code == 302, f"{path}: {response.status_code}, expected a redirect"
    location = response["Location"]
    # Anonymous users meet LoginRequiredMiddleware first (the site's login page), logged-in
    # non-staff users meet Django admin's own check (its login page, or its index for logout).
    expected = ("/admin/login/", "/admin/", "/login/") if admin else ("/login/",)
    assert location.startswith(expected), f"{path}: redirects to {location}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.name or p.id for p in PATTERNS])
def test_every_url_refuses_who_must_be_refused(pattern: Pattern, world: World) -> None:
    path = build_path(pattern, world)
    is_admin = pattern.namespace == "admin" and pattern.name != "admin:login"
    public = getattr(pattern.callback, "login_required", True) is False

    # Anonymous.
    anonymous = Client()
    if public:
        if pattern.name not in PUBLIC:
            pytest.fail(
                f"{pattern.name or pattern.id} is login_not_required: add how it refuses a "
                "stranger to PUBLIC in tests/test_url_access.py."
            )
        for method, status in PUBLIC[pattern.name].items():
            response = getattr(anonymous, method.lower())(path)
            assert response.status_code == status, f"anonymous {method} {path}"
            assert_nothing_leaked(response, world, "anonymous", path)
        return
    response = request(anonymous, path)
    assert_login_redirect(response, path, admin=is_admin)
    assert_nothing_leaked(response, world, "anonymous", path)

    if is_admin:
        # Django admin: only staff. Team roles, even admin, do not open it.
        for user in (world.outsider, world.member, world.admin):
            client = Client()
            client.force_login(user)
            response = request(client, path)
            assert_login_redirect(response, path, admin=True)
            assert_nothing_leaked(response, world, user.username, path)
        client = Client()
        client.force_login(world.superuser)
        assert request(client, path).status_code < 500, f"superuser {path}"
        return

    role = getattr(pattern.callback, "min_role", None)
    assert role in ROLE_RANK, (
        f"{pattern.name} declares no role: decorate the view with @min_role(...) "
        "(projects/access.py) and check it with the access_* functions."
    )

    # A member of another team, who is an admin there.
    client = Client()
    client.force_login(world.outsider)
    response = request(client, path)
    if set(kwarg_names(pattern)) & OBJECT_KWARGS:
        assert response.status_code == 404, f"outsider {path}: {response.status_code}"
    else:
        assert response.status_code < 500, f"outsider {path}: {response.status_code}"
    assert_nothing_leaked(response, world, "outsider", path)

    # Members of our team below the role, then the role itself.
    for lower in [r for r, rank in ROLE_RANK.items() if rank < ROLE_RANK[role]]:
        client = Client()
        client.force_login(world.user_for(lower))
        response = request(client, path)
        assert response.status_code == 403, f"{lower} {path}: {response.status_code}"
        assert_nothing_leaked(response, world, lower, path)
    client = Client()
    client.force_login(world.user_for(role))
    response = request(client, path)
    assert response.status_code not in (403, 404) and response.status_code < 500, (
        f"{role} {path}: {response.status_code}"
    )


def test_object_ids_in_urls_are_uuids(world: World) -> None:
    for obj in (world.team, world.project, world.task):
        assert isinstance(obj.pk, uuid.UUID)
    for pattern in PATTERNS:
        if pattern.namespace == "projects":
            for name in set(kwarg_names(pattern)) & OBJECT_KWARGS:
                assert f"<uuid:{name}>" in pattern.id or "callbacks/" in pattern.id, pattern.id


def test_an_unknown_url_keyword_fails_with_a_clear_message(world: World) -> None:
    from django.urls import path as make_path

    fake = Pattern(
        id="x/<uuid:sequence_id>/",
        name="projects:sequence_detail",
        namespace="projects",
        pieces=(make_path("x/<uuid:sequence_id>/", lambda r: None).pattern,),
        callback=lambda r: None,
    )
    with pytest.raises(pytest.fail.Exception, match="'sequence_id'.*add it to KWARGS"):
        build_path(fake, world)
