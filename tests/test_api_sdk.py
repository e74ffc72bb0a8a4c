"""The team API driven by the official Ark SDK (`volcenginesdkarkruntime.Ark`) through a live
server, the simulator and a worker thread: text-to-video and first/last-frame tasks to the
end, the stored copy's checksum, the money (the same as the form's for the same request),
list filters, delete (cancel while queued, delete once ended), and the signed callback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

from projects.models import ApiTask, Asset, CreditEntry, GenerationTask
from projects.models.ledger import usd_text
from projects.services.assets import asset_create
from projects.services.generation import GenerationParams
from projects.upstream_sim.dialects.ark_task import usage_tokens
from tests.api_support import ARK_MODEL, PROMPT, ark_client, make_studio, wait_for
from tests.browser import worker_thread
from tests.conftest import create_task
from tests.media_server import jpeg_bytes, start_media_server

pytestmark = pytest.mark.django_db(transaction=True)
Kind = CreditEntry.Kind


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(task_id, kind) -> CreditEntry:
    return CreditEntry.objects.get(task_id=task_id, kind=kind)


def text(prompt: str = PROMPT) -> list[dict]:
    return [{"type": "text", "text": prompt}]


@pytest.fixture
def site(live_server, sim, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def media():
    server = start_media_server()
    yield server
    server.server.shutdown()
    server.server.server_close()


def png_data_url(size: tuple[int, int] = (320, 320)) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buffer, "PNG")
    data = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(data).decode(), data


def test_text_to_video_through_the_sdk_ends_with_our_stored_copy_and_the_forms_money(site, sim):
    studio = make_studio()
    client = ark_client(site, studio.key.secret)
    choices = dict(ratio="16:9", resolution="480p", duration=4, seed=11)
    with worker_thread():
        created = client.content_generation.tasks.create(model=ARK_MODEL, content=text(), **choices)
        task, seen = wait_for(client, created.id)
        # The same request through the form's service, for the money.
        form_task = create_task(
            project=studio.project,
            user=studio.member,
            params=GenerationParams(provider="ark", model=ARK_MODEL, prompt=PROMPT, **choices),
        )
        wait_for_db(form_task)

    ours = GenerationTask.objects.get(pk=uuid.UUID(created.id))
    assert (ours.provider, ours.model, ours.api_key_id) == ("ark", ARK_MODEL, studio.key.key.pk)
    assert seen[-1] == "succeeded" and set(seen) <= {"queued", "running", "succeeded"}
    assert (task.model, task.resolution, task.ratio, task.duration, task.seed) == (
        ARK_MODEL,
        "480p",
        "16:9",
        4,
        11,
    )
    # The link is ours (signed, absolute under SITE_URL), and it serves the simulator's bytes.
    assert task.content.video_url.startswith(f"{site}/media/s/")
    video = httpx.get(task.content.video_url, timeout=10).content
    upstream = sim.engine.get_task(ours.upstream_task_id)
    assert sha(video) == sha(sim.engine.file_for(upstream, "video.mp4").read_bytes())
    assert sha(video) == ours.video_sha256 == task.model_extra["seedance"]["video_sha256"]
    assert task.content.last_frame_url.startswith(f"{site}/media/s/")

    # usage is what we charged: Ark's tokens for a per-token price, and the dollars.
    charge = entry(ours.pk, Kind.CHARGE)
    assert charge.unit == "mtokens"
    assert task.usage.completion_tokens == task.usage.total_tokens == int(charge.quantity)
    assert task.usage.completion_tokens == usage_tokens(upstream)
    assert task.usage.model_extra["charged_usd"] == usd_text(-charge.amount_micro)

    # Held and charged exactly as the form's task of the same request.
    assert entry(ours.pk, Kind.HOLD).amount_micro == entry(form_task.pk, Kind.HOLD).amount_micro
    assert charge.amount_micro == entry(form_task.pk, Kind.CHARGE).amount_micro < 0


def wait_for_db(task: GenerationTask, timeout: float = 40.0) -> GenerationTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.is_terminal:
            assert task.status == "succeeded", task.error_message
            return task
        time.sleep(0.05)
    raise AssertionError(f"{task.pk} still {task.status}")


def test_first_and_last_frame_from_a_link_and_a_data_url_join_the_library(site, sim, media):
    studio = make_studio()
    client = ark_client(site, studio.key.secret)
    last_url, last_bytes = png_data_url()
    content = [
        *text("The kite lands"),
        {
            "type": "image_url",
            "image_url": {"url": f"{media.url}/photo.jpg"},
            "role": "first_frame",
        },
        {"type": "image_url", "image_url": {"url": last_url}, "role": "last_frame"},
    ]
    with worker_thread():
        created = client.content_generation.tasks.create(
            model=ARK_MODEL, content=content, resolution="480p", duration=4
        )
        task, _ = wait_for(client, created.id)
    ours = GenerationTask.objects.get(pk=created.id)
    roles = {ref.role: ref.asset for ref in ours.references.select_related("asset")}
    assert set(roles) == {"first_frame", "last_frame"}
    assert roles["first_frame"].sha256 == sha(jpeg_bytes())
    assert roles["last_frame"].sha256 == sha(last_bytes)
    assert Asset.objects.filter(project=studio.project).count() == 2
    assert media.gets == ["/photo.jpg"]
    # Sent to Ark as two images with their roles, the ratio following them (adaptive).
    (sent,) = [r["body"] for r in sim.engine.requests if r["op"] == "create"]
    assert [c.get("role") for c in sent["content"] if c["type"] == "image_url"] == [
        "first_frame",
        "last_frame",
    ]
    assert sent["ratio"] == "adaptive" and task.status == "succeeded"


def test_an_asset_of_the_library_is_a_first_frame_by_its_id(site, sim, tmp_path):
    studio = make_studio()
    path = tmp_path / "boat.png"
    Image.new("RGB", (640, 360), (10, 120, 60)).save(path)
    asset = asset_create(project=studio.project, user=studio.member, upload=path)
    client = ark_client(site, studio.key.secret)
    with worker_thread():
        created = client.content_generation.tasks.create(
            model=ARK_MODEL,
            content=[*text(), {"type": "image_url", "image_url": {"url": f"asset://{asset.pk}"}}],
            resolution="480p",
            duration=4,
        )
        task, _ = wait_for(client, created.id)
    (ref,) = GenerationTask.objects.get(pk=created.id).references.all()
    assert (ref.role, ref.asset_id) == ("first_frame", asset.pk)
    assert Asset.objects.filter(project=studio.project).count() == 1  # nothing copied


def test_list_filters_by_status_ids_and_model_and_pages(site, sim, monkeypatch):
    studio = make_studio()
    client = ark_client(site, studio.key.secret)
    tasks = client.content_generation.tasks
    with worker_thread():
        done = [
            tasks.create(model=ARK_MODEL, content=text(f"kite {i}"), resolution="480p", duration=4)
            for i in range(2)
        ]
        for created in done:
            wait_for(client, created.id)
        monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))
        waiting = tasks.create(
            model=ARK_MODEL, content=text("later"), resolution="480p", duration=4
        )
        wait_for(client, waiting.id, status="queued")

    everything = tasks.list(page_size=10)
    assert everything.total == 3
    assert [t.id for t in everything.items] == [waiting.id, done[1].id, done[0].id]  # newest first
    succeeded = tasks.list(status="succeeded")
    assert {t.id for t in succeeded.items} == {d.id for d in done} and succeeded.total == 2
    assert [t.id for t in tasks.list(status="queued").items] == [waiting.id]
    by_ids = tasks.list(task_ids=[done[0].id, waiting.id, str(uuid.uuid4()), "cgt-unknown"])
    assert {t.id for t in by_ids.items} == {done[0].id, waiting.id}
    assert tasks.list(model=ARK_MODEL).total == 3 and tasks.list(model="other-model").total == 0
    second = tasks.list(page_num=2, page_size=2)
    assert second.total == 3 and [t.id for t in second.items] == [done[0].id]


def test_delete_cancels_a_queued_task_and_deletes_an_ended_one(site, sim, monkeypatch):
    from volcenginesdkarkruntime._exceptions import ArkBadRequestError, ArkNotFoundError

    studio = make_studio()
    client = ark_client(site, studio.key.secret)
    tasks = client.content_generation.tasks
    with worker_thread():
        ended = tasks.create(model=ARK_MODEL, content=text(), resolution="480p", duration=4)
        wait_for(client, ended.id)
        monkeypatch.setattr(sim.engine, "queue_range", (1e9, 1e9))
        queued = tasks.create(model=ARK_MODEL, content=text(), resolution="480p", duration=4)
        assert tasks.get(task_id=queued.id).status == "queued"
        tasks.delete(queued.id)
        assert tasks.get(task_id=queued.id).status == "cancelled"
    ours = GenerationTask.objects.get(pk=queued.id)
    assert ours.status == "cancelled"
    assert sim.engine.get_task(ours.upstream_task_id).status_at(sim.engine.now()) == "cancelled"
    assert entry(ours.pk, Kind.RELEASE).amount_micro == -entry(ours.pk, Kind.HOLD).amount_micro
    assert not CreditEntry.objects.filter(task_id=ours.pk, kind=Kind.CHARGE).exists()

    tasks.delete(ended.id)
    with pytest.raises(ArkNotFoundError) as gone:
        tasks.get(task_id=ended.id)
    assert gone.value.code == "ResourceNotFound"
    assert GenerationTask.objects.get(pk=ended.id).deleted_at is not None
    assert entry(ended.id, Kind.CHARGE)  # its cost stays in the ledger

    # A running task cannot be stopped (Ark §1.9): 400, and it goes on.
    monkeypatch.setattr(sim.engine, "queue_range", (0.0, 0.0))
    monkeypatch.setattr(sim.engine, "render_range", (1e9, 1e9))
    with worker_thread():
        running = tasks.create(model=ARK_MODEL, content=text(), resolution="480p", duration=4)
        wait_for(client, running.id, status="running")
        with pytest.raises(ArkBadRequestError) as refused:
            tasks.delete(running.id)
    assert "running" in refused.value.message
    assert GenerationTask.objects.get(pk=running.id).status == "running"


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 recording each POST's headers and body."""
    posts: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            posts.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.posts = posts
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_callback_is_posted_signed_once_the_task_ends(site, sim, receiver):
    studio = make_studio()
    client = ark_client(site, studio.key.secret)
    with worker_thread():
        created = client.content_generation.tasks.create(
            model=ARK_MODEL,
            content=text(),
            resolution="480p",
            duration=4,
            callback_url=f"{receiver.url}/hook",
        )
        wait_for(client, created.id)
        deadline = time.monotonic() + 10
        while not receiver.posts and time.monotonic() < deadline:
            time.sleep(0.02)
    (headers, raw), *more = receiver.posts
    assert not more
    body = json.loads(raw)
    assert (body["id"], body["status"], body["model"]) == (created.id, "succeeded", ARK_MODEL)
    assert body["content"]["video_url"].startswith(f"{site}/media/s/")
    assert studio.key.secret not in raw.decode()
    # Verifiable with nothing but the API key: S = HMAC(key, task id); HMAC(S, "ts.body").
    derived = hmac.new(studio.key.secret.encode(), created.id.encode(), hashlib.sha256).digest()
    timestamp = headers["X-Seedance-Timestamp"]
    expected = hmac.new(derived, f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert headers["X-Seedance-Signature"] == f"v1={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    row = ApiTask.objects.get(task_id=created.id)
    assert row.callback_delivered_at is not None and row.callback_attempts == 1
