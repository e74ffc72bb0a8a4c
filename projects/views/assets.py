"""The asset library pages: list and upload, one asset's preview and edits, delete."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.access import MEMBER, access_asset, access_project, may_change, min_role
from projects.exceptions import ApplicationError
from projects.forms import AssetForm, AssetUploadForm
from projects.selectors import asset_generation_list, asset_list
from projects.services.asset_fit import asset_fit_problem
from projects.services.assets import asset_create, asset_delete, asset_update
from projects.uploads import upload_refusal

KINDS = [("", "All"), ("image", "Images"), ("video", "Video"), ("audio", "Audio")]


@min_role(MEMBER)
@require_GET
def asset_library(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request.user, project_id)
    kind = request.GET.get("kind", "")
    kind = kind if kind in ("image", "video", "audio") else ""
    context = {
        "project": project,
        "assets": asset_list(project=project, kind=kind),
        "kind": kind,
        "kinds": KINDS,
        "form": AssetUploadForm(),
        "upload_max_mb": settings.SEEDANCE_UPLOAD_MAX_MB,
    }
    if request.htmx:
        return render(request, "projects/asset_library.html#grid", context)
    return render(request, "projects/asset_library.html", context)


@min_role(MEMBER)
@require_POST
def asset_upload(request: HttpRequest, project_id: str) -> HttpResponse:
    """Add files to the library. The page's script posts one file per request and reads JSON
    ({"ok", "asset", "html"} or {"ok": false, "error"}); without script the form posts them
    all and gets the library page back with a message per file."""
    project = access_project(request.user, project_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = AssetUploadForm(request.POST, request.FILES)
    refusal = upload_refusal(request)
    if refusal or not form.is_valid():
        error = refusal or " ".join(form.errors.get("files", ["Choose a file."]))
        if wants_json:
            return JsonResponse({"ok": False, "error": error}, status=413 if refusal else 400)
        messages.error(request, error)
        return redirect("projects:asset_library", project_id=project.pk)
    results = []
    for upload in form.cleaned_data["files"]:
        try:
            asset = asset_create(project=project, user=request.user, upload=upload)
        except ApplicationError as exc:
            results.append((None, exc.message))
        else:
            results.append((asset, ""))
    if wants_json:
        asset, error = results[0]
        if asset is None:
            return JsonResponse({"ok": False, "error": error}, status=400)
        html = render_to_string(
            "projects/asset_library.html#tile", {"asset": asset, "project": project}, request
        )
        return JsonResponse(
            {
                "ok": True,
                "asset": {
                    "id": str(asset.pk),
                    "name": asset.name,
                    "kind": asset.kind,
                    "url": reverse("projects:asset_detail", args=[asset.pk]),
                },
                "html": html,
                "warning": asset_fit_problem(asset),
            }
        )
    for asset, error in results:
        if asset is None:
            messages.error(request, error)
        else:
            messages.success(request, f"Added “{asset.name}”.")
    return redirect("projects:asset_library", project_id=project.pk)


@min_role(MEMBER)
@require_http_methods(["GET", "POST"])
def asset_detail(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = access_asset(request.user, asset_id)
    if request.method == "POST":
        form = AssetForm(request.POST)
        if form.is_valid():
            try:
                asset_update(asset=asset, user=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Saved.")
                return redirect("projects:asset_detail", asset_id=asset.pk)
    else:
        form = AssetForm(initial={"name": asset.name, "alltoken_asset_id": asset.alltoken_asset_id})
    context = {
        "asset": asset,
        "project": asset.project,
        "form": form,
        "may_change": may_change(
            request.user, owner_id=asset.uploaded_by_id, team=asset.team, role=asset.viewer_role
        ),
        "generations": asset_generation_list(asset=asset),
    }
    return render(
        request,
        "projects/asset_detail.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@min_role(MEMBER)
@require_POST
def asset_remove(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = access_asset(request.user, asset_id)
    try:
        messages.info(request, asset_delete(asset=asset, user=request.user))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:asset_detail", asset_id=asset.pk)
    return redirect("projects:asset_library", project_id=asset.project_id)
