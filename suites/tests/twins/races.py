"""Twins that lose races the way real servers do: no internal patch, a store or a wire rewrite.

``race-store-without-conditional-writes`` is the natural read-then-write: the reference's SQLite
store reached through a worker thread, as an async driver does (aiosqlite runs every call on its
own thread), and without conditional commits, as a key-value store without compare-and-set has
none. A code or refresh token is read, checked, then written, and nothing stops two requests from
reading it before either writes: no sleep is added anywhere. ``race-losers-get-500`` wins its
races but answers the losers with HTTP 500 (the crash a server has when the grant it read
disappears mid-request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import TypeVar
from urllib.parse import parse_qsl

from oauth_reference import Clock
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import Page
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from suites.tests.twins import twin
from suites.tests.twins.wire import TOKEN
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import replay
from suites.tests.twins.wire import run
from suites.tests.twins.wire import send_answer

CODE_RACE = ("oauth21.test_code_grant",)
REFRESH_RACE = ("oauth21.test_refresh_grant",)
HOSTILE = ("robust.test_hostile",)
T = TypeVar("T")


def _finish(step: Coroutine[Any, Any, T]) -> T:
    """Run one of the SQLite store's coroutines, which never suspend (its calls run inline)."""
    try:
        step.send(None)
    except StopIteration as done:
        value: T = done.value  # StopIteration.value is Any: the coroutine's result, of type T
        return value
    step.close()
    raise RuntimeError("the SQLite store suspended")


class ThreadedStoreWithoutConditions:
    """The SQLite store through a worker thread, every commit unconditional (``expect`` ignored)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    async def get(self, key: str) -> Entry | None:
        return await asyncio.to_thread(lambda: _finish(self.inner.get(key)))

    async def list(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> Page:
        return await asyncio.to_thread(lambda: _finish(self.inner.list(prefix, limit=limit, cursor=cursor)))

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        return await asyncio.to_thread(lambda: _finish(self.inner.commit(writes)))

    async def close(self) -> None:
        await self.inner.close()


def _without_conditions(path: str, clock: Clock) -> Storage:
    return ThreadedStoreWithoutConditions(SQLiteStorage(path, clock))


@twin(
    "race-store-without-conditional-writes",
    (*CODE_RACE, *REFRESH_RACE, *HOSTILE),
    {
        "OAUTH21-4.1.3-CODE-ONCE",
        "ROBUST-HOSTILE-CONCURRENT-CODE",
        "OAUTH21-4.3.1-RT-SUPERSEDED",
        "ROBUST-HOSTILE-CONCURRENT-REFRESH",
    },
    storage=_without_conditions,
    note="read, check, then write, with an async store and no compare-and-set: simultaneous requests"
    " redeem one code, or refresh with one refresh token, several times",
)
def store_without_conditional_writes(app: ASGIApp) -> ASGIApp:
    return app


@twin("race-losers-get-500", (*CODE_RACE, *HOSTILE), {"ROBUST-HOSTILE-CONCURRENT-CODE"})
def losers_get_500(app: ASGIApp) -> ASGIApp:
    """A code exchange refused while another exchange of the same code was under way gets HTTP 500.
    Exchanges one after the other are untouched, so only the race shows it."""
    running: dict[str, int] = {}
    overlapped: set[str] = set()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        fields = dict(parse_qsl(body.decode("utf-8", "replace")))
        code = fields.get("code") if fields.get("grant_type") == "authorization_code" else None
        if not code:
            await app(scope, replay(body), send)
            return
        running[code] = running.get(code, 0) + 1
        if running[code] > 1:
            overlapped.add(code)
        # The reference handles a token request without suspending; a server that awaits anything
        # (its database, a log) lets the other requests that arrived with this one begin meanwhile.
        await asyncio.sleep(0)
        try:
            status, headers, content = await run(app, scope, body)
        finally:
            running[code] -= 1
        if status == 400 and code in overlapped:
            status, headers, content = 500, [(b"content-type", b"text/plain")], b"Internal Server Error"
        await send_answer(send, (status, headers, content))

    return wrapped
