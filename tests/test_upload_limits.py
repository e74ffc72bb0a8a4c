"""Upload limits hold while the body is read (projects/uploads.py): a 600 MB file against the
200 MB limit is refused having written at most the limit plus one chunk, and the rest of the
body is never read; a request over SEEDANCE_UPLOAD_MAX_REQUEST_MB writes nothing at all."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from projects.models import Asset
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
CHUNK = 64 * 1024  # Django's upload chunk
BOUNDARY = "----seedance-test-boundary"


class MultipartBody(io.RawIOBase):
    """A multipart/form-data body with one file of `size` zero bytes, made as it is read (no
    600 MB in memory); `served` counts the bytes the server read."""

    def __init__(self, size: int, *, name: str = "huge.mp4") -> None:
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{name}"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.length = len(self.head) + size + len(self.tail)
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.length - self.served if n is None or n < 0 else n
        out = bytearray()
        while n > len(out) and self.served < self.length:
            at, want = self.served, n - len(out)
            if at < len(self.head):
                piece = self.head[at : at + want]
            elif at < len(self.head) + self.size:
                piece = bytes(min(want, len(self.head) + self.size - at, 4 * MB))
            else:
                offset = at - len(self.head) - self.size
                piece = self.tail[offset : offset + want]
            out += piece
            self.served += len(piece)
        return bytes(out)


@pytest.fixture
def written(monkeypatch):
    """Bytes the temporary-file handler was given to write, per file."""
    seen: list[int] = []
    real = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        if start == 0:
            seen.append(0)
        seen[-1] += len(raw_data)
        return real(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    return seen


def post_streamed(client: Client, path: str, body: MultipartBody):
    environ = client._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(body.length),
        HTTP_ACCEPT="application/json",
        **{"wsgi.input": body},
    )
    return client.handler(environ)


@pytest.fixture
def uploader():
    membership = MembershipFactory()
    project = ProjectFactory(team=membership.team)
    client = Client()
    client.force_login(membership.user)
    return client, reverse("projects:asset_upload", args=[project.pk])


def test_a_600_mb_upload_is_refused_before_a_file_byte_is_written(uploader, written, settings):
    assert (settings.SEEDANCE_UPLOAD_MAX_MB, settings.SEEDANCE_UPLOAD_MAX_REQUEST_MB) == (200, 600)
    client, path = uploader
    body = MultipartBody(600 * MB)
    response = post_streamed(client, path, body)
    assert response.status_code == 413
    assert json.loads(response.content) == {
        "ok": False,
        "error": "The upload is 600 MB; one request may carry at most 600 MB. "
        "Send fewer files at once.",
    }
    assert written == [] and body.served <= 2 * CHUNK + len(body.head)
    assert not Asset.objects.exists()


def test_a_file_over_the_limit_stops_at_the_limit_plus_one_chunk(uploader, written, settings):
    client, path = uploader
    body = MultipartBody(500 * MB)
    response = post_streamed(client, path, body)
    assert response.status_code == 413
    assert json.loads(response.content) == {
        "ok": False,
        "error": "“huge.mp4” is larger than 200 MB, the most an upload may be.",
    }
    # Every chunk up to the limit was written; the one that would pass it was not.
    assert len(written) == 1 and 200 * MB - CHUNK < written[0] <= 200 * MB
    assert body.served <= 200 * MB + 2 * CHUNK + len(body.head)  # the rest is never read
    assert not Asset.objects.exists()


def test_a_file_within_the_limit_reaches_the_form(uploader, written, settings):
    settings.SEEDANCE_UPLOAD_MAX_MB = 10
    client, path = uploader
    response = post_streamed(client, path, MultipartBody(6 * MB, name="zeros.mp4"))
    # Read whole, then refused by its content (zeros are no video), not by its size.
    assert response.status_code == 400
    assert "is not any media type we know" in json.loads(response.content)["error"]
    assert written == [6 * MB]
