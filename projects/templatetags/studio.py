"""Template helpers for the studio pages: progress, durations, signed media links."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from projects.badges import REVIEW_TONES, TONES
from projects.models import Asset, GenerationTask
from projects.services.asset_fit import asset_fit_problem
from projects.services.render_estimate import render_estimate, render_time_left
from projects.storage import signed_url
from projects.worker_config import worker_config

register = template.Library()
Status = GenerationTask.Status


@register.filter
def tone(status: str) -> str:
    """A CSS modifier for a status badge: ok, bad, muted, warn or busy."""
    return TONES.get(status, "busy")


@register.filter
def elapsed_seconds(task: GenerationTask) -> int:
    """Seconds from creation to the end (or to now while it runs)."""
    end = task.finished_at or timezone.now()
    return max(0, int((end - task.created_at).total_seconds()))


@register.filter
def progress_percent(task: GenerationTask) -> int:
    """An honest estimate, 0-100, that moves with the clock: gateways report no percentage,
    only queued / running / done, so the bar follows the time since the task was sent
    against its expected wait (`expected_wait_s`): 5 % at the send, 85 % at the expected
    time, then creeping towards 92 % (never "done" before the gateway says so). A task the
    gateway reported running starts at 15 %; storing the video is 94 %."""
    if task.status == Status.SUCCEEDED:
        return 100
    if task.is_terminal:
        return 0
    if task.status == Status.DOWNLOADING:
        return 94
    if task.status not in (Status.QUEUED, Status.RUNNING):
        return 3  # not sent yet, or the send is being confirmed
    since = task.submitted_at or task.created_at
    ratio = (timezone.now() - since).total_seconds() / max(task.expected_wait_s, 0.1)
    estimate = 5 + 80 * ratio if ratio <= 1 else 85 + 7 * (1 - 1 / ratio)
    floor = 15 if task.status == Status.RUNNING else 5
    return int(max(floor, estimate))


@register.filter
def time_left(task: GenerationTask) -> str:
    """What a member is told of a sent task's end, from the render estimate (projects/services/
    render_estimate.py): "about 1 min 40 s left", "any moment now", or, honestly, "longer than
    usual" once past the estimate's high quantile."""
    left = render_time_left(task, now=timezone.now())
    if left is None:
        return "longer than usual"
    if left < 5:
        return "any moment now"
    step = 5 if left < 60 else 10  # no false precision
    return f"about {seconds(step * round(left / step))} left"


@register.filter
def usual_wait(task: GenerationTask) -> float:
    """Real seconds a render like this one usually takes: the estimate's median (the expected
    time without history)."""
    return render_estimate(task).mid_s * worker_config().upstream_time_scale


@register.filter
def seconds(value: float | int | None) -> str:
    """'42 s', '2 min 05 s'."""
    if value is None:
        return "–"
    total = int(round(float(value)))
    if total < 60:
        return f"{total} s"
    return f"{total // 60} min {total % 60:02d} s"


@register.simple_tag
def media_url(name: str, download_as: str = "") -> str:
    """An expiring link to a stored file ('' when there is none)."""
    return signed_url(name, download_as=download_as) if name else ""


@register.filter
def review_tone(review_state: str) -> str:
    """A CSS modifier for a review badge: warn (awaiting), ok (approved), bad (rejected)."""
    return REVIEW_TONES.get(review_state, "muted")


@register.simple_tag(takes_context=True)
def top_bar(context) -> SafeString:
    """The top bar (templates/top_bar.html): for a logged-in user, links to the review queue
    when they review in some team and to the teams they administer (selectors.nav_teams).

    It is on every page and changes only when someone's roles or name do: each process keeps
    it per session and user for page_cache.PAGE_TTL seconds. It only shows links (every view
    checks roles itself), so a role change shows in the bar within that time."""
    from projects.page_cache import fragment
    from projects.selectors import nav_teams

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return render_to_string("top_bar.html", {})
    user = request.user
    key = ("top_bar", request.session.session_key, user.pk, user.get_username(), user.is_staff)
    return fragment(
        request, key, "top_bar.html", lambda: {"user": user, "nav": nav_teams(user=user)}
    )


@register.filter
def asset_fit(asset: Asset) -> str:
    """Why no gateway here would take the library file as a reference ('' when one would)."""
    return asset_fit_problem(asset)
