"""Generation pages: the new-generation form, the live detail page, download, callbacks."""

from __future__ import annotations

import hmac
import logging
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import access_generation_task, access_project
from projects.exceptions import ApplicationError, InvalidRequest
from projects.forms import GenerationForm
from projects.models import GenerationTask
from projects.selectors import task_event_list
from projects.services import billing
from projects.services.callbacks import generation_task_callback
from projects.services.cancel import generation_task_cancel
from projects.services.generation import generation_task_create
from projects.spend import task_money
from projects.storage import signed_url

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def generation_new(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request.user, project_id)
    try:
        if request.method == "POST":
            form = GenerationForm(request.POST)
        else:
            # A GET with values (htmx, on provider/model change) re-renders the fields.
            form = GenerationForm(initial=request.GET.dict())
    except InvalidRequest as exc:
        return render(
            request,
            "projects/generation_form.html",
            {"project": project, "form": None, "setup_error": exc.message},
        )
    if request.method == "POST" and form.is_valid():
        try:
            task = generation_task_create(project=project, user=request.user, params=form.params())
        except InvalidRequest as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Generation submitted.")
            return redirect("projects:generation_detail", task_id=task.pk)
    context = {"project": project, "form": form, "estimate": _estimate(project, request, form)}
    if request.htmx and request.method == "GET":
        return render(request, "projects/generation_form.html#fields", context)
    return render(
        request,
        "projects/generation_form.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def generation_estimate(request: HttpRequest, project_id: str) -> HttpResponse:
    """The cost estimate and remaining budgets for the form's current choices (htmx)."""
    project = access_project(request.user, project_id)
    try:
        form = GenerationForm(request.GET)
    except InvalidRequest as exc:
        return HttpResponse(exc.message, content_type="text/plain", status=400)
    context = {"project": project, "form": form, "estimate": _estimate(project, request, form)}
    return render(request, "projects/generation_form.html#estimate", context)


def _estimate(project, request: HttpRequest, form: GenerationForm) -> billing.Estimate:
    return billing.generation_estimate(project=project, user=request.user, **form.pricing_choices())


@require_GET
def generation_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    task = access_generation_task(request.user, task_id)
    context = {
        "task": task,
        "project": task.project,
        "events": task_event_list(task=task),
        "money": task_money(task),
    }
    if request.htmx:
        return render(request, "projects/generation_detail.html#live", context)
    return render(request, "projects/generation_detail.html", context)


@require_GET
def generation_download(request: HttpRequest, task_id: str) -> HttpResponse:
    task = access_generation_task(request.user, task_id)
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
    if task is None or not hmac.compare_digest(task.callback_token, token):
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


@require_POST
def generation_cancel(request: HttpRequest, task_id: str) -> HttpResponse:
    task = access_generation_task(request.user, task_id)
    try:
        message = generation_task_cancel(task=task, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, message)
    return redirect("projects:generation_detail", task_id=task.pk)
