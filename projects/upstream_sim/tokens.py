"""Ark's token arithmetic: a model's output pixel size and the tokens a video is billed at.

Both come from docs/upstream-research.md: §1.7 (output sizes) and §1.14 (the token formula).
Ark and BytePlus bill `usage.completion_tokens`, so every simulated gateway that reports Ark
usage computes it here, and app code wanting the same figure can call `completion_tokens`.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

FPS = 24  # Seedance renders 24 fps only (§1.5, §1.7)

# (width, height) in pixels by resolution and ratio. Seedance 1.5 pro, 2.0 and 2.0 fast
# (§1.7, the 2.0 table; 1.5 pro shares it per the mirrored size tables cited there).
SIZES_2 = {
    "480p": {
        "16:9": (864, 496),
        "4:3": (752, 560),
        "1:1": (640, 640),
        "3:4": (560, 752),
        "9:16": (496, 864),
        "21:9": (992, 432),
    },
    "720p": {
        "16:9": (1280, 720),
        "4:3": (1112, 834),
        "1:1": (960, 960),
        "3:4": (834, 1112),
        "9:16": (720, 1280),
        "21:9": (1470, 630),
    },
    "1080p": {
        "16:9": (1920, 1080),
        "4:3": (1664, 1248),
        "1:1": (1440, 1440),
        "3:4": (1248, 1664),
        "9:16": (1080, 1920),
        "21:9": (2206, 946),
    },
}
# Seedance 1.0 pro / pro fast / lite (§1.7: "480p 16:9 864×480 … 720p 16:9 1248×704 … 1080p
# 16:9 1920×1088, 21:9 2176×928"; the other cells from the same official table as mirrored by
# 302.ai's Seedance 1.0 billing page and Runware's 1.0 pro size list).
SIZES_1_0 = {
    "480p": {
        "16:9": (864, 480),
        "4:3": (736, 544),
        "1:1": (640, 640),
        "3:4": (544, 736),
        "9:16": (480, 864),
        "21:9": (960, 416),
    },
    "720p": {
        "16:9": (1248, 704),
        "4:3": (1120, 832),
        "1:1": (960, 960),
        "3:4": (832, 1120),
        "9:16": (704, 1248),
        "21:9": (1504, 640),
    },
    "1080p": {
        "16:9": (1920, 1088),
        "4:3": (1664, 1248),
        "1:1": (1440, 1440),
        "3:4": (1248, 1664),
        "9:16": (1088, 1920),
        "21:9": (2176, 928),
    },
}
_SEEDANCE_1_0 = re.compile(r"seedance-1[-.]0")


def output_size(model: str, resolution: str, ratio: str) -> tuple[int, int]:
    """The (width, height) in pixels a `model` renders at `resolution` and `ratio` (§1.7).

    Seedance 1.0 ids (`...seedance-1-0-...`, `seedance-1.0...`) use the 1.0 table, every other
    id the 2.0 one. `adaptive` (the model picks from the first frame) and unknown cells count
    as 16:9, an unknown resolution as 720p: the simulator has no image to pick from."""
    sizes = SIZES_1_0 if _SEEDANCE_1_0.search(model or "") else SIZES_2
    table = sizes.get(resolution, sizes["720p"])
    return table.get(ratio, table["16:9"])


def completion_tokens(
    width: int, height: int, duration_s: float, input_video_s: float = 0.0
) -> int:
    """The tokens Ark bills for a video: `usage.completion_tokens` (= `total_tokens`).

    docs/upstream-research.md §1.14: tokens = (input video s + output s) x w x h x fps / 1024,
    in the engineering form that matches every published `completion_tokens`:

        floor(w*h/1024 * (24*d + 1)  +  w*h/1024 * 24*v)

    `width` x `height`: the output pixel size (`output_size`, §1.7); `duration_s` (d): output
    seconds; `input_video_s` (v): the reference videos' total seconds, billed at the output's
    per-second rate (w*h*24/1024 tokens a second), without the extra frame. A `frames` request
    lasts (frames - 1) / 24 s, so 24*d + 1 is its frame count. Exact arithmetic (Fraction),
    one floor at the end. Examples (§1.14): 1280x720, 5 s -> 108,900; 1280x720, 11 s with an
    8 s reference video -> 238,500 + 172,800 = 411,300.

    Not modelled: 2.0's minimum token usage with video input (§1.14 names it, no figures).
    """
    per_frame = Fraction(width * height, 1024)
    frames = FPS * Fraction(duration_s) + 1 + FPS * Fraction(input_video_s)
    return math.floor(per_frame * frames)
