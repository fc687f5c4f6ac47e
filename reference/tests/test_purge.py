"""``purge_expired_data``: the seed's sweep of expired and orphaned records (issue 15, item 8)."""

from __future__ import annotations

import pytest

from oauth_reference import PurgeResult
from oauth_reference.machinery import records
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import Put
from reference.tests.conftest import Env
from reference.tests.conftest import dump_store
from reference.tests.conftest import ids_of
from reference.tests.conftest import load_grant
from reference.tests.conftest import token_keys

pytestmark = pytest.mark.anyio


async def _tokens(env: Env) -> tuple[str, dict[str, str]]:
    client_id = (await env.register())["client_id"]
    return client_id, await env.tokens(client_id)


async def test_nothing_to_purge_in_a_healthy_store(env: Env) -> None:
    await _tokens(env)
    before = await dump_store(env.storage)
    result = await env.provider.purge_expired_data()
    assert result == PurgeResult(grants_checked=1, grants_purged=0, tokens_checked=1, tokens_purged=0, done=True)
    assert await dump_store(env.storage) == before


async def test_grants_of_a_vanished_client_are_revoked_with_their_tokens(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    _, kept = await _tokens(env)
    # The client disappears from the store behind the provider's back (delete_client would cascade).
    await env.storage.commit([Delete(records.client_key(client_id))])
    result = await env.provider.helpers.purge_expired_data()
    assert (result.grants_checked, result.grants_purged, result.done) == (2, 1, True)
    assert await load_grant(env.storage, tokens["refresh_token"]) is None
    assert await token_keys(env.storage, tokens["access_token"]) == []
    assert (await env.api(kept["access_token"])).status_code == 200


async def test_tokens_without_a_grant_are_deleted(env: Env) -> None:
    _, tokens = await _tokens(env)
    await env.storage.commit([Delete(records.grant_key(*ids_of(tokens["access_token"])))])
    result = await env.provider.purge_expired_data(purge_orphaned_grants=False, purge_expired_grants=False)
    assert (result.tokens_checked, result.tokens_purged, result.done) == (1, 1, True)
    assert await token_keys(env.storage, tokens["access_token"]) == []


async def test_each_kind_of_sweep_can_be_switched_off(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    await env.storage.commit([Delete(records.client_key(client_id))])
    result = await env.provider.purge_expired_data(purge_orphaned_grants=False, purge_orphaned_tokens=False)
    assert (result.grants_purged, result.tokens_checked) == (0, 0)
    assert await load_grant(env.storage, tokens["refresh_token"]) is not None


async def test_a_small_batch_leaves_the_rest_for_the_next_call(env: Env) -> None:
    orphans = []
    for _ in range(3):
        client_id, tokens = await _tokens(env)
        await env.storage.commit([Delete(records.client_key(client_id))])
        orphans.append(tokens)
    first = await env.provider.purge_expired_data(batch_size=2)
    assert (first.grants_checked, first.grants_purged, first.tokens_checked, first.done) == (2, 2, 0, False)
    second = await env.provider.purge_expired_data(batch_size=2)
    assert (second.grants_purged, second.done) == (1, True)
    assert all([await load_grant(env.storage, t["refresh_token"]) is None for t in orphans])


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
async def test_the_batch_size_is_a_positive_integer(env: Env, batch_size: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        await env.provider.purge_expired_data(batch_size=batch_size)


async def test_a_grant_past_its_expiry_that_the_store_still_holds_is_revoked(env: Env) -> None:
    _, tokens = await _tokens(env)
    grant = await load_grant(env.storage, tokens["refresh_token"])
    assert grant is not None
    grant.expires_at = env.clock.now() - 1  # a store that expires lazily still returns it
    await env.storage.commit([Put(records.grant_key(grant.user_id, grant.id), records.dump(grant), None)])
    result = await env.provider.purge_expired_data()
    assert (result.grants_purged, result.done) == (1, True)
    assert await load_grant(env.storage, tokens["refresh_token"]) is None
