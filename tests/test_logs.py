"""Structured logs: task ids as fields on every task-related line, the JSON format, and
secrets redacted from messages and fields alike."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings as django_settings

from projects.logs import ContextFilter, JsonFormatter, PlainFormatter, log_context
from projects.redaction import RedactSecretsFilter
from tests.conftest import create_task, drive
from tests.test_generation_flow import params

pytestmark = pytest.mark.django_db


class Captured:
    """A handler set up as settings.LOGGING sets up the console (context, then redaction),
    with the JSON formatter, on the root logger at INFO."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.addFilter(ContextFilter())
        self.handler.addFilter(RedactSecretsFilter())
        self.handler.setFormatter(formatter or JsonFormatter())

    def __enter__(self) -> Captured:
        root = logging.getLogger()
        self.level = root.level
        root.addHandler(self.handler)
        root.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.level)

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


def test_settings_put_context_then_redaction_in_front_of_every_handler():
    for handler in django_settings.LOGGING["handlers"].values():
        filters = handler["filters"]
        assert filters.index("log_context") < filters.index("redact_secrets")
    formatters = django_settings.LOGGING["formatters"]
    assert formatters["json"]["()"] == "projects.logs.JsonFormatter"
    assert django_settings.LOGGING["handlers"]["console"]["formatter"] in formatters


def test_every_line_of_a_generation_names_its_task_as_a_field(sim, project, member):
    with Captured() as log:
        task = drive(create_task(project=project, user=member, params=params()))
    entries = log.entries()
    task_lines = [e for e in entries if e["logger"].startswith("projects")]
    assert task_lines, entries
    for entry in task_lines:
        assert entry["task"] == str(task.pk), entry
        assert {"time", "level", "logger", "message"} <= set(entry)
    events = {e.get("event") for e in task_lines}
    assert {"created", "submitted", "succeeded"} <= events


def test_the_log_context_names_the_task_on_lines_from_any_logger():
    with Captured() as log, log_context(task="t-123", provider="ark"):
        logging.getLogger("httpx").warning("HTTP Request: GET https://ark/api 200")
        logging.getLogger("projects.x").info("with its own", extra={"task": "t-999"})
    first, second = log.entries()
    assert (first["task"], first["provider"], first["logger"]) == ("t-123", "ark", "httpx")
    assert second["task"] == "t-999"  # extra= wins over the context


def test_secrets_are_redacted_from_messages_fields_and_tracebacks(settings):
    key = "th-live-SECRETKEY-1234567890"
    settings.SEEDANCE_PROVIDERS = {
        **settings.SEEDANCE_PROVIDERS,
        "tokenhub": {**settings.SEEDANCE_PROVIDERS["tokenhub"], "api_key": key},
    }
    with Captured() as log:
        logger = logging.getLogger("projects.test")
        logger.info("sent Authorization: Bearer %s", key, extra={"header": f"Bearer {key}"})
        try:
            raise RuntimeError(f"upstream said: bad key {key}")
        except RuntimeError:
            logger.exception("crash", extra={"task": "t-1", "url": f"https://x/?k={key}"})
    text = log.stream.getvalue()
    assert key not in text
    first, second = log.entries()
    assert "[redacted]" in first["message"] and "[redacted]" in first["header"]
    assert second["task"] == "t-1" and "[redacted]" in second["url"]
    assert "RuntimeError" in second["exc"] and "[redacted]" in second["exc"]


def test_the_plain_format_appends_fields_it_does_not_already_say():
    with Captured(PlainFormatter()) as log, log_context(task="t-5"):
        logging.getLogger("projects.a").info("task=t-5 event=running Rendering started.")
        logging.getLogger("projects.b").info("copied", extra={"provider": "ark"})
    first, second = log.stream.getvalue().splitlines()
    assert first.endswith("task=t-5 event=running Rendering started.")
    assert second.endswith("copied provider=ark task=t-5")
