"""The capability check names the limit and the doc it comes from."""

from projects.providers.base import GenerationRequest, MediaReference
from projects.providers.request_check import check_request
from projects.providers.tokenhub import CAPABILITIES


def request(**overrides) -> GenerationRequest:
    values = dict(
        model="doubao-seedance-2.0", prompt="A cat", ratio="16:9", resolution="720p", duration=5
    )
    values.update(overrides)
    return GenerationRequest(**values)


def test_a_valid_request_has_no_errors():
    assert check_request(CAPABILITIES, request()) == {}


def test_duration_out_of_range_names_limit_and_source():
    errors = check_request(CAPABILITIES, request(duration=20))
    assert errors == {"duration": "doubao-seedance-2.0 accepts 4 to 15 seconds (TokenHub guide)."}


def test_auto_duration_refused_where_the_doc_has_none():
    assert "no auto duration" in check_request(CAPABILITIES, request(duration=-1))["duration"]


def test_each_broken_limit_is_reported_on_its_field():
    errors = check_request(
        CAPABILITIES,
        request(resolution="1080p", ratio="2:1", seed=3, prompt="  "),
    )
    assert errors["resolution"] == "doubao-seedance-2.0 accepts 480p or 720p (TokenHub guide)."
    assert "16:9" in errors["ratio"] and "TokenHub guide" in errors["ratio"]
    assert errors["seed"].startswith("TokenHub does not accept a seed")
    assert errors["prompt"] == "Write a prompt describing the video."


def test_unknown_model_lists_the_offered_ones():
    error = check_request(CAPABILITIES, request(model="seedance-9"))["model"]
    assert "doubao-seedance-2.0, doubao-seedance-2.0-fast" in error


def test_reference_rules():
    image = MediaReference(kind="image", role="first_frame", url="https://a/1.png")
    two_first = check_request(CAPABILITIES, request(references=(image, image)))
    assert two_first["references"].startswith("At most one first_frame")
    last_only = check_request(
        CAPABILITIES,
        request(
            references=(MediaReference(kind="image", role="last_frame", url="https://a/2.png"),)
        ),
    )
    assert last_only["references"] == "A last frame needs a first frame too."
    videos = tuple(
        MediaReference(kind="video", role="reference_video", url=f"https://a/{i}") for i in range(4)
    )
    assert (
        "at most 3 reference videos"
        in check_request(CAPABILITIES, request(references=videos))["references"]
    )
    audio_only = check_request(
        CAPABILITIES,
        request(
            references=(
                MediaReference(kind="audio", role="reference_audio", url="https://a/a.mp3"),
            )
        ),
    )
    assert "cannot be the only reference" in audio_only["references"]
    mixed = check_request(
        CAPABILITIES,
        request(
            references=(
                image,
                MediaReference(kind="image", role="reference_image", url="https://a/3.png"),
            )
        ),
    )
    assert "mutually exclusive" in mixed["references"]


def test_capability_schema_imports_no_other_provider_module():
    """base.py depends on the schema and the validator on both: one way, no circle (issue 18)."""
    import ast
    from pathlib import Path

    import projects.providers.capabilities as schema

    tree = ast.parse(Path(schema.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith("projects")}, imported


def test_what_users_read_names_public_docs_not_our_research_notes():
    """Sources and notes appear in refusals and on the form: they cite the gateway's own docs,
    never this repository's research file or its section numbers."""
    from projects.providers.registry import get_capabilities, provider_names

    texts = []
    for name in provider_names():
        caps = get_capabilities(name)
        texts += [caps.source, *caps.notes]
        for model in caps.models:
            texts.append(model.source)
            if model.media_limits is not None:
                texts += [model.media_limits.source, model.media_limits.summary()]
    assert texts and not [t for t in texts if "research" in t or "§" in t]
