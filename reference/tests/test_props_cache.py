"""The props cache (machinery/props_cache.py): bounded, exact, dropped on revocation and expiry,
never shown; and the API check that uses it still reads the store on every request."""

from __future__ import annotations

import logging

import pytest

from oauth_reference.errors import ConfigurationError
from oauth_reference.errors import InvalidTokenError
from oauth_reference.machinery import crypto
from oauth_reference.machinery.props_cache import PropsCache
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.storage import Entry
from oauth_reference.serving.demo import build_reference
from oauth_reference.specs import rfc6750
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import ids_of

pytestmark = pytest.mark.anyio
SECRET_PROPS = b'{"note":"props-plaintext-marker"}'
API = f"{ORIGIN}/api/whoami"


def record(expires_at: float = 100.0) -> AccessToken:
    return AccessToken("t", "g", "u", "c", 0, expires_at, None, ["s"], "wrapped", "cipher")


def test_the_cache_holds_at_most_its_limit_and_evicts_the_least_recently_used() -> None:
    cache = PropsCache(limit=2)
    cache.put("a", "u:g1", b"ra", record(), b"1")
    cache.put("b", "u:g1", b"rb", record(), b"2")
    assert cache.get("a", b"ra", now=0.0) == (record(), b"1")  # "a" is now the most recently used
    cache.put("c", "u:g2", b"rc", record(), b"3")
    assert len(cache) == 2
    assert cache.get("b", b"rb", now=0.0) is None  # evicted: least recently used
    assert cache.get("a", b"ra", now=0.0) is not None and cache.get("c", b"rc", now=0.0) is not None
    for n in range(100):
        cache.put(f"t{n}", f"u:g{n}", b"r", record(), b"x")
    assert len(cache) == 2
    cache.drop_grant("u", "g99")  # the grant index shrinks with the entries
    assert len(cache) == 1


def test_an_entry_serves_only_the_stored_bytes_it_was_filled_from() -> None:
    cache = PropsCache()
    cache.put("t", "u:g", b"stored", record(), b"{}")
    assert cache.get("t", b"rewritten", now=0.0) is None
    assert len(cache) == 0  # a different record for the same hash: dropped, parsed and decrypted again
    assert cache.get("unknown", b"stored", now=0.0) is None


def test_an_entry_past_its_tokens_expiry_is_dropped() -> None:
    cache = PropsCache()
    cache.put("t", "u:g", b"r", record(expires_at=100.0), b"{}")
    assert cache.get("t", b"r", now=99.9) is not None
    assert cache.get("t", b"r", now=100.0) is None
    assert len(cache) == 0


def test_dropping_a_grant_forgets_every_token_of_that_grant_only() -> None:
    cache = PropsCache()
    cache.put("t1", "u:g", b"r", record(), b"1")
    cache.put("t2", "u:g", b"r", record(), b"2")
    cache.put("t3", "u:h", b"r", record(), b"3")
    cache.drop_grant("u", "g")
    assert [cache.get(t, b"r", now=0.0) is None for t in ("t1", "t2", "t3")] == [True, True, False]
    cache.drop("t3")
    cache.drop("t3")  # twice is harmless
    assert len(cache) == 0


def test_the_cache_and_its_entries_show_no_props() -> None:
    cache = PropsCache()
    cache.put("t", "u:g", b"r", record(), SECRET_PROPS)
    shown = repr(cache) + repr(list(cache._entries.values()))
    assert "props-plaintext-marker" not in shown
    assert "entries=1" in repr(cache)


def test_a_zero_limit_caches_nothing_and_a_negative_one_is_refused() -> None:
    cache = PropsCache(limit=0)
    cache.put("t", "u:g", b"r", record(), b"{}")
    assert len(cache) == 0
    with pytest.raises(ValueError, match="0 or more"):
        PropsCache(limit=-1)
    with pytest.raises(ConfigurationError, match="props_cache_size"):
        build_reference({"props_cache_size": -1})


async def _token(env: Env, **params: str) -> tuple[str, dict[str, str]]:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], **params)
    return client["client_id"], tokens


