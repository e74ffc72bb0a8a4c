"""Draft first (Seedance 1.5 pro on Ark and BytePlus, upstream-research §1.3, §1.4, §9): a
480p draft, then the final rendered from it through a `draft_task` item, each held and
charged by the tokens the gateway reports; `manage.py generate --draft` / `--from-draft`;
and every refusal names the gateway and the rule, with nothing held."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from projects.exceptions import InvalidRequest
from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditEntry, GenerationTask
from projects.money.pricing import unit_cost_micro
from projects.services.drafts import (
    FinalChoices,
    draft_final_refusal,
    generation_final_from_draft,
)
from projects.services.generation import GenerationParams, generation_task_create
from tests.conftest import create_task, drive, generate_json

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
PRO_1_5 = {"ark": "doubao-seedance-1-5-pro-251215", "byteplus": "seedance-1-5-pro-251215"}


def draft_params(provider: str = "ark", **overrides) -> GenerationParams:
    values = dict(
        provider=provider,
        model=PRO_1_5[provider],
        prompt="A paper boat on a rainy street",
        ratio="16:9",
        resolution="480p",
        duration=4,
        draft=True,
    )
    values.update(overrides)
    return GenerationParams(**values)


def creates(sim, dialect: str) -> list[dict]:
    return [
        r["body"] for r in sim.engine.requests if r["op"] == "create" and r["dialect"] == dialect
    ]


def charge_of(task: GenerationTask) -> CreditEntry:
    """The task's charge, after checking it is its reported tokens x its hold's rate."""
    hold = CreditEntry.objects.get(task=task, kind="hold")
    charge = CreditEntry.objects.get(task=task, kind="charge")
    tokens = task.usage["completion_tokens"]
    assert (charge.unit, charge.quantity) == ("mtokens", tokens)
    assert -charge.amount_micro == unit_cost_micro(
        unit="mtokens", rate_micro=hold.rate_micro, quantity=tokens
    )
    return charge


@pytest.mark.parametrize("provider", ["ark", "byteplus"])
def test_a_draft_then_its_final_each_charged_its_tokens(sim, project, member, provider):
    draft = drive(create_task(project=project, user=member, params=draft_params(provider)))
    assert draft.status == Status.SUCCEEDED, draft.error_message
    (sent,) = creates(sim, provider)
    assert sent["draft"] is True and sent["resolution"] == "480p"
    assert sent["return_last_frame"] is False  # a draft has none (§1.3)
    # 480p 16:9 on 1.5 pro is 864x496 (§1.7): floor(864*496/1024 * 97) for 4 s.
    assert draft.usage["completion_tokens"] == 40_594 == charge_of(draft).quantity
    assert draft_final_refusal(draft=draft) == ""

    with TestCase.captureOnCommitCallbacks(execute=True):  # the submit job, as after a commit
        final = generation_final_from_draft(
            draft=draft, user=member, choices=FinalChoices(resolution="720p")
        )
    final = drive(final)
    assert final.status == Status.SUCCEEDED, final.error_message
    assert final.draft_source_id == draft.pk and not final.draft
    # It inherits what the gateway takes from the draft, and shows it.
    assert (final.prompt, final.ratio, final.duration, final.generate_audio) == (
        draft.prompt,
        draft.ratio,
        4,
        draft.generate_audio,
    )
    _, body = creates(sim, provider)
    assert body["content"] == [{"type": "draft_task", "draft_task": {"id": draft.upstream_task_id}}]
    assert body["resolution"] == "720p" and body["return_last_frame"] is True
    for inherited in ("ratio", "duration", "seed", "generate_audio", "camera_fixed", "draft"):
        assert inherited not in body  # the draft's, never re-sent (§1.4, §9)
    assert final.usage["completion_tokens"] == 87_300 == charge_of(final).quantity  # 1280x720
    assert sorted(e.kind for e in CreditEntry.objects.filter(task__in=[draft, final])) == [
        "charge",
        "charge",
        "hold",
        "hold",
        "release",
        "release",
    ]
    assert ledger_problems()[0] == []


@pytest.mark.django_db(transaction=True)  # the command's jobs run on commit, as in production
def test_generate_command_draft_then_from_draft(sim):
    draft = generate_json(
        "--provider=byteplus",
        "--model=seedance-1-5-pro-251215",
        "--prompt=A red fox trotting through fresh snow",
        "--duration=4",
        "--draft",
    )
    assert (draft["status"], draft["draft"], draft["resolution"]) == ("succeeded", True, "480p")
    assert draft["charged_quantity"] == 40_594
    out = io.StringIO()
    call_command(
        "generate",
        "--user=mia",
        f"--from-draft={draft['upstream_task_id']}",  # the gateway's id works as well as ours
        "--resolution=1080p",
        "--wait",
        "--json",
        stdout=out,
        stderr=io.StringIO(),
    )
    final = json.loads(out.getvalue())
    assert final["status"] == "succeeded" and final["draft_source"] == draft["id"]
    assert (final["prompt"], final["resolution"], final["draft"]) == (
        draft["prompt"],
        "1080p",
        False,
    )
    assert final["charged_quantity"] == 196_425  # 1920x1080, 4 s
    assert ledger_problems()[0] == []
    with pytest.raises(CommandError, match="takes --prompt from the draft"):
        call_command(
            "generate",
            "--user=mia",
            f"--from-draft={draft['id']}",
            "--prompt=x",
            stdout=io.StringIO(),
        )


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        (
            {"model": "doubao-seedance-2-0-260128"},
            "draft",
            "Ark renders no draft with doubao-seedance-2-0-260128 (upstream-research §1.3, §9",
        ),
        ({"resolution": "720p"}, "resolution", "Ark renders a draft at 480p only, not 720p"),
        ({"service_tier": "flex"}, "service_tier", "Ark does not run a draft on the flex tier"),
        ({"frames": 121}, "frames", "Ark takes no frame count for doubao-seedance-1-5-pro"),
    ],
)
def test_a_draft_against_the_rules_is_refused_and_nothing_is_held(
    sim, project, member, overrides, field, words
):
    with pytest.raises(InvalidRequest) as refused:
        generation_task_create(project=project, user=member, params=draft_params(**overrides))
    assert words in refused.value.errors[field]
    assert (
        not GenerationTask.objects.exists() and not CreditEntry.objects.filter(kind="hold").exists()
    )
    assert creates(sim, "ark") == []


def test_a_final_needs_a_succeeded_draft_the_gateway_still_keeps(sim, project, member):
    plain = drive(
        create_task(project=project, user=member, params=draft_params(draft=False, duration=4))
    )
    with pytest.raises(InvalidRequest, match="Only a draft can be rendered final"):
        generation_final_from_draft(draft=plain, user=member, choices=FinalChoices("720p"))
    draft = create_task(project=project, user=member, params=draft_params())
    draft.refresh_from_db()
    assert "has not finished yet" in draft_final_refusal(draft=draft)
    draft = drive(draft)
    GenerationTask.objects.filter(pk=draft.pk).update(
        submitted_at=timezone.now() - timedelta(days=8)
    )
    draft.refresh_from_db()
    with pytest.raises(InvalidRequest, match=r"keeps a task for 7 days \(upstream-research §1.8\)"):
        generation_final_from_draft(draft=draft, user=member, choices=FinalChoices("720p"))
    assert GenerationTask.objects.count() == 2
    assert CreditEntry.objects.filter(kind="hold").count() == 2  # the two made, no third


def test_frames_and_a_fixed_camera_on_seedance_1_0(sim, project, member):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=GenerationParams(
                provider="ark",
                model="doubao-seedance-1-0-pro-250528",
                prompt="A lighthouse in a storm",
                ratio="16:9",
                resolution="480p",
                duration=5,
                generate_audio=False,
                frames=29,
                camera_fixed=True,
            ),
        )
    )
    assert task.status == Status.SUCCEEDED, task.error_message
    (body,) = creates(sim, "ark")
    assert body["frames"] == 29 and "duration" not in body and body["camera_fixed"] is True
    assert (task.frames, task.duration) == (29, 2)  # 28/24 s, rounded up for display
    # 1.0's 480p 16:9 frame is 864x480 (§1.7): floor(864*480/1024 * 29) tokens, held exactly.
    hold = CreditEntry.objects.get(task=task, kind="hold")
    assert task.usage["completion_tokens"] == 11_745 == hold.quantity == charge_of(task).quantity
    assert task.cost_note == ""


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        (
            {"frames": 30},
            "frames",
            "Ark takes 29, 33, ... 289 frames (25 + a multiple of 4), not 30",
        ),
        (
            {"model": "doubao-seedance-2-0-260128", "camera_fixed": True},
            "camera_fixed",
            "Ark does not take camera_fixed for doubao-seedance-2-0-260128",
        ),
        (
            {"execution_expires_after": 600},
            "execution_expires_after",
            "Ark expires a task after 1 to 72 hours (3600-259200 s), not 600 s",
        ),
        (
            {
                "provider": "tokenhub",
                "model": "doubao-seedance-2.0",
                "execution_expires_after": 7200,
            },
            "execution_expires_after",
            "TokenHub has no execution_expires_after",
        ),
    ],
)
def test_options_a_model_does_not_take_are_refused(sim, project, member, params, field, words):
    values = dict(
        provider="ark",
        model="doubao-seedance-1-0-pro-250528",
        prompt="A lighthouse",
        ratio="16:9",
        resolution="480p",
        duration=5,
        generate_audio=False,
    )
    values.update(params)
    with pytest.raises(InvalidRequest) as refused:
        generation_task_create(project=project, user=member, params=GenerationParams(**values))
    assert words in refused.value.errors[field]
    assert not CreditEntry.objects.filter(kind="hold").exists()


def test_flex_with_its_own_expiry_sets_the_deadline(sim, project, member):
    task = create_task(
        project=project,
        user=member,
        params=draft_params(
            draft=False, resolution="720p", service_tier="flex", execution_expires_after=7200
        ),
    )
    task.refresh_from_db()
    (body,) = creates(sim, "ark")
    assert (body["service_tier"], body["execution_expires_after"]) == ("flex", 7200)
    # Ours ends an hour after the gateway's own expiry (services/upstream_request.py).
    assert task.deadline_at - task.submitted_at == timedelta(seconds=7200 + 3600)


def test_acedata_sends_frames_and_camera_fixed_as_prompt_flags(sim, project, member):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=GenerationParams(
                provider="acedata",
                model="doubao-seedance-1-0-pro-250528",
                prompt="A lighthouse",
                ratio="16:9",
                resolution="480p",
                duration=5,
                generate_audio=False,
                frames=33,
                camera_fixed=True,
            ),
        )
    )
    assert task.status == Status.SUCCEEDED, task.error_message
    (body,) = creates(sim, "acedata")
    text = body["content"][0]["text"]
    assert "--frames 33" in text and "--cf true" in text and "--dur" not in text


def test_the_form_refuses_a_draft_above_480p_and_render_final_a_draft_still_running(
    sim, project, member
):
    client = Client()
    client.force_login(member)
    url = reverse("projects:generation_new", args=[project.pk])
    choice = {"provider": "ark", "model": PRO_1_5["ark"], "draft": "on"}
    narrowed = client.get(url, choice).content.decode()  # as htmx draws it again
    assert '<option value="480p"' in narrowed and '<option value="720p"' not in narrowed
    # Without the browser's re-render the server still says why.
    response = client.post(
        url,
        {**choice, "prompt": "A boat", "ratio": "16:9", "resolution": "720p", "duration": "4"},
    )
    assert response.status_code == 400
    assert "Ark renders a draft at 480p only, not 720p" in response.content.decode()
    assert not GenerationTask.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=False):  # the submit job is not run
        draft = generation_task_create(project=project, user=member, params=draft_params())
    response = client.post(
        reverse("projects:generation_final", args=[draft.pk]), {"resolution": "720p"}, follow=True
    )
    assert "The draft has not finished yet" in response.content.decode()
    assert GenerationTask.objects.count() == 1
    assert CreditEntry.objects.filter(kind="hold").count() == 1  # the draft's own
