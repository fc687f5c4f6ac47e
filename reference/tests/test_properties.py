"""Properties of the reference, checked with hypothesis.

PKCE over the whole verifier syntax, redirect URI matching under mutation, scope narrowing, and
round trips through the store, the crypto and the whole provider. Providers are built inside
each example (hypothesis runs the body many times; function-scoped fixtures would be shared).
"""

from __future__ import annotations

import re
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from oauth_reference.errors import InvalidScopeError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import records
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage.memory import MemoryStorage
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.specs import rfc7636
from oauth_reference.specs.oauth21.scopes import narrow
from oauth_reference.specs.oauth21.scopes import parse_scope
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import bare_provider
from reference.tests.conftest import query_of
from reference.tests.conftest import s256

pytestmark = pytest.mark.anyio

UNRESERVED = string.ascii_letters + string.digits + "-._~"  # RFC 7636 section 4.1
FAST = settings(max_examples=200, deadline=None)
STORE = settings(max_examples=100, deadline=None)
HTTP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

verifiers = st.text(alphabet=UNRESERVED, min_size=43, max_size=128)
methods = st.sampled_from(["S256", "plain"])


@asynccontextmanager
async def fresh_env(**options: Any) -> AsyncIterator[Env]:
    clock = OffsetClock()
    provider = bare_provider(clock=clock, **options)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=ORIGIN) as http:
        yield Env(provider, http, clock)


def _bad_verifiers() -> st.SearchStrategy[str]:
    too_short = st.text(alphabet=UNRESERVED, max_size=42)
    too_long = st.text(alphabet=UNRESERVED, min_size=129, max_size=300)
    outsider = st.characters(codec="utf-8").filter(lambda c: c not in UNRESERVED)
    foreign = (
        st.tuples(st.text(alphabet=UNRESERVED, max_size=64), outsider, st.text(alphabet=UNRESERVED, max_size=64))
        .map("".join)
        .filter(lambda v: 43 <= len(v) <= 128)
    )
    return st.one_of(too_short, too_long, foreign)


# --- PKCE -----------------------------------------------------------------------------------


@FAST
@given(verifier=verifiers, method=methods)
def test_every_verifier_in_the_syntax_verifies_against_its_own_challenge(verifier: str, method: str) -> None:
    """RFC7636-4.6-S256-VERIFY over the whole alphabet and length range 43..128."""
    challenge = s256(verifier) if method == "S256" else verifier
    assert rfc7636.valid_challenge(challenge, method)
    assert rfc7636.verify(verifier, challenge, method)


@FAST
@given(verifier=verifiers, other=verifiers, method=methods)
def test_a_verifier_never_verifies_against_another_verifiers_challenge(verifier: str, other: str, method: str) -> None:
    assume(verifier != other)
    challenge = s256(other) if method == "S256" else other
    assert not rfc7636.verify(verifier, challenge, method)


@FAST
@given(verifier=_bad_verifiers(), method=methods)
def test_a_verifier_outside_the_syntax_never_verifies(verifier: str, method: str) -> None:
    """RFC7636-4.1-VERIFIER-SYNTAX: even against a challenge computed from it."""
    challenge = s256(verifier) if method == "S256" else verifier
    assert not rfc7636.verify(verifier, challenge, method)


@HTTP
@given(verifier=verifiers, method=methods)
async def test_any_valid_verifier_completes_the_flow_over_http(verifier: str, method: str) -> None:
    async with fresh_env() as env:
        client = await env.register()
        challenge = s256(verifier) if method == "S256" else verifier
        response = await env.authorize(client["client_id"], code_challenge=challenge, code_challenge_method=method)
        code = query_of(response.headers["location"])["code"][0]
        token = await env.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": client["client_id"],
            }
        )
        assert token.status_code == 200, token.text


@HTTP
@given(verifier=verifiers, wrong=st.one_of(verifiers, _bad_verifiers()), method=methods)
async def test_any_other_verifier_is_refused_over_http(verifier: str, wrong: str, method: str) -> None:
    assume(wrong != verifier and wrong != "")
    async with fresh_env() as env:
        client = await env.register()
        challenge = s256(verifier) if method == "S256" else verifier
        response = await env.authorize(client["client_id"], code_challenge=challenge, code_challenge_method=method)
        code = query_of(response.headers["location"])["code"][0]
        token = await env.token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": wrong, "client_id": client["client_id"]}
        )
        assert token.status_code == 400
        assert token.json()["error"] == "invalid_grant"


# --- redirect URIs: any change is refused without a redirect --------------------------------

REGISTERED = ["https://app.example.com/oauth/cb", "http://127.0.0.1:9/cb", "com.example.app:/cb"]
_LOOPBACK_PORT_VARIANT = re.compile(r"^http://127\.0\.0\.1(?::\d{1,5})?/cb$")
_junk = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)


