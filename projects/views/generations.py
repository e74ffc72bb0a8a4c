"""Generation pages: the new-generation form (and revising a rejected video), the live
detail page with its review, download, cancel, and gateway callbacks."""

from __future__ import annotations

import hmac
import logging
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import MEMBER, access_generation_task, access_project, may_change, min_role
from projects.exceptions import ApplicationError, InvalidRequest
from projects.forms import ReviewForm
from projects.generation_form import GenerationForm
from projects.models import GenerationTask, Project
from projects.money import billing
from projects.money.spend import task_money
from projects.page_cache import fragment
from projects.providers.registry import get_capabilities
from projects.ratelimits import SUBMIT_LIMITED, submit_limited
from projects.selectors import (
    DECIDED,
    generation_task_whole,
    reference_list,
    review_list,
    revision_list,
    task_event_list,
    tasks_version,
)
from projects.services.assets import asset_from_last_frame
from projects.services.callbacks import generation_task_callback
from projects.services.cancel import cancel_offered, generation_task_cancel
from projects.services.deletion import generation_task_delete
from projects.services.drafts import draft_final_refusal, draft_finals, final_quotes
from projects.services.generation import generation_task_create
from projects.services.reviews import (
    generation_retry_initial,
    generation_revise,
    generation_revise_initial,
    review_refusals,
)
from projects.services.variations import variation_batch_create
from projects.storage import signed_url
from projects.uploads import upload_refusal

logger = logging.getLogger(__name__)
REJECTED = GenerationTask.ReviewState.REJECTED


@min_role(MEMBER)
@require_http_methods(["GET", "POST"])
def generation_new(request: HttpRequest, project_id: str) -> HttpResponse:
    """The generation form. `?revise=<task id>` prefills it from a rejected video; the
    submit then creates a revision linked to it (services/reviews.py)."""
    project = access_project(request.user, project_id, min_role=MEMBER)
    revised_from = _revised_task(request, project)
    try:
        if request.method == "POST":
            form = GenerationForm(request.POST, request.FILES, project=project)
        elif revised_from is not None and "revise" in request.GET:
            form = GenerationForm(
                project=project, initial=generation_revise_initial(task=revised_from)
            )
        elif "retry" in request.GET:
            retried = _project_task(request, project, request.GET["retry"])
            form = GenerationForm(project=project, initial=generation_retry_initial(task=retried))
        else:
            # A GET with values (htmx on provider/model change, ?first_frame=<asset id> from
            # "use last frame") pre-fills the fields.
            form = GenerationForm(project=project, initial=GenerationForm.initial_from(request.GET))
    except InvalidRequest as exc:
        return render(
            request,
            "projects/generation_form.html",
            {"project": project, "form": None, "setup_error": exc.message},
        )
    status = 200
    if request.method == "POST" and submit_limited(request):
        form.is_valid()
        form.add_error(None, SUBMIT_LIMITED)
        status = 429
    elif request.method == "POST" and upload_refusal(request):
        form.is_valid()
        form.add_error(None, upload_refusal(request))
        status = 413
    elif request.method == "POST" and form.is_valid():
        count = 1
        try:
            if revised_from is not None:
                task = generation_revise(task=revised_from, user=request.user, params=form.params())
            elif (count := form.variation_count()) > 1:
                batch = variation_batch_create(
                    project=project, user=request.user, params=form.params(), count=count
                )
            else:
                task = generation_task_create(
                    project=project, user=request.user, params=form.params()
                )
        except InvalidRequest as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if count > 1:
                messages.success(request, f"{count} takes submitted.")
                return redirect("projects:variation_compare", batch_id=batch.pk)
            messages.success(request, "Generation submitted.")
            return redirect("projects:generation_detail", task_id=task.pk)
    if request.method == "POST" and status == 200:
        status = 400
    context = {
        "project": project,
        "form": form,
        "revised_from": revised_from,
        "estimate": _estimate(project, request, form),
    }
    if request.htmx and request.method == "GET":
        return render(request, "projects/generation_form.html#fields", context)
    return render(request, "projects/generation_form.html", context, status=status)


