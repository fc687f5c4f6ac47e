"""In-process targets: ``--oauth-target asgi:package.module:factory[?name=value&...]``.

The factory is called (with the query as keyword arguments) to build an ASGI app, which is
served to the harness through an httpx transport running the app on one event loop in a
background thread. Requests from many test threads run concurrently on that loop, so race tests
still race. Because the app shares the harness's process, freezegun moves its time
(``[clock] mode = "freeze"``).
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qsl

import anyio.from_thread
import httpx

BASE_URL = "http://inprocess.test"
_TRANSPORTS: dict[str, InProcessTransport] = {}


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal()
        )
        self._portal = self._portal_cm.__enter__()
        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

        return self._portal.call(run)

    def close(self) -> None:  # shared by every client of the run; closed at exit
        return None

    def shutdown(self) -> None:
        self._portal_cm.__exit__(None, None, None)


def is_inprocess(target: str) -> bool:
    return target.startswith("asgi:")


def transport_for(target: str) -> InProcessTransport:
    """The one transport of this process for ``target`` (built on first use)."""
    if target not in _TRANSPORTS:
        spec = target.removeprefix("asgi:")
        path, _, query = spec.partition("?")
        module_name, _, attr = path.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        _TRANSPORTS[target] = InProcessTransport(factory(**dict(parse_qsl(query))))
    return _TRANSPORTS[target]


def shutdown_all() -> None:
    for transport in _TRANSPORTS.values():
        transport.shutdown()
    _TRANSPORTS.clear()
