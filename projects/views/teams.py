"""Team pages for team admins: members and roles, review settings, the audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects.access import ADMIN, access_team, min_role
from projects.api.keys import api_key_list_for_team
from projects.exceptions import ApplicationError
from projects.forms import TeamMemberForm, TeamMemberRemoveForm, TeamSettingsForm
from projects.models import Membership
from projects.notification_forms import TeamWebhookForm
from projects.ratelimits import MEMBER_ADD_LIMITED, member_add_limited
from projects.selectors import audit_event_list, team_member_list, team_projects_with_members
from projects.services.teams import team_member_remove, team_member_set, team_settings_update

AUDIT_PAGE_SIZE = 100


@min_role(ADMIN)
@require_GET
def team_detail(request: HttpRequest, team_id: str) -> HttpResponse:
    team = access_team(request.user, team_id, min_role=ADMIN)
    context = {
        "team": team,
        "members": team_member_list(team=team),
        "projects": team_projects_with_members(team=team),
        "roles": Membership.Role.choices,
        "member_form": TeamMemberForm(),
        "api_keys": api_key_list_for_team(team=team),
        "webhooks": [
            (hook, TeamWebhookForm(initial=_webhook_initial(hook), auto_id=f"id_{hook.pk}_%s"))
            for hook in team.webhooks.all()
        ],
        "webhook_form": TeamWebhookForm(initial={"active": True}, auto_id="id_new_hook_%s"),
        "settings_form": TeamSettingsForm(
            initial={
                "allow_self_review": team.allow_self_review,
                "members_manage_all": team.members_manage_all,
            }
        ),
    }
    return render(request, "projects/team_detail.html", context)


def _webhook_initial(hook) -> dict:
    return {"name": hook.name, "url": hook.url, "events": hook.events, "active": hook.active}


@min_role(ADMIN)
@require_POST
def team_member_save(request: HttpRequest, team_id: str) -> HttpResponse:
    """Add a member by username, or change a member's role."""
    team = access_team(request.user, team_id, min_role=ADMIN)
    form = TeamMemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a username and a role.")
    elif member_add_limited(request):
        messages.error(request, MEMBER_ADD_LIMITED)
    else:
        try:
            membership = team_member_set(
                team=team,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is {membership.role} in {team.name}."
            )
    return redirect("projects:team_detail", team_id=team.pk)


@min_role(ADMIN)
@require_POST
def team_member_delete(request: HttpRequest, team_id: str) -> HttpResponse:
    team = access_team(request.user, team_id, min_role=ADMIN)
    form = TeamMemberRemoveForm(request.POST)
    if form.is_valid():
        try:
            team_member_remove(
                team=team, username=form.cleaned_data["username"], actor=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{form.cleaned_data['username']} left {team.name}.")
    return redirect("projects:team_detail", team_id=team.pk)


@min_role(ADMIN)
@require_POST
def team_settings(request: HttpRequest, team_id: str) -> HttpResponse:
    team = access_team(request.user, team_id, min_role=ADMIN)
    form = TeamSettingsForm(request.POST)
    if form.is_valid():
        team_settings_update(
            team=team,
            allow_self_review=form.cleaned_data["allow_self_review"],
            members_manage_all=form.cleaned_data["members_manage_all"],
            actor=request.user,
        )
        messages.success(request, "Team settings saved.")
    return redirect("projects:team_detail", team_id=team.pk)


@min_role(ADMIN)
@require_GET
def team_audit(request: HttpRequest, team_id: str) -> HttpResponse:
    """The team's audit trail, newest first, 100 a page."""
    team = access_team(request.user, team_id, min_role=ADMIN)
    page = Paginator(audit_event_list(team=team), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "projects/team_audit.html", {"team": team, "page": page})
