"""Ark and BytePlus billed by tokens, end to end against the simulator: the charge is the
task's `usage.completion_tokens` x its price rule's rate, at 480p, 720p and 1080p, with and
without a reference video, on the flex tier, and never above the hold; the ledger stays
consistent. Also BytePlus through `manage.py generate`, and seedance2.ink's credits."""

import pytest

from projects.management.commands.ledger_check import ledger_problems
from projects.models import CreditEntry, GenerationTask
from projects.money.pricing import unit_cost_micro
from projects.services.assets import asset_create
from projects.services.generation import GenerationParams, ReferenceInput
from tests import media_files as mf
from tests.conftest import create_task, drive, generate_json

pytestmark = pytest.mark.django_db
Status = GenerationTask.Status
MODELS = {
    "ark": ("doubao-seedance-2-0-260128", "doubao-seedance-1-5-pro-251215"),
    "byteplus": ("dreamina-seedance-2-0-260128", "seedance-1-5-pro-251215"),
}


@pytest.fixture
def site(live_server, settings):
    """Reference links must be reachable by the simulator: SITE_URL is the live server."""
    settings.SITE_URL = live_server.url
    return live_server


def params(provider: str, **overrides) -> GenerationParams:
    values = dict(
        provider=provider,
        model=MODELS[provider][0],
        prompt="A red kite over the dunes",
        ratio="16:9",
        resolution="720p",
        duration=4,
    )
    values.update(overrides)
    return GenerationParams(**values)


def settled(task: GenerationTask) -> tuple[CreditEntry, CreditEntry]:
    """The task's hold and charge, after checking the charge is its tokens x the hold's rate
    and not above the hold."""
    assert task.status == Status.SUCCEEDED, task.error_message
    hold = CreditEntry.objects.get(task=task, kind="hold")
    charge = CreditEntry.objects.get(task=task, kind="charge")
    tokens = task.usage["completion_tokens"]
    assert (charge.unit, charge.quantity, charge.rate_micro) == ("mtokens", tokens, hold.rate_micro)
    assert -charge.amount_micro == unit_cost_micro(
        unit="mtokens", rate_micro=hold.rate_micro, quantity=tokens
    )
    assert -charge.amount_micro <= -hold.amount_micro
    return hold, charge


@pytest.mark.parametrize("provider", ["ark", "byteplus"])
@pytest.mark.parametrize(
    ("resolution", "tokens"),
    # 4 s at 16:9 (research §1.7 sizes): floor(w*h/1024 * 97).
    [("480p", 40_594), ("720p", 87_300), ("1080p", 196_425)],
)
def test_the_charge_is_completion_tokens_times_the_rate(
    sim, project, member, provider, resolution, tokens
):
    task = drive(
        create_task(project=project, user=member, params=params(provider, resolution=resolution))
    )
    hold, charge = settled(task)
    assert task.usage["completion_tokens"] == tokens == charge.quantity == hold.quantity
    rate = {"ark": {"1080p": 7_285_714}, "byteplus": {"1080p": 7_700_000}}[provider].get(
        resolution, {"ark": 6_571_429, "byteplus": 7_000_000}[provider]
    )
    assert charge.rate_micro == rate  # ark: ¥46 or ¥51 / 7; byteplus: $7.00 or $7.70
    assert hold.amount_micro == charge.amount_micro  # 16:9 and a fixed length: exact
    assert task.cost_note == ""
    assert ledger_problems()[0] == []


@pytest.mark.parametrize("provider", ["ark", "byteplus"])
def test_flex_is_charged_at_its_own_rate(sim, project, member, provider):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(provider, model=MODELS[provider][1], resolution="480p",
                          service_tier="flex"),
        )
    )  # fmt: skip
    hold, charge = settled(task)
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert sent["service_tier"] == "flex"
    # 40,594 tokens (480p 16:9, 4 s) x $1.20 per million (1.5 pro with audio, flex).
    assert (charge.quantity, charge.rate_micro, -charge.amount_micro) == (40_594, 1_200_000, 48_713)
    assert ledger_problems()[0] == []


def test_adaptive_holds_the_largest_frame_and_charges_what_was_rendered(sim, project, member):
    task = drive(
        create_task(project=project, user=member, params=params("byteplus", ratio="adaptive"))
    )
    hold, charge = settled(task)
    assert hold.quantity == 87_850  # 1112x834, the largest 720p frame, 4 s
    assert charge.quantity == 87_300  # the simulator rendered 1280x720
    assert -hold.amount_micro > -charge.amount_micro


@pytest.mark.django_db(transaction=True)
def test_with_a_reference_video_the_input_seconds_are_billed_at_the_video_rate(
    site, sim, project, member, tmp_path
):
    clip = asset_create(project=project, user=member, upload=mf.video(tmp_path, "a.mp4", seconds=3))
    for provider in ("ark", "byteplus"):
        for resolution, tokens, rate in (
            # (3 s input + 4 s output) = 169 frames at w*h/1024 tokens each.
            ("480p", 70_726, {"ark": 4_000_000, "byteplus": 4_300_000}),
            ("720p", 152_100, {"ark": 4_000_000, "byteplus": 4_300_000}),
            ("1080p", 342_225, {"ark": 4_428_571, "byteplus": 4_700_000}),
        ):
            task = drive(
                create_task(
                    project=project,
                    user=member,
                    params=params(
                        provider,
                        resolution=resolution,
                        references=(ReferenceInput(role="reference_video", asset=clip),),
                    ),
                )
            )
            hold, charge = settled(task)
            assert task.input_video_seconds == 3.0
            assert (charge.quantity, charge.rate_micro) == (tokens, rate[provider]), provider
            assert hold.amount_micro == charge.amount_micro
    assert ledger_problems()[0] == []


@pytest.mark.django_db(transaction=True)
def test_byteplus_generate_command_end_to_end(sim):
    summary = generate_json(
        "--provider=byteplus",
        "--model=dreamina-seedance-2-0-260128",
        "--prompt=A red fox trotting through fresh snow",
        "--duration=5",
        "--resolution=720p",
        "--ratio=16:9",
    )
    assert summary["status"] == "succeeded" and summary["provider"] == "byteplus"
    assert summary["upstream_task_id"].startswith("cgt-")
    assert (summary["billing_unit"], summary["held_quantity"], summary["charged_quantity"]) == (
        "mtokens",
        108_900,
        108_900,
    )
    assert (summary["held_usd"], summary["charged_usd"]) == ("0.7623", "0.7623")
    assert summary["usage"] == {"completion_tokens": 108_900, "total_tokens": 108_900}
    assert ledger_problems()[0] == []


def test_seedance2ink_720p_is_charged_the_credits_it_reports(sim, project, member):
    task = drive(
        create_task(
            project=project,
            user=member,
            params=GenerationParams(provider="seedance2ink", model="seedance-2.0",
                                    prompt="A red kite", ratio="16:9", resolution="720p",
                                    duration=4, generate_audio=False),
        )
    )  # fmt: skip
    assert task.status == Status.SUCCEEDED, task.error_message
    hold = CreditEntry.objects.get(task=task, kind="hold")
    charge = CreditEntry.objects.get(task=task, kind="charge")
    assert task.vendor_cost == "32"  # the simulator: 8 credits a second at 720p
    assert (hold.unit, hold.quantity, -hold.amount_micro) == ("credit", 32, 800_000)
    assert (charge.unit, charge.quantity, -charge.amount_micro) == ("credit", 32, 800_000)
    assert task.cost_note == ""
