"""Benchmark: memory a hostile picture costs the probe (issue 19).

Writes a 9999 x 9999 RGBA PNG of zeros (about 388 KB; 400 MB once decoded), probes it with
`probe_media` the way an upload is probed, and prints the peak RSS growth of this process
(VmHWM after resetting it with `echo 5 > /proc/self/clear_refs`, Linux, minus VmRSS before)
and the answer. Then the same for a 6000 x 6000 PNG (the largest accepted: probed and
thumbnailed) for comparison.

    .venv/bin/python bench/probe_memory.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from projects.media import MediaInvalid, make_poster, probe_media  # noqa: E402
from tests.test_media_limits import zero_png  # noqa: E402


def status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def measure(label: str, path: Path, poster: Path) -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # resets VmHWM to the current RSS
    before = status_kib("VmRSS")
    start = time.monotonic()
    try:
        info = probe_media(path, name=path.name)
        make_poster(path, info, poster)
        answer = f"accepted {info.width}x{info.height}, poster written"
    except MediaInvalid as exc:
        answer = f"refused: {exc.message}"
    seconds = time.monotonic() - start
    growth = (status_kib("VmHWM") - before) / 1024
    print(
        f"{label:<22} {path.stat().st_size / 1024:>8.0f} KB  RSS +{growth:6.1f} MB  "
        f"{seconds:5.2f} s  {answer}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        bomb = zero_png(directory / "bomb-9999.png", 9999, 9999)
        edge = zero_png(directory / "edge-6000.png", 6000, 6000)
        measure("9999x9999 RGBA zeros", bomb, directory / "p1.jpg")
        measure("6000x6000 RGBA zeros", edge, directory / "p2.jpg")


if __name__ == "__main__":
    main()
