"""What a gallery tile shows, worked out in Python once per tile.

The gallery renders up to a page of tiles on every visit and every few seconds while a
render runs (htmx). Computing each tile's link, badge, facts and cost here and handing the
template plain strings costs a fraction of doing it with template tags and filters
(bench/pages.py), and keeps the template a simple loop. A tile is a frozen value, so its
markup (templates/projects/gallery_tile.html) is rendered once per distinct tile and kept
per process: a changed status, cost, review or link is a different tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timesince import timesince

from projects.badges import REVIEW_TONES, TONES
from projects.models import GenerationTask
from projects.models.ledger import usd
from projects.storage import signed_url

Status = GenerationTask.Status
STATUS_LABELS = dict(GenerationTask.Status.choices)
REVIEW_LABELS = dict(GenerationTask.ReviewState.choices)
_ZERO_ID = "00000000-0000-0000-0000-000000000000"
# Rendered tiles kept per process (about 1 kB each). None under DEBUG, where templates are
# edited live and kept markup would hide the edit.
TILE_CACHE_SIZE = 0 if settings.DEBUG else 4096


@dataclass(frozen=True)
class GalleryTile:
    """One tile: `badge_tone` is a CSS modifier (ok, bad, warn, muted, busy), `is_review`
    whether the badge shows the review state rather than the status; money in micro-USD."""

    pk: str
    href: str
    cover_url: str
    placeholder: str
    badge_label: str
    badge_tone: str
    is_review: bool
    facts: str
    prompt: str
    review_comment: str
    reviewer_name: str
    byline: str
    held_micro: str  # digits: a number would go through the template's localisation
    charged_micro: str
    cost: str
    compare_href: str = ""  # a variation take's compare page ('' for a single generation)

    @property
    def html(self) -> SafeString:
        """The tile's markup (templates/projects/gallery_tile.html)."""
        return _tile_html(self)


@lru_cache(maxsize=TILE_CACHE_SIZE)
def _tile_html(tile: GalleryTile) -> SafeString:
    return render_to_string("projects/gallery_tile.html", {"tile": tile})


def gallery_tiles(rows: list[dict[str, Any]]) -> list[GalleryTile]:
    """Tiles for rows of selectors.generation_task_list."""
    # One reverse() for the page; each tile's link is the same path with its own id.
    detail = reverse("projects:generation_detail", args=[_ZERO_ID])
    compare = reverse("projects:variation_compare", args=[_ZERO_ID])
    return [_tile(row, detail, compare) for row in rows]


def _tile(row: dict[str, Any], detail: str, compare: str) -> GalleryTile:
    status, review_state = row["status"], row["review_state"]
    terminal = status in GenerationTask.TERMINAL
    if review_state != GenerationTask.ReviewState.NONE:
        label, tone = REVIEW_LABELS[review_state], REVIEW_TONES.get(review_state, "muted")
        is_review = True
    else:
        label, tone, is_review = STATUS_LABELS[status], TONES.get(status, "busy"), False
    if row["video_duration_s"]:
        length = f"{row['video_duration_s']:.1f} s"  # floatformat:1, without the Decimal
    elif row["duration"] == -1:
        length = "auto"
    else:
        length = f"{row['duration']} s"
    held, charged = row["held_micro"], row["charged_micro"]
    if status == Status.SUCCEEDED:
        cost = f"charged {usd(charged)}"
    elif terminal:
        cost = "nothing charged"
    else:
        cost = f"{usd(held)} held"
    pk = str(row["id"])
    batch = row.get("variation_batch_id")  # a variation take links its compare page
    return GalleryTile(
        pk=pk,
        href=detail.replace(_ZERO_ID, pk),
        cover_url=signed_url(row["cover"]) if row["cover"] else "",
        placeholder=STATUS_LABELS[status] if terminal else "Rendering…",
        badge_label=label,
        badge_tone=tone,
        is_review=is_review,
        facts=f"{length} · {row['resolution']}",
        prompt=row["prompt"],
        review_comment=Truncator(row["review_comment"]).chars(90) if row["review_comment"] else "",
        reviewer_name=row["reviewer_name"] or "",
        byline=f"{row['created_by__username']} · {timesince(row['created_at'])} ago",
        held_micro=str(held),
        charged_micro=str(charged),
        cost=cost,
        compare_href=compare.replace(_ZERO_ID, str(batch)) if batch else "",
    )


@dataclass(frozen=True)
class ReviewItem:
    """One video in the review queue: its links, what the card says, and why the user may
    not approve it (None when they may)."""

    pk: str
    video_url: str
    cover_url: str
    detail_url: str
    review_url: str
    project_url: str
    team_name: str
    project_name: str
    title: str
    facts: str
    approve_refusal: str | None
    picked: bool = False  # the take its variation batch picked (shown first, marked)


def review_items(tasks: list[GenerationTask], refusals: dict) -> list[ReviewItem]:
    """Items for tasks of selectors.review_queue_list; `refusals` from
    services.reviews.review_refusals."""
    detail = reverse("projects:generation_detail", args=[_ZERO_ID])
    review = reverse("projects:generation_review", args=[_ZERO_ID])
    project = reverse("projects:project_detail", args=[_ZERO_ID])
    items = []
    for task in tasks:
        pk = str(task.pk)
        seconds = f"{task.video_duration_s:.1f}" if task.video_duration_s is not None else ""
        finished = timesince(task.finished_at) if task.finished_at else ""
        items.append(
            ReviewItem(
                pk=pk,
                video_url=signed_url(task.video.name) if task.video else "",
                cover_url=signed_url(task.cover.name) if task.cover else "",
                detail_url=detail.replace(_ZERO_ID, pk),
                review_url=review.replace(_ZERO_ID, pk),
                project_url=project.replace(_ZERO_ID, str(task.project_id)),
                team_name=task.project.team.name,
                project_name=task.project.name,
                title=Truncator(task.prompt).chars(80),
                facts=f"{task.created_by.get_username()} · {task.model} · {seconds} s · "
                f"{task.resolution} · finished {finished} ago",
                approve_refusal=refusals[task.pk]["approved"],
                picked=bool(getattr(task, "picked", False)),
            )
        )
    return items
