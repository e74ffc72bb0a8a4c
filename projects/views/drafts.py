"""'Render final' on a succeeded draft's page (services/drafts.py): the final generation is
made from the draft and its page opened."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from projects.access import MEMBER, access_generation_task, min_role
from projects.exceptions import ApplicationError, InvalidRequest
from projects.option_fields import FinalFromDraftForm
from projects.providers.registry import get_capabilities
from projects.services.drafts import generation_final_from_draft


@min_role(MEMBER)
@require_POST
def generation_render_final(request: HttpRequest, task_id: str) -> HttpResponse:
    """Create the final of the draft `task_id` with the resolution, tier and watermark the
    draft's page sent, and open it; a refusal is shown on the draft's page, nothing held."""
    draft = access_generation_task(request.user, task_id, min_role=MEMBER)
    model = get_capabilities(draft.provider).model(draft.model)
    if model is None:
        messages.error(request, f"{draft.provider} no longer offers {draft.model}.")
        return redirect("projects:generation_detail", task_id=draft.pk)
    form = FinalFromDraftForm(request.POST, model=model)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems))
        return redirect("projects:generation_detail", task_id=draft.pk)
    try:
        final = generation_final_from_draft(draft=draft, user=request.user, choices=form.choices())
    except InvalidRequest as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return redirect("projects:generation_detail", task_id=draft.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:generation_detail", task_id=draft.pk)
    messages.success(request, "Final submitted: rendering it from the draft.")
    return redirect("projects:generation_detail", task_id=final.pk)
