"""Gateway-given links are fetched only from public https addresses (providers/outbound.py): a
reply pointing the worker at loopback, a private network, the metadata service, a file, or a
public link that redirects inward, fails the task with a clear message, stores nothing, charges
nothing, and never reaches the internal address. A cover that is not a picture is dropped."""

from __future__ import annotations

import socket

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from projects.models import CreditEntry, GenerationTask
from projects.money.billing import generation_task_hold
from projects.providers.outbound import (
    BlockedURL,
    address_refusal,
    check_url,
    host_listed,
    public_address,
)
from projects.services.outputs import generation_task_store_outputs
from projects.storage import output_key
from tests import media_files
from tests.factories import GenerationTaskFactory
from tests.media_server import start_media_server

Status = GenerationTask.Status


# --- the policy ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not public"),
        ("fd00::1", "private"),
    ],
)
def test_internal_addresses_are_refused_with_their_kind(address, words):
    assert words in address_refusal(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(address) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "file: link"),
        ("ftp://cdn.example.com/v.mp4", "ftp: link"),
        ("gopher://127.0.0.1:6379/_INFO", "gopher: link"),
        ("http://cdn.example.com/v.mp4", "plain-http"),
        ("/relative/v.mp4", "relative"),
        ("https:///no-host", "no host"),
    ],
)
def test_links_that_are_not_https_are_refused(url, words):
    with pytest.raises(BlockedURL) as refused:
        check_url(url, listed=frozenset())
    assert words in refused.value.message


def test_an_https_link_and_a_listed_http_host_pass_the_url_check():
    check_url("https://cdn.example.com/v.mp4", listed=frozenset())
    check_url("http://127.0.0.1:8865/_files/x", listed=frozenset({"127.0.0.1:8865"}))
    with pytest.raises(BlockedURL):
        check_url("http://127.0.0.1:8866/_files/x", listed=frozenset({"127.0.0.1:8865"}))


def test_listing_by_host_or_host_and_port():
    assert host_listed("SIM.local", 80, {"sim.local"})
    assert host_listed("127.0.0.1", 8865, {"127.0.0.1:8865"})
    assert not host_listed("127.0.0.1", 8866, {"127.0.0.1:8865"})
    assert host_listed("::1", 8000, {"[::1]:8000"})


def test_a_name_resolving_inward_is_refused_after_resolution(monkeypatch):
    answers = {"cdn.evil.example": ["93.184.216.34", "127.0.0.1"], "ok.example": ["8.8.8.8"]}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(BlockedURL) as refused:
        public_address("cdn.evil.example", 443, listed=frozenset())
    assert "loopback" in refused.value.message
    assert public_address("ok.example", 443, listed=frozenset()) == "8.8.8.8"


# --- the store job -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """`cdn`: what the gateway links to (listed, like a simulator); `internal`: a service that
    must never be reached, on another port."""
    clip = media_files.video(tmp_path_factory.mktemp("clip"), "clip.mp4", seconds=1)
    cdn, internal = start_media_server(), start_media_server()
    cdn.files["/video.mp4"] = ("video/mp4", clip.read_bytes())
    cdn.files["/cover.json"] = ("image/jpeg", b'{"AccessKeyId": "AKIA-fake", "Token": "x"}')
    internal.files["/latest/meta-data/iam"] = ("application/json", b'{"AccessKeyId": "AKIA"}')
    yield cdn, internal
    for server in (cdn, internal):
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def cdn_only(settings, servers):
    cdn, internal = servers
    cdn.gets.clear()
    internal.gets.clear()
    settings.SEEDANCE_FETCH_ALLOW_HOSTS = [cdn.url.removeprefix("http://")]
    return cdn, internal


def rendered_task(**urls) -> GenerationTask:
    """A held task the gateway says is rendered, with the given output links."""
    task = GenerationTaskFactory(status=Status.RUNNING, upstream_task_id="up-1")
    with transaction.atomic():
        generation_task_hold(task=task)
    GenerationTask.objects.filter(pk=task.pk).update(status=Status.DOWNLOADING, **urls)
    return task


def stored_outputs(task) -> list[str]:
    names = ["video.mp4", "cover.jpg", "cover.png", "last_frame.png", "last_frame.jpg"]
    keys = [output_key(team_id=task.project.team_id, task_id=task.pk, filename=n) for n in names]
    return [key for key in keys if default_storage.exists(key)]


def money(task) -> list[str]:
    return sorted(CreditEntry.objects.filter(task=task).values_list("kind", flat=True))


def assert_refused(task, *, words: str) -> None:
    task.refresh_from_db()
    assert task.status == Status.FAILED
    assert words in task.error_message and "Nothing was stored" in task.error_message
    assert not task.video and not task.cover and stored_outputs(task) == []
    assert money(task) == ["hold", "release"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1:{internal_port}/latest/meta-data/iam", "loopback"),
        ("http://127.0.0.1:{internal_port}/latest/meta-data/iam", "plain-http"),
        ("https://10.0.0.1/video.mp4", "private address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("file:///etc/passwd", "file: link"),
    ],
)
def test_a_video_link_pointing_inward_fails_the_task_and_stores_nothing(cdn_only, url, words):
    cdn, internal = cdn_only
    port = internal.server.server_address[1]
    task = rendered_task(output_url=url.format(internal_port=port))
    generation_task_store_outputs(task_id=str(task.pk))
    assert_refused(task, words=words)
    assert internal.gets == []


@pytest.mark.django_db
def test_a_public_link_redirecting_inward_is_refused_at_the_redirect(cdn_only):
    cdn, internal = cdn_only
    cdn.redirects["/moved.mp4"] = internal.url + "/latest/meta-data/iam"
    task = rendered_task(output_url=cdn.url + "/moved.mp4")
    generation_task_store_outputs(task_id=str(task.pk))
    assert_refused(task, words="plain-http link to 127.0.0.1")
    assert cdn.gets == ["/moved.mp4"] and internal.gets == []


@pytest.mark.django_db
def test_a_cover_pointing_inward_fails_the_task_and_removes_the_stored_video(cdn_only):
    cdn, internal = cdn_only
    task = rendered_task(
        output_url=cdn.url + "/video.mp4",
        cover_url=f"https://127.0.0.1:{internal.server.server_address[1]}/latest/meta-data/iam",
    )
    generation_task_store_outputs(task_id=str(task.pk))
    assert_refused(task, words="loopback")
    assert cdn.gets == ["/video.mp4"] and internal.gets == []


@pytest.mark.django_db
def test_a_cover_that_is_not_a_picture_is_dropped_and_the_video_kept(cdn_only):
    cdn, _ = cdn_only
    task = rendered_task(output_url=cdn.url + "/video.mp4", cover_url=cdn.url + "/cover.json")
    generation_task_store_outputs(task_id=str(task.pk))
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED and task.video
    # Our own poster of the video's first frame takes the dropped cover's place (and the
    # video's own last frame, as the gateway gave none).
    stored = [k.rsplit("/", 1)[1] for k in stored_outputs(task)]
    assert stored == ["video.mp4", "cover.jpg", "last_frame.png"]
    with default_storage.open(task.cover.name, "rb") as poster:
        assert poster.read(3) == b"\xff\xd8\xff"  # a JPEG, not the JSON the gateway sent
    warning = task.events.get(kind="store_warning").message
    assert warning == "cover.jpg not saved: by its content it is not a JPEG, PNG or WebP picture."
    assert money(task) == ["charge", "hold", "release"]
