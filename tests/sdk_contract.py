"""The simulator's official tasks API (Ark, BytePlus ModelArk) driven through the official SDKs,
`client.content_generation.tasks.create/get/list/delete`, as research §2 and §9 describe them.

Shared by tests/test_sdk_volcengine.py and tests/test_sdk_byteplus.py: each subclasses
`SdkContract` with its `Flavour` (the SDK's client and exceptions, the dialect, the model
ids). Expected token counts are computed here from the research's own figures (§1.7 sizes,
§1.14 formula), not with the simulator's code.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from projects.upstream_sim import probe
from tests import media_files
from tests.media_server import start_media_server
from tests.sim_control import hold, release

PROMPT = "A paper kite over a beach at dawn"


@dataclass(frozen=True)
class Flavour:
    """One SDK: its `Ark` client class and `_exceptions` module, the simulator dialect it talks
    to, its model ids (research §1.2) and whether create() has a `tools` parameter."""

    dialect: str
    ark: type
    errors: ModuleType
    v2: str
    v2_fast: str
    v15: str
    v10_pro: str
    tools_param: bool


@dataclass(frozen=True)
class Refs:
    """Reference media the simulator can fetch, and where callbacks land (`server.posts`)."""

    server: Any
    image: str
    image2: str
    video: str  # a real 3 s MP4
    audio: str
    hook: str


def text(prompt: str = PROMPT) -> list[dict[str, Any]]:
    return [{"type": "text", "text": prompt}]


def media(kind: str, url: str, role: str) -> dict[str, Any]:
    return {"type": f"{kind}_url", f"{kind}_url": {"url": url}, "role": role}


def tokens(width: int, height: int, seconds: float, video_s: float = 0) -> int:
    """Research §1.14: floor(w*h/1024*(24*d + 1)) + input video seconds at 24 frames a second."""
    return math.floor(width * height / 1024 * (24 * seconds + 1 + 24 * video_s))


def pace(sim, task_id: str, queued: float = 20.0, running: float = 20.0) -> None:
    """Queue and render `task_id` for these upstream seconds (0.1 s each at the test clock)."""
    task = sim.engine.tasks[task_id]
    task.queue_s, task.render_s = queued, running


class SdkContract:
    """The tests; a subclass sets `flavour`."""

    flavour: Flavour

    @pytest.fixture
    def client(self, sim):
        return self.flavour.ark(
            base_url=sim.base_url(self.flavour.dialect),
            api_key="sdk-test-key",
            max_retries=0,
            timeout=10.0,
        )

    @pytest.fixture(scope="class")
    @classmethod
    def refs(cls, tmp_path_factory):
        server = start_media_server()
        folder = tmp_path_factory.mktemp("refs")
        clip = media_files.video(folder, "ref.mp4", seconds=3).read_bytes()
        song = media_files.audio(folder, "ref.mp3", fmt="mp3").read_bytes()
        server.files.update({"/ref.mp4": ("video/mp4", clip), "/ref.mp3": ("audio/mpeg", song)})
        yield Refs(
            server=server,
            image=f"{server.url}/photo.jpg",
            image2=f"{server.url}/second.png",
            video=f"{server.url}/ref.mp4",
            audio=f"{server.url}/ref.mp3",
            hook=f"{server.url}/hook",
        )
        server.server.shutdown()
        server.server.server_close()

    def wait(self, client, task_id: str, status: str = "succeeded", timeout: float = 10.0):
        """(the task once it is `status`, the statuses seen on the way), polling with get()."""
        deadline, seen = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            task = client.content_generation.tasks.get(task_id=task_id)
            if not seen or seen[-1] != task.status:
                seen.append(task.status)
            if task.status == status:
                return task, seen
            time.sleep(0.01)
        raise AssertionError(f"{task_id} never became {status}: {seen}")

    def make(self, sim, client, **fields):
        """Create a task (content: the prompt unless given), let it run; its id."""
        fields.setdefault("content", text())
        task_id = client.content_generation.tasks.create(**fields).id
        pace(sim, task_id)
        return task_id

    # --- create and get ---------------------------------------------------------------------
    def test_text_to_video_reports_every_field_and_the_token_formula(self, sim, client):
        tasks = client.content_generation.tasks
        created = tasks.create(
            model=self.flavour.v2,
            content=text(),
            seed=11,
            ratio="9:16",
            duration=6,
            resolution="480p",
            watermark=True,
            generate_audio=True,
            safety_identifier="user-7f3a",
            priority=3,
            execution_expires_after=3600,
        )
        assert created.id.startswith("cgt-") and created.safety_identifier == "user-7f3a"
        pace(sim, created.id)
        task, seen = self.wait(client, created.id)
        assert seen[-2:] == ["running", "succeeded"]
        assert (task.id, task.model, task.error) == (created.id, self.flavour.v2, None)
        assert (task.seed, task.ratio, task.resolution, task.duration) == (11, "9:16", "480p", 6)
        assert (task.framespersecond, task.frames, task.priority) == (24, None, 3)
        assert (task.service_tier, task.execution_expires_after) == ("default", 3600)
        assert task.generate_audio is True and task.draft is False and task.draft_task_id is None
        assert task.safety_identifier == "user-7f3a" and task.revised_prompt == PROMPT
        assert task.created_at <= task.updated_at
        # 480p 9:16 is 496x864 on 2.0 (§1.7)
        assert task.usage.completion_tokens == task.usage.total_tokens == tokens(496, 864, 6)
        assert task.content.last_frame_url is None
        video = httpx.get(task.content.video_url, timeout=5)
        assert video.status_code == 200 and probe.video_seconds(video.content) == 6

    def test_first_frame_with_the_last_frame_returned(self, sim, client, refs):
        task_id = self.make(
            sim,
            client,
            model=self.flavour.v15,
            content=text() + [media("image", refs.image, "first_frame")],
            return_last_frame=True,
            generate_audio=False,
            camera_fixed=True,
        )
        task, _ = self.wait(client, task_id)
        assert task.ratio == "adaptive" and task.generate_audio is False
        assert task.usage.completion_tokens == tokens(1280, 720, 5)  # adaptive renders 16:9
        frame = httpx.get(task.content.last_frame_url, timeout=5)
        assert frame.status_code == 200 and frame.content[:4] == b"\x89PNG"
        assert refs.image in [f["url"] for f in sim.engine.media_fetches]

    def test_first_and_last_frames_on_1_0_pro_use_its_own_sizes(self, sim, client, refs):
        content = text() + [
            media("image", refs.image, "first_frame"),
            media("image", refs.image2, "last_frame"),
        ]
        task_id = self.make(
            sim, client, model=self.flavour.v10_pro, content=content, ratio="4:3", duration=3
        )
        task, _ = self.wait(client, task_id)
        assert task.resolution == "1080p"  # 1.0 pro's default
        assert task.usage.completion_tokens == tokens(1664, 1248, 3)

    def test_frames_instead_of_duration(self, sim, client):
        task_id = self.make(
            sim, client, model=self.flavour.v10_pro, frames=57, resolution="480p", ratio="16:9"
        )
        task, _ = self.wait(client, task_id)
        assert (task.frames, task.duration) == (57, None)
        assert task.usage.completion_tokens == tokens(864, 480, (57 - 1) / 24)  # 1.0 480p
        video = httpx.get(task.content.video_url, timeout=5).content
        assert probe.video_seconds(video) == pytest.approx(57 / 24, abs=0.05)

    def test_reference_images_video_and_audio_bill_the_input_video(self, sim, client, refs):
        content = text() + [
            media("image", refs.image, "reference_image"),
            media("image", refs.image2, "reference_image"),
            media("video", refs.video, "reference_video"),
            media("audio", refs.audio, "reference_audio"),
        ]
        task_id = self.make(sim, client, model=self.flavour.v2, content=content, ratio="16:9")
        task, _ = self.wait(client, task_id)
        assert task.usage.completion_tokens == tokens(1280, 720, 5, video_s=3)
        fetched = {f["url"] for f in sim.engine.media_fetches}
        assert {refs.image, refs.image2, refs.video, refs.audio} <= fetched

    def test_auto_duration_reports_what_was_made(self, sim, client):
        task_id = self.make(sim, client, model=self.flavour.v2_fast, duration=-1)
        hold(sim, task_id, "queued")
        assert client.content_generation.tasks.get(task_id=task_id).duration == -1
        release(sim, task_id)
        task, _ = self.wait(client, task_id)
        assert 5 <= task.duration <= 10
        assert task.usage.completion_tokens == tokens(1280, 720, task.duration)

    def test_callbacks_carry_the_task_on_every_status(self, sim, client, refs):
        task_id = self.make(sim, client, model=self.flavour.v2, callback_url=refs.hook)
        task, _ = self.wait(client, task_id)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(self.hook_bodies(refs, task_id)) < 3:
            time.sleep(0.02)
        bodies = self.hook_bodies(refs, task_id)
        assert [b["status"] for b in bodies] == ["queued", "running", "succeeded"]
        assert bodies[-1]["usage"]["completion_tokens"] == task.usage.completion_tokens

    @staticmethod
    def hook_bodies(refs, task_id: str) -> list[dict]:
        bodies = [json.loads(body) for path, body in refs.server.posts if path == "/hook"]
        return [b for b in bodies if b["id"] == task_id]

    def test_flex_tier_with_its_expiry(self, sim, client):
        task_id = self.make(
            sim, client, model=self.flavour.v15, service_tier="flex", execution_expires_after=7200
        )
        task, _ = self.wait(client, task_id)
        assert (task.service_tier, task.execution_expires_after) == ("flex", 7200)

    def test_a_draft_then_its_final(self, sim, client, refs):
        tasks = client.content_generation.tasks
        draft_id = self.make(
            sim,
            client,
            model=self.flavour.v15,
            content=text() + [media("image", refs.image, "first_frame")],
            draft=True,
            duration=4,
            seed=5,
        )
        draft, _ = self.wait(client, draft_id)
        assert (draft.draft, draft.resolution, draft.content.last_frame_url) == (True, "480p", None)
        assert draft.usage.completion_tokens == tokens(864, 496, 4)
        final_id = tasks.create(
            model=self.flavour.v15,
            content=[{"type": "draft_task", "draft_task": {"id": draft_id}}],
            resolution="720p",
            watermark=False,
            return_last_frame=True,
        ).id
        pace(sim, final_id)
        final, _ = self.wait(client, final_id)
        assert (final.draft, final.draft_task_id, final.resolution) == (False, draft_id, "720p")
        assert (final.seed, final.duration, final.revised_prompt) == (5, 4, PROMPT)
        assert final.usage.completion_tokens == tokens(1280, 720, 4)
        assert final.content.last_frame_url

    def test_tools_and_the_omni_reference_task_type(self, sim, client, refs):
        tools = [{"type": "web_search"}]
        extra = {"tools": tools} if self.flavour.tools_param else {"extra_body": {"tools": tools}}
        task_id = self.make(
            sim,
            client,
            model=self.flavour.v2,
            content=text() + [media("image", refs.image, "reference_image")],
            omni_reference_task_type="reference",
            **extra,
        )
        task, _ = self.wait(client, task_id)
        if self.flavour.tools_param:  # BytePlus's task model has no `tools` field
            assert [tool.type for tool in task.tools] == ["web_search"]
        sent = sim.engine.tasks[task_id].body
        assert sent["tools"] == tools and sent["omni_reference_task_type"] == "reference"
        assert sent["output_format"] is None  # the SDK sends every unset parameter as null

    # --- refusals ---------------------------------------------------------------------------
    REFUSALS = [
        ("v2", {"camera_fixed": True}, "camera_fixed"),
        ("v2", {"frames": 57}, "frames"),
        ("v2_fast", {"service_tier": "flex"}, "service_tier"),
        ("v2", {"output_format": "mp4"}, "output_format"),
        ("v2", {"draft": True}, "draft"),
        ("v15", {"draft": True, "resolution": "720p"}, "resolution"),
        ("v15", {"draft": True, "return_last_frame": True}, "return_last_frame"),
        ("v15", {"draft": True, "service_tier": "flex"}, "service_tier"),
        ("v2", {"seed": 2**32}, "seed"),
        ("v2", {"priority": 10}, "priority"),
        ("v2", {"execution_expires_after": 60}, "execution_expires_after"),
        ("v2", {"duration": 16}, "duration"),
        ("v2_fast", {"resolution": "1080p"}, "resolution"),
        ("v10_pro", {"generate_audio": True}, "generate_audio"),
        ("v10_pro", {"frames": 30}, "frames"),
        ("v2", {"ratio": "2:1"}, "ratio"),
        ("v2", {"safety_identifier": "x" * 65}, "safety_identifier"),
        ("v2", {"extra_body": {"aspect_ratio": "16:9"}}, "aspect_ratio"),
        ("v2", {"content": []}, "content"),
    ]

    @pytest.mark.parametrize(("model", "fields", "param"), REFUSALS)
    def test_a_bad_parameter_is_the_sdks_bad_request(self, sim, client, model, fields, param):
        fields = {"content": text(), **fields}
        with pytest.raises(self.flavour.errors.ArkBadRequestError) as caught:
            client.content_generation.tasks.create(model=getattr(self.flavour, model), **fields)
        error = caught.value
        assert error.status_code == 400 and error.code == "InvalidParameter"
        assert error.param == param and error.type == "BadRequest"
        assert sim.engine.tasks_of(self.flavour.dialect) == []

    def test_images_without_roles_and_a_missing_draft(self, sim, client, refs):
        tasks = client.content_generation.tasks
        two = [{"type": "image_url", "image_url": {"url": url}} for url in (refs.image, refs.image)]
        with pytest.raises(self.flavour.errors.ArkBadRequestError) as caught:
            tasks.create(model=self.flavour.v2, content=text() + two)
        assert "role must be specified for image contents" in caught.value.message
        not_a_draft = self.make(sim, client, model=self.flavour.v15)
        draft_item = [{"type": "draft_task", "draft_task": {"id": not_a_draft}}]
        with pytest.raises(self.flavour.errors.ArkBadRequestError) as caught:
            tasks.create(model=self.flavour.v15, content=draft_item)
        assert caught.value.param == "content" and "does not exist" in caught.value.message

    def test_unknown_models_and_tasks_are_the_sdks_not_found(self, client):
        with pytest.raises(self.flavour.errors.ArkNotFoundError) as caught:
            client.content_generation.tasks.create(model="seedance-9-9-260101", content=text())
        assert caught.value.code == "InvalidEndpointOrModel.NotFound"
        with pytest.raises(self.flavour.errors.ArkNotFoundError) as caught:
            client.content_generation.tasks.get(task_id="cgt-20260101000000-nope0")
        assert caught.value.code == "ResourceNotFound"

    # --- list ---------------------------------------------------------------------------------
    def test_list_with_every_filter(self, sim, client):
        tasks = client.content_generation.tasks
        done = self.make(sim, client, model=self.flavour.v2)
        self.wait(client, done)
        queued = self.make(sim, client, model=self.flavour.v2)
        hold(sim, queued, "queued")
        flex = self.make(sim, client, model=self.flavour.v15, service_tier="flex")
        hold(sim, flex, "queued")

        def ids(page) -> list[str]:
            return [item.id for item in page.items]

        everything = tasks.list()
        assert everything.total == 3 and ids(everything) == [flex, queued, done]  # newest first
        second = tasks.list(page_num=2, page_size=1)
        assert second.total == 3 and ids(second) == [queued]
        assert set(ids(tasks.list(status="queued"))) == {queued, flex}
        assert ids(tasks.list(status="succeeded")) == [done]
        assert ids(tasks.list(task_ids=done)) == [done]
        assert set(ids(tasks.list(task_ids=[done, flex]))) == {done, flex}
        assert ids(tasks.list(model=self.flavour.v15)) == [flex]
        assert ids(tasks.list(service_tier="flex")) == [flex]
        assert set(ids(tasks.list(service_tier="default", page_size=500))) == {done, queued}
        (item,) = tasks.list(task_ids=done).items
        assert item.usage.completion_tokens == tokens(1280, 720, 5)
        with pytest.raises(self.flavour.errors.ArkBadRequestError):
            tasks.list(status="finished")

    # --- cancel / delete (§1.9) ------------------------------------------------------------------
    def test_delete_cancels_queued_refuses_running_and_removes_finished(self, sim, client):
        tasks = client.content_generation.tasks
        queued = self.make(sim, client, model=self.flavour.v2)
        hold(sim, queued, "queued")
        assert tasks.delete(queued) is not None  # {} parsed as an empty task
        assert tasks.get(task_id=queued).status == "cancelled"
        with pytest.raises(self.flavour.errors.ArkBadRequestError) as caught:
            tasks.delete(queued)
        assert "cancelled" in caught.value.message

        running = self.make(sim, client, model=self.flavour.v2)
        hold(sim, running, "running")
        with pytest.raises(self.flavour.errors.ArkBadRequestError) as caught:
            tasks.delete(running)
        assert "cannot be stopped" in caught.value.message
        assert tasks.get(task_id=running).status == "running"

        done = self.make(sim, client, model=self.flavour.v2)
        self.wait(client, done)
        tasks.delete(done)
        with pytest.raises(self.flavour.errors.ArkNotFoundError):
            tasks.get(task_id=done)
