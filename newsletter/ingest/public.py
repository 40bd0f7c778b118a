"""Fetches whose URL comes from feed content (article pages) may reach only public addresses.

A feed is hostile: an item linking to ``http://127.0.0.1:8080/admin``, to
``http://2130706433/`` (127.0.0.1 written as one number) or to a public page
that redirects into the intranet must not put an internal page in the email.
Feeds the operator names in the config are not checked: they chose them.

Why a network backend rather than a URL check: the check sits where the socket
is opened. The name is resolved once, every address it resolves to is judged,
and the connection goes to the address that was judged, so a DNS answer that
changes between check and connect (rebinding) cannot slip through. Every
redirect hop opens its connection here too, so each hop is checked without
following redirects by hand. The Host header and TLS SNI still carry the name:
httpcore takes both from the URL, not from what ``connect_tcp`` dialled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: an IPv4 address in the last 32 bits


class NotPublicAddress(httpcore.ConnectError):
    """The host resolves to a loopback, private, link-local, multicast or reserved address."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo): judged as well."""
    out = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo:
        out.append(ip.teredo[1])
    return out


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet.

    >>> is_public(ipaddress.ip_address("93.184.215.14")), is_public(ipaddress.ip_address("::ffff:127.0.0.1"))
    (True, False)
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64:  # reserved to Python, but on a DNS64 network every IPv4 site has one: judge the IPv4
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if not all(is_public(v4) for v4 in _embedded_ipv4(ip)):
            return False
    # is_global alone lets multicast through, so each class is named.
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def _parse(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # a link-local scope ("fe80::1%eth0") dropped
    except ValueError:
        return None


async def public_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, when all are public; else NotPublicAddress.

    The system resolver reads numeric forms too (``2130706433``, ``0x7f.1``, ``0177.0.0.1``),
    so they are judged as the address they stand for.
    """
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise httpcore.ConnectError(f"cannot resolve {host} ({e})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        ip = _parse(address)
        if ip is None or not is_public(ip):
            # All must be public: a name that also resolves inward is refused outright.
            named = host if address == host else f"{host} ({address})"
            raise NotPublicAddress(f"{named} is not a public address")
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return addresses


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Resolves, judges, then connects to the judged address (see the module docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None):
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await public_addresses(host, port):
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        raise last  # type: ignore[misc] - public_addresses never returns an empty list

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not public addresses")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with its connection pool swapped for one on PublicOnlyBackend.

    httpx takes no network backend as an argument, so the pool it builds is replaced
    (``_pool`` is httpx's one attribute for it; httpx is pinned below 1.0 in pyproject).
    """

    def __init__(self, *, limits: httpx.Limits):
        ssl_context = httpx.create_ssl_context(trust_env=False)  # built once (it reads the CA bundle): shared
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(),
        )
