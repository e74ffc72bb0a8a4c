"""Project pages: my projects, create a project, a project's gallery."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from projects.access import access_project, access_team
from projects.exceptions import ApplicationError
from projects.forms import ProjectForm
from projects.selectors import (
    generation_status_counts,
    generation_task_list,
    project_list_for_user,
    team_list_for_user,
)
from projects.services.teams import project_create

GALLERY_FILTERS = [
    ("", "All"),
    ("active", "In progress"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
]


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = project_list_for_user(request.user)
    return render(request, "projects/project_list.html", {"projects": projects})


@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    teams = team_list_for_user(request.user)
    if not teams.exists():
        messages.error(request, "You are not in a team yet; ask an admin to add you.")
        return redirect("projects:project_list")
    form = ProjectForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        team = access_team(request.user, form.cleaned_data["team"].pk)
        try:
            project = project_create(
                team=team,
                user=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("projects:project_detail", project_id=project.pk)
    return render(request, "projects/project_form.html", {"form": form})


@require_GET
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request.user, project_id)
    status = request.GET.get("status", "")
    tasks = generation_task_list(project=project, status=status)
    context = {
        "project": project,
        "tasks": tasks,
        "status": status,
        "filters": GALLERY_FILTERS,
        "counts": generation_status_counts(project=project),
    }
    if request.htmx:
        return render(request, "projects/project_detail.html#gallery", context)
    return render(request, "projects/project_detail.html", context)