async def test_a_second_check_uses_the_cache_and_gives_a_fresh_copy(env: Env) -> None:
    _, tokens = await _token(env)
    core = env.provider.core
    first = await rfc6750.check(core, tokens["access_token"], API)
    second = await rfc6750.check(core, tokens["access_token"], API)
    assert core.props_cache.hits == 1 and core.props_cache.misses == 1
    assert first.props == second.props and first.props is not second.props  # a handler's edits stay its own
    assert first.scope == second.scope and first.scope is not second.scope
    assert (await env.api(tokens["access_token"])).json()["props"] == first.props


async def test_the_store_is_read_on_every_check_even_when_cached(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    _, tokens = await _token(env)
    core = env.provider.core
    await rfc6750.check(core, tokens["access_token"], API)
    reads: list[str] = []
    real_get = env.storage.get

    async def counting_get(key: str) -> Entry | None:
        reads.append(key)
        return await real_get(key)

    monkeypatch.setattr(env.storage, "get", counting_get)
    await rfc6750.check(core, tokens["access_token"], API)
    assert core.props_cache.hits == 1
    assert reads == [f"token:{':'.join(ids_of(tokens['access_token']))}:{crypto.sha256_hex(tokens['access_token'])}"]


async def test_a_revoked_access_token_is_refused_at_once_and_its_props_dropped(env: Env) -> None:
    client_id, tokens = await _token(env)
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert len(env.provider.core.props_cache) == 1
    assert (await env.revoke(client_id, tokens["access_token"])).status_code == 200  # RFC 7009
    assert len(env.provider.core.props_cache) == 0
    assert (await env.api(tokens["access_token"])).status_code == 401


async def test_revoking_the_grant_drops_its_props_and_refuses_its_tokens(env: Env) -> None:
    _, tokens = await _token(env)
    assert (await env.api(tokens["access_token"])).status_code == 200
    user_id, grant_id = ids_of(tokens["access_token"])
    await env.provider.helpers.revoke_grant(grant_id, user_id)
    assert len(env.provider.core.props_cache) == 0
    assert (await env.api(tokens["access_token"])).status_code == 401
    # A refresh-token revocation (RFC 7009 cascade) does the same for a new grant.
    client_id, again = await _token(env)
    assert (await env.api(again["access_token"])).status_code == 200
    assert (await env.revoke(client_id, again["refresh_token"])).status_code == 200
    assert len(env.provider.core.props_cache) == 0
    assert (await env.api(again["access_token"])).status_code == 401


async def test_a_cached_token_is_refused_once_expired(env: Env) -> None:
    _, tokens = await _token(env)
    assert (await env.api(tokens["access_token"])).status_code == 200
    env.clock.advance(int(tokens["expires_in"]) + 1)
    with pytest.raises(InvalidTokenError):  # gone from the store, or found expired
        await rfc6750.check(env.provider.core, tokens["access_token"], API)
    assert len(env.provider.core.props_cache) == 0


async def test_a_record_deleted_behind_the_cache_is_refused(env: Env) -> None:
    """What another process's revocation looks like from here: the record is gone from the store."""
    _, tokens = await _token(env)
    assert (await env.api(tokens["access_token"])).status_code == 200
    from oauth_reference.machinery.storage import DeletePrefix

    await env.storage.commit([DeletePrefix("token:")])
    assert len(env.provider.core.props_cache) == 1  # this process was not told
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert len(env.provider.core.props_cache) == 0


async def test_no_props_reach_the_logs_or_the_providers_repr(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env()
    caplog.set_level(logging.DEBUG)
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    await env.provider.helpers.list_user_grants("test-user")
    tokens = (
        await env.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": client["client_id"],
            }
        )
    ).json()
    props = (await env.api(tokens["access_token"])).json()["props"]
    for _ in range(3):
        await env.api(tokens["access_token"])
    marker = next(str(v) for v in props.values() if isinstance(v, str) and len(v) > 6)
    assert marker not in caplog.text
    assert marker not in repr(env.provider.core) and marker not in repr(env.provider.core.props_cache)


async def test_the_cache_can_be_turned_off(make_env: EnvFactory) -> None:
    env = make_env({"props_cache_size": 0})
    _, tokens = await _token(env)
    for _ in range(2):
        assert (await env.api(tokens["access_token"])).status_code == 200
    assert len(env.provider.core.props_cache) == 0 and env.provider.core.props_cache.hits == 0
