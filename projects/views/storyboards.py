"""Storyboard pages (issue 15): a storyboard's shots, their takes, the cut and its review.

Thin views: access check (projects/access.py), form, one service call, redirect. The board
(`#board`) and the cut (`#cut`) are Django 6 partials that htmx polls every 2 s while a take
renders or the cut is assembled; the shots' order is POSTed by static/js/storyboard.js
(SortableJS) and answered with the re-rendered board.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects.access import (
    MEMBER,
    REVIEWER,
    access_cut,
    access_project,
    access_shot,
    access_storyboard,
    min_role,
)
from projects.exceptions import ApplicationError
from projects.models import Cut, GenerationTask
from projects.services import cuts, storyboards
from projects.storage import signed_url
from projects.storyboard_forms import CutReviewForm, OrderForm, ShotForm, StoryboardForm, TakeForm
from projects.storyboard_selectors import storyboard_page

TEMPLATE = "projects/storyboard_detail.html"


def _form_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@min_role(MEMBER)
@require_POST
def storyboard_new(request: HttpRequest, project_id: str) -> HttpResponse:
    project = access_project(request.user, project_id, min_role=MEMBER)
    form = StoryboardForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("projects:project_detail", project_id=project.pk)
    try:
        board = storyboards.storyboard_create(
            project=project, user=request.user, **form.cleaned_data
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:project_detail", project_id=project.pk)
    return redirect("projects:storyboard_detail", storyboard_id=board.pk)


def _context(request: HttpRequest, board) -> dict:
    page = storyboard_page(storyboard=board)
    refusal = None
    if page.cut is not None:
        refusal = cuts.cut_review_refusal(cut=page.cut, user=request.user, decision="rejected")
    return {
        "board": board,
        "project": board.project,
        "page": page,
        "cut": page.cut,
        "may_review": refusal is None,
        "approve_refusal": page.cut
        and cuts.cut_review_refusal(cut=page.cut, user=request.user, decision="approved"),
        "shot_form": ShotForm(),
        "review_form": CutReviewForm(),
    }


@min_role(MEMBER)
@require_GET
def storyboard_detail(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    """The storyboard; with htmx, `?part=board` or `?part=cut` renders that partial alone."""
    board = access_storyboard(request.user, storyboard_id, min_role=MEMBER)
    part = request.GET.get("part", "")
    if request.htmx and part in ("board", "cut"):
        return render(request, f"{TEMPLATE}#{part}", _context(request, board))
    return render(request, TEMPLATE, _context(request, board))


def _back(shot_or_board) -> HttpResponse:
    board_id = getattr(shot_or_board, "storyboard_id", None) or shot_or_board.pk
    return redirect("projects:storyboard_detail", storyboard_id=board_id)


@min_role(MEMBER)
@require_POST
def shot_add(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    board = access_storyboard(request.user, storyboard_id, min_role=MEMBER)
    form = ShotForm(request.POST)
    if form.is_valid():
        try:
            storyboards.shot_add(storyboard=board, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors(request, form)
    return _back(board)


@min_role(MEMBER)
@require_POST
def shot_edit(request: HttpRequest, shot_id: str) -> HttpResponse:
    shot = access_shot(request.user, shot_id, min_role=MEMBER)
    form = ShotForm(request.POST)
    if form.is_valid():
        try:
            storyboards.shot_update(shot=shot, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors(request, form)
    return _back(shot)


@min_role(MEMBER)
@require_POST
def shot_remove(request: HttpRequest, shot_id: str) -> HttpResponse:
    shot = access_shot(request.user, shot_id, min_role=MEMBER)
    storyboards.shot_delete(shot=shot)
    return _back(shot)


@min_role(MEMBER)
@require_POST
def shot_submit(request: HttpRequest, shot_id: str) -> HttpResponse:
    """Submit the shot as a generation (the same hold and checks as the form)."""
    shot = access_shot(request.user, shot_id, min_role=MEMBER)
    try:
        storyboards.shot_submit(shot=shot, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Shot {shot.position + 1} submitted.")
    return _back(shot)


@min_role(MEMBER)
@require_POST
def shot_take(request: HttpRequest, shot_id: str) -> HttpResponse:
    shot = access_shot(request.user, shot_id, min_role=MEMBER)
    form = TakeForm(request.POST)
    if form.is_valid():
        task = GenerationTask.objects.filter(
            pk=form.cleaned_data["task"], project=shot.storyboard.project
        ).first()
        try:
            if task is None:
                raise ApplicationError(storyboards.NOT_A_TRY)
            storyboards.shot_take_choose(shot=shot, task=task, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        _form_errors(request, form)
    return _back(shot)


@min_role(MEMBER)
@require_POST
def shots_order(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    """The new order from drag and drop; answers with the board partial (htmx)."""
    board = access_storyboard(request.user, storyboard_id, min_role=MEMBER)
    form = OrderForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            storyboards.shots_reorder(storyboard=board, shot_ids=form.cleaned_data["order"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = 400
    else:
        _form_errors(request, form)
        status = 400
    if not request.htmx:
        return _back(board)
    return render(request, f"{TEMPLATE}#board", _context(request, board), status=status)


@min_role(MEMBER)
@require_POST
def cut_assemble(request: HttpRequest, storyboard_id: str) -> HttpResponse:
    board = access_storyboard(request.user, storyboard_id, min_role=MEMBER)
    try:
        cuts.cut_start(storyboard=board, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(board)


@min_role(MEMBER)
@require_GET
def cut_download(request: HttpRequest, cut_id: str) -> HttpResponse:
    cut = access_cut(request.user, cut_id, min_role=MEMBER)
    if cut.status != Cut.Status.DONE or not cut.file:
        raise Http404("This cut has no file yet.")
    filename = f"{cut.storyboard.project.slug}-cut-{str(cut.pk)[:8]}.mp4"
    return redirect(signed_url(cut.file.name, download_as=filename))


@min_role(REVIEWER)
@require_POST
def cut_review(request: HttpRequest, cut_id: str) -> HttpResponse:
    """A reviewer approves or rejects a finished cut (services/cuts.py rules, audited)."""
    cut = access_cut(request.user, cut_id, min_role=REVIEWER)
    form = CutReviewForm(request.POST)
    if form.is_valid():
        try:
            cuts.cut_decide(cut=cut, user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Cut {form.cleaned_data['decision']}.")
    else:
        _form_errors(request, form)
    return _back(cut)
