"""Review pages: the reviewer's queue and the approve / reject decision."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from projects.access import REVIEWER, access_review_queue, access_review_task, min_role
from projects.exceptions import ApplicationError
from projects.forms import ReviewForm
from projects.models import GenerationTask
from projects.page_cache import fragment
from projects.selectors import REVIEW_PAGE_SIZE, page_of, review_queue_list, tasks_version
from projects.services.reviews import review_refusals, video_approve, video_reject
from projects.storyboard_selectors import cuts_awaiting_review
from projects.variation_selectors import picked_first
from projects.views.tiles import review_items


@min_role(REVIEWER)
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Videos awaiting review in every project the user reviews, oldest first, each playing
    inline with approve / reject. The list is kept per reviewer, page and the versions of
    every task in those projects (page_cache)."""
    # Which projects, and their teams' self-review rule (it decides what the user may do).
    scope = tuple(access_review_queue(request.user))
    project_ids = [pk for pk, _ in scope]
    version = tasks_version(GenerationTask.objects.filter(project_id__in=project_ids))
    queue = fragment(
        request,
        ("review", request.user.pk, scope, version, request.get_full_path()),
        "projects/review_items.html",
        lambda: _queue(request, project_ids),
    )
    # Cuts of storyboards await review too (services/cuts.py); a short list, not cached.
    waiting_cuts = cuts_awaiting_review(project_ids=project_ids)
    return render(request, "projects/review_queue.html", {"queue": queue, "cuts": waiting_cuts})


def _queue(request: HttpRequest, project_ids: list) -> dict:
    page = page_of(
        picked_first(review_queue_list(project_ids=project_ids)),
        number=request.GET.get("page"),
        per_page=REVIEW_PAGE_SIZE,
    )
    tasks = list(page.object_list)
    refusals = review_refusals(tasks=tasks, user=request.user)
    items = review_items(tasks, refusals)
    return {"items": items, "page": page, "next": request.get_full_path()}


@min_role(REVIEWER)
@require_POST
def generation_review(request: HttpRequest, task_id: str) -> HttpResponse:
    """Record a reviewer's decision (`decision` approved | rejected, `comment`), then go back
    to `next` (the queue or the detail page)."""
    task = access_review_task(request.user, task_id)
    form = ReviewForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
    else:
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        try:
            if decision == "approved":
                video_approve(task=task, user=request.user, comment=comment)
            else:
                video_reject(task=task, user=request.user, comment=comment)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            verb = "Approved" if decision == "approved" else "Rejected"
            messages.success(request, f"{verb}: “{Truncator(task.prompt).words(12)}”.")
    return redirect(back or "projects:generation_detail", **({} if back else {"task_id": task.pk}))
