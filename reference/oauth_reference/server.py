"""Serving an ASGI app with uvicorn on a socket we bind ourselves (so port 0 works)."""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any

import uvicorn

from .asgi import ASGIApp
from .asgi import Message
from .asgi import Receive
from .asgi import Scope
from .asgi import Send

access_log = logging.getLogger("oauth_reference.access")


class AccessLog:
    """One line per request: method, path (never the query: it may carry secrets), status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            access_log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - start) * 1000,
            )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"serving {self._url}", flush=True)


def serve(app: ASGIApp, sock: socket.socket, *, log_requests: bool = True, **uvicorn_options: Any) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    access_log.disabled = not log_requests
    config = uvicorn.Config(
        AccessLog(app) if log_requests else app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        **uvicorn_options,
    )
    _Server(config, base_url(sock)).run(sockets=[sock])
