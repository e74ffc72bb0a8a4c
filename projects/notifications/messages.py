"""The words of each notification: a subject, a plain-text body and a link.

Links go to the app's own pages (a login stands in front of each), never to a stored file or
a signed media link: a message outlives any signature we could put in it. Every text passes
through projects/redaction.py, so a gateway message quoting a key loses it here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from projects.models import Event, GenerationTask
from projects.redaction import redact

PROMPT_CHARS = 80


@dataclass(frozen=True)
class Message:
    """`subject` (one line, at most 200 characters), `body` (plain text), `link` (an
    absolute URL of one of the app's pages, '' when none)."""

    subject: str
    body: str
    link: str


def page_url(name: str, **kwargs: object) -> str:
    """SITE_URL + the path of the named page, e.g. page_url('projects:generation_detail',
    task_id=...)."""
    return settings.SITE_URL + reverse(name, kwargs=kwargs)


def _prompt(task: GenerationTask) -> str:
    text = " ".join(task.prompt.split())
    return text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 1] + "…"


def _facts(task: GenerationTask) -> str:
    return f"{task.project.name}: {task.model}, {task.duration} s, {task.resolution}"


def _message(subject: str, lines: list[str], link: str) -> Message:
    body = "\n".join([*lines, "", link]) if link else "\n".join(lines)
    return Message(subject=redact(subject)[:200], body=redact(body), link=link)


def task_message(
    task: GenerationTask, event: str, *, reviewer: str = "", comment: str = ""
) -> Message:
    """The message about `task` (with `project` loaded) for one of the task events:
    VIDEO_READY, VIDEO_FAILED, REVIEW_WAITING, VIDEO_APPROVED, VIDEO_REJECTED (`reviewer`,
    `comment` for the last two). Raises KeyError for another event."""
    link = page_url("projects:generation_detail", task_id=task.pk)
    prompt, facts = _prompt(task), _facts(task)
    maker = task.created_by.get_username() if task.created_by_id else "someone"
    said = [f"Comment: {comment}"] if comment else []
    make = {
        Event.VIDEO_READY: lambda: (
            f"Your video is ready: {prompt}",
            [f"Your video ({facts}) has finished and is waiting for review.", "Watch it:"],
        ),
        Event.VIDEO_FAILED: lambda: (
            f"Your video failed: {prompt}",
            [
                f"Your video ({facts}) ended as {task.get_status_display().lower()}: "
                f"{task.error_message or 'no reason was given'}.",
                "Nothing was charged for it. See it and retry:",
            ],
        ),
        Event.REVIEW_WAITING: lambda: (
            f"A video awaits your review: {prompt}",
            [f"{maker} made a video ({facts}) that is waiting for review.", "Review it:"],
        ),
        Event.VIDEO_APPROVED: lambda: (
            f"Your video was approved: {prompt}",
            [f"{reviewer} approved your video ({facts}).", *said, "See it:"],
        ),
        Event.VIDEO_REJECTED: lambda: (
            f"Your video was rejected: {prompt}",
            [f"{reviewer} rejected your video ({facts}).", *said, "See it and revise it:"],
        ),
    }[event]
    subject, lines = make()
    return _message(subject, lines, link)


def budget_message(
    *, event: str, team_id: object, name: str, used: str, limit: str, period: str
) -> Message:
    """The message for BUDGET_80 or BUDGET_EXHAUSTED: `name` is the budget's ("the Studio
    team's monthly budget"), `used` and `limit` amounts as text, `period` "this month"."""
    link = page_url("projects:team_spend", team_id=team_id)
    title = name[0].upper() + name[1:]
    if event == Event.BUDGET_EXHAUSTED:
        subject = f"{title} is used up"
        first = (
            f"{title} is used up: {used} of {limit} {period}. "
            "New generations it covers are refused."
        )
    else:
        subject = f"{title} is 80 % used"
        first = f"{title} is over 80 % used: {used} of {limit} {period}."
    return _message(subject, [first, "Spending:"], link)
