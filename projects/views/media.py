"""Serving locally stored files behind signed, expiring links (S3 serves its own)."""

from __future__ import annotations

import mimetypes
import re

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from projects.storage import unsign

# ASCII digits, at most 18 of them: a file is smaller than 10**18 bytes, and int() of a
# 5,000-digit number raises (Python's int-from-string limit).
_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")


@login_not_required
@require_GET
def signed_media(request: HttpRequest, token: str) -> HttpResponse:
    """The file a valid token names; 403 when expired or tampered with. Honours a single
    byte Range so video players can seek."""
    try:
        name, download_as = unsign(token)
    except signing.SignatureExpired:
        return HttpResponse("This link has expired.", status=403, content_type="text/plain")
    except signing.BadSignature:
        return HttpResponse("This link is not valid.", status=403, content_type="text/plain")
    if not default_storage.exists(name):
        raise Http404("No such file.")
    size = default_storage.size(name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    match = _RANGE.match(request.headers.get("Range", ""))
    if match and (match.group(1) or match.group(2)):
        start, end = _byte_range(match.group(1), match.group(2), size)
        if start is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle = default_storage.open(name, "rb")
        handle.seek(start)
        response = StreamingHttpResponse(
            _read(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type=content_type,
            as_attachment=bool(download_as),
            filename=download_as or None,
        )
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _byte_range(first: str, last: str, size: int) -> tuple[int | None, int]:
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length else (None, 0)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return None, 0
    return start, end


def _read(handle, remaining: int):
    with handle:
        while remaining > 0:
            chunk = handle.read(min(1 << 16, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
