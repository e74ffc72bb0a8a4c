"""The official tasks API's arithmetic and editions in the simulator: the §1.14 token formula
and §1.7 sizes (projects/upstream_sim/tokens.py), BytePlus ModelArk's model ids, and JSON null
read as an absent field (research §9) on raw HTTP, where no SDK stands in between."""

import json
from fractions import Fraction

import httpx
import pytest

from projects.upstream_sim.server import all_dialects
from projects.upstream_sim.tokens import completion_tokens, output_size

AUTH = {"Authorization": "Bearer official-anything"}
TASKS = "/contents/generations/tasks"


@pytest.mark.parametrize(
    ("size", "seconds", "video_s", "expected"),
    [
        ((1280, 720), 5, 0, 108_900),  # §1.14: every doc example
        ((1280, 720), 11, 8, 238_500 + 172_800),  # §1.14: 11 s with an 8 s reference video
        ((864, 496), 5, 0, 50_638),  # §1.14 worked example, 2.0 480p
        ((1920, 1080), 5, 0, 245_025),  # §1.14 worked example, 2.0 1080p
        ((864, 480), Fraction(56, 24), 0, 864 * 480 * 57 // 1024),  # frames=57: 57 frames
        ((1280, 720), 5, 2.5, 900 * (121 + 60)),  # fractional input seconds
    ],
)
def test_the_token_formula_gives_the_researched_figures(size, seconds, video_s, expected):
    assert completion_tokens(*size, seconds, video_s) == expected


@pytest.mark.parametrize(
    ("model", "resolution", "ratio", "size"),
    [
        ("doubao-seedance-2-0-260128", "720p", "16:9", (1280, 720)),
        ("dreamina-seedance-2-0-fast-260128", "480p", "21:9", (992, 432)),
        ("seedance-1-5-pro-251215", "1080p", "3:4", (1248, 1664)),  # 1.5 pro: the 2.0 table
        ("doubao-seedance-1-0-pro-250528", "720p", "16:9", (1248, 704)),  # §1.7 1.0 table
        ("seedance-1-0-lite-t2v-250428", "1080p", "21:9", (2176, 928)),
        ("doubao-seedance-1-0-pro-fast-251015", "480p", "adaptive", (864, 480)),
    ],
)
def test_output_sizes_follow_each_models_table(model, resolution, ratio, size):
    assert output_size(model, resolution, ratio) == size


def create(sim, dialect, body):
    url = sim.base_url(dialect) + TASKS
    return httpx.post(url, content=json.dumps(body), headers=AUTH, timeout=5)


def test_byteplus_takes_its_own_ids_and_refuses_volcengines(sim):
    text = [{"type": "text", "text": "a kite"}]
    ok = create(sim, "byteplus", {"model": "dreamina-seedance-2-0-260128", "content": text})
    assert ok.status_code == 200, ok.text
    task_id = ok.json()["id"]
    assert sim.engine.tasks[task_id].dialect == "byteplus"
    refused = create(sim, "byteplus", {"model": "doubao-seedance-2-0-260128", "content": text})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "InvalidEndpointOrModel.NotFound"
    assert (
        create(sim, "ark", {"model": "seedance-1-5-pro-251215", "content": text}).status_code == 404
    )
    # One edition's tasks are not the other's.
    assert httpx.get(sim.base_url("ark") + f"{TASKS}/{task_id}", headers=AUTH).status_code == 404
    lite = {"model": "seedance-1-0-lite-t2v-250428", "content": text, "duration": 3}
    assert create(sim, "byteplus", lite).status_code == 200


def test_rundemo_gets_a_byteplus_base_url():
    """rundemo sets {NAME}_BASE_URL for every dialect all_dialects() lists."""
    prefixes = {d.name: d.prefix for d in all_dialects()}
    assert prefixes["byteplus"] == "/byteplus/api/v3" and prefixes["ark"] == "/ark/api/v3"


SDK_NULLS = dict.fromkeys(
    "safety_identifier callback_url return_last_frame service_tier execution_expires_after "
    "priority generate_audio draft camera_fixed watermark seed resolution ratio duration frames "
    "tools output_format omni_reference_task_type".split()
)


def test_null_fields_are_absent_fields(sim):
    body = {
        "model": "doubao-seedance-2-0-260128",
        "content": [{"type": "text", "text": "a kite"}],
        **SDK_NULLS,
    }
    response = create(sim, "ark", body)
    assert response.status_code == 200, response.text
    task = sim.engine.tasks[response.json()["id"]]
    # The defaults of §1.3, as if the fields were not sent.
    assert (task.resolution, task.ratio, task.duration_s, task.audio) == ("720p", "16:9", 5, True)
    assert task.expires_after == 172800 and task.extra["service_tier"] == "default"
    missing = create(sim, "ark", {**body, "content": None})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MissingParameter"


def test_acedata_reads_null_as_absent_too(sim):
    body = {
        "model": "doubao-seedance-1-0-pro-250528",
        "content": [{"type": "text", "text": "a kitten --rs 480p --dur 2"}],
        "async": True,
        "execution_expires_after": None,
        "callback_url": None,
        "service_tier": None,
    }
    url = sim.base_url("acedata") + "/seedance/videos"
    response = httpx.post(url, content=json.dumps(body), headers=AUTH, timeout=5)
    assert response.status_code == 200, response.text
    task = sim.engine.tasks[response.json()["task_id"]]
    assert task.expires_after == 172800 and task.callback_url == ""


def test_a_reference_video_must_be_a_video_of_the_documented_length(sim, tmp_path):
    from tests import media_files
    from tests.media_server import start_media_server

    media = start_media_server()
    try:
        for name, seconds in (("short.mp4", 1), ("long.mp4", 16)):
            path = media_files.video(tmp_path, name, seconds=seconds, width=320, height=320)
            media.files[f"/{name}"] = ("video/mp4", path.read_bytes())
        image = {"type": "image_url", "image_url": {"url": f"{media.url}/photo.jpg"}}
        for name, words in (
            ("clip.mp4", "not a readable video"),
            ("short.mp4", "lasts 1.0 s"),
            ("long.mp4", "lasts 16.0 s"),
        ):
            video = {"type": "video_url", "video_url": {"url": f"{media.url}/{name}"}}
            content = [
                {"type": "text", "text": "a kite"},
                {**image, "role": "reference_image"},
                {**video, "role": "reference_video"},
            ]
            body = {"model": "doubao-seedance-2-0-260128", "content": content}
            response = create(sim, "ark", body)
            assert response.status_code == 400, name
            assert words in response.json()["error"]["message"]
    finally:
        media.server.shutdown()
        media.server.server_close()
