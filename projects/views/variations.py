"""Variation pages: the compare page of a batch's takes (played side by side in sync by
static/js/compare.js) and "Pick this take" (htmx)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects.access import (
    MEMBER,
    access_generation_task,
    access_variation_batch,
    may_change,
    min_role,
)
from projects.exceptions import ApplicationError
from projects.models import GenerationTask, VariationBatch
from projects.services.variations import variation_pick
from projects.storage import signed_url
from projects.variation_selectors import variation_take_list

Status = GenerationTask.Status


@min_role(MEMBER)
@require_GET
def variation_compare(request: HttpRequest, batch_id: str) -> HttpResponse:
    """A batch's takes side by side; while some still render, htmx asks for the `#takes`
    fragment every few seconds (it stops once every take has ended)."""
    batch = access_variation_batch(request.user, batch_id)
    context = _context(request, batch)
    if request.htmx:
        return render(request, "projects/variation_compare.html#takes", context)
    return render(request, "projects/variation_compare.html", context)


@min_role(MEMBER)
@require_POST
def variation_pick_take(request: HttpRequest, batch_id: str, task_id: str) -> HttpResponse:
    """Make a take the batch's pick (services/variations.py), then show the takes again
    (the `#takes` fragment for htmx, else the compare page)."""
    batch = access_variation_batch(request.user, batch_id)
    task = access_generation_task(request.user, task_id)
    error, role = "", batch.viewer_role
    try:
        batch = variation_pick(batch=batch, task=task, user=request.user, role=role)
    except ApplicationError as exc:
        error = exc.message
    batch.viewer_role = role
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Picked: review sees this take first.")
        return redirect("projects:variation_compare", batch_id=batch.pk)
    context = _context(request, batch)
    context["pick_error"] = error
    return render(request, "projects/variation_compare.html#takes", context)


def _context(request: HttpRequest, batch: VariationBatch) -> dict:
    project = batch.project
    takes = []
    for number, take in enumerate(variation_take_list(batch=batch), start=1):
        done = take.status == Status.SUCCEEDED and bool(take.video)
        takes.append(
            {
                "task": take,
                "number": number,
                "video_url": signed_url(take.video.name) if done else "",
                "cover_url": signed_url(take.cover.name) if done and take.cover else "",
                "picked": take.pk == batch.pick_id,
                "done": done,
                "ended": take.status in GenerationTask.TERMINAL,
            }
        )
    return {
        "batch": batch,
        "project": project,
        "takes": takes,
        "running": any(not take["ended"] for take in takes),
        "may_pick": may_change(
            request.user,
            owner_id=batch.created_by_id,
            team=project.team,
            role=batch.viewer_role,
        ),
    }
