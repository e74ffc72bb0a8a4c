"""Error reports without secrets: Django's debug 500 page and the e-mailed report.

Django's SafeExceptionReporterFilter hides settings and request values by name, but shows
every local variable of every frame unless the function is decorated, shows the exception
message as is, and switches itself off when DEBUG is on. Here the filter is always on, hides
any local whose value mentions a secret, and the reporter passes the finished page and text
through projects/redaction.py as a last net (settings DEFAULT_EXCEPTION_REPORTER and
DEFAULT_EXCEPTION_REPORTER_FILTER).
"""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from projects.redaction import (
    current_request_secrets,
    redact,
    request_secrets,
    secret_values,
)


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hides secrets by name (settings, request meta) and by value (frame locals)."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|DATABASE_URL|REDIS_URL",
        flags=re.IGNORECASE,
    )

    def is_active(self, request: Any) -> bool:
        # Also with DEBUG on: a developer's screen share or pasted traceback must not carry keys.
        return True

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = secret_values() + request_secrets(request) + current_request_secrets()
        cleansed = []
        for name, value in variables:
            if self.hidden_settings.search(name):
                value = self.cleansed_substitute
            else:
                try:
                    text = repr(value)
                except Exception:  # a broken __repr__ must not break the report
                    text = ""
                if any(secret in text for secret in secrets):
                    value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed


class SecretSafeExceptionReporter(ExceptionReporter):
    """The debug page and the e-mailed report, with every secret value redacted."""

    def _secrets(self) -> list[str]:
        return secret_values() + request_secrets(self.request) + current_request_secrets()

    def get_traceback_html(self) -> str:
        return redact(str(super().get_traceback_html()), self._secrets())

    def get_traceback_text(self) -> str:
        return redact(str(super().get_traceback_text()), self._secrets())
