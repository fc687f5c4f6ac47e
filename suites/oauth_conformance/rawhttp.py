"""A minimal HTTP/1.1 client on raw asyncio streams, for load generation.

One keep-alive connection per virtual client, no pooling, no redirects, no cookies, no TLS:
just enough HTTP to drive a server at tens of thousands of requests per second on one core,
several times what a full-featured client manages, so the generator is not what a benchmark
measures. Bodies are read by Content-Length or chunked encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit


class RawHTTPError(Exception):
    pass


@dataclass(slots=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


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
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
            self._reader, self._writer = reader, writer
            return reader, writer
        return self._reader, self._writer

    async def request(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RawResponse:
        reader, writer = await self._connect()
        lines = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + self.host_header]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode("latin-1"))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        try:
            return await asyncio.wait_for(self._read(reader, method), self.timeout)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, asyncio.LimitOverrunError) as exc:
            await self.close()
            raise RawHTTPError(f"{type(exc).__name__}: {exc}") from None

    async def _read(self, reader: asyncio.StreamReader, method: str) -> RawResponse:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise RawHTTPError("not an HTTP/1.x response")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            key = name.strip().lower().decode("latin-1")
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return RawResponse(status, headers, body)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
