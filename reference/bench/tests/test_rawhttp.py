"""The load generator's raw HTTP/1.1 client against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from collections.abc import Iterator
from typing import Any
from typing import TypeVar

import pytest

from oauth_reference.serving.process import served
from reference.bench.rawhttp import RawConnection
from reference.bench.rawhttp import RawHTTPError

T = TypeVar("T")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with served(["--store", "memory", "--auto-approve", "--no-access-log"]) as running:
        yield running.url


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_keep_alive_requests_and_bodies(server: str) -> None:
    async def go() -> tuple[int, int, bytes]:
        conn = RawConnection(server)
        try:
            first = await conn.request("GET", "/.well-known/oauth-authorization-server")
            second = await conn.request(
                "POST", "/oauth/token", {"Content-Type": "application/x-www-form-urlencoded"}, b"grant_type=password"
            )
            return first.status, second.status, second.body
        finally:
            await conn.close()

    first, second, body = run(go())
    assert first == 200
    assert second == 401  # no client: invalid_client
    assert b"invalid_client" in body


def test_head_and_204_have_no_body(server: str) -> None:
    async def go() -> tuple[int, bytes]:
        conn = RawConnection(server)
        try:
            response = await conn.request("HEAD", "/.well-known/oauth-authorization-server")
            after = await conn.request("GET", "/.well-known/oauth-authorization-server")
            return response.status, after.body
        finally:
            await conn.close()

    status, body = run(go())
    assert status == 200
    assert body.startswith(b"{")  # the connection stayed in step after a bodiless response


def test_refused_connections_raise(dead_url: str) -> None:
    async def go() -> None:
        await RawConnection(dead_url, timeout=2.0).request("GET", "/")

    with pytest.raises((RawHTTPError, OSError)):
        run(go())


def test_only_plain_http_is_spoken() -> None:
    with pytest.raises(RawHTTPError):
        RawConnection("https://127.0.0.1:1")
