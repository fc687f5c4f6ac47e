"""The ASGI lifespan protocol, passed on to the applications a wrapper calls.

An ASGI server sends ``lifespan.startup`` and ``lifespan.shutdown`` to the one application it
serves. A wrapper that answered them itself would leave the applications it wraps unstarted (a
FastAPI ``lifespan=`` that opens a database pool would never run), so :class:`Lifespans` runs the
protocol with each wrapped application in turn, sharing the server's scope (and so its
``state``), and reports back once all are done.

As an ASGI server does in its ``auto`` mode, an application that raises or returns before it
asked for the first lifespan message does not support the protocol, and is left out; one that
fails after that fails the startup (or the shutdown), with its message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Scope

log = logging.getLogger("oauth_reference")

_DONE = "lifespan.done"  # the application returned; ours, never sent to a server


class _Lifespan:
    """One application's side of the lifespan protocol, run in a task of its own."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.listening = False  # the application asked for a message: it speaks the protocol
        self.task = asyncio.get_running_loop().create_task(self._run(scope))

    async def _run(self, scope: Scope) -> None:
        async def receive() -> Message:
            self.listening = True
            return await self.inbox.get()

        async def send(message: Message) -> None:
            await self.outbox.put(message)

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if self.listening:
                log.exception("the lifespan of %s raised", _name(self.app))
            await self.outbox.put({"type": _DONE, "message": f"{type(exc).__name__}: {exc}"})
        else:
            await self.outbox.put({"type": _DONE, "message": "the application returned"})

    async def step(self, message: Message) -> tuple[bool | None, str]:
        """Send ``message``; ``(True, "")`` when done, ``(False, why)`` when failed, ``(None, why)``
        when the application does not speak the protocol."""
        await self.inbox.put(message)
        reply = await self.outbox.get()
        if reply["type"] == _DONE:
            return (False if self.listening else None), str(reply.get("message", ""))
        if reply["type"].endswith(".failed"):
            return False, str(reply.get("message", ""))
        return True, ""


def _name(app: ASGIApp) -> str:
    return getattr(app, "__qualname__", None) or type(app).__qualname__


class Lifespans:
    """Start and stop the wrapped applications with the server (each distinct one once)."""

    def __init__(self, apps: Sequence[ASGIApp]) -> None:
        unique: dict[int, ASGIApp] = {}
        for app in apps:
            unique.setdefault(id(app), app)
        self.apps = list(unique.values())
        self.running: list[_Lifespan] = []

    async def startup(self, scope: Scope) -> str | None:
        """Start every application; the failure message, or ``None`` when all started."""
        for app in self.apps:
            lifespan = _Lifespan(app, scope)
            done, why = await lifespan.step({"type": "lifespan.startup"})
            if done is None:
                continue  # no lifespan support: nothing to start, nothing to stop
            self.running.append(lifespan)
            if not done:
                return f"{_name(app)} failed to start: {why}"
        return None

    async def shutdown(self) -> str | None:
        """Stop the started applications, last started first; the failure message, if any."""
        failures = []
        while self.running:
            lifespan = self.running.pop()
            if lifespan.task.done():
                continue
            done, why = await lifespan.step({"type": "lifespan.shutdown"})
            if not done:
                failures.append(f"{_name(lifespan.app)} failed to stop: {why}")
            await asyncio.gather(lifespan.task, return_exceptions=True)
        return "; ".join(failures) or None
