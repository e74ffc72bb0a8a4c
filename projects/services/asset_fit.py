"""Whether any gateway here would take a library file as a reference, so the library can say
so when none would (a 12 fps clip, a 320×320 video) instead of accepting it without a word and
refusing it only when a generation uses it."""

from __future__ import annotations

from projects.models import Asset
from projects.providers.registry import configured_provider_names, get_capabilities
from projects.providers.request_check import check_media_limits
from projects.services.generation import media_reference

ROLE_FOR_KIND = {"image": "reference_image", "video": "reference_video", "audio": "reference_audio"}


def asset_fit_problem(asset: Asset) -> str:
    """'' when at least one configured gateway's model takes `asset` as a reference at some
    resolution (or declares no limits to check); else why not, as the most recent check says
    it: "No gateway here takes this file as a reference: Video “a.mp4” runs at 12 fps, ...".
    Pure computation over the capability tables: no query, no network."""
    reference = media_reference(
        asset, role=ROLE_FOR_KIND.get(asset.kind, "reference_image"), provider="", url=""
    )
    problem = ""
    for name in configured_provider_names():
        caps = get_capabilities(name)
        for model in caps.models:
            if model.media_limits is None:
                return ""
            for resolution in model.resolutions:
                found = check_media_limits(
                    model.media_limits, [reference], resolution=resolution, gateway=caps.label
                )
                if not found:
                    return ""
                problem = problem or " ".join(found)
    return f"No gateway here takes this file as a reference: {problem}" if problem else ""
