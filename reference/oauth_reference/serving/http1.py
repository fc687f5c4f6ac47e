"""A lean HTTP/1.1 protocol for uvicorn's server: httptools parsing, one write per response.

uvicorn keeps the server (sockets, lifespan, signals, graceful shutdown, the ``Date`` header it
refreshes each second); this class replaces its per-connection HTTP protocol, whose per-request
work (an ``asyncio.Event`` and a task per request, a keep-alive timer armed and cancelled per
request, the head and the body written separately) costs more than the reference's own answer
to a metadata GET or a token check. Here:

- a request's task starts once its head (and, when it came in the same read, its body) is
  parsed, in its own copy of the connection's context; its body is a plain buffer, not an event;
- a response's head waits for its first body message and leaves with it in one ``write``; a
  response without ``Content-Length`` that is sent in one message gets one, else it is chunked;
- the keep-alive timeout is one timer per connection that re-arms itself, not one per request.

HTTP semantics follow uvicorn's httptools protocol: keep-alive (HTTP/1.0 closes unless asked),
pipelined requests queued and answered in order, ``Expect: 100-continue``, request bodies
streamed with flow control (reading paused past 64 KiB), writes paused with the transport's,
a 400 for a request httptools cannot parse, a 500 when the application fails before answering.
A WebSocket upgrade is handed to uvicorn's WebSocket protocol, as uvicorn's own HTTP protocol
does.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import http
import logging
import re
import urllib.parse
from typing import Any
from typing import Final
from typing import cast

import httptools

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message

HIGH_WATER: Final = 65536
# The common methods as str, without decoding the parser's bytes on each request.
_METHODS: Final = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")}
# RFC 9110 section 5.1 (field names are tokens) and 5.5 (no CR, LF or NUL in values): a response
# header that breaks them would split the response, so the application is stopped instead.
_BAD_NAME: Final = re.compile(b'[\x00-\x1f\x7f()<>@,;:[\\]={} \t\\\\"]')
_BAD_VALUE: Final = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS: Final = {int(s): b"HTTP/1.1 %d %s\r\n" % (int(s), s.phrase.encode("ascii")) for s in http.HTTPStatus}
_DISCONNECT: Final = {"type": "http.disconnect"}
logger = logging.getLogger("uvicorn.error")


def status_line(status: int) -> bytes:
    line = _STATUS.get(status)
    return line if line is not None else b"HTTP/1.1 %d \r\n" % status


class _Cycle:
    """One request and its response on a connection."""

    __slots__ = (
        "body",
        "chunked",
        "delivered",
        "disconnected",
        "expect_100",
        "head",
        "head_only",
        "keep_alive",
        "more_body",
        "protocol",
        "remaining",
        "response_complete",
        "response_started",
        "scope",
        "status",
        "task",
        "waiter",
    )

    def __init__(self, protocol: LeanHttpProtocol, scope: dict[str, Any], keep_alive: bool, expect_100: bool) -> None:
        self.protocol = protocol
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_100 = expect_100
        self.head_only = scope["method"] == "HEAD"
        self.body = b""
        self.more_body = True
        self.delivered = False  # the whole body went to the application
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.head: list[bytes] | None = None
        self.status = 0
        self.chunked: bool | None = None
        self.remaining = 0
        self.waiter: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self.waiter = self.protocol.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    async def run(self, app: ASGIApp) -> None:
        try:
            # ASGI says None; an application that returns something else is reported
            result = cast(object, await app(self.scope, self.receive, self.send))
        except BaseException as exc:
            logger.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started:
                self._send_500()
            else:
                self.protocol.transport.close()
        else:
            if result is not None:
                logger.error("ASGI callable should return None, but returned '%s'.", result)
                self.protocol.transport.close()
            elif not self.response_started and not self.disconnected:
                logger.error("ASGI callable returned without starting response.")
                self._send_500()
            elif not self.response_complete and not self.disconnected:
                logger.error("ASGI callable returned without completing response.")
                self.protocol.transport.close()
        finally:
            self.protocol.server_state.tasks.discard(self.task)  # see LeanHttpProtocol.run

    def _send_500(self) -> None:
        if self.disconnected:
            return
        self.response_started = self.response_complete = True
        self.keep_alive = False
        protocol = self.protocol
        head = [status_line(500), protocol.default_headers()]
        head.append(b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\nconnection: close\r\n\r\n")
        protocol.transport.write(b"".join(head) + b"Internal Server Error")
        protocol.transport.close()

    async def receive(self) -> Message:
        protocol = self.protocol
        if self.expect_100 and not protocol.transport.is_closing():
            protocol.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.expect_100 = False
        if self.delivered and not (self.disconnected or self.response_complete):
            await self._wait()  # after the whole body, the next event is the end
        while not self.body and self.more_body and not (self.disconnected or self.response_complete):
            protocol.resume_reading()
            await self._wait()
        if self.disconnected or self.response_complete:
            return _DISCONNECT
        body, self.body = self.body, b""
        if not self.more_body:
            self.delivered = True
        elif len(body) > HIGH_WATER:
            protocol.resume_reading()
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: Message) -> None:
        protocol = self.protocol
        if protocol.write_paused and not self.disconnected:
            await protocol.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
            self._start(message)
            return
        if self.response_complete or kind != "http.response.body":
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        out: list[bytes] = []
        if self.head is not None:
            out, self.head = self.head, None
            if self.chunked is None and not self.head_only and self.status >= 200 and self.status not in (204, 304):
                if more:
                    self.chunked = True
                    out.append(b"transfer-encoding: chunked\r\n")
                else:  # the whole body is here: say how long it is
                    self.chunked = False
                    self.remaining = len(body)
                    out.append(b"content-length: %d\r\n" % len(body))
            out.append(b"\r\n")
        if self.head_only:
            self.remaining = 0
        elif self.chunked:
            if body:
                out += (b"%x\r\n" % len(body), body, b"\r\n")
            if not more:
                out.append(b"0\r\n\r\n")
        elif body:
            if len(body) > self.remaining:
                raise RuntimeError("Response content longer than Content-Length")
            self.remaining -= len(body)
            out.append(body)
        if out:
            protocol.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if not more:
            if self.remaining != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.wake()
            if not self.keep_alive:
                protocol.transport.close()
            protocol.response_done(self)

    def _start(self, message: Message) -> None:
        self.response_started = True
        self.expect_100 = False
        self.status = status = message["status"]
        head = [status_line(status), self.protocol.default_headers()]
        closes = False
        for name, value in message.get("headers", ()):
            if _BAD_NAME.search(name):
                raise RuntimeError("Invalid HTTP header name.")
            if _BAD_VALUE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            name = name.lower()
            if name == b"content-length" and self.chunked is None:
                self.remaining = int(value.decode())
                self.chunked = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.remaining = 0
                self.chunked = True
            elif name == b"connection" and b"close" in [t.strip() for t in value.lower().split(b",")]:
                self.keep_alive = False
                closes = True
            head += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not closes:
            head.append(b"connection: close\r\n")
        self.head = head


class LeanHttpProtocol(asyncio.Protocol):
    """uvicorn's ``http`` protocol slot, filled with the lean protocol this module describes."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app: ASGIApp = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.app_state = app_state
        self.root_path: str = config.root_path
        self._root_path_bytes = self.root_path.encode("ascii")
        self.timeout: float = config.timeout_keep_alive
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.cycle: _Cycle | None = None  # the request being answered
        self._parsing: _Cycle | None = None  # the request whose body is arriving
        self._pending: _Cycle | None = None  # parsed in this data_received, not yet started
        self.pipeline: collections.deque[_Cycle] = collections.deque()
        self.read_paused = False
        self.write_paused = False
        self._writable: asyncio.Future[None] | None = None
        self._headers_source: object = None
        self._headers_bytes = b""
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._expect_100 = False
        self._upgrade: bytes | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._context = contextvars.Context()
        self.last_active = 0.0
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"

    # Connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._context = contextvars.copy_context()
        self.server_state.connections.add(self)
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        self.scheme = "https" if transport.get_extra_info("sslcontext") else "http"
        self.last_active = self.loop.time()
        self._timer = self.loop.call_later(self.timeout, self._idle_check)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        for cycle in (self.cycle, *self.pipeline):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
                cycle.wake()
        self.pipeline.clear()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def eof_received(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.last_active = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if self._upgrade is not None:
                self._hand_over(data[upgrade.args[0] :])
                return
        except httptools.HttpParserError:
            logger.warning("Invalid HTTP request received.")
            self._send_400(b"Invalid HTTP request received.")
            return
        pending = self._pending
        if pending is not None:
            self._pending = None
            self.run(pending)

    def run(self, cycle: _Cycle) -> None:
        """Call the application for ``cycle`` in a task of its own.

        Not run eagerly (up to its first wait, without a task) although that saves a few
        microseconds: on Python 3.11 code without a current task breaks libraries that need
        one (anyio's cancel scopes, under httpx's fetches of client metadata documents).
        """
        context = self._context.copy()  # each request in its own copy of the connection's context
        task: asyncio.Task[None] = self.loop.create_task(cycle.run(self.app), context=context)
        # uvicorn's graceful shutdown waits for the tasks in this set; the cycle takes its task out
        # when it ends, which saves the event loop a done-callback per request.
        cycle.task = task
        self.server_state.tasks.add(task)

    def response_done(self, cycle: _Cycle) -> None:
        """The response to ``cycle`` is complete: start the next pipelined request, if any."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.cycle = None
        self.last_active = self.loop.time()
        self.resume_reading()
        if self.pipeline:
            self.cycle = self.pipeline.popleft()
            self.loop.call_soon(self.run, self.cycle)  # not inside the previous request's send

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close now if idle, else after the current response."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()
        else:
            self.cycle.keep_alive = False

    def _idle_check(self) -> None:
        # One timer per connection: re-armed for what is left of the timeout, or for a whole
        # one while a request is being answered.
        self._timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None:
            delay = self.timeout
        else:
            idle = self.loop.time() - self.last_active
            if idle >= self.timeout:
                self.transport.close()
                return
            delay = self.timeout - idle
        self._timer = self.loop.call_later(delay, self._idle_check)

    # Flow control

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    async def drain(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self.loop.create_future()
        await self._writable

    def default_headers(self) -> bytes:
        """uvicorn's default headers (``Date``, refreshed each second by its main loop), joined once."""
        source = self.server_state.default_headers
        if source is not self._headers_source:
            self._headers_bytes = b"".join(b"%s: %s\r\n" % (k, v) for k, v in source)
            self._headers_source = source
        return self._headers_bytes

    # Parser callbacks (httptools)

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._expect_100 = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        value = value.rstrip(b" \t")  # RFC 9110 section 5.5: no trailing whitespace in a value
        if name == b"expect" and value.lower() == b"100-continue":
            self._expect_100 = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        version = parser.get_http_version()
        if parser.should_upgrade() and self._websocket_upgrade():
            request = [parser.get_method(), b" ", self._url, b" HTTP/1.1\r\n"]
            for name, value in self._headers:
                request += (name, b": ", value, b"\r\n")
            request.append(b"\r\n")
            self._upgrade = b"".join(request)
            return
        target = self._url
        if target[:1] == b"/" and b"?" not in target and b"%" not in target and b"#" not in target:
            raw_path, query = target, b""  # a plain path, as most requests' (parse_url would give the same)
            path = raw_path.decode("ascii")
        else:
            url = httptools.parse_url(target)
            raw_path, query = url.path, url.query or b""
            path = raw_path.decode("ascii")
            if "%" in path:
                path = urllib.parse.unquote(path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": method,
            "root_path": self.root_path,
            "path": self.root_path + path,
            "raw_path": self._root_path_bytes + raw_path,
            "query_string": query,
            "headers": self._headers,
            "state": self.app_state.copy(),
        }
        keep_alive = version != "1.0" and parser.should_keep_alive()
        cycle = self._parsing = _Cycle(self, scope, keep_alive, self._expect_100)
        if self.cycle is None:
            self.cycle = self._pending = cycle
        else:  # pipelined: answered in order, after the one in progress
            self.pipeline.append(cycle)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        cycle = self._parsing
        if cycle is None or cycle.response_complete or cycle.disconnected:
            return
        cycle.body = cycle.body + body if cycle.body else body
        if len(cycle.body) > HIGH_WATER:
            self.pause_reading()
        cycle.wake()

    def on_message_complete(self) -> None:
        cycle = self._parsing
        if cycle is None or cycle.response_complete:
            return
        cycle.more_body = False
        cycle.wake()

    # Upgrades and errors

    def _websocket_upgrade(self) -> bool:
        upgrade = next((v for k, v in self._headers if k == b"upgrade"), b"")
        return upgrade.lower() == b"websocket" and self.config.ws_protocol_class is not None

    def _hand_over(self, rest: bytes) -> None:
        """Give the connection to uvicorn's WebSocket protocol, replaying the handshake request."""
        assert self._upgrade is not None
        self.server_state.connections.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        protocol = self.config.ws_protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(self._upgrade + rest)

    def _send_400(self, message: bytes) -> None:
        head = [status_line(400), self.default_headers()]
        head.append(b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n" % len(message))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + message)
        self.transport.close()


def _address(value: object) -> tuple[str, int] | None:
    if isinstance(value, tuple | list) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None
