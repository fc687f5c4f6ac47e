"""What only the Redis backend must show: real expiries, an index without SCAN, outages as 503."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator

import httpx
import pytest

from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage.opener import open_store
from oauth_reference.machinery.storage.redis import RedisStorage
from oauth_reference.serving.demo import build_reference
from reference.bench import redis_server
from reference.tests.storage.conftest import ManualClock
from reference.tests.storage.conftest import require_redis
from reference.tests.storage.conftest import worker_db

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.fixture
async def redis_store(
    redis_instance: redis_server.RedisServer | redis_server.External,
) -> AsyncIterator[tuple[RedisStorage, ManualClock]]:
    clock = ManualClock()
    store = open_store(redis_instance.db_url(worker_db(1)), clock)
    assert isinstance(store, RedisStorage)
    await store.redis.flushdb()
    yield store, clock
    await store.close()


@pytest.fixture
def own_redis() -> Iterator[redis_server.RedisServer]:
    """A Redis of this test's own, which it may stop and restart."""
    require_redis()
    server = redis_server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_expiring_entries_get_a_real_redis_expiry(redis_store: tuple[RedisStorage, ManualClock]) -> None:
    store, clock = redis_store
    expires = clock.now() + 60
    await store.commit([Put("token:u:g:t", b"x", expires), Put("client:c", b"forever")])
    pexpiretime = await store.redis.pexpiretime(store.key("token:u:g:t"))
    assert abs(pexpiretime - expires * 1000) < 1500
    assert await store.redis.ttl(store.key("client:c")) == -1  # meant to live: no expiry
    # Overwriting without an expiry removes it, and the key leaves the expiry schedule.
    await store.commit([Put("token:u:g:t", b"y")])
    assert await store.redis.ttl(store.key("token:u:g:t")) == -1
    assert await store.redis.zcard(f"{store.namespace}expiry") == 0


async def test_only_the_version_counter_lives_without_a_record(redis_store: tuple[RedisStorage, ManualClock]) -> None:
    store, clock = redis_store
    await store.commit([Put("a:1", b"", clock.now() + 5), Put("a:2", b"", clock.now() + 5)])
    await store.commit([DeletePrefix("a:")])
    keys = await store.redis.keys("*")
    names = [key for key in keys if isinstance(key, bytes)]
    assert names == keys  # decode_responses=False: every key comes back as bytes
    left = {key: await store.redis.ttl(key) for key in names}
    assert [k for k, ttl in left.items() if ttl == -1] == [f"{store.namespace}version".encode()]
    commits = [k for k in left if k.startswith(f"{store.namespace}commit:".encode())]
    assert len(commits) == 2
    assert all(0 < left[k] <= 10 for k in commits)


async def test_a_clock_behind_the_wall_clock_never_loses_live_entries(
    redis_store: tuple[RedisStorage, ManualClock],
) -> None:
    store, clock = redis_store
    clock.t = time.time() - 3600  # an hour behind, as freezegun may leave it
    await store.commit([Put("k", b"v", clock.now() + 60)])  # a wall-clock time an hour ago
    # Redis expires it when the provider's clock reaches expires_at, 60 s from now, not at once.
    assert 50 < await store.redis.ttl(store.key("k")) <= 61
    assert await store.get("k") is not None


async def test_entries_expired_in_redis_leave_the_index_lazily_and_are_never_listed(
    redis_store: tuple[RedisStorage, ManualClock],
) -> None:
    store, clock = redis_store
    await store.commit([Put(f"p:{i}", b"", clock.now() + 30) for i in range(5)] + [Put("p:keep", b"")])
    # Expire two entries in Redis itself (as its own expiry cycle would), behind the store's back.
    await store.redis.delete(store.key("p:1"), store.key("p:3"))
    assert await store.redis.zcard(f"{store.namespace}index") == 6
    page = await store.list("p:")
    assert [k.name for k in page.keys] == ["p:0", "p:2", "p:4", "p:keep"]
    assert await store.redis.zcard(f"{store.namespace}index") == 4
    assert await store.get("p:1") is None


