"""Each backend against a model: a dict with expiry, driven by hypothesis (stateful and property tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import invariant
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test

from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import Write
from reference.tests.storage.conftest import Backend

# A small alphabet with a separator and characters of 2 and 4 UTF-8 bytes, so that prefixes
# overlap often and key order (code points) must agree with byte order (SQLite, Redis).
KEY_CHARS = "ab:é😀"
keys = st.text(KEY_CHARS, min_size=1, max_size=4)
prefixes = st.text(KEY_CHARS, max_size=3)
values = st.binary(max_size=12)
metadata = st.none() | st.fixed_dictionaries({"client_id": st.text("xyz", max_size=3)})
ttls = st.none() | st.sampled_from([1.0, 5.0, 30.0])


@dataclass
class Item:
    value: bytes
    version: int | None  # as last read back from the store
    expires_at: float | None
    metadata: Mapping[str, Any] | None


class StoreMachine(RuleBasedStateMachine):
    """Random commits, deletes, prefix deletes, time travel; reads must match the model."""

    backend: Backend  # set by the test that runs the machine

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.backend.namespace = f"{self.backend.namespace}m{id(self)}:"
        if self.backend.name == "memory":
            self.backend._memory = None
        if self.backend.name == "sqlite":
            (self.backend.path / "store.sqlite3").unlink(missing_ok=True)
        self.store: Storage = self.backend.open()
        self.model: dict[str, Item] = {}
        self.versions: set[int] = set()  # every version ever handed out

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def live(self) -> dict[str, Item]:
        now = self.backend.clock.now()
        return {k: v for k, v in self.model.items() if v.expires_at is None or v.expires_at > now}

    def apply(self, writes: list[Write]) -> None:
        now = self.backend.clock.now()
        for write in writes:
            if isinstance(write, Put):
                self.model[write.key] = Item(write.value, None, write.expires_at, write.metadata)
            elif isinstance(write, Delete):
                self.model.pop(write.key, None)
            else:
                for key in [k for k in self.model if k.startswith(write.prefix)]:
                    del self.model[key]
        self.model = {k: v for k, v in self.model.items() if v.expires_at is None or v.expires_at > now}
        for key, item in self.model.items():
            if item.version is None:
                self.learn(key)

    def learn(self, key: str) -> None:
        """Read back a freshly written key: its version must be new."""
        entry = self.run(self.store.get(key))
        assert entry is not None
        assert entry.version not in self.versions, "a version was handed out twice"
        self.versions.add(entry.version)
        self.model[key].version = entry.version

    def expires(self, ttl: float | None) -> float | None:
        return None if ttl is None else self.backend.clock.now() + ttl

    @rule(key=keys, value=values, ttl=ttls, meta=metadata)
    def put(self, key: str, value: bytes, ttl: float | None, meta: Mapping[str, Any] | None) -> None:
        writes: list[Write] = [Put(key, value, self.expires(ttl), meta)]
        assert self.run(self.store.commit(writes))
        self.apply(writes)

    @rule(key=keys)
    def delete(self, key: str) -> None:
        assert self.run(self.store.commit([Delete(key)]))
        self.apply([Delete(key)])

    @rule(prefix=prefixes)
    def delete_prefix(self, prefix: str) -> None:
        assert self.run(self.store.commit([DeletePrefix(prefix)]))
        self.apply([DeletePrefix(prefix)])

    @rule(
        key=keys,
        other=keys,
        how=st.sampled_from(["current", "absent", "stale", "random"]),
        value=values,
        ttl=ttls,
        also_delete=st.booleans(),
    )
    def conditional(self, key: str, other: str, how: str, value: bytes, ttl: float | None, also_delete: bool) -> None:
        live = self.live()
        current = live[key].version if key in live else None
        stale = [v for v in self.versions if v != current]
        expected: int | None
        if how == "current":
            expected = current
        elif how == "absent":
            expected = None
        elif how == "stale" and stale:
            expected = min(stale)
        else:
            expected = 10**15 + len(self.versions)
        writes: list[Write] = [Put(key, value, self.expires(ttl))]
        if also_delete:
            writes.append(Delete(other))
        done = self.run(self.store.commit(writes, expect={key: expected}))
        assert done == (expected == current)
        if done:
            self.apply(writes)

    @rule(seconds=st.sampled_from([0.5, 1.0, 4.0, 10.0, 100.0]))
    def advance(self, seconds: float) -> None:
        self.backend.clock.advance(seconds)

    @rule(key=keys)
    def get(self, key: str) -> None:
        entry = self.run(self.store.get(key))
        item = self.live().get(key)
        if item is None:
            assert entry is None
        else:
            assert entry is not None
            assert (entry.value, entry.version, entry.metadata) == (item.value, item.version, item.metadata)

    @rule(prefix=prefixes, limit=st.integers(1, 4))
    def list_pages(self, prefix: str, limit: int) -> None:
        got: list[tuple[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):
            page = self.run(self.store.list(prefix, limit=limit, cursor=cursor))
            assert len(page.keys) <= limit
            got += [(k.name, k.metadata) for k in page.keys]
            if page.cursor is None:
                break
            cursor = page.cursor
        want = sorted((k, v.metadata) for k, v in self.live().items() if k.startswith(prefix))
        assert got == want

    @invariant()
    def everything_listed_is_live(self) -> None:
        page = self.run(self.store.list("", limit=1000))
        assert [k.name for k in page.keys] == sorted(self.live())

    def teardown(self) -> None:
        try:
            self.run(self.backend.close())
        finally:
            self.loop.close()


@pytest.mark.slow
def test_backend_matches_the_model(backend: Backend) -> None:
    machine = type(f"StoreMachine_{backend.name}", (StoreMachine,), {"backend": backend})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entries=st.dictionaries(keys, st.tuples(values, ttls), max_size=20),
    prefix=prefixes,
    limit=st.integers(1, 6),
    elapsed=st.sampled_from([0.0, 2.0, 50.0]),
)
def test_paged_listing_is_the_sorted_live_prefix(
    backend: Backend,
    entries: dict[str, tuple[bytes, float | None]],
    prefix: str,
    limit: int,
    elapsed: float,
) -> None:
    async def check() -> None:
        store = backend.open()  # the same backing each example: start from an empty store
        try:
            now = backend.clock.now()
            await store.commit([DeletePrefix("")])
            await store.commit([Put(k, v, None if ttl is None else now + ttl) for k, (v, ttl) in entries.items()])
            backend.clock.advance(elapsed)
            want = sorted(
                k for k, (_, ttl) in entries.items() if k.startswith(prefix) and (ttl is None or ttl > elapsed)
            )
            got: list[str] = []
            cursor: str | None = None
            for _ in range(100):
                page = await store.list(prefix, limit=limit, cursor=cursor)
                got += [k.name for k in page.keys]
                if page.cursor is None:
                    break
                cursor = page.cursor
            assert got == want
        finally:
            await backend.close()

    asyncio.run(check())
