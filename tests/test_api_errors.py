"""The team API's refusals: Ark's JSON error shape and statuses for every kind of bad request
(unknown paths, methods, bodies, fields, models, references, callback addresses), the gateway
rule, and the OpenAPI document and its page."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from projects.api.errors import ApiError
from projects.api.gateways import FAMILIES, gateway_route
from projects.models import Asset, CreditEntry, GenerationTask
from projects.providers.registry import get_capabilities
from tests.api_support import ARK_MODEL, make_studio

pytestmark = pytest.mark.django_db
TASKS = "/api/v3/contents/generations/tasks"


@pytest.fixture
def studio():
    return make_studio()


def send(studio, body, *, content_type="application/json", **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post(TASKS, data, content_type=content_type, **studio.auth, **headers)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def body(**fields) -> dict:
    return {"model": ARK_MODEL, "content": [{"type": "text", "text": "A kite"}], **fields}


def nothing_written() -> None:
    assert not GenerationTask.objects.exists()
    assert not CreditEntry.objects.exclude(kind="grant").exists()
    assert not Asset.objects.exists()


def test_unknown_paths_and_methods_are_json(studio):
    client = Client()
    for path in ("/api/v3/", "/api/v3/nothing", "/api/v3/contents/generations/tasks/a/b"):
        assert error_of(client.get(path, **studio.auth), 404)["code"] == "NotFound"
    response = client.put(TASKS, **studio.auth)
    assert error_of(response, 405)["code"] == "MethodNotAllowed"
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    response = client.patch(f"{TASKS}/x", **studio.auth)
    assert error_of(response, 405)["code"] == "MethodNotAllowed"


@pytest.mark.parametrize(
    ("payload", "content_type", "code", "param"),
    [
        ("{not json", "application/json", "InvalidParameter", None),
        ("model=x", "application/x-www-form-urlencoded", "InvalidParameter", None),
        ("", "application/json", "MissingParameter", None),
        ("[]", "application/json", "InvalidParameter", None),
        (
            {"content": [{"type": "text", "text": "x"}]},
            "application/json",
            "MissingParameter",
            "model",
        ),
        (body(colour="red"), "application/json", "InvalidParameter", "colour"),
        (body(duration="five"), "application/json", "InvalidParameter", "duration"),
        (body(seed=2**40), "application/json", "InvalidParameter", "seed"),
        (body(content=[{"type": "sticker"}]), "application/json", "InvalidParameter", None),
        (body(frames=100), "application/json", "InvalidParameter", "frames"),
        (body(draft=True), "application/json", "InvalidParameter", "draft"),
        (body(ratio="7:5"), "application/json", "InvalidParameter", "ratio"),
    ],
)
def test_bad_bodies_are_400_in_arks_shape_and_write_nothing(
    studio, payload, content_type, code, param
):
    error = error_of(send(studio, payload, content_type=content_type), 400)
    assert error["code"] == code and error["type"] == "BadRequest"
    if param:
        assert error["param"] == param or error["param"].startswith(param), error
    nothing_written()


def test_an_unknown_model_is_arks_404(studio):
    error = error_of(send(studio, body(model="doubao-seedance-9-9")), 404)
    assert error["code"] == "InvalidEndpointOrModel.NotFound" and error["param"] == "model"
    assert "doubao-seedance-2.0" in error["message"]  # what is offered here (TokenHub)
    error = error_of(send(studio, body(), HTTP_X_SEEDANCE_PROVIDER="nowhere"), 400)
    assert error["param"] == "X-Seedance-Provider"
    nothing_written()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://10.1.2.3/a.png", "private address"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/a.png", "loopback"),
        ("http://example.com/a.png", "plain-http"),
        ("ftp://example.com/a.png", "https://, data: or asset://"),
        ("data:image/png;base64,@@@", "not valid base64"),
        ("asset://not-an-id", "not in the project's library"),
    ],
)
def test_reference_urls_are_fetched_only_from_public_addresses(studio, url, words):
    item = {"type": "image_url", "image_url": {"url": url}, "role": "first_frame"}
    error = error_of(send(studio, body(content=[item])), 400)
    assert words in error["message"] and error["param"].startswith("content[0]")
    assert "gateway" not in error["message"]
    nothing_written()


def test_another_teams_asset_is_not_a_reference(studio):
    other = make_studio(name="Other")
    asset = Asset.objects.create(
        team=other.team, project=other.project, kind="image", name="theirs.png", file="x.png"
    )
    item = {"type": "image_url", "image_url": {"url": f"asset://{asset.pk}"}}
    error = error_of(send(studio, body(content=[item])), 400)
    assert "not in the project's library" in error["message"]


def test_a_picture_that_is_not_one_is_refused_by_the_same_probe_as_uploads(studio):
    fake = "data:image/png;base64," + base64.b64encode(b"not a picture at all").decode()
    item = {"type": "image_url", "image_url": {"url": fake}, "role": "first_frame"}
    error = error_of(send(studio, body(content=[item])), 400)
    assert error["code"] == "InvalidParameter" and error["param"] == "content"
    nothing_written()


def test_two_images_need_roles_as_on_ark(studio):
    image = {"type": "image_url", "image_url": {"url": "asset://x"}}
    error = error_of(send(studio, body(content=[image, image])), 400)
    assert "role must be specified for image contents" in error["message"]


@pytest.mark.parametrize(
    "url", ["https://10.0.0.8/hook", "https://169.254.169.254/", "ftp://x.example/hook"]
)
def test_callback_urls_to_private_addresses_are_refused(studio, url):
    error = error_of(send(studio, body(callback_url=url)), 400)
    assert error["param"] == "callback_url"
    nothing_written()


def test_a_body_over_the_limit_is_413(studio, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    error = error_of(send(studio, body(content=[{"type": "text", "text": "x" * 2000}])), 413)
    assert "asset://" in error["message"]


def test_the_openapi_document_and_its_page():
    document = Client().get("/api/v3/openapi.json").json()
    operations = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert operations == {
        ("/api/v3/contents/generations/tasks", "post"),
        ("/api/v3/contents/generations/tasks", "get"),
        ("/api/v3/contents/generations/tasks/{task_id}", "get"),
        ("/api/v3/contents/generations/tasks/{task_id}", "delete"),
    }
    page = Client().get("/api/v3/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.content


# --- which gateway --------------------------------------------------------------------------------
def test_every_family_id_is_in_its_gateways_table():
    for family, ids in FAMILIES.items():
        for provider, model in ids.items():
            assert get_capabilities(provider).model(model) is not None, (family, provider)


def test_the_gateway_rule(settings):
    def only(*names):
        settings.SEEDANCE_PROVIDERS = {
            name: {**conf, "api_key": "k" if name in names else ""}
            for name, conf in settings.SEEDANCE_PROVIDERS.items()
        }

    only("ark", "byteplus", "tokenhub")
    assert gateway_route(model=ARK_MODEL) == ("ark", ARK_MODEL)
    assert gateway_route(model="dreamina-seedance-2-0-260128").provider == "byteplus"
    assert gateway_route(model=ARK_MODEL, provider="tokenhub") == (
        "tokenhub",
        "doubao-seedance-2.0",
    )
    only("tokenhub")
    assert gateway_route(model=ARK_MODEL) == ("tokenhub", "doubao-seedance-2.0")
    with pytest.raises(ApiError) as refused:
        gateway_route(model="doubao-seedance-1-0-pro-250528")
    assert refused.value.status == 404
    only("acedata", "alltoken")
    assert gateway_route(model="doubao-seedance-1-5-pro-251215").provider == "acedata"
    assert gateway_route(model="seedance-1-5-pro-251215") == (
        "acedata",
        "doubao-seedance-1-5-pro-251215",
    )
