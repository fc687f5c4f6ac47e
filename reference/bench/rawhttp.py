"""A minimal HTTP/1.1 client on a raw asyncio protocol, for load generation.

One keep-alive connection per virtual client, no pooling, no redirects, no TLS: just enough
HTTP to drive a server at tens of thousands of requests per second on one core, several times
what a full-featured client manages, so the generator is not what a benchmark measures. Bodies
are read by Content-Length, chunked encoding, or until the server closes.

The response is parsed as bytes arrive (``asyncio.Protocol.data_received``), and a request's
timeout is one timer on the loop: no stream reader, no task per request. ``Set-Cookie`` lines
are also kept one by one (``RawResponse.cookies``), since joining them with commas would be
ambiguous (their ``Expires`` dates hold commas).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from dataclasses import field
from typing import cast
from urllib.parse import urlsplit

MAX_HEAD = 65536  # bytes of status line and headers


class RawHTTPError(Exception):
    pass


@dataclass(slots=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    cookies: list[str] = field(default_factory=list)  # each Set-Cookie value, in order

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_head(head: bytes) -> tuple[int, dict[str, str], list[str]]:
    """Status, headers and Set-Cookie values of a response head (without the blank line)."""
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise RawHTTPError("not an HTTP/1.x response")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for line in header_lines:
        name, _, value = line.partition(b":")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if key == "set-cookie":
            cookies.append(text)
    return int(parts[1]), headers, cookies


class _Exchange(asyncio.Protocol):
    """One connection's protocol: parses each response as its bytes arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[RawResponse] | None = None
        self.no_body = False  # the request was HEAD
        self.closed = False
        self._head: tuple[int, dict[str, str], list[str]] | None = None
        self._length = -1  # body bytes expected; -1 chunked, -2 until the server closes
        self._chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                self._parse()
            except (RawHTTPError, ValueError) as exc:
                self._fail(RawHTTPError(f"{type(exc).__name__}: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._length == -2:
            self._finish(bytes(self.buffer))  # the body ran until the server closed
        else:
            waiter.set_exception(RawHTTPError("the server closed the connection"))

    def expect(self, no_body: bool) -> asyncio.Future[RawResponse]:
        self.waiter = self.loop.create_future()
        self.no_body = no_body
        self._head = None
        self._chunks = []
        if self.buffer:
            self.data_received(b"")
        return self.waiter

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def _parse(self) -> None:
        buffer = self.buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise RawHTTPError("the response head is too large")
                return
            self._head = status, headers, _ = parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            if self.no_body or status in (204, 304) or 100 <= status < 200:
                self._length = 0
            elif "content-length" in headers:
                self._length = int(headers["content-length"])
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                self._length = -1
            else:
                self._length = -2
        length = self._length
        if length >= 0:
            if len(buffer) >= length:
                body = bytes(buffer[:length])
                del buffer[:length]
                self._finish(body)
        elif length == -1:
            self._parse_chunks()

    def _parse_chunks(self) -> None:
        buffer = self.buffer
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                return
            size = int(bytes(buffer[:end]).split(b";")[0], 16)
            if size == 0:
                # The last chunk, no trailers expected: it ends with an empty line.
                if len(buffer) < end + 4:
                    return
                del buffer[: end + 4]
                self._finish(b"".join(self._chunks))
                return
            if len(buffer) < end + 2 + size + 2:
                return
            self._chunks.append(bytes(buffer[end + 2 : end + 2 + size]))
            del buffer[: end + 2 + size + 2]

    def _finish(self, body: bytes) -> None:
        assert self._head is not None and self.waiter is not None
        status, headers, cookies = self._head
        self.waiter.set_result(RawResponse(status, headers, body, cookies))
        if self._length == -2 or headers.get("connection", "").lower() == "close":
            self.closed = True
            if self.transport is not None:
                self.transport.close()


class RawConnection:
    """Requests to one origin over one connection, one at a time."""

    def __init__(self, url: str, *, timeout: float = 10.0, host_header: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise RawHTTPError("raw connections speak plain http to a host")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = (host_header or parts.netloc).encode("latin-1")
        self.timeout = timeout
        self._protocol: _Exchange | None = None

    async def _connect(self) -> _Exchange:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            loop = asyncio.get_running_loop()
            _, connected = await asyncio.wait_for(
                loop.create_connection(lambda: _Exchange(loop), self.host, self.port), self.timeout
            )
            self._protocol = protocol = connected
        return protocol

    async def request(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RawResponse:
        protocol = await self._connect()
        lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + self.host_header]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode("latin-1"))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        waiter = protocol.expect(method == "HEAD")
        assert protocol.transport is not None
        protocol.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        timer = protocol.loop.call_later(self.timeout, protocol._fail, TimeoutError("no answer in time"))
        try:
            return await waiter
        except (RawHTTPError, ConnectionError, TimeoutError, OSError) as exc:
            self._drop()
            if isinstance(exc, RawHTTPError):
                raise
            raise RawHTTPError(f"{type(exc).__name__}: {exc}") from None
        except asyncio.CancelledError:
            self._drop()  # a response may still arrive: this connection is out of step
            raise
        finally:
            timer.cancel()

    def _drop(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.closed = True
            protocol.transport.close()

    async def close(self) -> None:
        self._drop()
        await asyncio.sleep(0)  # let the transport finish closing
