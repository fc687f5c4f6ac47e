"""Secrets at rest and in logs: the store and the access log never hold a usable secret."""

from __future__ import annotations

import hmac
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap

from oauth_reference.machinery import crypto
from oauth_reference.serving.process import start
from oauth_reference.serving.selfcheck import run_flow
from oauth_reference.specs import rfc7636
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import basic
from reference.tests.conftest import dump_store
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

PROPS_MARKER = "props-marker-7f3a9c"
METADATA_IS_NOT_SECRET = "label-visible-in-grant-listings"


def _needles(secret: str) -> list[bytes]:
    """The secret, and its random part alone (tokens are ``user:grant:secret``)."""
    return [secret.encode(), secret.rsplit(":", 1)[-1].encode()]


async def test_the_store_never_holds_a_plaintext_token_code_secret_or_props_value(env: Env) -> None:
    helpers = env.provider.helpers
    confidential = await env.register(token_endpoint_auth_method="client_secret_post")
    verifier, challenge = pkce_pair()
    request = await helpers.parse_auth_request(
        f"{ORIGIN}/authorize?response_type=code&client_id={confidential['client_id']}&redirect_uri={REDIRECT}"
        f"&code_challenge={challenge}&code_challenge_method=S256&state=st"
    )
    done = await helpers.complete_authorization(
        request,
        user_id="alice",
        scope=["profile"],
        props={"api_key": PROPS_MARKER, "nested": [PROPS_MARKER.upper()]},
        metadata={"label": METADATA_IS_NOT_SECRET},
    )
    code = query_of(done.redirect_to)["code"][0]
    secrets: list[str] = [code, confidential["client_secret"], verifier]
    creds = {"client_id": confidential["client_id"], "client_secret": confidential["client_secret"]}
    # Dump the store while the code is still pending, too.
    pending = await dump_store(env.storage)
    tokens = (
        await env.token({"grant_type": "authorization_code", "code": code, "code_verifier": verifier, **creds})
    ).json()
    refreshed = (
        await env.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **creds})
    ).json()
    secrets += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"], refreshed["refresh_token"]]
    assert (await env.api(refreshed["access_token"])).json()["props"]["api_key"] == PROPS_MARKER
    for dump in (pending, await dump_store(env.storage)):
        blob = b"\n".join(k.encode() + b"=" + v for k, v in dump.items())
        for secret in secrets:
            for needle in _needles(secret):
                assert needle not in blob, secret
        assert PROPS_MARKER.encode() not in blob
        assert PROPS_MARKER.upper().encode() not in blob
    # The control: the dump is real, it does hold what is not secret.
    assert METADATA_IS_NOT_SECRET.encode() in blob
    assert confidential["client_id"].encode() in blob


async def test_props_cannot_be_decrypted_without_a_token(env: Env) -> None:
    """What the store holds for props is AES-GCM under a key only a token can unwrap."""
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    summary = await env.provider.helpers.unwrap_token(tokens["access_token"])
    assert summary is not None
    dump = await dump_store(env.storage)
    (token_record,) = [v for k, v in dump.items() if k.startswith("token:")]
    record = orjson.loads(token_record)
    with pytest.raises(InvalidUnwrap):
        crypto.unwrap_key(record["wrapped_key"], "test-user:" + "A" * 16 + ":" + "B" * 32)
    key = crypto.unwrap_key(record["wrapped_key"], tokens["access_token"])
    assert crypto.decrypt_props(record["encrypted_props"], key) == summary.props


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module crypto.equal calls through
    assert crypto.equal("abc", "abc")
    assert not crypto.equal("abc", "abd")
    assert not crypto.equal("abc", "abcd")
    assert calls == [(b"abc", b"abc"), (b"abc", b"abd"), (b"abc", b"abcd")]


async def test_every_secret_check_goes_through_the_constant_time_comparison(
    make_env: EnvFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Client secrets, codes, refresh tokens and PKCE verifiers are all compared with crypto.equal."""
    compared: list[tuple[str, str]] = []
    real = crypto.equal

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(crypto, "equal", spy)
    monkeypatch.setattr(rfc7636, "equal", spy)
    env = make_env()
    client = await env.register(token_endpoint_auth_method="client_secret_basic")
    code, verifier = await env.code(client["client_id"])
    auth = basic(client["client_id"], client["client_secret"])
    tokens = (
        await env.token({"grant_type": "authorization_code", "code": code, "code_verifier": verifier}, headers=auth)
    ).json()
    await env.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, headers=auth)
    hashed = {crypto.sha256_hex(s) for s in (client["client_secret"], code, tokens["refresh_token"])}
    seen = {a for a, _ in compared} | {b for _, b in compared}
    assert hashed <= seen  # secret, code and refresh token, as hashes
    assert any(a == rfc7636.s256(verifier) for a, _ in compared)  # the PKCE check


async def test_token_and_error_responses_are_never_cached(env: Env) -> None:
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    ok = await env.token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client["client_id"]}
    )
    failed = await env.token({"grant_type": "authorization_code", "code": code, "client_id": client["client_id"]})
    for response in (ok, failed):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


async def test_error_descriptions_never_echo_raw_input(env: Env) -> None:
    """RFC 6749 section 5.2: error_description is limited to printable ASCII without quote or backslash."""
    client = await env.register()
    response = await env.token({"grant_type": 'x"\\\u00e9\n<script>', "client_id": client["client_id"]})
    description = response.json()["error_description"]
    assert all(0x20 <= ord(ch) <= 0x7E and ch not in '"\\' for ch in description)


def test_the_served_access_log_shows_requests_but_never_a_token(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` logs one line per request (method, path, status, time) to stderr, never a secret."""
    monkeypatch.setenv("OAUTH_REFERENCE_QUIET", "0")  # the child's stderr is then ours, captured
    server = start(["--auto-approve", "--store", "memory"])
    try:
        secrets = _flow_with_secrets_in_urls(server.url)
    finally:
        server.stop()
    text = capfd.readouterr().err
    assert "POST /oauth/token 200" in text
    assert "GET /api/whoami 200" in text
    assert "GET /authorize 302" in text
    assert "state-in-url" not in text  # query strings are never logged
    for secret in secrets:
        for needle in _needles(secret):
            assert needle.decode() not in text, secret


def _flow_with_secrets_in_urls(base: str) -> list[str]:
    """The whole flow, plus requests that put secrets in query strings (which must not be logged)."""
    steps: list[str] = []

    def record(name: str, ok: bool, detail: str) -> bool:
        steps.append(name)
        return ok

    assert run_flow(base, record)
    with httpx.Client(base_url=base, timeout=10) as http:
        client = http.post(
            "/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"}
        ).json()
        verifier, challenge = pkce_pair()
        location = http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": "state-in-url",
            },
        ).headers["location"]
        code = query_of(location)["code"][0]
        tokens = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        ).json()
        http.get("/api/whoami", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        http.get("/api/whoami", params={"access_token": tokens["access_token"]})  # a token in the URL
        http.get("/authorize", params={"code": code, "refresh_token": tokens["refresh_token"]})
    return [code, verifier, client["client_secret"], tokens["access_token"], tokens["refresh_token"]]