def _revised_task(request: HttpRequest, project: Project) -> GenerationTask | None:
    """The rejected task being revised (`revise` in the query, `revised_from` in the form),
    checked through access like any other object and required to be in this project."""
    if request.method == "POST":
        task_id = request.POST.get("revised_from", "")
    else:
        task_id = request.GET.get("revise") or request.GET.get("revised_from", "")
    if not task_id:
        return None
    task = _project_task(request, project, task_id)
    if task.review_state != GenerationTask.ReviewState.REJECTED:
        raise Http404("Only a rejected video can be revised.")
    return task


def _project_task(request: HttpRequest, project: Project, task_id: str) -> GenerationTask:
    # Checked through access like any other object, and required to be in this project.
    task = access_generation_task(request.user, task_id, min_role=MEMBER)
    if task.project_id != project.pk:
        raise Http404("No such generation in this project.")
    return task


@min_role(MEMBER)
@require_GET
def generation_estimate(request: HttpRequest, project_id: str) -> HttpResponse:
    """The cost estimate and remaining budgets for the form's current choices (htmx)."""
    project = access_project(request.user, project_id, min_role=MEMBER)
    try:
        form = GenerationForm(request.GET, project=project)
    except InvalidRequest as exc:
        return HttpResponse(exc.message, content_type="text/plain", status=400)
    context = {"project": project, "form": form, "estimate": _estimate(project, request, form)}
    return render(request, "projects/generation_form.html#estimate", context)


def _estimate(project, request: HttpRequest, form: GenerationForm) -> billing.Estimate:
    return billing.generation_estimate(
        project=project,
        user=request.user,
        count=form.variation_count(),
        **form.pricing_choices(),
    )


@min_role(MEMBER)
@require_GET
def generation_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    """A generation's page; htmx asks for its `#live` fragment every 2 s until it ends.
    A finished generation's fragment is kept per task version, viewer, the team's review
    rule and, for a rejected video, its revisions' versions (it lists them; page_cache). A
    running one's is rendered every time (its elapsed time and progress move by the clock)."""
    # What the key and the page around the fragment need; the rest only when rendering it.
    task = access_generation_task(
        request.user,
        task_id,
        min_role=MEMBER,
        fields=(
            "version",
            "status",
            "review_state",
            "project__name",
            "project__team__allow_self_review",
            "project__team__members_manage_all",
            "draft",
        ),
    )
    key = None
    if task.is_terminal:
        team = task.project.team
        rules = (team.allow_self_review, team.members_manage_all)
        key = ("detail", task.pk, task.version, request.user.pk, task.viewer_role, rules)
        if task.review_state == REJECTED:
            key += tasks_version(GenerationTask.objects.filter(revised_from=task.pk))
        if task.draft:  # it lists the finals rendered from it, with their status
            key += tasks_version(GenerationTask.objects.filter(draft_source=task.pk))
    live = fragment(request, key, "projects/generation_live.html", lambda: _live(request, task))
    if request.htmx:
        return HttpResponse(live)
    return render(
        request,
        "projects/generation_detail.html",
        {"task": task, "project": task.project, "live": live},
    )


def _live(request: HttpRequest, task: GenerationTask) -> dict:
    task = generation_task_whole(task=task)
    refusals = review_refusals(tasks=[task], user=request.user, role=task.viewer_role)[task.pk]
    return {
        "task": task,
        "project": task.project,
        "user": request.user,
        "may_change": may_change(
            request.user, owner_id=task.created_by_id, team=task.project.team, role=task.viewer_role
        ),
        "may_cancel": cancel_offered(task),
        "events": task_event_list(task=task),
        "money": task_money(task),
        # Decisions exist only once a video left "awaiting review" (services/reviews.py).
        "reviews": review_list(task=task) if task.review_state in DECIDED else [],
        # Only a rejected video can be revised (services/reviews.py).
        "revisions": revision_list(task=task) if task.review_state == REJECTED else [],
        # A deleted original is not linked (its page is gone).
        "revised_from_shown": task.revised_from_id is not None
        and GenerationTask.objects.filter(
            pk=task.revised_from_id, deleted_at__isnull=True
        ).exists(),
        "approve_refusal": refusals["approved"],
        "reject_refusal": refusals["rejected"],
        "review_form": ReviewForm(),
        "references": reference_list(task=task),
        "variation_picked": task.variation_batch_id is not None and task.picked_in.exists(),
        **_draft_context(task),
    }


