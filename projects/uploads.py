"""Upload size limits enforced while the request body is read, not after it was spooled to disk.

Django's own handlers write every byte of a file to a temporary file before a form can say it
is too big, so a 600 MB post against a 200 MB limit filled 600 MB of disk first, and parallel
posts could fill the disk. `LimitedUploadHandler` runs first in FILE_UPLOAD_HANDLERS: it passes
each chunk on to the memory / temporary-file handlers until a file would exceed
SEEDANCE_UPLOAD_MAX_MB, then stops reading the request (StopUpload with connection_reset), so
at most the limit plus one chunk of a file is ever written. A request whose Content-Length is
larger than SEEDANCE_UPLOAD_MAX_REQUEST_MB is stopped at its first file, before any file byte
is written. The fields sent before the file (the CSRF token) are kept, so the view answers
with `upload_refusal(request)` instead of a CSRF failure.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

MB = 1024 * 1024


def upload_refusal(request: HttpRequest) -> str:
    """Why the request's upload was cut short ('“clip.mov” is larger than 200 MB, ...'), or ''
    when nothing was refused. Read it after `request.POST` / `request.FILES` were parsed."""
    return getattr(request, "_seedance_upload_refusal", "")


class LimitedUploadHandler(FileUploadHandler):
    """Stops the upload once a file passes SEEDANCE_UPLOAD_MAX_MB bytes, or at the first file
    of a request over SEEDANCE_UPLOAD_MAX_REQUEST_MB; records why for `upload_refusal`. It
    stores nothing itself: chunks go on, unchanged, to the handlers after it."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length or 0

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        cap = settings.SEEDANCE_UPLOAD_MAX_REQUEST_MB * MB
        if getattr(self, "request_length", 0) > cap:
            self._refuse(
                f"The upload is {self.request_length / MB:,.0f} MB; one request may carry at "
                f"most {settings.SEEDANCE_UPLOAD_MAX_REQUEST_MB} MB. Send fewer files at once."
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.SEEDANCE_UPLOAD_MAX_MB * MB:
            self._refuse(
                f"“{self.file_name}” is larger than {settings.SEEDANCE_UPLOAD_MAX_MB} MB, the "
                "most an upload may be."
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file

    def _refuse(self, message: str) -> None:
        if self.request is not None:
            self.request._seedance_upload_refusal = message
        raise StopUpload(connection_reset=True)
