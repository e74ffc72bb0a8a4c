"""The models of the official Ark tasks API and what each accepts (upstream-research §1.2,
§1.3, §1.6, §1.7), as data: ArkProvider's capability table, and the twins of BytePlus's
models (projects/providers/byteplus.py)."""

from __future__ import annotations

from projects.providers.capabilities import (
    ARK_EXPIRES_AFTER,
    ARK_MEDIA_LIMITS,
    SEEDANCE_2_RATIOS,
    ModelCapabilities,
    ProviderCapabilities,
)

LABEL = "Ark"
SOURCE = "Ark API reference"  # upstream-research §1.2
# `service_tier` values: "flex" (offline, cheaper) where documented; not on 2.0 / 2.0 fast (§1.3).
SERVICE_TIERS_WITH_FLEX = ("default", "flex")

_ALL_ROLES = frozenset(
    {"first_frame", "last_frame", "reference_image", "reference_video", "reference_audio"}
)
_FRAME_ROLES = frozenset({"first_frame", "last_frame"})
_1X_RESOLUTIONS = ("480p", "720p", "1080p")
_1X = dict(
    durations=tuple(range(2, 13)),
    default_duration=5,
    resolutions=_1X_RESOLUTIONS,
    default_resolution="720p",
    ratios=SEEDANCE_2_RATIOS,
    default_ratio="16:9",
    audio=False,
    default_audio=False,
    seed=True,
    watermark=True,
    last_frame_output=True,
    media_limits=ARK_MEDIA_LIMITS,  # §1.6
    source=SOURCE,
)
_2X = dict(
    durations=tuple(range(4, 16)),
    default_duration=5,
    auto_duration=True,
    default_resolution="720p",
    ratios=SEEDANCE_2_RATIOS,
    default_ratio="16:9",
    audio=True,
    default_audio=True,
    seed=True,
    watermark=True,
    roles=_ALL_ROLES,
    max_images=9,
    max_videos=3,
    max_audios=3,
    max_references=12,  # "mixed total <= 12 files (2.0)", §1.6
    audio_needs_visual=True,  # "audio can't be the only reference on 2.0", §1.4
    portraits=True,  # verified asset:// portraits, §1.4
    last_frame_output=True,
    media_limits=ARK_MEDIA_LIMITS,  # §1.6
    source=SOURCE,
)

# Seedance 1.0 renders its own frame sizes (§1.7; projects/providers/output_sizes.py), and
# takes `frames` and `camera_fixed` (§1.3: neither on 2.0 / 2.0 fast, no frames on 1.5 pro).
_1_0 = {"size_table": "seedance-1.0", "frames": True, "camera_fixed": True}

# The 2.0 model first: it is the default. 1.x rows from §1.2 (T2V / first frame / first+last /
# reference images), durations from §1.2 (`-1` only where documented), resolutions §1.2.
MODELS = (
    ModelCapabilities(
        id="doubao-seedance-2-0-260128",
        label="Seedance 2.0",
        resolutions=_1X_RESOLUTIONS,
        **_2X,
    ),
    ModelCapabilities(
        id="doubao-seedance-2-0-fast-260128",
        label="Seedance 2.0 Fast",
        resolutions=("480p", "720p"),
        **_2X,
    ),
    ModelCapabilities(
        id="doubao-seedance-1-5-pro-251215",
        label="Seedance 1.5 Pro",
        **{
            **_1X,
            "durations": tuple(range(4, 13)),
            "auto_duration": True,
            "audio": True,
            "default_audio": True,
            "roles": _FRAME_ROLES,
            # Its documented prices (§1.14) are for 2.0-size frames; flex at half price (§9).
            "service_tiers": SERVICE_TIERS_WITH_FLEX,
            # Draft previews and finals rendered from them (§1.3, §1.4, §9); camera_fixed.
            "draft": True,
            "camera_fixed": True,
        },
    ),
    ModelCapabilities(
        id="doubao-seedance-1-0-pro-250528",
        label="Seedance 1.0 Pro",
        **{**_1X, **_1_0, "default_resolution": "1080p", "roles": _FRAME_ROLES},
    ),
    ModelCapabilities(
        id="doubao-seedance-1-0-pro-fast-251015",
        label="Seedance 1.0 Pro Fast",
        **{**_1X, **_1_0, "roles": frozenset({"first_frame"})},  # no first+last frame, §1.2
    ),
    ModelCapabilities(
        id="doubao-seedance-1-0-lite-t2v-250428",
        label="Seedance 1.0 Lite (text)",
        # Text only: "adaptive" follows an input image, and there is none.
        **{**_1X, **_1_0, "default_resolution": "480p", "ratios": SEEDANCE_2_RATIOS[:-1]},
    ),
    ModelCapabilities(
        id="doubao-seedance-1-0-lite-i2v-250428",
        label="Seedance 1.0 Lite (image)",
        **{
            **_1X,
            **_1_0,
            "default_resolution": "480p",
            "default_ratio": "adaptive",
            "roles": frozenset({"first_frame", "last_frame", "reference_image"}),
            "max_images": 4,
            "min_references": 1,  # image-to-video only
            "reference_resolutions": ("480p", "720p"),  # "no 1080p in ref mode", §1.2
        },
    ),
)
CAPABILITIES = ProviderCapabilities(
    name="ark",
    label=LABEL,
    models=MODELS,
    cancel="queued",
    callbacks=True,
    expires_after=ARK_EXPIRES_AFTER,
    source="Ark API reference",  # upstream-research §1
    notes=(
        # upstream-research §1.9 and §1.13
        "Only queued tasks can be cancelled; a running task is rendered and billed.",
        "Output links expire after 24 h.",
    ),
)
