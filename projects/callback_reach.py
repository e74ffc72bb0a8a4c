"""Whether the gateways can call this site back, judged from SITE_URL before any callback URL
is sent.

A gateway POSTs its callbacks from the internet to SITE_URL/callbacks/<task>/<secret>/
(upstream-research §1.10: Ark "POSTs to callback_url whenever the task status changes"). It
cannot reach a loopback, private, link-local or otherwise non-global address, nor a name only
a local network resolves ("localhost", "*.local", "*.internal", a single label); and a
plain-http URL would carry the per-task secret, the callback's only authentication (§1.10: "no
signature/HMAC is documented"), in clear (the dashboard cited there refuses private and
loopback callback hosts for the same reasons). With such a SITE_URL a task is sent no callback
URL and followed by polling, as on a gateway without callbacks (services/poll_schedule.py):
otherwise every render would wait for the fallback poll of a callback that never comes.

SEEDANCE_CALLBACKS: `auto` (the default) decides from SITE_URL as above; `on` (1, true) sends
callbacks whatever SITE_URL is (a tunnel, a simulator on this machine, the tests); `off`
(0, false) never. No DNS lookup is made: a public-looking name that resolves to a private
address is not caught (set `off`).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

ON_WORDS = frozenset({"on", "1", "true", "yes"})
OFF_WORDS = frozenset({"off", "0", "false", "no"})
# Names only a local network (or this machine) resolves (RFC 6761, RFC 6762, RFC 8375, and
# the ".internal" of cloud VPCs and ".lan" of home routers).
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")

_logged = threading.Event()


@dataclass(frozen=True)
class CallbackMode:
    """What this site does about callbacks. `setting` is SEEDANCE_CALLBACKS normalised (auto,
    on, off); `sent` whether tasks of a gateway that calls back get a callback URL; `reason`
    why not, in a sentence naming SITE_URL ('' when they are sent)."""

    setting: str
    sent: bool
    reason: str

    def as_json(self) -> dict:
        return {"setting": self.setting, "sent": self.sent, "reason": self.reason}


def callback_setting(value: object) -> str:
    """SEEDANCE_CALLBACKS as auto | on | off (a bool from tests, or the environment's word).
    Raises ValueError for anything else."""
    if isinstance(value, bool):
        return "on" if value else "off"
    word = str(value).strip().lower()
    if word in ON_WORDS:
        return "on"
    if word in OFF_WORDS:
        return "off"
    if word == "auto":
        return "auto"
    raise ValueError(f"SEEDANCE_CALLBACKS must be auto, on or off, not {value!r}.")


def site_unreachable_reason(site_url: str) -> str:
    """Why a gateway could not call back to `site_url` (a sentence), '' when it can: https to
    a global IP address or to a name that is not a local one."""
    parts = urlsplit(site_url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return f"SITE_URL {site_url!r} names no host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and not address.is_global:
        kind = (
            "a loopback"
            if address.is_loopback
            else "a private"
            if address.is_private
            else "a non-public"
        )
        return f"SITE_URL {site_url} is {kind} address the gateways cannot reach"
    if address is None and (
        host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host
    ):
        return f"SITE_URL {site_url} is a local name the gateways cannot resolve"
    if parts.scheme != "https":
        return (
            f"SITE_URL {site_url} is plain http: the callback's secret would cross the "
            "internet in clear"
        )
    return ""


@lru_cache(maxsize=8)
def _mode(setting: str, site_url: str) -> CallbackMode:
    if setting == "off":
        return CallbackMode(setting, False, "SEEDANCE_CALLBACKS is off")
    if setting == "on":
        return CallbackMode(setting, True, "")
    reason = site_unreachable_reason(site_url)
    return CallbackMode(setting, not reason, reason)


def callback_mode() -> CallbackMode:
    """This site's callback mode, from SEEDANCE_CALLBACKS and SITE_URL (module docstring)."""
    return _mode(callback_setting(settings.SEEDANCE_CALLBACKS), settings.SITE_URL)


def callbacks_sent() -> bool:
    """Whether tasks of gateways that call back are sent a callback URL."""
    return callback_mode().sent


def callback_notice(gateways: list[str]) -> str:
    """The sentence the worker log and /healthz give when callbacks are not sent to
    `gateways` (labels of configured gateways that could call back); '' when they are, or
    when no such gateway is configured."""
    mode = callback_mode()
    if mode.sent or not gateways:
        return ""
    return (
        f"Callbacks off: {mode.reason}; {', '.join(gateways)} are followed by polling alone, "
        "as gateways without callbacks (SEEDANCE_CALLBACKS=on sends them anyway)."
    )


def log_callback_notice_once(logger: logging.Logger, gateways: list[str]) -> None:
    """Log `callback_notice` once in this process (a warning), the first time it is asked."""
    notice = callback_notice(gateways)
    if notice and not _logged.is_set():
        _logged.set()
        logger.warning(notice)
