"""Outbound HTTP for documents the provider must fetch (CIMD documents, JWK Sets).

Every fetch is ``https`` only, follows no redirects, reads at most ``limit`` bytes whatever
``Content-Length`` says, gives up after ``timeout`` seconds, and is protected against SSRF: the
host name is resolved once, every address it resolves to must be a public unicast address
(no loopback, private, link-local, shared, multicast, reserved or unspecified address, and no
IPv6 form of one), and the connection goes to that checked address only (the TLS name stays the
host's), so a DNS answer cannot change between the check and the connection.

Test mode may allow a loopback address (and a CA file for the harness's throwaway TLS
certificates): the loopback address the server itself answers on, which :func:`own_address` sets
for the request being served, and no other (CIMD section 6.5); nothing else is ever allowed.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import functools
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx

USER_AGENT = "oauth-reference (+https://github.com/oauth-conformance)"
TEST_CA_ENV = "OAUTH_REFERENCE_TEST_CA"


class FetchError(Exception):
    """The document could not be fetched; ``reason`` says why (it is safe to log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    url: str


@dataclass(slots=True)
class FetchPolicy:
    allow_loopback: bool = False  # test mode: documents and keys may live on loopback hosts
    any_address: bool = False  # the fetch-any-address fault (known-bad twins only): no SSRF check
    ca_file: str | None = None
    timeout: float = 5.0
    _ssl: ssl.SSLContext | None = field(default=None, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = _ssl_context(self.ca_file)
        return self._ssl


@functools.lru_cache(maxsize=8)
def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """One verifying context per CA file: loading the system trust store costs tens of milliseconds,
    too much to pay on every fetch (a context is safe to share between connections)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(ca_file)
    return context


def special_use(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for every address a server-side fetch must never reach (RFC 6890 and friends)."""
    # CIMD-6.5-SSRF-CLIENT-ID, CIMD-6.5-SSRF-EMBEDDED
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return special_use(mapped)
        if address.teredo is not None:
            return True
    return not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified


# The address the request being served arrived at (test mode sets it; see own_address).
_SERVED_ON: contextvars.ContextVar[str | None] = contextvars.ContextVar("served_on", default=None)
# Where a server whose own address is unknown (an in-process app) is taken to run.
_USUAL_LOOPBACK = frozenset({ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")})


def own_address(address: str | None) -> contextvars.Token[str | None]:
    """Set the address the current request arrived at (``scope["server"]``): a test-mode fetch may
    reach that loopback address, and no other. Returns the token that resets it."""
    return _SERVED_ON.set(address)


def reset_own_address(token: contextvars.Token[str | None]) -> None:
    _SERVED_ON.reset(token)


def _own_loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """CIMD-6.5-SSRF-CLIENT-ID: a loopback address is allowed only when the server itself runs on
    that same loopback address (CIMD section 6.5); 127.0.0.2 is loopback, but not this server's."""
    served_on = _SERVED_ON.get()
    try:
        own = ipaddress.ip_address(served_on.strip("[]")) if served_on else None
    except ValueError:
        own = None
    if own is None or not own.is_loopback:
        return ip in _USUAL_LOOPBACK
    return ip == own


def check_address(address: str, policy: FetchPolicy) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if (ip.is_loopback and policy.allow_loopback and _own_loopback(ip)) or policy.any_address:
        return ip
    if special_use(ip):
        raise FetchError(f"the host resolves to a non-public address ({ip})")
    return ip


async def resolve(host: str, port: int, policy: FetchPolicy) -> str:
    """Resolve ``host`` and return one checked address; refuse if any address is not public."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        return str(check_address(str(literal), policy))
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), policy.timeout
        )
    except (OSError, TimeoutError) as exc:
        raise FetchError(f"cannot resolve {host}") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise FetchError(f"{host} has no address")
    # Every answer must be acceptable (CIMD-6.5-SSRF-CLIENT-ID, CIMD-6.5-SSRF-EMBEDDED).
    checked = [check_address(a, policy) for a in addresses]
    return str(checked[0])


def _test_policy_defaults(policy: FetchPolicy) -> FetchPolicy:
    if policy.allow_loopback and policy.ca_file is None:
        policy.ca_file = os.environ.get(TEST_CA_ENV) or None
    return policy


async def fetch(url: str, *, limit: int, policy: FetchPolicy, accept: str = "application/json") -> Fetched:
    """GET ``url`` under the rules above; raises :class:`FetchError` with a reason."""
    policy = _test_policy_defaults(policy)
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise FetchError("only https URLs are fetched")
    if parts.username or parts.password or not parts.hostname:
        raise FetchError("the URL must name a host and no user information")
    try:
        port = parts.port or 443
    except ValueError:
        raise FetchError("the URL has an invalid port") from None
    host = parts.hostname
    address = await resolve(host, port, policy)
    shown = f"[{address}]" if ":" in address else address
    pinned = urlunsplit(("https", shown if port == 443 else f"{shown}:{port}", parts.path or "/", parts.query, ""))
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "Accept": accept,
        "User-Agent": USER_AGENT,
        "Cache-Control": "no-store",
    }
    deadline = time.monotonic() + policy.timeout
    try:
        async with httpx.AsyncClient(  # follow_redirects=False: CIMD-4-NO-REDIRECTS
            verify=policy.ssl_context(), follow_redirects=False, timeout=policy.timeout, trust_env=False
        ) as client:
            request = client.build_request("GET", pinned, headers=headers, extensions={"sni_hostname": host})
            response = await client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > limit:  # CIMD-6.6-MAX-SIZE
                        raise FetchError(f"the document is larger than {limit} bytes")
                    if time.monotonic() > deadline:  # CIMD-4.3-FETCH-FAIL: a trickle is cut off
                        raise FetchError("the fetch took too long")
                    chunks.append(chunk)
            finally:
                await response.aclose()
    except httpx.TimeoutException:
        raise FetchError("the fetch timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"the fetch failed: {type(exc).__name__}{_cause(exc)}") from None
    return Fetched(response.status_code, response.headers, b"".join(chunks), url)


def _cause(exc: BaseException) -> str:
    """What lies under a transport error (refused, reset, a TLS alert), as the class and errno name or
    TLS reason of each exception beneath it, innermost last: never a message, which may quote the
    URL or what the server sent. httpx wraps httpcore's error, which wraps the socket's (or, for a
    failed connection, anyio's "all attempts failed" around each attempt's)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen and len(parts) < 6:
        seen.add(id(current))
        parts.append(_named(current))
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return f" ({' < '.join(parts)})" if parts else ""


def _named(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    number = getattr(exc, "errno", None)
    if isinstance(reason, str) and reason:
        return f"{type(exc).__name__} {reason}"
    if isinstance(number, int):
        return f"{type(exc).__name__} {errno.errorcode.get(number, number)}"
    return type(exc).__name__


def cache_lifetime(headers: httpx.Headers, cap: float) -> float:
    """Seconds a response may be cached per its Cache-Control (0: not at all), at most ``cap``."""
    # CIMD-4.4-HTTP-CACHE
    value = headers.get("cache-control", "").lower()
    directives: dict[str, str] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            directives[name] = arg.strip().strip('"')
    if {"no-store", "no-cache", "private"} & set(directives):
        return 0.0
    for name in ("s-maxage", "max-age"):
        if name in directives:
            try:
                return max(0.0, min(float(int(directives[name])), cap))
            except ValueError:
                return 0.0
    return 0.0