def _draft_context(task: GenerationTask) -> dict:
    """A draft's page: its finals and, once it has succeeded, what 'Render final' offers
    (services/drafts.py); a final's: whether its draft can still be linked."""
    if task.draft_source_id is not None:
        shown = GenerationTask.objects.filter(
            pk=task.draft_source_id, deleted_at__isnull=True
        ).exists()
        return {"draft_source_shown": shown}
    if not task.draft or task.status != GenerationTask.Status.SUCCEEDED:
        return {}
    model = get_capabilities(task.provider).model(task.model)
    return {
        "finals": draft_finals(draft=task),
        "final_refusal": draft_final_refusal(draft=task),
        "final_quotes": final_quotes(draft=task),
        "final_default": model.default_resolution if model else "",
        "final_tiers": model.service_tiers if model else (),
    }


@min_role(MEMBER)
@require_GET
def generation_download(request: HttpRequest, task_id: str) -> HttpResponse:
    task = access_generation_task(request.user, task_id, min_role=MEMBER)
    if task.status != GenerationTask.Status.SUCCEEDED or not task.video:
        raise Http404("This generation has no video yet.")
    filename = f"{task.project.slug}-{str(task.pk)[:8]}.mp4"
    return redirect(signed_url(task.video.name, download_as=filename))


@login_not_required
@csrf_exempt
@require_POST
def generation_callback(request: HttpRequest, task_id: str, token: str) -> HttpResponse:
    """A gateway's status callback. Authenticated by the per-task secret in the URL; the body
    is only a hint: the task is re-fetched from the gateway before anything changes."""
    task = (
        GenerationTask.objects.filter(pk=task_id).only("pk", "callback_token").first()
        if _is_uuid(task_id)
        else None
    )
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters (TypeError).
    if task is None or not hmac.compare_digest(task.callback_token.encode(), token.encode()):
        raise Http404("Unknown callback.")
    try:
        outcome = generation_task_callback(task_id=str(task.pk), body=request.body)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    return HttpResponse(outcome, status=200, content_type="text/plain")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@min_role(MEMBER)
@require_POST
def generation_cancel(request: HttpRequest, task_id: str) -> HttpResponse:
    task = access_generation_task(request.user, task_id, min_role=MEMBER)
    try:
        message = generation_task_cancel(task=task, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, message)
    return redirect("projects:generation_detail", task_id=task.pk)


@min_role(MEMBER)
@require_POST
def generation_delete(request: HttpRequest, task_id: str) -> HttpResponse:
    """Delete a finished generation (its maker or a team admin), then show its project."""
    task = access_generation_task(request.user, task_id, min_role=MEMBER)
    try:
        message = generation_task_delete(task=task, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:generation_detail", task_id=task.pk)
    messages.success(request, message)
    return redirect("projects:project_detail", project_id=task.project_id)


@min_role(MEMBER)
@require_POST
def generation_use_last_frame(request: HttpRequest, task_id: str) -> HttpResponse:
    """Make the task's last frame an asset of its project and open a new generation with it
    as the first frame."""
    task = access_generation_task(request.user, task_id)
    try:
        asset = asset_from_last_frame(task=task, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:generation_detail", task_id=task.pk)
    url = reverse("projects:generation_new", args=[task.project_id])
    query = urlencode(
        {"provider": task.provider, "model": task.model, "first_frame": str(asset.pk)}
    )
    return redirect(f"{url}?{query}")
