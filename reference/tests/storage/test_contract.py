"""The Storage contract, checked the same way on every backend (memory, SQLite, Redis)."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from oauth_reference.machinery.storage import MAX_PAGE
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from reference.tests.storage.conftest import Backend

pytestmark = pytest.mark.anyio


async def names(store: Storage, prefix: str, limit: int = MAX_PAGE) -> list[str]:
    """Every live key under ``prefix``, following cursors page by page."""
    out: list[str] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await store.list(prefix, limit=limit, cursor=cursor)
        out += [k.name for k in page.keys]
        if page.cursor is None:
            return out
        cursor = page.cursor
    raise AssertionError("the listing never completed")


async def test_get_of_a_missing_key_is_none(store: Storage) -> None:
    assert await store.get("nothing:here") is None


async def test_put_then_get_returns_value_version_expiry_and_metadata(store: Storage, backend: Backend) -> None:
    expires = backend.clock.now() + 60
    assert await store.commit([Put("grant:u:g", b"\x00\xffbinary", expires, {"client_id": "c", "n": [1, 2]})])
    entry = await store.get("grant:u:g")
    assert entry is not None
    assert entry.value == b"\x00\xffbinary"
    assert isinstance(entry.version, int)
    assert entry.expires_at == pytest.approx(expires)
    assert entry.metadata == {"client_id": "c", "n": [1, 2]}


async def test_empty_and_every_byte_values_round_trip(store: Storage) -> None:
    every = bytes(range(256))
    assert await store.commit([Put("a", b""), Put("b", every)])
    a, b = await store.get("a"), await store.get("b")
    assert a is not None
    assert a.value == b""
    assert a.metadata is None
    assert a.expires_at is None
    assert b is not None
    assert b.value == every


async def test_overwrite_gives_a_new_version_and_drops_old_metadata(store: Storage) -> None:
    await store.commit([Put("k", b"1", None, {"m": 1})])
    first = await store.get("k")
    await store.commit([Put("k", b"2")])
    second = await store.get("k")
    assert first is not None
    assert second is not None
    assert second.value == b"2"
    assert second.metadata is None
    assert second.version != first.version


async def test_delete_removes_the_key(store: Storage) -> None:
    await store.commit([Put("k", b"1"), Put("k2", b"2")])
    assert await store.commit([Delete("k"), Delete("never-there")])
    assert await store.get("k") is None
    assert await store.get("k2") is not None


async def test_entries_expire_by_the_injected_clock(store: Storage, backend: Backend) -> None:
    now = backend.clock.now()
    await store.commit([Put("t:short", b"s", now + 10), Put("t:long", b"l", now + 100), Put("t:never", b"n")])
    backend.clock.advance(10)  # expires_at <= now means expired
    assert await store.get("t:short") is None
    assert await store.get("t:long") is not None
    assert await names(store, "t:") == ["t:long", "t:never"]
    backend.clock.advance(1000)
    assert await names(store, "t:") == ["t:never"]
    # An expired key counts as absent for a condition, and can be written again.
    assert await store.commit([Put("t:short", b"again", backend.clock.now() + 5)], expect={"t:short": None})
    entry = await store.get("t:short")
    assert entry is not None
    assert entry.value == b"again"


async def test_listing_is_in_key_order_and_stays_inside_the_prefix(store: Storage) -> None:
    inside = ["p:a", "p:b", "p:b:1", "p:c", "p:z", "p:é", "p:😀", "p:"]
    outside = ["p", "p;", "q:a", "o:z", "P:a", "pp:a"]
    keys = inside + outside
    random.Random(7).shuffle(keys)
    await store.commit([Put(k, k.encode()) for k in keys])
    assert await names(store, "p:") == sorted(inside)
    assert await names(store, "p:b") == ["p:b", "p:b:1"]
    assert await names(store, "") == sorted(keys)
    assert await names(store, "nothing") == []


async def test_listing_pages_follow_cursors_and_respect_the_limit(store: Storage) -> None:
    keys = [f"k:{i:04d}" for i in range(25)]
    await store.commit([Put(k, b"") for k in keys])
    page = await store.list("k:", limit=10)
    assert [k.name for k in page.keys] == keys[:10]
    assert page.cursor is not None
    assert not page.complete
    page = await store.list("k:", limit=10, cursor=page.cursor)
    assert [k.name for k in page.keys] == keys[10:20]
    page = await store.list("k:", limit=10, cursor=page.cursor)
    assert [k.name for k in page.keys] == keys[20:]
    assert page.cursor is None
    assert page.complete
    exact = await store.list("k:", limit=25)
    assert len(exact.keys) == 25
    assert exact.cursor is None
    for limit in (1, 3, 7):
        assert await names(store, "k:", limit) == keys


async def test_a_page_never_exceeds_1000_keys(store: Storage) -> None:
    keys = [f"big:{i:05d}" for i in range(1005)]
    await store.commit([Put(k, b"") for k in keys])
    page = await store.list("big:", limit=5000)
    assert len(page.keys) == MAX_PAGE
    assert page.cursor == keys[999]
    rest = await store.list("big:", limit=5000, cursor=page.cursor)
    assert [k.name for k in rest.keys] == keys[1000:]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
async def test_a_bad_limit_is_refused(store: Storage, limit: object) -> None:
    with pytest.raises(ValueError, match="limit"):
        # Limits that are not positive ints (the ignore), as a caller might pass.
        await store.list("", limit=limit)  # type: ignore[arg-type]


async def test_a_cursor_stays_valid_when_its_key_is_deleted(store: Storage) -> None:
    await store.commit([Put(f"c:{i}", b"") for i in range(6)])
    page = await store.list("c:", limit=3)
    assert page.cursor == "c:2"
    await store.commit([Delete("c:2"), Delete("c:3")])
    rest = await store.list("c:", limit=3, cursor=page.cursor)
    assert [k.name for k in rest.keys] == ["c:4", "c:5"]


async def test_listing_returns_metadata_and_expiry_without_values(store: Storage, backend: Backend) -> None:
    expires = backend.clock.now() + 30
    await store.commit([Put("m:1", b"secret", expires, {"client_id": "x"}), Put("m:2", b"other")])
    page = await store.list("m:")
    assert [(k.name, k.metadata) for k in page.keys] == [("m:1", {"client_id": "x"}), ("m:2", None)]
    assert page.keys[0].expires_at == pytest.approx(expires)
    assert page.keys[1].expires_at is None


async def test_a_commit_applies_when_the_expected_version_holds(store: Storage) -> None:
    await store.commit([Put("v", b"1")])
    entry = await store.get("v")
    assert entry is not None
    assert await store.commit([Put("v", b"2")], expect={"v": entry.version})
    now = await store.get("v")
    assert now is not None
    assert now.value == b"2"


async def test_a_stale_version_writes_nothing(store: Storage) -> None:
    await store.commit([Put("v", b"1")])
    stale = await store.get("v")
    await store.commit([Put("v", b"2")])
    assert stale is not None
    assert not await store.commit([Put("v", b"3"), Put("other", b"x"), DeletePrefix("")], expect={"v": stale.version})
    entry = await store.get("v")
    assert entry is not None
    assert entry.value == b"2"
    assert await store.get("other") is None


async def test_expecting_absence(store: Storage) -> None:
    assert await store.commit([Put("new", b"1")], expect={"new": None})
    assert not await store.commit([Put("new", b"2")], expect={"new": None})
    entry = await store.get("new")
    assert entry is not None
    assert entry.value == b"1"
    assert not await store.commit([Put("x", b"1")], expect={"missing": 12345})


async def test_every_condition_must_hold(store: Storage) -> None:
    await store.commit([Put("a", b"1"), Put("b", b"1")])
    a, b = await store.get("a"), await store.get("b")
    assert a is not None
    assert b is not None
    assert not await store.commit([Delete("a"), Delete("b")], expect={"a": a.version, "b": b.version + 1_000_000})
    assert await store.get("a") is not None
    assert await store.get("b") is not None
    assert await store.commit([Delete("a"), Delete("b")], expect={"a": a.version, "b": b.version})
    assert await store.get("a") is None
    assert await store.get("b") is None


async def test_a_version_never_comes_back_after_delete_and_recreate(store: Storage) -> None:
    seen = set()
    for _ in range(20):
        await store.commit([Put("aba", b"same")])
        entry = await store.get("aba")
        assert entry is not None
        assert entry.version not in seen
        seen.add(entry.version)
        await store.commit([Delete("aba")])
    await store.commit([Put("aba", b"same")])
    for version in seen:
        assert not await store.commit([Delete("aba")], expect={"aba": version})


async def test_delete_prefix_removes_exactly_that_prefix(store: Storage) -> None:
    keys = ["token:u:g1:a", "token:u:g1:b", "token:u:g1", "token:u:g10:a", "token:u:g2:a", "grant:u:g1"]
    await store.commit([Put(k, b"") for k in keys])
    assert await store.commit([DeletePrefix("token:u:g1:")])
    assert await names(store, "") == sorted(["token:u:g1", "token:u:g10:a", "token:u:g2:a", "grant:u:g1"])
    assert await store.commit([DeletePrefix("nothing:")])


async def test_writes_apply_in_order_within_a_commit(store: Storage) -> None:
    await store.commit([Put("o:1", b"old"), Put("o:2", b"old")])
    assert await store.commit([DeletePrefix("o:"), Put("o:2", b"new"), Put("o:3", b"x"), Delete("o:3")])
    assert await names(store, "o:") == ["o:2"]
    entry = await store.get("o:2")
    assert entry is not None
    assert entry.value == b"new"


async def test_a_large_delete_prefix_is_one_step(store: Storage) -> None:
    await store.commit([Put(f"many:{i:05d}", b"x") for i in range(3000)] + [Put("many", b"keep")])
    assert await store.commit([DeletePrefix("many:")])
    assert await names(store, "many") == ["many"]


def _race(backend: Backend, key: str, threads: int, tasks: int) -> list[bool]:
    """Every task reads ``key`` then commits on its version, from several threads and stores."""
    start = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()
    version_box: list[int] = []

    async def one_thread() -> None:
        store = backend.open(track=False)  # opened and closed on this thread's loop
        try:
            entry = await store.get(key)
            assert entry is not None
            version_box.append(entry.version)
            start.wait(10)
            outcome = await asyncio.gather(
                *(store.commit([Put(key, f"winner {i}".encode())], expect={key: entry.version}) for i in range(tasks))
            )
        finally:
            if backend.name != "memory":
                await store.close()
        with lock:
            results.extend(outcome)

    def run() -> None:
        asyncio.run(one_thread())

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(set(version_box)) == 1
    return results


async def test_concurrent_conditional_commits_on_one_key_have_exactly_one_winner(backend: Backend) -> None:
    store = backend.open()
    try:
        for round_ in range(3):
            await store.commit([Put("race", f"round {round_}".encode())])
            results = await asyncio.to_thread(_race, backend, "race", 4, 8)
            assert len(results) == 32
            assert results.count(True) == 1
            entry = await store.get("race")
            assert entry is not None
            assert entry.value.startswith(b"winner ")
    finally:
        await backend.close()
