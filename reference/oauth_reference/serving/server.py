"""Serving an ASGI app with uvicorn on a socket we bind ourselves (so port 0 works).

uvicorn runs on uvloop, with one of two HTTP/1.1 protocols (``http=``):

- ``"lean"`` (the default): :class:`~oauth_reference.serving.http1.LeanHttpProtocol`, this
  package's own protocol on httptools, in uvicorn's protocol slot (uvicorn keeps the sockets,
  lifespan, signals and graceful shutdown);
- ``"uvicorn"``: uvicorn's own httptools protocol on :class:`BatchedWrites` (a response's head
  and body leave in one ``send`` instead of two). That tuning subclasses a uvicorn class that is
  not part of uvicorn's public API; when the class is missing or its shape changed the server
  falls back to uvicorn's stock protocol (slower, never broken).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from typing import Any
from typing import cast

import uvicorn

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send

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


class BatchedWrites:
    """A transport whose writes in one turn of the event loop leave together.

    uvicorn writes a response's status line and headers, then its body, as two writes; each is a
    system call and a TCP segment the client wakes up for (on loopback, most of the cost of a
    small response). Here writes are joined and sent at the end of the turn (``call_soon``),
    before a close, or at once past 64 KiB; everything else is the transport's own.
    """

    __slots__ = ("_loop", "_pending", "_size", "_transport")
    LIMIT = 65536

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= self.LIMIT:
            self.flush()

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._size = [], 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def batched_protocol() -> type[asyncio.Protocol] | str:
    """uvicorn's HTTP/1.1 protocol on :class:`BatchedWrites`, or the name of the stock one.

    The stock protocol (``"auto"``) is returned when uvicorn's protocol classes cannot be
    imported or no longer have the ``connection_made(transport)`` this relies on.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:
        try:
            from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]
        except ImportError:
            return "auto"
    if not _accepts_a_transport(getattr(Base, "connection_made", None)):
        return "auto"

    class BatchedProtocol(Base):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            batched = BatchedWrites(transport, asyncio.get_running_loop())
            super().connection_made(cast(asyncio.Transport, batched))

    return BatchedProtocol


def _accepts_a_transport(method: object) -> bool:
    """Is ``method`` a ``connection_made(self, transport)``, the one hook the tuning overrides?"""
    import inspect

    if not callable(method):
        return False
    try:
        parameters = list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return False
    return parameters[:2] == ["self", "transport"]


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


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"serving {self._url}", flush=True)


PROTOCOLS = ("lean", "uvicorn")


def protocol_class(name: str) -> type[asyncio.Protocol] | str:
    """The HTTP protocol ``name`` (one of :data:`PROTOCOLS`) stands for, as ``uvicorn.Config(http=)`` takes it."""
    if name == "lean":
        from oauth_reference.serving.http1 import LeanHttpProtocol

        return LeanHttpProtocol
    if name == "uvicorn":
        return batched_protocol()
    raise ValueError(f"unknown HTTP protocol {name!r}: one of {', '.join(PROTOCOLS)}")


def serve(
    app: ASGIApp, sock: socket.socket, *, log_requests: bool = True, http: str = "lean", **uvicorn_options: Any
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    access_log.disabled = not log_requests
    uvicorn_options.setdefault("http", protocol_class(http))
    # The reference learns its origins from its issuer and allowed_hosts options (hosts.py), not
    # from X-Forwarded-* headers, which any client on loopback could send; uvicorn's proxy-header
    # middleware would also cost an address parse on every request.
    uvicorn_options.setdefault("proxy_headers", False)
    config = uvicorn.Config(
        AccessLog(app) if log_requests else app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        **uvicorn_options,
    )
    _AnnouncingServer(config, base_url(sock)).run(sockets=[sock])
