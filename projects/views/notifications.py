"""Notification pages: a member's e-mail choices, and a team's webhooks (team admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import ADMIN, MEMBER, access_team, access_team_webhook, min_role
from projects.exceptions import ApplicationError
from projects.notification_forms import DIGEST, NotificationChoicesForm, TeamWebhookForm
from projects.notifications.preferences import (
    email_choices,
    email_choices_save,
    review_digest,
    review_digest_save,
)
from projects.notifications.team_webhooks import (
    team_webhook_create,
    team_webhook_delete,
    team_webhook_update,
)


@min_role(MEMBER)
@never_cache
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Which events the member hears of by e-mail."""
    if request.method == "POST":
        form = NotificationChoicesForm(request.POST)
        if form.is_valid():
            choices = dict(form.cleaned_data)
            digest = choices.pop(DIGEST)
            email_choices_save(user=request.user, choices=choices)
            review_digest_save(user=request.user, digest=digest)
            messages.success(request, "Notification settings saved.")
            return redirect("projects:notification_settings")
    else:
        initial = {**email_choices(user=request.user), DIGEST: review_digest(user=request.user)}
        form = NotificationChoicesForm(initial=initial)
    context = {"form": form, "email": request.user.email}
    return render(request, "projects/notification_settings.html", context)


@min_role(ADMIN)
@never_cache
@require_POST
def team_webhook_add(request: HttpRequest, team_id: str) -> HttpResponse:
    """Add a webhook; the answer shows its signing secret, once."""
    team = access_team(request.user, team_id, min_role=ADMIN)
    form = TeamWebhookForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the webhook a name, a URL and at least one event.")
        return redirect("projects:team_detail", team_id=team.pk)
    try:
        hook = team_webhook_create(
            team=team,
            name=form.cleaned_data["name"],
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:team_detail", team_id=team.pk)
    return render(request, "projects/webhook_created.html", {"team": team, "hook": hook})


@min_role(ADMIN)
@require_POST
def team_webhook_save(request: HttpRequest, team_id: str, webhook_id: str) -> HttpResponse:
    """Change a webhook, or remove it (`delete` in the form)."""
    hook = access_team_webhook(request.user, team_id, webhook_id)
    if "delete" in request.POST:
        team_webhook_delete(hook=hook, actor=request.user)
        messages.success(request, f"Webhook {hook.name} removed.")
        return redirect("projects:team_detail", team_id=hook.team.pk)
    form = TeamWebhookForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the webhook a name, a URL and at least one event.")
    else:
        try:
            team_webhook_update(hook=hook, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Webhook {hook.name} saved.")
    return redirect("projects:team_detail", team_id=hook.team.pk)
