"""Which addresses the worker may fetch a gateway-given URL from (video, cover, last frame).

A gateway's reply is not trusted: a compromised gateway, or a man in the middle on a
misconfigured base URL, could point an output link at the cloud metadata service or an internal
admin port and have us store the answer where a member can read it back (server-side request
forgery). So every such fetch, and every redirect it follows, must be

- https, or http only to a host an admin listed in SEEDANCE_FETCH_ALLOW_HOSTS (the simulator,
  a gateway's plain-http CDN inside a private network);
- to a public address after DNS resolution: no loopback, private, link-local (169.254/16, the
  metadata service), shared, multicast, reserved or unspecified address, unless its host is
  listed. The check runs where the socket is opened, on the address actually connected, so a
  name that resolves differently the second time (DNS rebinding) gains nothing.

`guarded_transport()` is an httpx transport that enforces both; `check_url()` is the cheap
first look before any connection. Both raise `BlockedURL`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx
from django.conf import settings

ALLOWED_SCHEMES = ("https", "http")


class BlockedURL(Exception):
    """A URL we refuse to fetch; `message` says why, in words fit for a member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def allowed_hosts() -> frozenset[str]:
    """SEEDANCE_FETCH_ALLOW_HOSTS as lower-case 'host' or 'host:port' entries."""
    return frozenset(h.strip().lower() for h in settings.SEEDANCE_FETCH_ALLOW_HOSTS if h.strip())


def host_listed(host: str, port: int | None, listed: Iterable[str]) -> bool:
    """Whether `host` (a name or an IP literal, IPv6 without brackets) on `port` is listed,
    by host alone or as 'host:port' ('[::1]:8000' for IPv6)."""
    host = host.lower().strip("[]")
    shown = f"[{host}]" if ":" in host else host
    listed = set(listed)
    return host in listed or shown in listed or (port is not None and f"{shown}:{port}" in listed)


def check_url(url: str | httpx.URL, *, listed: frozenset[str] | None = None) -> None:
    """Raise BlockedURL unless `url` is https, or http to a listed host. Says nothing about
    the address: that is known only once the name is resolved (see `public_address`)."""
    listed = allowed_hosts() if listed is None else listed
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedURL("The gateway gave a link that is not a valid URL.") from exc
    scheme = parsed.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(
            f"The gateway gave a {scheme or 'relative'}: link; only https links are fetched."
        )
    if not parsed.host:
        raise BlockedURL("The gateway gave a link with no host; only https links are fetched.")
    if scheme == "http" and not host_listed(parsed.host, parsed.port or 80, listed):
        raise BlockedURL(
            f"The gateway gave a plain-http link to {parsed.host}; only https links are "
            "fetched (an admin may allow a host in SEEDANCE_FETCH_ALLOW_HOSTS)."
        )


def address_refusal(address: str) -> str | None:
    """Why an IP address may not be fetched from ('a loopback address', ...), None when it is
    a public unicast address. IPv4-mapped IPv6 addresses are judged as their IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, words in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (such as the cloud metadata service)"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not public"),
    ):
        if test:
            return words
    return None


def public_address(host: str, port: int, *, listed: frozenset[str] | None = None) -> str:
    """The address to connect to for `host`:`port`: the first address DNS gives, when every
    address it gives is public (a name with one private address among public ones is refused:
    which one a later lookup returns is not ours to choose). A listed host is returned as is.
    Raises BlockedURL."""
    listed = allowed_hosts() if listed is None else listed
    if host_listed(host, port, listed):
        return host
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        # Not our verdict to give: the caller's connect error handling treats it as transient.
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        why = address_refusal(address)
        if why:
            raise BlockedURL(f"The gateway gave a link to {host}, which is {why}; refused.")
    return addresses[0]


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend that connects only to addresses `public_address` allows."""

    def __init__(self, listed: frozenset[str]) -> None:
        self.listed = listed

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = public_address(host, port, listed=self.listed)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through `_GuardedBackend`. TLS still
    verifies the certificate against the URL's host name (httpcore passes the origin's host
    as the server name, whatever address the socket connected to). No proxy: a proxy would
    connect on our behalf, past the check."""

    def __init__(self, *, listed: frozenset[str] | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=4,
            network_backend=_GuardedBackend(allowed_hosts() if listed is None else listed),
        )


def guard_redirects(listed: frozenset[str] | None = None):
    """An httpx 'request' event hook that runs `check_url` on every request a client sends,
    redirects included."""

    def hook(request: httpx.Request) -> None:
        check_url(request.url, listed=listed)

    return hook
