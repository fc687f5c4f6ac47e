"""Test-only hooks a conformance harness may use against a served reference (``--test-mode``).

``GET /__test__/clock`` reports the provider's clock; ``POST /__test__/clock`` with
``{"advance": seconds}`` moves it forward for everyone, so expiry can be tested without waiting.
A request with ``X-Test-Clock-Offset: seconds`` sees the clock that much further on, for that
request only (parallel tests each keep their own time). The hooks answer only requests from
loopback addresses, and ``serve`` refuses ``--test-mode`` unless it binds to a loopback address.
Test mode also answers any ``Host``, taking the issuer from it as the seed does, so a harness may
reach the provider under any name its resolver or proxy gives it (``hosts.py``).
"""

from __future__ import annotations

import math

import orjson

from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.asgi import empty
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.clock import request_offset
from oauth_reference.machinery.fetch import own_address
from oauth_reference.machinery.fetch import reset_own_address
from oauth_reference.provider import OAuthProvider
from oauth_reference.specs.oauth21.redirect_uris import is_loopback_host

CLOCK_PATH = "/__test__/clock"
OFFSET_HEADER = b"x-test-clock-offset"
MAX_OFFSET = 10 * 365 * 86_400.0


def install(provider: OAuthProvider, clock: OffsetClock) -> ASGIApp:
    """Add the test hooks to ``provider`` (its clock must be ``clock``); serve the returned app."""
    if provider.clock is not clock:
        raise ValueError("the provider must read the clock the hooks advance")
    provider.core.allow_loopback_fetch = True
    provider.core.hosts = provider.core.hosts.answering_any_host()

    async def clock_hook(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        host = request.client_host
        if host is None or not is_loopback_host(host):
            await empty(404)(scope, receive, send)
            return
        if request.method == "POST":
            try:
                body = orjson.loads(await request.body(4096) or b"{}")
                seconds = float(body["advance"])
                if not math.isfinite(seconds):
                    raise ValueError("the clock moves by a finite number of seconds")
                clock.advance(seconds)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InvalidRequestError):
                await json_response(
                    {"error": "invalid_request", "error_description": 'send {"advance": seconds >= 0}'}, 400
                )(scope, receive, send)
                return
        elif request.method != "GET":
            await empty(405, [(b"allow", b"GET, POST")])(scope, receive, send)
            return
        await json_response({"now": clock.now(), "offset": clock.offset}, no_store=True)(scope, receive, send)

    provider.extra_routes[CLOCK_PATH] = clock_hook

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # Loopback documents are fetched only from the loopback address this request arrived at
        # (CIMD-6.5-SSRF-CLIENT-ID: the server's own interface, never another loopback address).
        server = scope.get("server")
        served_on = own_address(str(server[0]) if server else None)
        try:
            offset = _offset_from(scope)
            if not offset:
                await provider(scope, receive, send)
                return
            token = request_offset.set(offset)
            try:
                await provider(scope, receive, send)
            finally:
                request_offset.reset(token)
        finally:
            reset_own_address(served_on)

    return app


def _offset_from(scope: Scope) -> float:
    if scope["type"] != "http":
        return 0.0
    client = scope.get("client")
    if not client or not is_loopback_host(str(client[0])):
        return 0.0
    for name, value in scope["headers"]:
        if name == OFFSET_HEADER:
            try:
                offset = float(value.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                return 0.0
            return offset if 0.0 < offset <= MAX_OFFSET else 0.0
    return 0.0
