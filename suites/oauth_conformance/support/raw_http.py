"""An HTTP/1.1 answer read off a socket of the harness's own (h11 does the framing).

The races and the hostile requests send what an HTTP client would not (a request held back by its
last byte, an oversized or malformed one) over sockets they drive themselves, and read the answer
here, one way for both: informational answers are skipped, the body is kept up to
:data:`READ_LIMIT` bytes, the framing headers are dropped (the body is handed over as it came),
a close after the status line ends the answer with what had arrived, and a close or a reset
before it is a ``ConnectionResetError``; past the deadline, ``TimeoutError``.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import h11
import httpx

READ_LIMIT = 1 << 20
RECV = 1 << 14
_FRAMING = frozenset({"content-length", "transfer-encoding", "content-encoding"})


def client() -> h11.Connection:
    """The client side of a connection; a head as large as READ_LIMIT (a huge Location) is still an answer."""
    return h11.Connection(h11.CLIENT, max_incomplete_event_size=READ_LIMIT)


def receive(sock: socket.socket, deadline: float) -> bytes:
    """What the socket has next (``b""``: closed or reset), waiting no later than ``deadline``."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    sock.settimeout(left)
    try:
        return sock.recv(RECV)
    except ConnectionResetError:
        return b""


def next_event(sock: socket.socket, conn: h11.Connection, deadline: float) -> Any:
    """The next event of the server's side other than an informational answer."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(receive(sock, deadline))
        elif not isinstance(event, h11.InformationalResponse):
            return event


def read_response(sock: socket.socket, conn: h11.Connection, request: httpx.Request, deadline: float) -> httpx.Response:
    """The server's answer to ``request`` (which the response carries, for evidence)."""
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = receive(sock, deadline)
            if not data and status is None:
                raise ConnectionResetError("closed without an answer")
            conn.receive_data(data)
            if not data:
                break  # closed after the status line: the answer is what came
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            status, headers = event.status_code, list(event.headers)
        elif isinstance(event, h11.Data):
            size += len(event.data)
            if size <= READ_LIMIT:
                chunks.append(bytes(event.data))
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    if status is None:
        raise ConnectionResetError("closed without an answer")
    decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    kept = [(k, v) for k, v in decoded if k.lower() not in _FRAMING]
    return httpx.Response(status, headers=kept, content=b"".join(chunks), request=request)
