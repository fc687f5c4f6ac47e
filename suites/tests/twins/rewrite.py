"""An ASGI middleware that rewrites chosen responses: the tool most twins are made with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send

Headers = list[tuple[bytes, bytes]]
Rewrite = Callable[[int, Headers, bytes], tuple[int, Headers, bytes]]


def rewrite(app: ASGIApp, when: Callable[[Scope], bool], change: Rewrite) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        status, headers, body = change(start["status"], list(start.get("headers", [])), b"".join(chunks))
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def path_is(path: str, method: str | None = None) -> Callable[[Scope], bool]:
    return lambda scope: scope["path"] == path and (method is None or scope["method"] == method)


def edit_json(edit: Callable[[Any], Any]) -> Rewrite:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, headers, orjson.dumps(edit(orjson.loads(body)))

    return change


def set_header(name: str, value: str) -> Rewrite:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        kept = [(k, v) for k, v in headers if k.lower() != name.lower().encode()]
        return status, [*kept, (name.lower().encode(), value.encode())], body

    return change
