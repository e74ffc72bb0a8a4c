"""Project pages: my projects, create a project, a project's gallery, who sees a project."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from projects.access import ADMIN, MEMBER, access_project, access_team, min_role
from projects.exceptions import ApplicationError
from projects.forms import ProjectAccessForm, ProjectForm
from projects.models import Project
from projects.page_cache import fragment
from projects.selectors import (
    GALLERY_PAGE_SIZE,
    gallery_rows_complete,
    generation_status_counts,
    generation_task_list,
    page_of,
    project_list_for_user,
    tasks_version,
    team_list_for_user,
)
from projects.services.teams import project_access_set, project_create
from projects.storyboard_forms import StoryboardForm
from projects.storyboard_selectors import storyboard_list
from projects.views.tiles import gallery_tiles

GALLERY_FILTERS = [
    ("", "All"),
    ("active", "In progress"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
REVIEW_FILTERS = [
    ("", "Any review"),
    ("awaiting", "Awaiting review"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
]


@min_role(MEMBER)
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = project_list_for_user(request.user)
    return render(request, "projects/project_list.html", {"projects": projects})


@min_role(MEMBER)
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    teams = team_list_for_user(request.user)
    if not teams.exists():
        messages.error(request, "You are not in a team yet; ask an admin to add you.")
        return redirect("projects:project_list")
    form = ProjectForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        team = access_team(request.user, form.cleaned_data["team"].pk, min_role=MEMBER)
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


@min_role(MEMBER)
@require_GET
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    """A project's gallery: filter counts, a page of tiles, the pager. htmx asks for the
    `#gallery` fragment alone every 4 s while something renders. The fragment is the same
    for every member, so it is kept per project, tasks' versions and filters (page_cache)."""
    project = access_project(request.user, project_id, min_role=MEMBER)
    status = request.GET.get("status", "")
    review = request.GET.get("review", "")
    number = request.GET.get("page", "")
    version = tasks_version(project.generation_tasks.all())
    gallery = fragment(
        request,
        ("gallery", project.pk, version, status, review, number),
        "projects/gallery.html",
        lambda: _gallery_context(project, status=status, review=review, number=number),
    )
    if request.htmx:
        return HttpResponse(gallery)
    context = {
        "project": project,
        "gallery": gallery,
        "storyboards": storyboard_list(project=project),
        "storyboard_form": StoryboardForm(),
    }
    return render(request, "projects/project_detail.html", context)


def _gallery_context(project: Project, *, status: str, review: str, number: str) -> dict:
    counts = generation_status_counts(project=project, status=status, review=review)
    page = page_of(
        generation_task_list(project=project, status=status, review=review),
        number=number,
        per_page=GALLERY_PAGE_SIZE,
        count=counts["matching"],
    )
    return {
        "project": project,
        "tiles": gallery_tiles(gallery_rows_complete(list(page.object_list))),
        "page": page,
        "query": urlencode({"status": status, "review": review}) + "&",
        "status": status,
        "review": review,
        "filters": GALLERY_FILTERS,
        "review_filters": REVIEW_FILTERS,
        "counts": counts,
    }


@min_role(ADMIN)
@require_http_methods(["GET", "POST"])
def project_access(request: HttpRequest, project_id: str) -> HttpResponse:
    """Team admins: restrict a project to listed members, and list them."""
    project = access_project(request.user, project_id, min_role=ADMIN)
    initial = {
        "restricted": project.restricted,
        "members": list(project.members.values_list("user_id", flat=True)),
    }
    form = ProjectAccessForm(request.POST or None, team=project.team, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project_access_set(
                project=project,
                restricted=form.cleaned_data["restricted"],
                members=form.cleaned_data["members"],
                actor=request.user,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Project access saved.")
            return redirect("projects:project_access", project_id=project.pk)
    return render(request, "projects/project_access.html", {"project": project, "form": form})