@st.composite
def mutated_uris(draw: st.DrawFn) -> str:
    uri = draw(st.sampled_from(REGISTERED))
    kind = draw(
        st.sampled_from(
            ["prefix", "suffix", "traversal", "userinfo", "case", "percent", "query", "port", "scheme", "fragment"]
        )
    )
    _, _, rest = uri.partition(":")
    if kind == "prefix":
        return draw(_junk) + uri
    if kind == "suffix":
        return uri + draw(_junk)
    if kind == "traversal":
        return uri + draw(st.sampled_from(["/..", "/../evil", "/./", "/..%2fevil", "%2f..", "/.", "/"]))
    if kind == "userinfo":
        host = rest.removeprefix("//").split("/", 1)[0]
        return draw(
            st.sampled_from(
                [
                    uri.replace(f"//{host}", f"//evil.example@{host}"),
                    uri.replace(f"//{host}", f"//{host}@evil.example"),
                    uri.replace(f"//{host}", f"//user:pass@{host}"),
                ]
            )
        )
    if kind == "case":
        letters = [i for i, ch in enumerate(uri) if ch.isalpha()]
        i = draw(st.sampled_from(letters))
        return uri[:i] + uri[i].swapcase() + uri[i + 1 :]
    if kind == "percent":
        i = draw(st.integers(min_value=0, max_value=len(uri) - 1))
        return uri[:i] + f"%{ord(uri[i]):02X}" + uri[i + 1 :]
    if kind == "query":
        return uri + "?" + draw(_junk)
    if kind == "port":
        port = draw(st.integers(min_value=1, max_value=65535))
        if uri.startswith("https://"):
            return uri.replace("app.example.com", f"app.example.com:{port}")
        if uri.startswith("http://"):
            return uri.replace("127.0.0.1:9", f"localhost:{port}")  # loopback: another host, not only a port
        return f"com.example.app://localhost:{port}/cb"
    if kind == "scheme":
        return draw(st.sampled_from(["http", "https", "ftp", "javascript", "com.example.evil", "HTTPS"])) + ":" + rest
    return uri + "#" + draw(st.text(alphabet=string.ascii_letters, max_size=5))


@HTTP
@given(requested=mutated_uris())
async def test_any_change_to_a_registered_redirect_uri_is_refused_without_redirect(requested: str) -> None:
    """OAUTH21-2.3.1-EXACT-MATCH, OAUTH21-4.1.2.1-NO-REDIRECT."""
    assume(requested not in REGISTERED)
    assume(not _LOOPBACK_PORT_VARIANT.match(requested))  # OAUTH21-8.4.2-LOOPBACK-PORT allows these
    async with fresh_env() as env:
        client = await env.register(redirect_uris=REGISTERED)
        response = await env.authorize(
            client["client_id"], redirect_uri=requested, code_challenge=s256("v" * 43), code_challenge_method="S256"
        )
        assert response.status_code == 400, requested
        assert "location" not in response.headers


@HTTP
@given(port=st.integers(min_value=1, max_value=65535))
async def test_a_loopback_redirect_uri_is_accepted_on_any_port(port: int) -> None:
    requested = f"http://127.0.0.1:{port}/cb"
    async with fresh_env() as env:
        client = await env.register(redirect_uris=REGISTERED)
        response = await env.authorize(
            client["client_id"], redirect_uri=requested, code_challenge=s256("v" * 43), code_challenge_method="S256"
        )
        assert response.status_code == 302
        assert response.headers["location"].startswith(requested + "?code=")


# --- scope ----------------------------------------------------------------------------------

SCOPES = ["read", "write", "admin", "profile", "email"]
scope_lists = st.lists(st.sampled_from(SCOPES), unique=True)


@FAST
@given(granted=scope_lists, requested=scope_lists)
def test_narrowing_returns_the_request_when_it_fits_and_refuses_otherwise(
    granted: list[str], requested: list[str]
) -> None:
    if set(requested) <= set(granted):
        assert narrow(requested, granted) == requested
    else:
        with pytest.raises(InvalidScopeError, match="exceeds"):
            narrow(requested, granted)


@FAST
@given(
    tokens=st.lists(
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'), min_size=1),
        max_size=6,
    )
)
def test_a_scope_string_parses_into_its_unique_tokens_in_order(tokens: list[str]) -> None:
    assert parse_scope(" ".join(tokens)) == list(dict.fromkeys(tokens))


@HTTP
@given(granted=scope_lists.filter(bool), requested=scope_lists.filter(bool))
async def test_the_token_endpoint_narrows_or_refuses_exactly_like_the_rule(
    granted: list[str], requested: list[str]
) -> None:
    """OAUTH21-4.3.1-RT-SCOPE at both grants: fits -> that scope; wider -> invalid_scope."""
    async with fresh_env() as env:
        client = await env.register()
        tokens = await env.tokens(client["client_id"], scope=" ".join(granted))
        assert tokens["scope"] == " ".join(granted)
        response = await env.refresh(client["client_id"], tokens["refresh_token"], scope=" ".join(requested))
        if set(requested) <= set(granted):
            assert response.status_code == 200
            assert response.json()["scope"] == " ".join(requested)
            api = await env.api(response.json()["access_token"])
            assert api.json()["scope"] == requested
        else:
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_scope"


