"""Backends for the storage contract: memory, SQLite and Redis, behind one parametrized fixture.

Redis comes from Debian's ``redis-server``: each test session (each xdist worker) starts its own
on a free loopback port and stops it by PID. If the binary is missing, the Redis tests fail when
``CI=true`` (CI must install it; ``.ci/run`` does) and are skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage.memory import MemoryStorage
from oauth_reference.machinery.storage.redis import RedisStorage
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from reference.bench import redis_server

BACKENDS = ["memory", "sqlite", "redis"]


class ManualClock:
    """A clock that moves only when told: expiry tests do not race the wall clock."""

    def __init__(self, start: float | None = None) -> None:
        self.t = time.time() if start is None else start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def require_redis() -> None:
    """Fail in CI, skip elsewhere, when Debian's redis-server is not installed."""
    if redis_server.binary() is None:
        reason = "redis-server is not installed (apt-get install -y redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the Redis tests", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_instance() -> Iterator[redis_server.RedisServer | redis_server.External]:
    """The Redis of ``OAUTH_TEST_REDIS_URL`` (``nox -s redis``), else one redis-server per test
    session (per xdist worker), stopped by PID at the end."""
    external = os.environ.get(redis_server.ENV_URL)
    if external:
        yield redis_server.External(external)
        return
    require_redis()
    server = redis_server.start()
    try:
        yield server
    finally:
        server.stop()


def worker_db(purpose: int) -> int:
    """A Redis database for this xdist worker and purpose (1 or 2), so that workers sharing one
    Redis never flush each other's data; database 0 holds the namespaced contract tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    return 1 + (2 * index + purpose - 1) % 15


@dataclass
class Backend:
    """Opens stores on one backing: every store it opens sees the same data."""

    name: str
    clock: ManualClock
    path: Path
    redis_url: str = ""
    namespace: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:12]}:")
    opened: list[Storage] = field(default_factory=list)
    _memory: MemoryStorage | None = None

    def open(self, *, track: bool = True) -> Storage:
        """A store on this backing; ``track=False`` leaves closing it to the caller (other loops)."""
        store: Storage
        if self.name == "memory":
            if self._memory is None:
                self._memory = MemoryStorage(self.clock)
            return self._memory
        if self.name == "sqlite":
            store = SQLiteStorage(str(self.path / "store.sqlite3"), self.clock)
        else:
            store = RedisStorage(self.redis_url, self.clock, namespace=self.namespace)
        if track:
            self.opened.append(store)
        return store

    async def close(self) -> None:
        for store in self.opened:
            await store.close()
        self.opened.clear()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh backing store of each kind; Redis tests carry the ``redis`` marker."""
    url = ""
    if request.param == "redis":
        url = request.getfixturevalue("redis_instance").url
    return Backend(request.param, ManualClock(), tmp_path, url)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Storage]:
    yield backend.open()
    await backend.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that runs against Redis carries the marker, so `-m redis` selects them.
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "redis" in (callspec.params.get("backend"), callspec.params.get("pair")):
            item.add_marker(pytest.mark.redis)
