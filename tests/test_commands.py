"""Management commands: seed_demo and generate."""

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from projects.media import probe_video
from projects.models import GenerationTask, Membership, Project, Team
from projects.upstream_sim.faults import Fault

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_the_logins():
    first = run("seed_demo")
    second = run("seed_demo")
    assert Team.objects.count() == 1 and Project.objects.get().slug == "demo"
    assert get_user_model().objects.count() == 3
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"mia": "member", "rey": "reviewer", "ada": "admin"}
    assert "mia" in second and "seedance-demo" in second and first == second


def test_generate_wait_json_prints_the_result_and_the_file_matches(sim):
    run("seed_demo")
    out = run(
        "generate",
        "--project",
        "demo",
        "--user",
        "mia",
        "--prompt",
        "A harbour at dawn",
        "--duration",
        "6",
        "--ratio",
        "9:16",
        "--resolution",
        "480p",
        "--wait",
        "--json",
    )
    result = json.loads(out)
    assert result["status"] == "succeeded" and result["error"] is None
    assert result["provider"] == "tokenhub" and result["model"] == "doubao-seedance-2.0"
    assert result["upstream_task_id"] in sim.engine.tasks
    assert result["duration_s"] == pytest.approx(6.0, abs=0.05)
    path = Path(default_storage.path(result["video"]))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result["video_sha256"]
    info = probe_video(path)
    assert info.codec == "h264" and info.duration_s == pytest.approx(6.0, abs=0.05)
    assert info.width < info.height  # 9:16
    assert result["video_url"].startswith("http://127.0.0.1:8000/media/s/")


def test_generate_refuses_what_the_gateway_would_and_stores_nothing(sim):
    run("seed_demo")
    with pytest.raises(CommandError) as info:
        run(
            "generate",
            "--project",
            "demo",
            "--user",
            "mia",
            "--prompt",
            "x",
            "--duration",
            "30",
            "--wait",
        )
    assert "duration: doubao-seedance-2.0 accepts 4 to 15 seconds (TokenHub guide)." in str(
        info.value
    )
    assert GenerationTask.objects.count() == 0 and sim.engine.counters["tokenhub:create"] == 0


def test_generate_exits_non_zero_when_the_task_fails(sim):
    run("seed_demo")
    sim.engine.inject(Fault(kind="moderation_output"))
    out = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command(
            "generate",
            "--project",
            "demo",
            "--user",
            "mia",
            "--prompt",
            "x",
            "--duration",
            "4",
            "--wait",
            "--json",
            stdout=out,
            stderr=io.StringIO(),
        )
    assert info.value.code == 1
    result = json.loads(out.getvalue())
    assert result["status"] == "failed" and "moderation" in result["error"]


def test_generate_names_unknown_project_and_user(sim):
    run("seed_demo")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("generate", "--project", "demo", "--user", "nobody", "--prompt", "x")
    with pytest.raises(CommandError, match="No project 'nope'"):
        run("generate", "--project", "nope", "--user", "mia", "--prompt", "x")
