"""Where the provider reads the time.

Every expiry decision reads :meth:`Clock.now`. ``SystemClock`` calls :func:`time.time` on each
read, so freezegun moves it in-process; ``OffsetClock`` adds an offset that the test-mode hook
(``POST /__test__/clock``) advances for a served process, plus a per-request offset that the
test-mode middleware takes from the ``X-Test-Clock-Offset`` header, so one test's time travel
does not disturb another test running at the same time.
"""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Protocol

request_offset: contextvars.ContextVar[float] = contextvars.ContextVar("request_offset", default=0.0)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


def base_now(clock: Clock) -> float:
    """The time without any one request's offset: what a store may purge by.

    A request that travels in time sees entries expire early; they must not vanish for the
    requests that did not travel (parallel tests each keep their own time).
    """
    base = getattr(clock, "base_now", None)
    return float(base()) if callable(base) else clock.now()


class OffsetClock:
    """The wall clock plus an offset that only ever grows (time travels forward)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset + request_offset.get()

    def base_now(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset
