"""The contract every gateway adapter keeps, written once.

Each `tests/test_providers_<gateway>.py` declares `class TestContract(AdapterContract)` with its
gateway's own JSON (from the gateway's docs, through `httpx.MockTransport`; no network), and
pytest runs every test below for each gateway: a create reads the task id; every documented
status word maps to our status and an unknown one stays unknown; a status reply without a
status, an unreadable body, a read timeout after sending are "outcome unknown", a refused
connection, a 429 and a 5xx are transient, a 401 is a final auth refusal; no message carries
the key; and (CallbackContract) a callback names its task and junk is refused. What only one
gateway does (Ark's reconcile, seedance2.ink's HTTP-200 errors, AceData's envelopes) stays in
its own module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest

from projects.providers.base import (
    GenerationRequest,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejectedError,
    ProviderTransientError,
    UpstreamStatus,
    VideoProvider,
)

Handler = Callable[[httpx.Request], httpx.Response]


class AdapterContract:
    """Subclass per gateway and fill in:

    - SECRET: the API key `provider()` is built with (it must appear in no message);
    - CREATE_REPLY / CREATED_ID: a create's 200 JSON body and the task id it names;
    - STATUS_WORDS: every status word the gateway documents -> our UpstreamStatus;
    - TASK_ID: the id status replies are about;
    - provider(handler) and request(), and status_reply(word) (a status body with `word` as
      its status; `None` for a reply with no status at all).
    """

    SECRET: ClassVar[str]
    CREATE_REPLY: ClassVar[dict[str, Any]]
    CREATED_ID: ClassVar[str]
    STATUS_WORDS: ClassVar[dict[str, UpstreamStatus]]
    TASK_ID: ClassVar[str]

    def provider(self, handler: Handler) -> VideoProvider:
        raise NotImplementedError

    def request(self) -> GenerationRequest:
        raise NotImplementedError

    def status_reply(self, word: str | None) -> dict[str, Any]:
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------------
    def fetch(self, body: Any) -> Any:
        return self.provider(lambda r: httpx.Response(200, json=body)).fetch(self.TASK_ID)

    def submit_answered(self, answer: Handler) -> Any:
        return self.provider(answer).submit(self.request())

    # --- create -------------------------------------------------------------------------------
    def test_a_create_reads_the_task_id(self):
        sent: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return httpx.Response(200, json=self.CREATE_REPLY)

        result = self.submit_answered(answer)
        assert result.upstream_id == self.CREATED_ID
        assert len(sent) == 1 and sent[0].method == "POST"
        assert self.SECRET in sent[0].headers.get("authorization", "") + sent[0].headers.get(
            "x-api-key", ""
        )

    @pytest.mark.parametrize(
        "answer",
        [
            lambda r: httpx.Response(200, text="<html>oops</html>"),
            lambda r: httpx.Response(200, json=["not", "an", "object"]),
            lambda r: httpx.Response(200, content=b"\xff\xfe{"),
        ],
        ids=["html", "json-list", "not-utf8"],
    )
    def test_an_unreadable_create_answer_is_an_unknown_outcome(self, answer):
        with pytest.raises(ProviderOutcomeUnknown) as info:
            self.submit_answered(answer)
        assert self.SECRET not in info.value.message

    def test_a_timeout_after_sending_is_unknown_but_a_refused_connection_is_transient(self):
        def timeout(request):
            raise httpx.ReadTimeout("slow", request=request)

        def refused(request):
            raise httpx.ConnectError("refused", request=request)

        with pytest.raises(ProviderOutcomeUnknown):
            self.submit_answered(timeout)
        with pytest.raises(ProviderTransientError) as info:
            self.submit_answered(refused)
        assert not isinstance(info.value, ProviderOutcomeUnknown)

    @pytest.mark.parametrize("http_status", [429, 500, 502, 503])
    def test_busy_and_server_errors_are_transient(self, http_status):
        body = {"error": {"code": "Busy", "message": f"{self.SECRET} try again"}}
        with pytest.raises(ProviderTransientError) as info:
            self.submit_answered(lambda r: httpx.Response(http_status, json=body))
        assert self.SECRET not in info.value.message

    def test_a_refused_key_is_a_final_auth_refusal_naming_no_key(self):
        body = {"error": {"code": "AuthenticationError", "message": "bad key"}, "success": False}
        with pytest.raises(ProviderRejectedError) as info:
            self.submit_answered(lambda r: httpx.Response(401, json=body))
        assert info.value.kind == "auth"
        assert self.SECRET not in info.value.message

    # --- status -------------------------------------------------------------------------------
    def test_every_documented_status_word_is_mapped(self):
        seen = {word: self.fetch(self.status_reply(word)) for word in self.STATUS_WORDS}
        assert {word: snap.status for word, snap in seen.items()} == self.STATUS_WORDS
        assert all(snap.raw_status == word for word, snap in seen.items())
        assert {UpstreamStatus.QUEUED, UpstreamStatus.SUCCEEDED, UpstreamStatus.FAILED} <= set(
            self.STATUS_WORDS.values()
        )

    def test_an_unknown_status_word_is_kept_unknown_not_guessed(self, caplog):
        with caplog.at_level(logging.WARNING):
            snap = self.fetch(self.status_reply("warming-up"))
        assert snap.status == UpstreamStatus.UNKNOWN and snap.raw_status == "warming-up"
        assert "unknown upstream status word" in caplog.text

    def test_a_status_reply_without_a_status_is_unreadable(self):
        with pytest.raises(ProviderOutcomeUnknown):
            self.fetch(self.status_reply(None))

    @pytest.mark.parametrize("body", ["<html>", "[]", "null", "1e999999"])
    def test_an_unreadable_status_reply_is_an_unknown_outcome(self, body):
        provider = self.provider(lambda r: httpx.Response(200, text=body))
        with pytest.raises(ProviderOutcomeUnknown):
            provider.fetch(self.TASK_ID)


class CallbackContract(AdapterContract):
    """The contract of a gateway that posts callbacks: also fill in CALLBACK, (a body the
    gateway posts, the task id it names)."""

    CALLBACK: ClassVar[tuple[bytes, str]]

    def test_a_callback_names_its_task_and_junk_is_refused(self):
        provider = self.provider(lambda r: httpx.Response(500))
        body, task_id = self.CALLBACK
        assert provider.parse_callback(body) == task_id
        for junk in (b"not json", b"[1, 2]", b"{}", b"\xff\xfe", json.dumps({"x": 1}).encode()):
            with pytest.raises(ProviderError):
                provider.parse_callback(junk)
