"""Spend pages: per team (its admins and Django staff) and per project (its team's members),
month by month, with a CSV export of the same entries.

Who sees what: a project's spend is visible to everyone in its team (they share its
generations anyway); a team's whole spend, grants and adjustments to its admins and to Django
staff. Another team's pages are a 404.
"""

from __future__ import annotations

import csv
from datetime import timedelta

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects.access import ADMIN, MEMBER, access_project, access_team_spend, min_role
from projects.models import Project, Team
from projects.money.budgets import budget_states
from projects.money.ledger import credit_balance
from projects.money.spend import day_bars, month_bounds, spend_csv_rows, spend_report
from projects.selectors import project_list_for_user, team_list_for_user

ENTRIES_SHOWN = 300


@min_role(MEMBER)
@require_GET
def spend_index(request: HttpRequest) -> HttpResponse:
    """Links to every spend page the user may see."""
    teams = (
        Team.objects.all()
        if request.user.is_staff
        else team_list_for_user(request.user, min_role="admin")
    )
    return render(
        request,
        "projects/spend_index.html",
        {"teams": teams.order_by("name"), "projects": project_list_for_user(request.user)},
    )


@min_role(ADMIN)
@require_GET
def team_spend(request: HttpRequest, team_id: str) -> HttpResponse:
    team = access_team_spend(request.user, team_id)
    return _spend_page(request, team=team, project=None)


@min_role(MEMBER)
@require_GET
def project_spend(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request.user, project_id, min_role=MEMBER)
    return _spend_page(request, team=project.team, project=project)


def _spend_page(request: HttpRequest, *, team: Team, project: Project | None) -> HttpResponse:
    start, end, first = month_bounds(request.GET.get("month"))
    report = spend_report(team=team, project=project, start=start, end=end)
    if request.GET.get("format") == "csv":
        return _csv(report, first)
    previous_month = (first - timedelta(days=1)).strftime("%Y-%m")
    next_month = (first + timedelta(days=32)).strftime("%Y-%m")
    entries = report.entries()
    context = {
        "team": team,
        "project": project,
        "report": report,
        "month": first,
        "month_param": first.strftime("%Y-%m"),
        "previous_month": previous_month,
        "next_month": next_month,
        "bars": day_bars(report.by_day),
        "entries": entries[:ENTRIES_SHOWN],
        "entry_count": entries.count(),
        "entries_shown": ENTRIES_SHOWN,
        "balance": credit_balance(team=team),
        "budgets": budget_states(team=team, project=project, user=None, every=project is None),
    }
    return render(request, "projects/spend.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(report, first) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    scope = report.project.slug if report.project else report.team.slug
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in spend_csv_rows(report)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="spend-{scope}-{first.strftime("%Y-%m")}.csv"'
    )
    return response
