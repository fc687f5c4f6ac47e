"""``OAuthHelpers``: the seed's ``env.OAUTH_PROVIDER`` methods, called directly."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from oauth_reference import AuthorizationError
from oauth_reference import AuthRequest
from oauth_reference import OAuthHelpers
from oauth_reference import TokenSummary
from oauth_reference.errors import InvalidRedirectUriError
from oauth_reference.specs.oauth21 import authorization_endpoint as authorization
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import dump_store
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

VERIFIER, CHALLENGE = pkce_pair()


def authorize_url(client_id: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **params,
    }
    return f"{ORIGIN}/authorize?{urlencode(query)}"


async def _client(helpers: OAuthHelpers, **meta: Any) -> str:
    client = await helpers.create_client(**{"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", **meta})
    return client.client_id


async def _authorize(
    env: Env, client_id: str, user_id: str = "alice", props: Any = None, **kwargs: Any
) -> dict[str, list[str]]:
    helpers = env.provider.helpers
    request = await helpers.parse_auth_request(authorize_url(client_id, state="st"))
    done = await helpers.complete_authorization(
        request, user_id=user_id, scope=request.scope, props=props or {"who": user_id}, **kwargs
    )
    return query_of(done.redirect_to)


async def _exchange(env: Env, client_id: str, code: str, **extra: str) -> dict[str, Any]:
    response = await env.token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER, "client_id": client_id, **extra}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- parse_auth_request and lookup_client ---------------------------------------------------


async def test_parse_auth_request_returns_the_validated_request(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    request = await helpers.parse_auth_request(authorize_url(client_id, state="st", scope="profile email profile"))
    assert request == AuthRequest(
        response_type="code",
        client_id=client_id,
        redirect_uri=REDIRECT,
        scope=["profile", "email"],
        state="st",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
        resource=[],
        issuer=ORIGIN,
    )


async def test_parse_auth_request_accepts_an_object_with_a_url(env: Env) -> None:
    class FakeRequest:
        def __init__(self, url: str) -> None:
            self.url = url

    client_id = await _client(env.provider.helpers)
    request = await env.provider.helpers.parse_auth_request(FakeRequest(authorize_url(client_id)))
    assert request.client_id == client_id


async def test_parse_auth_request_needs_an_absolute_url(env: Env) -> None:
    with pytest.raises(ValueError, match="absolute URL"):
        await env.provider.helpers.parse_auth_request("/authorize?client_id=x")


async def test_parse_auth_request_errors_before_the_redirect_uri_is_trusted_have_no_redirect(env: Env) -> None:
    with pytest.raises(AuthorizationError, match="unknown client_id") as caught:
        await env.provider.helpers.parse_auth_request(authorize_url("nobody"))
    assert caught.value.redirect_to is None
    assert caught.value.code == "invalid_request"


async def test_parse_auth_request_errors_after_it_carry_a_redirect_with_state_and_iss(env: Env) -> None:
    client_id = await _client(env.provider.helpers)
    with pytest.raises(AuthorizationError, match="unknown scope") as caught:
        await env.provider.helpers.parse_auth_request(authorize_url(client_id, state="st", scope="nope"))
    assert caught.value.code == "invalid_scope"
    assert caught.value.redirect_to is not None
    params = query_of(caught.value.redirect_to)
    assert params["error"] == ["invalid_scope"]
    assert params["state"] == ["st"]
    assert params["iss"] == [ORIGIN]


async def test_parse_auth_request_refuses_a_query_that_is_not_utf8(env: Env) -> None:
    with pytest.raises(AuthorizationError, match="form-urlencoded UTF-8") as caught:
        await env.provider.helpers.parse_auth_request(f"{ORIGIN}/authorize?client_id=%FF")
    assert caught.value.redirect_to is None


async def test_lookup_client_returns_the_stored_client_without_its_secret(env: Env) -> None:
    helpers = env.provider.helpers
    created = await helpers.create_client(redirect_uris=[REDIRECT], client_name="Shop")
    assert created.client_secret is not None
    found = await helpers.lookup_client(created.client_id)
    assert found is not None
    assert found.client_name == "Shop"
    assert found.client_secret is None
    assert await helpers.lookup_client("nobody") is None


# --- complete_authorization -----------------------------------------------------------------


async def test_complete_authorization_returns_the_redirect_with_code_state_and_iss(env: Env) -> None:
    client_id = await _client(env.provider.helpers)
    params = await _authorize(env, client_id)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == ["st"]
    assert params["iss"] == [ORIGIN]
    tokens = await _exchange(env, client_id, params["code"][0])
    assert (await env.api(tokens["access_token"])).json()["props"] == {"who": "alice"}


async def test_complete_authorization_stores_the_grant_with_its_metadata(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    request = await helpers.parse_auth_request(authorize_url(client_id, scope="profile"))
    await helpers.complete_authorization(
        request, user_id="alice", scope=["profile", "extra"], props={"p": 1}, metadata={"label": "laptop"}
    )
    (grant,) = (await helpers.list_user_grants("alice")).items
    assert grant.client_id == client_id
    assert grant.scope == ["profile", "extra"]  # the application decides what is granted
    assert grant.metadata == {"label": "laptop"}


async def test_reauthorization_revokes_the_users_earlier_grants_for_that_client(env: Env) -> None:
    """The seed's default: stale props cannot outlive a re-authorization."""
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    other_client = await _client(helpers)
    first = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    elsewhere = await _exchange(env, other_client, (await _authorize(env, other_client))["code"][0])
    bobs = await _exchange(env, client_id, (await _authorize(env, client_id, user_id="bob"))["code"][0])
    second = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    assert (await env.api(first["access_token"])).status_code == 401
    assert (await env.refresh(client_id, first["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await env.api(second["access_token"])).status_code == 200
    # Other clients of the same user, and other users of the same client, keep their grants.
    assert (await env.api(elsewhere["access_token"])).status_code == 200
    assert (await env.api(bobs["access_token"])).status_code == 200
    assert len((await helpers.list_user_grants("alice")).items) == 2


async def test_revoke_existing_grants_false_keeps_the_earlier_grants(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    first = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    await _exchange(env, client_id, (await _authorize(env, client_id, revoke_existing_grants=False))["code"][0])
    assert (await env.api(first["access_token"])).status_code == 200
    assert len((await helpers.list_user_grants("alice")).items) == 2


async def test_revocation_pages_through_many_grants_with_a_small_batch(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    for _ in range(7):
        await _authorize(env, client_id, revoke_existing_grants=False)
    assert len((await helpers.list_user_grants("alice")).items) == 7
    await _authorize(env, client_id, revoke_existing_grants_batch_size=2)
    assert len((await helpers.list_user_grants("alice")).items) == 1


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10", None])
async def test_the_batch_size_must_be_a_positive_integer(env: Env, size: Any) -> None:
    client_id = await _client(env.provider.helpers)
    before = await dump_store(env.storage)
    with pytest.raises(ValueError, match="revoke_existing_grants_batch_size must be a positive integer"):
        await _authorize(env, client_id, revoke_existing_grants_batch_size=size)
    assert await dump_store(env.storage) == before


def test_the_batch_size_is_capped_at_the_page_limit_of_1000() -> None:
    assert authorization.check_batch_size(1) == 1
    assert authorization.check_batch_size(1000) == 1000
    assert authorization.check_batch_size(5000) == 1000


async def test_a_batch_size_above_the_cap_is_accepted(env: Env) -> None:
    client_id = await _client(env.provider.helpers)
    params = await _authorize(env, client_id, revoke_existing_grants_batch_size=10_000)
    assert "code" in params


@pytest.mark.parametrize("user_id", ["", "a:b", "a b", "tab\t", 42])
async def test_the_user_id_must_be_a_nonempty_string_without_colons_or_spaces(env: Env, user_id: Any) -> None:
    client_id = await _client(env.provider.helpers)
    with pytest.raises(ValueError, match="user_id must"):
        await _authorize(env, client_id, user_id=user_id)


async def test_complete_authorization_rechecks_a_request_the_application_altered(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    request = await helpers.parse_auth_request(authorize_url(client_id))
    forged = AuthRequest(**{**_fields(request), "redirect_uri": "https://evil.example/cb"})
    with pytest.raises(ValueError, match="not registered"):
        await helpers.complete_authorization(forged, user_id="alice", scope=[], props=None)
    implicit = AuthRequest(**{**_fields(request), "response_type": "token"})
    with pytest.raises(ValueError, match="unsupported response type"):
        await helpers.complete_authorization(implicit, user_id="alice", scope=[], props=None)
    with pytest.raises(TypeError, match="scope must be a list"):
        # A string scope (the ignore): the check refuses it.
        await helpers.complete_authorization(request, user_id="alice", scope="profile", props=None)  # type: ignore[arg-type]


def _fields(request: AuthRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in AuthRequest.__dataclass_fields__}


# --- create_client, list_clients, update_client, delete_client -----------------------------


async def test_create_client_returns_its_secret_once(env: Env) -> None:
    helpers = env.provider.helpers
    client = await helpers.create_client(redirect_uris=[REDIRECT], client_name="Direct")
    assert client.client_secret is not None
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert client.dynamically_registered is False
    assert client.grant_types == ["authorization_code", "refresh_token"]


async def test_create_client_validates_its_metadata(env: Env) -> None:
    with pytest.raises(InvalidRedirectUriError, match="fragment"):
        await env.provider.helpers.create_client(redirect_uris=["https://a.example/cb#x"])


async def test_list_clients_pages_with_a_cursor(env: Env) -> None:
    helpers = env.provider.helpers
    created = {await _client(helpers) for _ in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await helpers.list_clients(limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [c.client_id for c in page.items]
        pages += 1
        if page.cursor is None:
            break
        cursor = page.cursor
    assert pages == 3
    assert sorted(seen) == sorted(created)


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
async def test_list_limits_must_be_positive_integers(env: Env, limit: Any) -> None:
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        await env.provider.helpers.list_clients(limit=limit)
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        await env.provider.helpers.list_user_grants("alice", limit=limit)


async def test_update_client_changes_metadata(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    updated = await helpers.update_client(
        client_id, client_name="Renamed", redirect_uris=["https://app.example.com/cb"]
    )
    assert updated is not None
    found = await helpers.lookup_client(client_id)
    assert found is not None
    assert found.client_name == "Renamed"
    assert found.redirect_uris == ["https://app.example.com/cb"]
    assert found.token_endpoint_auth_method == "none"


async def test_update_client_sets_a_new_secret(env: Env) -> None:
    helpers = env.provider.helpers
    client = await helpers.create_client(redirect_uris=[REDIRECT])
    updated = await helpers.update_client(client.client_id, client_secret="a-new-secret-of-length-24")
    assert updated is not None
    assert updated.client_secret == "a-new-secret-of-length-24"
    found = await helpers.lookup_client(client.client_id)
    assert found is not None
    assert found.client_secret is None
    with pytest.raises(ValueError, match="at least 16 characters"):
        await helpers.update_client(client.client_id, client_secret="short")


async def test_update_client_between_public_and_confidential(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    confidential = await helpers.update_client(client_id, token_endpoint_auth_method="client_secret_post")
    assert confidential is not None
    assert confidential.client_secret is not None
    public = await helpers.update_client(client_id, token_endpoint_auth_method="none")
    assert public is not None
    assert public.client_secret_hash is None


async def test_update_client_of_an_unknown_client_returns_none(env: Env) -> None:
    assert await env.provider.helpers.update_client("nobody", client_name="x") is None


async def test_update_client_validates_what_it_changes(env: Env) -> None:
    client_id = await _client(env.provider.helpers)
    with pytest.raises(InvalidRedirectUriError):
        await env.provider.helpers.update_client(client_id, redirect_uris=["javascript:alert(1)"])


async def test_delete_client_revokes_every_grant_and_token_of_the_client_for_all_users(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    keeper = await _client(helpers)
    alice = await _exchange(env, client_id, (await _authorize(env, client_id, "alice"))["code"][0])
    bob = await _exchange(env, client_id, (await _authorize(env, client_id, "bob"))["code"][0])
    pending_code = (await _authorize(env, client_id, "carol"))["code"][0]
    kept = await _exchange(env, keeper, (await _authorize(env, keeper, "alice"))["code"][0])
    await helpers.delete_client(client_id)
    assert await helpers.lookup_client(client_id) is None
    for tokens in (alice, bob):
        assert (await env.api(tokens["access_token"])).status_code == 401
    for user in ("bob", "carol"):
        assert (await helpers.list_user_grants(user)).items == []
    assert [g.client_id for g in (await helpers.list_user_grants("alice")).items] == [keeper]
    assert (await env.api(kept["access_token"])).status_code == 200
    # Nothing of the deleted client is left in the store, not even its pending code.
    dumped = await dump_store(env.storage)
    assert not [k for k in dumped if client_id in k]
    assert pending_code.split(":")[1] not in "".join(dumped)


async def test_delete_client_of_an_unknown_client_is_harmless(env: Env) -> None:
    await env.provider.helpers.delete_client("nobody")


# --- grants and tokens ----------------------------------------------------------------------


async def test_list_user_grants_pages_with_a_cursor_and_reveals_no_props(env: Env) -> None:
    helpers = env.provider.helpers
    clients = [await _client(helpers) for _ in range(5)]
    for client_id in clients:
        await _authorize(env, client_id, props={"secret": "never listed"})
    first = await helpers.list_user_grants("alice", limit=3)
    assert len(first.items) == 3
    assert first.cursor is not None
    rest = await helpers.list_user_grants("alice", limit=3, cursor=first.cursor)
    assert len(rest.items) == 2
    assert rest.cursor is None
    grants = first.items + rest.items
    assert sorted(g.client_id for g in grants) == sorted(clients)
    assert all(g.user_id == "alice" for g in grants)
    assert "never listed" not in repr(grants)


async def test_list_user_grants_does_not_mix_users_sharing_a_prefix(env: Env) -> None:
    client_id = await _client(env.provider.helpers)
    await _authorize(env, client_id, "al")
    await _authorize(env, client_id, "alice")
    assert len((await env.provider.helpers.list_user_grants("al")).items) == 1


async def test_revoke_grant_ends_its_tokens(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    tokens = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    (grant,) = (await helpers.list_user_grants("alice")).items
    await helpers.revoke_grant(grant.id, "alice")
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert (await env.refresh(client_id, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await helpers.list_user_grants("alice")).items == []
    await helpers.revoke_grant(grant.id, "alice")  # again: harmless


async def test_unwrap_token_decodes_a_live_access_token_with_its_props(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    code = (await _authorize(env, client_id, props={"k": [1, 2]}))["code"][0]
    tokens = await _exchange(env, client_id, code, resource=f"{ORIGIN}/api")
    summary = await helpers.unwrap_token(tokens["access_token"])
    assert isinstance(summary, TokenSummary)
    assert summary.props == {"k": [1, 2]}
    assert summary.user_id == "alice"
    assert summary.client_id == client_id
    assert summary.audience == [f"{ORIGIN}/api"]  # the token request named it (RFC 8707 section 2.2)


async def test_unwrap_token_gives_none_for_anything_but_a_live_access_token(env: Env) -> None:
    helpers = env.provider.helpers
    client_id = await _client(helpers)
    tokens = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    assert await helpers.unwrap_token(tokens["refresh_token"]) is None
    assert await helpers.unwrap_token("garbage") is None
    assert await helpers.unwrap_token("alice:AAAAAAAAAAAAAAAA:" + "x" * 32) is None
    env.clock.advance(3600)
    assert await helpers.unwrap_token(tokens["access_token"]) is None


async def test_unwrap_token_gives_none_after_revocation(make_env: EnvFactory) -> None:
    env = make_env()
    client_id = await _client(env.provider.helpers)
    tokens = await _exchange(env, client_id, (await _authorize(env, client_id))["code"][0])
    await env.revoke(client_id, tokens["access_token"])
    assert await env.provider.helpers.unwrap_token(tokens["access_token"]) is None
