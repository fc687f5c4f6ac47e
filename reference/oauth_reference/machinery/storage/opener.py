"""Opening a store from its URL: ``memory``, ``sqlite:PATH`` or ``redis://HOST:PORT/DB``."""

from __future__ import annotations

from typing import Any

from oauth_reference.machinery.storage import Storage


def open_store(url: str, clock: Any) -> Storage:
    """Open a store from ``memory``, ``sqlite:PATH`` or ``redis://HOST:PORT/DB``."""
    if url == "memory":
        from oauth_reference.machinery.storage.memory import MemoryStorage

        return MemoryStorage(clock)
    if url.startswith("sqlite:"):
        from oauth_reference.machinery.storage.sqlite import SQLiteStorage

        path = url.removeprefix("sqlite:").removeprefix("//")
        if not path:
            raise ValueError("sqlite store needs a path: sqlite:PATH")
        return SQLiteStorage(path, clock)
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from oauth_reference.machinery.storage.redis import RedisStorage
        except ModuleNotFoundError as exc:
            if exc.name != "redis":
                raise
            raise ValueError(
                "the Redis store needs the redis package: pip install 'oauth-conformance[redis]'"
            ) from None

        return RedisStorage(url, clock)
    raise ValueError(f"unknown store {url!r}: use memory, sqlite:PATH or redis://HOST:PORT/DB")
