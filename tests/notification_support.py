"""Shared by the notification tests: a local webhook receiver (a tiny http.server thread on
127.0.0.1 that records each POST's raw body and headers and answers with `status`), the
team's people with e-mail addresses, and a task driven to its end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    """`url` to give as a json:// webhook; `posts` [(headers dict, raw body)]; set
    `status` to answer something else than 200."""

    port: int
    status: int = 200
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A Receiver serving on a free port until the block ends. The caller allows 127.0.0.1
    for webhooks (SEEDANCE_WEBHOOK_ALLOW_HOSTS: tests/settings.py lists it for the gateways'
    links only; the webhook guard has its own list)."""
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.posts.append(
                ({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


VIDEO = "teams/t/outputs/x/video.mp4"


def team_people(project, maker) -> dict:
    """The maker (given: the project's member), a reviewer and an admin of the project's
    team, all with e-mail addresses."""
    from projects.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    maker.email = "mia@example.com"
    maker.save()
    reviewer = UserFactory(username="rey", email="rey@example.com")
    admin = UserFactory(username="ada", email="ada@example.com")
    MembershipFactory(team=project.team, user=reviewer, role=Membership.Role.REVIEWER)
    MembershipFactory(team=project.team, user=admin, role=Membership.Role.ADMIN)
    return {"maker": maker, "reviewer": reviewer, "admin": admin}


def rendering(project, maker, **fields):
    """A task of `maker`'s being copied into storage (the step before it succeeds)."""
    from tests.factories import GenerationTaskFactory

    return GenerationTaskFactory(project=project, created_by=maker, status="downloading", **fields)


def succeed(task, capture) -> bool:
    """End `task` as succeeded through the lifecycle, running its on-commit jobs (`capture`
    is pytest-django's django_capture_on_commit_callbacks)."""
    from projects.generation import lifecycle

    with capture(execute=True):
        return lifecycle.finish(
            task_id=task.pk,
            status="succeeded",
            from_statuses=["downloading"],
            video=VIDEO,
            video_sha256="a" * 64,
        )


def mails_to(address: str) -> list:
    """The messages in Django's locmem outbox addressed to `address`."""
    from django.core import mail

    return [m for m in mail.outbox if address in m.to]
