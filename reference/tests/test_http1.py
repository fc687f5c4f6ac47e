"""The lean HTTP/1.1 protocol (serving/http1.py) in uvicorn's server, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from oauth_reference.serving.http1 import LeanHttpProtocol
from oauth_reference.serving.server import protocol_class

pytestmark = pytest.mark.anyio
seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="")
held: list[asyncio.Event] = []  # /hold waits on the last one


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close"})
        return
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("the application failed")
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one,", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if path == "/slow":
        await asyncio.sleep(0.01)  # the request goes on in a task
    if path == "/hold":
        await held[-1].wait()
    leaked = seen.get()
    seen.set(path)  # must not be visible to the next request on the connection
    answer = f"{scope['method']} {path} {scope['query_string'].decode()} {len(body)} {leaked!r}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def served() -> AsyncIterator[tuple[int, uvicorn.Server]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # log_config=None: uvicorn leaves logging alone (its dictConfig would stop its loggers propagating
    # for the rest of the session, hiding their records from later tests' caplog).
    config = uvicorn.Config(app, http=LeanHttpProtocol, log_config=None, lifespan="on", timeout_keep_alive=1)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield sock.getsockname()[1], server
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


@pytest.fixture
def port(served: tuple[int, uvicorn.Server]) -> int:
    return served[0]


async def exchange(port: int, data: bytes, *, until: int = 1, close: bool = False) -> bytes:
    """Send ``data``, read until ``until`` complete responses (or EOF)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        if close:
            writer.write_eof()
        out = b""
        while out.count(b"HTTP/1.1 ") < until or not _complete(out):
            chunk = await asyncio.wait_for(reader.read(65536), 5)
            if not chunk:
                break
            out += chunk
        return out
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _complete(out: bytes) -> bool:
    head, _, body = out.rpartition(b"HTTP/1.1 ")[2].partition(b"\r\n\r\n")
    if b"content-length: " in head:
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        return len(body) >= length
    return body.endswith(b"0\r\n\r\n") or b"transfer-encoding" not in head


async def test_keep_alive_requests_get_one_answer_each_with_length_and_date(port: int) -> None:
    out = await exchange(port, b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\ndate: " in out
    assert b"content-length: 15\r\n" in out and out.endswith(b"GET /a x=1 0 ''")


@pytest.mark.parametrize(
    ("target", "echo"),
    [
        (b"/plain/path", b"GET /plain/path  0"),
        (b"//double;semi:colon@at", b"GET //double;semi:colon@at  0"),
        (b"/a%20b?x=%20", b"GET /a b x=%20 0"),
        (b"/q?", b"GET /q  0"),
        (b"/f#frag", b"GET /f  0"),
    ],
)
async def test_the_request_target_gives_path_and_query(port: int, target: bytes, echo: bytes) -> None:
    out = await exchange(port, b"GET %s HTTP/1.1\r\nHost: h\r\n\r\n" % target)
    assert out.endswith(echo + b" ''")


async def test_pipelined_requests_are_answered_in_order_each_in_its_own_context(port: int) -> None:
    requests = b"".join(b"GET /%s HTTP/1.1\r\nHost: h\r\n\r\n" % p for p in (b"first", b"slow", b"third"))
    out = await exchange(port, requests, until=3)
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in out.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"GET /first  0 ''", b"GET /slow  0 ''", b"GET /third  0 ''"]


async def test_a_body_in_pieces_and_expect_continue(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"01234")
    await asyncio.sleep(0.05)
    writer.write(b"56789")
    out = await asyncio.wait_for(reader.readuntil(b"''"), 5)
    assert out.endswith(b"POST /p  10 ''")
    writer.write(b"POST /q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    assert (await asyncio.wait_for(reader.readuntil(b"''"), 5)).endswith(b"POST /q  3 ''")
    writer.close()


async def test_http_1_0_closes_and_head_has_no_body(port: int) -> None:
    out = await exchange(port, b"GET /old HTTP/1.0\r\n\r\n", until=1)
    assert b"connection: close\r\n" in out and out.endswith(b"GET /old  0 ''")
    head = await exchange(port, b"HEAD /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")


async def test_a_streamed_response_is_chunked(port: int) -> None:
    out = await exchange(port, b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
    assert b"transfer-encoding: chunked\r\n" in out
    assert out.endswith(b"\r\n\r\n4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n")


async def test_a_failing_application_gets_a_500_and_garbage_a_400(port: int) -> None:
    out = await exchange(port, b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 500 Internal Server Error\r\n") and out.endswith(b"Internal Server Error")
    bad = await exchange(port, b"NOT HTTP AT ALL\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"connection: close" in bad


async def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"''"), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server (timeout 1 s)
    writer.close()


async def test_a_websocket_upgrade_is_handed_to_uvicorns_websocket_protocol(port: int) -> None:
    handshake = (
        b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    out = await exchange(port, handshake)
    assert out.startswith(b"HTTP/1.1 101 ")


async def test_a_request_task_is_in_the_servers_task_set_until_it_ends(served: tuple[int, uvicorn.Server]) -> None:
    # uvicorn's graceful shutdown waits for the tasks in server_state.tasks: a request's task is
    # there while it runs and leaves when it ends, answered, failed or not.
    port, server = served
    tasks = server.server_state.tasks
    held.append(asyncio.Event())
    holding = asyncio.ensure_future(exchange(port, b"GET /hold HTTP/1.1\r\nHost: h\r\n\r\n"))
    for _ in range(500):
        if tasks:
            break
        await asyncio.sleep(0.01)
    assert len(tasks) == 1
    held[-1].set()
    assert (await asyncio.wait_for(holding, 5)).endswith(b"GET /hold  0 ''")
    await exchange(port, b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n")
    await exchange(port, b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
    for _ in range(500):
        if not tasks:
            break
        await asyncio.sleep(0.01)
    assert not tasks


def test_the_server_serves_the_lean_protocol_by_default_and_uvicorns_on_request() -> None:
    assert protocol_class("lean") is LeanHttpProtocol
    assert protocol_class("uvicorn") is not LeanHttpProtocol
    with pytest.raises(ValueError, match="unknown HTTP protocol"):
        protocol_class("h3")
