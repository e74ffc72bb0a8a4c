"""Output pixel sizes of the Seedance models, and Ark's token formula over them.

Ark and BytePlus bill a video by tokens (upstream-research.md §1.14):

    tokens = floor(width x height / 1024 x (fps x seconds + 1))

with `seconds` = input (reference) video seconds + output seconds, `fps` 24 (Seedance renders
24 fps only, §1.5/§1.7) and the +1 the extra frame every clip has (a 5 s clip is 121 frames).
That exact form matches every `usage.completion_tokens` the research observed: 720p 16:9 5 s =
1280 x 720 x 121 / 1024 = 108,900; 11 s 720p with an 8 s reference video = 411,300.

Tables are width x height in pixels per resolution and ratio. This module imports nothing of
the project: the capability tables name a table (`ModelCapabilities.size_table`) and the pricing
services read it.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

FPS = 24  # Seedance's only frame rate (§1.5 `--fps` "Seedance 24 only", §1.7)

# Seedance 2.x (and 1.5 pro, whose worked price example uses these): §1.7, from the official
# 2.0 doc's table (mirror 56808451849).
SEEDANCE_2_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {"16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "3:4": (560, 752),
             "9:16": (496, 864), "21:9": (992, 432)},
    "720p": {"16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
             "9:16": (720, 1280), "21:9": (1470, 630)},
    "1080p": {"16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440),
              "3:4": (1248, 1664), "9:16": (1080, 1920), "21:9": (2206, 946)},
}  # fmt: skip

# Seedance 1.0 pro / pro fast / lite: the 2025 official doc's table. §1.7 quotes its 16:9 and
# 1080p 21:9 entries; the 480p and 1080p rows are Runware's copy of the same table
# (runware.ai/docs/models/bytedance-seedance-1-0-pro); the 720p rows other than 16:9 are the
# official doc's as we read it and are not in the research's sources. A hold computed from a
# size smaller than the gateway's own is capped, never silently exceeded: the settlement notes
# the difference for admins (money/billing.py).
SEEDANCE_1_0_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {"16:9": (864, 480), "4:3": (736, 544), "1:1": (640, 640), "3:4": (544, 736),
             "9:16": (480, 864), "21:9": (960, 416)},
    "720p": {"16:9": (1248, 704), "4:3": (1120, 832), "1:1": (960, 960), "3:4": (832, 1120),
             "9:16": (704, 1248), "21:9": (1504, 640)},
    "1080p": {"16:9": (1920, 1088), "4:3": (1664, 1248), "1:1": (1440, 1440),
              "3:4": (1248, 1664), "9:16": (1088, 1920), "21:9": (2176, 928)},
}  # fmt: skip

TABLES = {"seedance-2": SEEDANCE_2_SIZES, "seedance-1.0": SEEDANCE_1_0_SIZES}


def output_size(*, table: str, resolution: str, ratio: str) -> tuple[int, int] | None:
    """The (width, height) in pixels a model of size table `table` renders at `resolution`
    and `ratio`; for `adaptive` (the size follows the input picture, unknown before the render)
    the largest frame of any ratio at that resolution, so a hold based on it is a worst case.
    None when the table has no such resolution or ratio."""
    sizes = TABLES.get(table, {}).get(resolution)
    if not sizes:
        return None
    if ratio == "adaptive":
        return max(sizes.values(), key=lambda size: size[0] * size[1])
    return sizes.get(ratio)


def video_tokens(
    *, width: int, height: int, seconds: Decimal | int, fps: int = FPS, frames: int | None = None
) -> int:
    """Ark's token count for `seconds` of video (input + output) at width x height pixels:
    floor(w x h / 1024 x (fps x seconds + 1)). Exact for fractional seconds (Decimal). With
    `frames` (an output asked for as a frame count, §1.3) `seconds` is the input video's
    alone and the output counts its frames: floor(w x h / 1024 x (fps x seconds + frames))."""
    frames = Decimal(fps) * Decimal(seconds) + (1 if frames is None else frames)
    tokens = Decimal(width * height) * frames / 1024
    return int(tokens.to_integral_value(rounding=ROUND_FLOOR))
