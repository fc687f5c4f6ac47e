"""A request that travels in time (test mode) only hides entries; it never purges them for others."""

from __future__ import annotations

import pytest

from oauth_reference.machinery.clock import request_offset
from oauth_reference.machinery.storage import Put
from reference.tests.storage.conftest import Backend
from reference.tests.storage.conftest import ManualClock

pytestmark = pytest.mark.anyio


class TravellingClock(ManualClock):
    """Like the reference's OffsetClock: a base time plus each request's own offset."""

    def now(self) -> float:
        return self.t + request_offset.get()

    def base_now(self) -> float:
        return self.t


async def test_an_offset_request_hides_but_does_not_purge(backend: Backend) -> None:
    backend.clock = TravellingClock(backend.clock.t)
    store = backend.open()
    try:
        await store.commit([Put("token:a", b"1", backend.clock.t + 60), Put("token:b", b"2", backend.clock.t + 60)])
        token = request_offset.set(3600.0)
        try:
            assert await store.get("token:a") is None  # expired for the travelling request
            assert (await store.list("token:")).keys == []
            assert await store.commit([Put("other", b"x")])  # a commit may sweep: only by base time
        finally:
            request_offset.reset(token)
        entry = await store.get("token:a")
        assert entry is not None and entry.value == b"1"  # still there for everyone else
        assert [k.name for k in (await store.list("token:")).keys] == ["token:a", "token:b"]
        backend.clock.advance(61)
        assert await store.get("token:a") is None
    finally:
        await backend.close()