async def test_commits_sweep_entries_due_by_the_providers_clock(redis_store: tuple[RedisStorage, ManualClock]) -> None:
    store, clock = redis_store
    await store.commit([Put(f"t:{i}", b"", clock.now() + 10) for i in range(100)])
    clock.advance(11)
    await store.commit([Put("other", b"")])  # sweeps a bounded batch...
    await store.commit([Put("other", b"")])  # ...and the rest
    assert await store.redis.zcard(f"{store.namespace}expiry") == 0
    assert await store.redis.zcard(f"{store.namespace}index") == 1
    assert await store.redis.exists(store.key("t:0")) == 0


async def test_no_operation_scans_the_keyspace(redis_store: tuple[RedisStorage, ManualClock]) -> None:
    store, clock = redis_store
    await store.commit([Put(f"grant:u:{i:03d}", b"g", clock.now() + 100) for i in range(300)])
    await store.redis.config_resetstat()
    for cursor in (None, "grant:u:100"):
        await store.list("grant:u:", limit=10, cursor=cursor)
    await store.get("grant:u:007")
    await store.commit([DeletePrefix("grant:u:0")], expect={"grant:u:200": None})
    await store.commit([DeletePrefix("grant:u:0")])
    stats = await store.redis.info("commandstats")
    used = {name.removeprefix("cmdstat_") for name in stats}
    assert used.isdisjoint({"scan", "keys", "hscan", "zscan", "sscan"}), used
    assert "evalsha" in used
    assert await store.get("grant:u:050") is None


async def test_an_outage_is_reported_quickly_and_the_store_recovers(own_redis: redis_server.RedisServer) -> None:
    store = RedisStorage(own_redis.url, ManualClock())
    try:
        await store.commit([Put("k", b"before")])
        own_redis.restart(crash=True)  # no persistence: the data is gone, and so is the script cache
        assert await store.get("k") is None
        own_redis.kill()
        for call in (store.get("k"), store.list(""), store.commit([Put("k", b"during")])):
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError):
                await call
            assert time.monotonic() - started < 4
        own_redis.launch()
        assert await store.commit([Put("k", b"after")])  # reconnects and reloads the script
        entry = await store.get("k")
        assert entry is not None
        assert entry.value == b"after"
    finally:
        await store.close()


async def test_a_stalled_redis_times_out_instead_of_hanging(own_redis: redis_server.RedisServer) -> None:
    store = RedisStorage(own_redis.url, ManualClock(), socket_timeout=0.5, connect_timeout=0.5)
    try:
        await store.commit([Put("k", b"v")])
        own_redis.pause()
        started = time.monotonic()
        results = await asyncio.gather(store.get("k"), store.commit([Put("k", b"w")]), return_exceptions=True)
        assert all(isinstance(r, StorageUnavailableError) for r in results), results
        assert time.monotonic() - started < 3
        own_redis.resume()
        assert await store.get("k") is not None
    finally:
        own_redis.resume()
        await store.close()


async def test_the_provider_answers_503_json_while_redis_is_down(own_redis: redis_server.RedisServer) -> None:
    store = RedisStorage(own_redis.url, ManualClock(), socket_timeout=0.5, connect_timeout=0.5)
    provider = build_reference(storage=store, auto_approve=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url="http://127.0.0.1") as http:
        try:
            registered = await http.post(
                "/oauth/register",
                json={"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"},
            )
            assert registered.status_code == 201
            own_redis.kill()
            authorize = {
                "response_type": "code",
                "client_id": registered.json()["client_id"],
                "redirect_uri": "http://127.0.0.1:9/cb",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            }
            for response in (
                await http.post("/oauth/register", json={"redirect_uris": ["http://127.0.0.1:9/cb"]}),
                await http.get("/authorize", params=authorize),  # the application's page, via the helpers
                await http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": "u:" + "g" * 16 + ":s",
                        "client_id": registered.json()["client_id"],
                    },
                ),
                await http.get("/api/whoami", headers={"Authorization": "Bearer u:" + "g" * 16 + ":s"}),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "temporarily_unavailable"
                assert response.headers["retry-after"] == "5"
            own_redis.launch()
            again = await http.post("/oauth/register", json={"redirect_uris": ["http://127.0.0.1:9/cb"]})
            assert again.status_code == 201
        finally:
            await store.close()


def test_open_store_picks_redis_for_redis_urls() -> None:
    store = open_store("redis://127.0.0.1:1/3", ManualClock())
    assert isinstance(store, RedisStorage)
    asyncio.run(store.close())
