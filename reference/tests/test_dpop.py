"""RFC 9449 DPoP in the reference: proofs at the token endpoint, bound tokens, nonces, the API routes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.jwk import OctKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oauth_reference import InsufficientScopeError
from oauth_reference import OAuthError
from oauth_reference import oauth_error_handler
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import TOKEN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory

pytestmark = pytest.mark.anyio
TOKEN_URL = ORIGIN + TOKEN
API_URL = ORIGIN + "/api/whoami"


def proof(key: ECKey, url: str = TOKEN_URL, method: str = "POST", **claims: Any) -> str:
    body: dict[str, Any] = {"jti": secrets.token_urlsafe(12), "htm": method, "htu": url, "iat": int(time.time())}
    body.update(claims)
    header = {"alg": "ES256", "typ": "dpop+jwt", "jwk": key.as_dict(private=False)}
    return jwt.encode(header, {k: v for k, v in body.items() if v is not None}, key)


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def dpop_env(make_env: EnvFactory) -> Env:
    return make_env({"dpop_enabled": True})


async def exchange(env: Env, client_id: str, key: ECKey | None, **params: str | None) -> httpx.Response:
    code, verifier = await env.code(client_id, **params)
    headers = {"DPoP": proof(key)} if key is not None else {}
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
    return await env.token(data, headers=headers)


async def test_a_proof_gets_a_dpop_bound_token_that_the_api_takes_only_with_a_proof(dpop_env: Env) -> None:
    """RFC9449-5-TOKEN-TYPE, RFC9449-7.1-RESOURCE-CHECKS, RFC9449-7.2-NO-DOWNGRADE."""
    client = await dpop_env.register()
    key = ECKey.generate_key("P-256")
    response = await exchange(dpop_env, client["client_id"], key)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert response.json()["token_type"] == "DPoP"
    assert (await dpop_env.api(token)).status_code == 401  # as a bearer token
    ok = await dpop_env.http.get(
        "/api/whoami", headers={"Authorization": f"DPoP {token}", "DPoP": proof(key, API_URL, "GET", ath=ath(token))}
    )
    assert ok.status_code == 200, ok.text
    other = ECKey.generate_key("P-256")
    for bad in (
        proof(key, API_URL, "GET"),  # no ath
        proof(other, API_URL, "GET", ath=ath(token)),  # another key
        proof(key, API_URL, "POST", ath=ath(token)),  # another method
        proof(key, ORIGIN + "/api/other", "GET", ath=ath(token)),  # another URL
    ):
        refused = await dpop_env.http.get("/api/whoami", headers={"Authorization": f"DPoP {token}", "DPoP": bad})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("DPoP algs=")
    missing = await dpop_env.http.get("/api/whoami", headers={"Authorization": f"DPoP {token}"})
    assert missing.status_code == 401


@pytest.mark.parametrize(
    "why",
    ["typ", "alg", "private", "htm", "htu", "old", "claims", "two", "garbage", "signature", "replay"],
)
async def test_invalid_proofs_are_refused_with_invalid_dpop_proof(dpop_env: Env, why: str) -> None:
    """RFC 9449 section 4.3, each check: RFC9449-4.3-*, RFC9449-11.1-LIFETIME, RFC9449-11.1-JTI-REPLAY."""
    client = await dpop_env.register()
    key = ECKey.generate_key("P-256")
    code, verifier = await dpop_env.code(client["client_id"])
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": client["client_id"],
    }
    public = key.as_dict(private=False)
    now = int(time.time())
    base = {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": TOKEN_URL, "iat": now}
    headers: list[tuple[str, str]]
    if why == "typ":
        headers = [("DPoP", jwt.encode({"alg": "ES256", "typ": "JWT", "jwk": public}, base, key))]
    elif why == "alg":
        mac = OctKey.generate_key(256)
        headers = [("DPoP", jwt.encode({"alg": "HS256", "typ": "dpop+jwt", "jwk": public}, base, mac))]
    elif why == "private":
        headers = [
            ("DPoP", jwt.encode({"alg": "ES256", "typ": "dpop+jwt", "jwk": key.as_dict(private=True)}, base, key))
        ]
    elif why == "htm":
        headers = [("DPoP", proof(key, method="GET"))]
    elif why == "htu":
        headers = [("DPoP", proof(key, url=ORIGIN + "/elsewhere"))]
    elif why == "old":
        headers = [("DPoP", proof(key, iat=now - 3600))]
    elif why == "claims":
        headers = [("DPoP", proof(key, jti=None))]
    elif why == "two":
        headers = [("DPoP", proof(key)), ("DPoP", proof(key))]
    elif why == "garbage":
        headers = [("DPoP", "not a jwt")]
    elif why == "signature":
        other = ECKey.generate_key("P-256")
        headers = [("DPoP", jwt.encode({"alg": "ES256", "typ": "dpop+jwt", "jwk": public}, base, other))]
    else:
        used = proof(key)
        first = await dpop_env.token(data, headers={"DPoP": used})
        assert first.status_code == 200, first.text
        code, verifier = await dpop_env.code(client["client_id"])
        data = {**data, "code": code, "code_verifier": verifier}
        headers = [("DPoP", used)]
    response = await dpop_env.http.post(TOKEN, data=data, headers=httpx.Headers(headers))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_dpop_proof"


async def test_a_public_clients_refresh_token_is_bound_to_the_key(dpop_env: Env) -> None:
    """RFC9449-5-RT-BOUND."""
    client = await dpop_env.register(grant_types=["authorization_code", "refresh_token"])
    key = ECKey.generate_key("P-256")
    refresh = (await exchange(dpop_env, client["client_id"], key)).json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client["client_id"]}
    assert (await dpop_env.token(data)).status_code == 400
    assert (await dpop_env.token(data, headers={"DPoP": proof(ECKey.generate_key("P-256"))})).status_code == 400
    again = await dpop_env.token(data, headers={"DPoP": proof(key)})
    assert again.status_code == 200 and again.json()["token_type"] == "DPoP"


async def test_dpop_jkt_binds_the_code(dpop_env: Env) -> None:
    """RFC9449-10-DPOP-JKT."""
    client = await dpop_env.register()
    key = ECKey.generate_key("P-256")
    other = await exchange(dpop_env, client["client_id"], ECKey.generate_key("P-256"), dpop_jkt=key.thumbprint())
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    assert (await exchange(dpop_env, client["client_id"], None, dpop_jkt=key.thumbprint())).status_code == 400
    assert (await exchange(dpop_env, client["client_id"], key, dpop_jkt=key.thumbprint())).status_code == 200


async def test_nonces_are_required_and_supplied(make_env: EnvFactory) -> None:
    """RFC9449-8-NONCE, RFC9449-8-USE-DPOP-NONCE, RFC9449-8-ONE-NONCE-HEADER."""
    env = make_env({"dpop_enabled": True, "dpop_nonce": True})
    client = await env.register()
    key = ECKey.generate_key("P-256")
    code, verifier = await env.code(client["client_id"])
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": client["client_id"],
    }
    first = await env.token(data, headers={"DPoP": proof(key)})
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
    assert len(first.headers.get_list("dpop-nonce")) == 1
    wrong = await env.token(data, headers={"DPoP": proof(key, nonce="0.not-ours")})
    assert wrong.status_code == 400 and wrong.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["dpop-nonce"]
    ok = await env.token(data, headers={"DPoP": proof(key, nonce=nonce)})
    assert ok.status_code == 200, ok.text
    assert ok.headers.get("dpop-nonce")


async def test_a_client_registered_for_dpop_needs_a_proof(dpop_env: Env) -> None:
    """RFC9449-5.2-BOUND-CLIENT."""
    client = await dpop_env.register(dpop_bound_access_tokens=True)
    assert client["dpop_bound_access_tokens"] is True
    response = await exchange(dpop_env, client["client_id"], None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


async def test_without_the_option_a_proof_is_ignored(env: Env) -> None:
    client = await env.register()
    response = await exchange(env, client["client_id"], ECKey.generate_key("P-256"))
    assert response.status_code == 200 and response.json()["token_type"] == "Bearer"
    assert "dpop_signing_alg_values_supported" not in await env.metadata()


async def test_an_oauth_error_from_the_api_handler_on_a_dpop_request_gets_the_dpop_challenge(
    make_env: EnvFactory,
) -> None:
    """RFC9449-7.1-CHALLENGE: the token came with the DPoP scheme, so the handler's 403 challenges with
    it (a Bearer challenge would ask the client for a scheme its token cannot be used with)."""

    async def documents(request: Request) -> JSONResponse:
        raise InsufficientScopeError("writing needs documents.write", scope=["documents.write"])

    app = Starlette(routes=[Route("/api/documents", documents)], exception_handlers={OAuthError: oauth_error_handler})
    env = make_env({"dpop_enabled": True, "api_handler": app})
    client = await env.register()
    key = ECKey.generate_key("P-256")
    token = (await exchange(env, client["client_id"], key)).json()["access_token"]
    url = ORIGIN + "/api/documents"
    response = await env.http.get(
        "/api/documents", headers={"Authorization": f"DPoP {token}", "DPoP": proof(key, url, "GET", ath=ath(token))}
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('DPoP algs="'), challenge
    assert 'scope="documents.write", error="insufficient_scope"' in challenge
