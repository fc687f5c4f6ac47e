"""Server-side fetches: https only, SSRF-safe, bounded in size and time, never following redirects."""

from __future__ import annotations

import ipaddress
import socket
import threading

import httpx
import pytest
import respx

from oauth_reference.machinery.fetch import FetchError
from oauth_reference.machinery.fetch import FetchPolicy
from oauth_reference.machinery.fetch import cache_lifetime
from oauth_reference.machinery.fetch import check_address
from oauth_reference.machinery.fetch import fetch
from oauth_reference.machinery.fetch import own_address
from oauth_reference.machinery.fetch import reset_own_address
from oauth_reference.machinery.fetch import special_use

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fc00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:0001::",
        "::",
    ],
)
def test_special_use_addresses_are_refused(address: str) -> None:
    assert special_use(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not special_use(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.216.34/doc", "only https"),
        ("https://10.0.0.1/doc", "non-public address"),
        ("https://169.254.169.254/latest/meta-data", "non-public address"),
        ("https://[::1]/doc", "non-public address"),
        ("https://127.0.0.1:8443/doc", "non-public address"),
        ("https://user:pw@93.184.216.34/doc", "no user information"),
    ],
)
async def test_unsafe_urls_are_refused_before_connecting(url: str, reason: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route()
        with pytest.raises(FetchError, match=reason):
            await fetch(url, limit=1000, policy=FetchPolicy())
        assert not route.called


async def test_loopback_is_allowed_only_by_the_test_policy() -> None:
    with pytest.raises(FetchError, match="non-public"):
        await fetch("https://127.0.0.1:1/doc", limit=10, policy=FetchPolicy())
    with pytest.raises(FetchError, match=r"fetch failed|timed out"):
        await fetch("https://127.0.0.1:1/doc", limit=10, policy=FetchPolicy(allow_loopback=True, timeout=1.0))


@pytest.mark.parametrize(
    ("served_on", "address", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "127.0.0.2", False),  # loopback, but not the server's own (CIMD section 6.5)
        ("127.0.0.1", "::1", False),
        ("::1", "::1", True),
        (None, "127.0.0.1", True),  # an in-process server: the usual loopback addresses only
        (None, "127.0.0.2", False),
        ("inprocess.test", "::1", True),
    ],
)
def test_a_test_mode_fetch_reaches_only_the_loopback_address_the_server_runs_on(
    served_on: str | None, address: str, allowed: bool
) -> None:
    # CIMD-6.5-SSRF-CLIENT-ID
    token = own_address(served_on)
    try:
        if allowed:
            assert str(check_address(address, FetchPolicy(allow_loopback=True))) == address
        else:
            with pytest.raises(FetchError, match="non-public"):
                check_address(address, FetchPolicy(allow_loopback=True))
    finally:
        reset_own_address(token)


@respx.mock
async def test_redirects_are_not_followed() -> None:
    respx.get("https://93.184.216.34/doc").mock(
        return_value=httpx.Response(302, headers={"Location": "https://93.184.216.34/other"})
    )
    other = respx.get("https://93.184.216.34/other").mock(return_value=httpx.Response(200, json={}))
    fetched = await fetch("https://93.184.216.34/doc", limit=1000, policy=FetchPolicy())
    assert fetched.status == 302
    assert not other.called


@respx.mock
async def test_bodies_over_the_limit_are_refused_whatever_content_length_says() -> None:
    respx.get("https://93.184.216.34/big").mock(
        return_value=httpx.Response(200, content=b"x" * 6000, headers={"Content-Length": "10"})
    )
    with pytest.raises(FetchError, match="larger than 5120"):
        await fetch("https://93.184.216.34/big", limit=5120, policy=FetchPolicy())


@respx.mock
async def test_the_connection_goes_to_the_checked_address_with_the_hosts_name() -> None:
    route = respx.get("https://93.184.216.34/doc").mock(return_value=httpx.Response(200, json={"ok": True}))
    await fetch("https://93.184.216.34/doc", limit=1000, policy=FetchPolicy())
    request = route.calls.last.request
    assert request.headers["host"] == "93.184.216.34"
    assert request.extensions["sni_hostname"] == "93.184.216.34"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=600", 600),
        ("public, s-maxage=120, max-age=600", 120),
        ("max-age=9999999", 86400),
        ("no-store", 0),
        ("no-cache, max-age=600", 0),
        ("private, max-age=600", 0),
        ("", 0),
        ("max-age=abc", 0),
    ],
)
def test_cache_lifetime_follows_cache_control_with_a_cap(header: str, seconds: float) -> None:
    assert cache_lifetime(httpx.Headers({"cache-control": header}), 86400) == seconds


async def test_a_refused_connection_names_its_errno_and_nothing_of_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(FetchError) as failed:
        await fetch(f"https://127.0.0.1:{port}/doc-secret-path", limit=1000, policy=FetchPolicy(allow_loopback=True))
    reason = failed.value.reason
    assert reason.startswith("the fetch failed: ConnectError (ConnectError < ")
    assert "ECONNREFUSED" in reason
    assert "doc-secret-path" not in reason and str(port) not in reason


async def test_a_connection_closed_before_the_tls_handshake_says_so() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def close_at_once() -> None:
            accepted, _ = listener.accept()
            accepted.close()

        closer = threading.Thread(target=close_at_once, daemon=True)
        closer.start()
        with pytest.raises(FetchError) as failed:
            await fetch(f"https://127.0.0.1:{port}/doc", limit=1000, policy=FetchPolicy(allow_loopback=True))
        closer.join(5)
    assert failed.value.reason.startswith("the fetch failed: ConnectError (ConnectError < ")