# --- round trips ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Keys: any text the store may hold (U+10FFFF is reserved by the backends as a prefix bound).
keys = st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x10FFFE), min_size=1, max_size=24)


@FAST
@given(props=json_values)
def test_props_encrypt_and_decrypt_to_the_same_value(props: Any) -> None:
    key = crypto.new_props_key()
    blob = crypto.encrypt_props(props, key)
    assert crypto.decrypt_props(blob, key) == props


@FAST
@given(token=st.text(min_size=1, max_size=64), other=st.text(min_size=1, max_size=64))
def test_a_wrapped_key_unwraps_only_with_its_token(token: str, other: str) -> None:
    key = crypto.new_props_key()
    wrapped = crypto.wrap_key(key, token)
    assert crypto.unwrap_key(wrapped, token) == key
    if other != token:
        with pytest.raises(InvalidUnwrap):
            crypto.unwrap_key(wrapped, other)


@FAST
@given(
    client_name=st.none() | st.text(),
    redirect_uris=st.lists(st.text(), max_size=3),
    metadata=json_values,
    scope=st.lists(st.text(max_size=10), max_size=4),
    expires_at=st.none() | st.floats(min_value=0, max_value=1e10),
)
def test_records_survive_a_dump_and_load(
    client_name: str | None, redirect_uris: list[str], metadata: Any, scope: list[str], expires_at: float | None
) -> None:
    client = ClientInfo(client_id="c", redirect_uris=redirect_uris, client_name=client_name, jwks={"keys": []})
    assert records.load(ClientInfo, records.dump(client)) == client
    grant = Grant("g", "c", "u", scope, metadata, "blob", 1, expires_at, retired_refresh_token_ids=["a"])
    assert records.load(Grant, records.dump(grant)) == grant


async def _round_trip(storage: Storage, entries: dict[str, tuple[bytes, Any]], prefix: str) -> None:
    future = 4_000_000_000.0
    writes = [Put(k, v, future if i % 2 else None, {"m": m}) for i, (k, (v, m)) in enumerate(entries.items())]
    assert await storage.commit(writes)
    for i, (key, (value, meta)) in enumerate(entries.items()):
        entry = await storage.get(key)
        assert entry is not None
        assert entry.value == value
        assert entry.metadata == {"m": meta}
        assert entry.expires_at == (future if i % 2 else None)
    listed: list[str] = []
    cursor = None
    while True:
        page = await storage.list(prefix, limit=3, cursor=cursor)
        listed += [k.name for k in page.keys]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert listed == sorted(k for k in entries if k.startswith(prefix))
    assert await storage.commit([DeletePrefix(prefix)])
    for key in entries:
        assert (await storage.get(key) is None) == key.startswith(prefix)


entries_strategy = st.dictionaries(keys, st.tuples(st.binary(max_size=64), json_values), min_size=1, max_size=12)


@STORE
@given(entries=entries_strategy, prefix=st.text(alphabet="ab", max_size=2))
async def test_the_memory_store_round_trips_values_listings_and_deletions(
    entries: dict[str, tuple[bytes, Any]], prefix: str
) -> None:
    await _round_trip(MemoryStorage(OffsetClock()), entries, prefix)


@STORE
@given(entries=entries_strategy, prefix=st.text(alphabet="ab", max_size=2))
async def test_the_sqlite_store_round_trips_values_listings_and_deletions(
    entries: dict[str, tuple[bytes, Any]], prefix: str
) -> None:
    storage = SQLiteStorage(":memory:", OffsetClock())
    try:
        await _round_trip(storage, entries, prefix)
    finally:
        await storage.close()


@HTTP
@given(props=json_values, metadata=json_values)
async def test_whatever_props_the_application_stores_reach_the_api_handler_unchanged(props: Any, metadata: Any) -> None:
    async with fresh_env() as env:
        helpers = env.provider.helpers
        client = await helpers.create_client(redirect_uris=["http://127.0.0.1:9/cb"], token_endpoint_auth_method="none")
        verifier = "v" * 43
        request = await helpers.parse_auth_request(
            f"{ORIGIN}/authorize?response_type=code&client_id={client.client_id}"
            f"&redirect_uri=http://127.0.0.1:9/cb&code_challenge={s256(verifier)}&code_challenge_method=S256"
        )
        done = await helpers.complete_authorization(request, user_id="u", scope=[], props=props, metadata=metadata)
        code = query_of(done.redirect_to)["code"][0]
        tokens = (
            await env.token(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "code_verifier": verifier,
                    "client_id": client.client_id,
                }
            )
        ).json()
        assert (await env.api(tokens["access_token"])).json()["props"] == props
        refreshed = (await env.refresh(client.client_id, tokens["refresh_token"])).json()
        assert (await env.api(refreshed["access_token"])).json()["props"] == props
        (grant,) = (await helpers.list_user_grants("u")).items
        assert grant.metadata == metadata
