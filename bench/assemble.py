"""Benchmark: assembling a cut (projects/cut.py, issue 15) against `ffmpeg -f concat -c copy`.

Renders two different 15 s 1280x720 takes (H.264 yuv420p 24 fps at about 4 Mbit/s, a noisy
picture so the bytes are a gateway's, not a test card's; stereo AAC at 48 kHz), cached in
var/bench/assemble/, and lays them out as 8 take files (a, b, a, b, ...). Then, in the same run:

  ffmpeg   `ffmpeg -f concat -safe 0 -i list -c copy` of the 8 files (wall time of the process)
  ours     `assemble()` of the same 8 files (time of the call, in a fresh Python process;
           the process's whole wall time, imports included, is shown beside it)

each the best of --repeat runs, and the ratio ours / ffmpeg against the target (<= 2x). Then
the peak RSS growth of `assemble()` for 2, 4 and 8 takes (VmHWM after resetting it with
`echo 5 > /proc/self/clear_refs`, Linux, minus VmRSS just before the call, in a fresh process
each): flat if the cut streams.

    .venv/bin/python bench/assemble.py
    .venv/bin/python bench/assemble.py --repeat 5

ffmpeg is needed for the comparison only (`apt-get install -y ffmpeg` on Debian/Ubuntu,
`brew install ffmpeg` on macOS); without it the ffmpeg column is skipped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "var" / "bench" / "assemble"
SECONDS, WIDTH, HEIGHT, FPS = 15, 1280, 720, 24
TARGET = 2.0


def status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def render_take(path: Path, seed: int, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """A 15 s 720p take with a noisy luma plane (a pool of 12 random planes, cycled and
    shifted) and a stereo tone; rendered once, then cached."""
    if path.exists():
        return path
    import math
    import random
    from array import array

    import av

    rng = random.Random(seed)
    pool = [rng.randbytes(width * height) for _ in range(12)]
    tmp = path.with_suffix(".part")
    with av.open(str(tmp), mode="w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = 4_000_000
        video.options = {"preset": "ultrafast", "g": str(2 * FPS)}
        sound = out.add_stream("aac", rate=48_000, layout="stereo")
        for index in range(SECONDS * FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            luma = pool[index % len(pool)]
            shift = (index * 7) % width
            frame.planes[0].update(luma[shift:] + luma[:shift])
            for plane in frame.planes[1:]:
                plane.update(bytes([(seed * 40 + index) % 256]) * plane.buffer_size)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for start in range(0, SECONDS * 48_000, 1024):
            tone = array(
                "f", (0.2 * math.sin(2 * math.pi * 330 * (start + i) / 48_000) for i in range(1024))
            )
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(tone.tobytes())
            frame.sample_rate, frame.pts, frame.time_base = 48_000, start, Fraction(1, 48_000)
            for packet in sound.encode(frame):
                out.mux(packet)
        for packet in sound.encode():
            out.mux(packet)
    tmp.rename(path)
    return path


def child(sources: list[str], out: str) -> None:
    """Run in a fresh process: assemble, print the call's time and memory as JSON."""
    from projects.cut import assemble

    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status_kib("VmRSS")
    start = time.perf_counter()
    result = assemble(sources, out)
    seconds = time.perf_counter() - start
    growth = (status_kib("VmHWM") - before) / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "growth_mib": growth,
                "peak_mib": status_kib("VmHWM") / 1024,
                "duration_s": result.duration_s,
                "reencoded": result.reencoded,
                "size": result.size_bytes,
            }
        )
    )


def run_ours(sources: list[Path], out: Path) -> tuple[dict, float]:
    command = [sys.executable, __file__, "--child", str(out), *map(str, sources)]
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout), time.perf_counter() - start


def run_ffmpeg(ffmpeg: str, sources: list[Path], scratch: Path) -> float:
    listing = scratch / "list.txt"
    listing.write_text("".join(f"file '{path}'\n" for path in sources))
    out = scratch / "ffmpeg.mp4"
    start = time.perf_counter()
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-c",
            "copy",
            str(out),
        ],
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reencode",
        action="store_true",
        help="Also time the re-encode path: 2 and 4 takes, every other one 960x540.",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[1:], args.child[0])
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    a, b = render_take(CACHE / "take_a.mp4", 1), render_take(CACHE / "take_b.mp4", 2)
    print(
        f"takes: 2 x {SECONDS} s {WIDTH}x{HEIGHT} {FPS} fps, {a.stat().st_size / 2**20:.1f}"
        f" + {b.stat().st_size / 2**20:.1f} MiB (ready in {time.perf_counter() - start:.1f} s)"
    )
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        print(
            "ffmpeg not found: the comparison is skipped. Install it with "
            "`apt-get install -y ffmpeg` (Debian/Ubuntu) or `brew install ffmpeg` (macOS)."
        )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        takes = []
        for index in range(8):
            takes.append(scratch / f"take{index}.mp4")
            shutil.copyfile(a if index % 2 == 0 else b, takes[-1])
        ours, process, theirs = [], [], []
        for _ in range(args.repeat):
            if ffmpeg:
                theirs.append(run_ffmpeg(ffmpeg, takes, scratch))
            report, wall = run_ours(takes, scratch / "ours.mp4")
            ours.append(report["seconds"])
            process.append(wall)
        size = (scratch / "ours.mp4").stat().st_size / 2**20
        print(
            f"\ncut of 8 takes: {report['duration_s']:.3f} s, {size:.1f} MiB, "
            f"{'re-encoded' if report['reencoded'] else 'remuxed'}; best of {args.repeat}"
        )
        print(f"{'':<10}{'time':>9}{'process':>10}")
        if theirs:
            print(f"{'ffmpeg':<10}{min(theirs):>8.3f}s{min(theirs):>9.3f}s")
        print(f"{'ours':<10}{min(ours):>8.3f}s{min(process):>9.3f}s")
        if theirs:
            ratio = min(ours) / min(theirs)
            verdict = "meets" if ratio <= TARGET else "MISSES"
            print(
                f"ratio ours/ffmpeg {ratio:.2f}x (process {min(process) / min(theirs):.2f}x); "
                f"target <= {TARGET:.0f}x: {verdict}"
            )
        print(f"\n{'takes':>5}{'cut length':>12}{'peak RSS growth':>17}{'peak RSS':>10}{'time':>9}")
        for count in (2, 4, 8):
            report, _ = run_ours(takes[:count], scratch / f"mem{count}.mp4")
            print(
                f"{count:>5}{report['duration_s']:>11.1f}s{report['growth_mib']:>13.1f} MiB"
                f"{report['peak_mib']:>7.0f} MiB{report['seconds']:>8.3f}s"
            )
        if args.reencode:
            small = render_take(CACHE / "take_c_540p.mp4", 3, 960, 540)
            print("\nre-encode path (every other take 960x540, scaled to the first's 1280x720):")
            for count in (2, 4):
                mixed = [takes[i] if i % 2 == 0 else small for i in range(count)]
                report, _ = run_ours(mixed, scratch / f"re{count}.mp4")
                print(
                    f"{count:>5}{report['duration_s']:>11.1f}s{report['growth_mib']:>13.1f} MiB"
                    f"{report['peak_mib']:>7.0f} MiB{report['seconds']:>8.3f}s"
                    f"  ({report['duration_s'] * FPS / report['seconds']:.0f} frames/s, "
                    f"{'re-encoded' if report['reencoded'] else 'remuxed'})"
                )


if __name__ == "__main__":
    main()
