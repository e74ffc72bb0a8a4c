"""Team webhooks: checking a URL when it is saved, and sending one message to it.

Two kinds of URL:
- a chat service Apprise knows (https://github.com/caronc/apprise/wiki): Slack (`slack://`
  or the `https://hooks.slack.com/...` URL), Feishu (`feishu://`), DingTalk (`dingtalk://`),
  Microsoft Teams through Power Automate (`workflow://host/...`). Apprise sends these;
- a generic JSON webhook, `jsons://host/path` (https) or `json://host/path` (plain http), as
  Apprise writes it. Apprise can only add fixed headers, so these are sent here with httpx
  through the outbound guard (projects/providers/outbound.py), signed:

      X-Seedance-Signature: sha256=<hex HMAC-SHA256(key=<the webhook's secret>, msg=<raw body>)>

  The body names its `id` and `sent_at`, so a receiver can drop replays.

A team admin types the URL, so it must not reach our internal network: the host of a generic
or Teams URL must resolve to public addresses only, checked when the URL is saved and again
where the socket opens (generic) or just before sending (Teams, as Apprise opens its own
socket). Hosts in SEEDANCE_WEBHOOK_ALLOW_HOSTS are exempt (a receiver inside the network, the
tests' receiver). Slack, Feishu and DingTalk URLs carry only tokens: Apprise posts them to the
vendor's own fixed host.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings

from projects.providers.http import USER_AGENT
from projects.providers.outbound import (
    BlockedURL,
    GuardedTransport,
    address_refusal,
    host_listed,
)

TIMEOUT = 10.0  # seconds for the whole POST; a slow receiver is retried later, not waited for
GENERIC_SCHEMES = {"json": "http", "jsons": "https"}
# Apprise services a team may use, by plugin class name; `True`: the URL names a host of the
# team's choosing, which is checked like a generic webhook's.
APPRISE_SERVICES = {
    "NotifySlack": False,
    "NotifyFeishu": False,
    "NotifyDingTalk": False,
    "NotifyWorkflows": True,
}
SERVICES_TEXT = (
    "Give a Slack, Feishu, DingTalk or Microsoft Teams (workflow://) URL as Apprise writes it, "
    "or a generic JSON webhook as jsons://host/path (https) or json://host/path."
)


class WebhookURLError(Exception):
    """A webhook URL we refuse; `message` says why, for the team admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    """Where a webhook URL sends: `kind` 'json' (we POST `url`, an http(s) URL) or
    'apprise' (Apprise sends to the original URL); `host` to check ('' when fixed)."""

    kind: str
    url: str
    host: str
    port: int | None


def new_secret() -> str:
    """A fresh signing secret: 64 hex characters (32 random bytes)."""
    return secrets.token_hex(32)


def signature(secret: str, body: bytes) -> str:
    """The X-Seedance-Signature value of `body`: 'sha256=' + hex HMAC-SHA256 keyed by the
    webhook's secret (its text, UTF-8)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def allow_hosts() -> frozenset[str]:
    """SEEDANCE_WEBHOOK_ALLOW_HOSTS as lower-case 'host' or 'host:port' entries."""
    hosts = getattr(settings, "SEEDANCE_WEBHOOK_ALLOW_HOSTS", [])
    return frozenset(h.strip().lower() for h in hosts if h.strip())


def target(url: str) -> Target:
    """What `url` is and where it goes. Raises WebhookURLError for a URL of no kind we send
    to (see SERVICES_TEXT)."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in GENERIC_SCHEMES:
        if not parts.hostname:
            raise WebhookURLError("The webhook URL has no host. " + SERVICES_TEXT)
        http_url = urlunsplit((GENERIC_SCHEMES[scheme], *parts[1:]))
        try:
            port = parts.port
        except ValueError as exc:
            raise WebhookURLError("The webhook URL's port is not a number.") from exc
        return Target(kind="json", url=http_url, host=parts.hostname, port=port)
    import apprise  # a large import, paid only by those who send to chat services

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    checks_host = APPRISE_SERVICES.get(type(plugin).__name__) if plugin else None
    if checks_host is None:
        raise WebhookURLError("This is not a webhook URL we send to. " + SERVICES_TEXT)
    if checks_host:
        return Target(kind="apprise", url=url, host=str(plugin.host), port=plugin.port)
    return Target(kind="apprise", url=url, host="", port=None)


def check_host(host: str, port: int | None, *, listed: frozenset[str] | None = None) -> None:
    """Raise BlockedURL unless every address `host` resolves to is public (or the host is
    listed in SEEDANCE_WEBHOOK_ALLOW_HOSTS)."""
    listed = allow_hosts() if listed is None else listed
    if not host or host_listed(host, port, listed):
        return
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedURL(f"The webhook's host {host} cannot be found.") from exc
    for info in infos:
        why = address_refusal(info[4][0])
        if why:
            raise BlockedURL(
                f"The webhook's host {host} is {why}; webhooks go to public addresses only."
            )


def webhook_url_check(url: str) -> str:
    """The URL to store (trimmed), once it is of a kind we send to and its host is public.
    Raises WebhookURLError saying why not."""
    url = url.strip()
    if len(url) > 1000:
        raise WebhookURLError("Keep the webhook URL under 1,000 characters.")
    where = target(url)
    try:
        check_host(where.host, where.port)
    except BlockedURL as exc:
        raise WebhookURLError(exc.message) from exc
    return url


def webhook_send(*, url: str, secret: str, payload: dict, title: str, text: str) -> None:
    """Send one message to the webhook at `url`: the signed JSON `payload` to a generic
    one, `title` and `text` through Apprise to a chat service. Raises BlockedURL (the host
    became private: not worth retrying) or WebhookSendError (worth retrying)."""
    where = target(url)
    if where.kind == "json":
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        _post_json(where, body, secret)
        return
    check_host(where.host, where.port)
    import apprise

    sender = apprise.Apprise()
    sender.add(url)
    if not sender.notify(title=title, body=text):
        raise WebhookSendError("The chat service did not accept the message.")


class WebhookSendError(Exception):
    """A send that failed in a way worth trying again (a 5xx, a timeout, a refused post)."""


def _post_json(where: Target, body: bytes, secret: str) -> None:
    listed = allow_hosts()
    if not host_listed(where.host, where.port, listed):
        check_host(where.host, where.port, listed=listed)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Seedance-Signature": signature(secret, body),
    }
    try:
        with httpx.Client(
            transport=GuardedTransport(listed=listed),
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            status = client.post(where.url, content=body, headers=headers).status_code
    except httpx.HTTPError as exc:
        raise WebhookSendError(f"{type(exc).__name__} posting to {where.host}") from exc
    if not 200 <= status < 300:
        raise WebhookSendError(f"HTTP {status} from {where.host}")
