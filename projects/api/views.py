"""The API keys page (each member's own keys: make, list, revoke) and revoking from the team
page (team admins, every key of their team). The secret is shown once, in the answer to the
form that made it, which no cache or session keeps."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import MEMBER, min_role
from projects.api.forms import ApiKeyForm
from projects.api.keys import access_api_key, api_key_create, api_key_list_for_user, api_key_revoke
from projects.exceptions import ApplicationError


@min_role(MEMBER)
@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """The member's keys and the form for a new one."""
    form = ApiKeyForm(request.POST or None, user=request.user)
    new_key = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                new_key = api_key_create(
                    user=request.user,
                    name=data["name"],
                    projects=data["projects"],
                    expires_at=timezone.now() + timedelta(days=data["lifetime_days"]),
                    budget_usd=data["budget_usd"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                status = 201
                form = ApiKeyForm(user=request.user)
    context = {
        "form": form,
        "new_key": new_key,
        "keys": api_key_list_for_user(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "projects/api_keys.html", context, status=status)


@min_role(MEMBER)
@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: str) -> HttpResponse:
    """Revoke a key: its member, or an admin of its team (404 for anyone else)."""
    key = access_api_key(request.user, key_id)
    try:
        messages.success(request, api_key_revoke(key=key, user=request.user))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("projects:api_keys")
