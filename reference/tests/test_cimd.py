"""Client ID Metadata Documents: URL client ids fetched, validated, cached and refused safely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import httpx
import pytest
import respx

from oauth_conformance.support.jwts import client_assertion
from oauth_conformance.trust.host import FixtureHost
from oauth_conformance.trust.host import Route
from oauth_conformance.trust.keys import CLIENT_RS256
from oauth_conformance.trust.keys import jwks
from oauth_reference import CimdError
from oauth_reference.machinery.fetch import TEST_CA_ENV
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import dump_store
from reference.tests.conftest import pkce_pair

pytestmark = pytest.mark.anyio
OPTIONS = {"client_id_metadata_document_enabled": True}


@pytest.fixture(scope="module")
def host() -> Iterator[FixtureHost]:
    with FixtureHost() as running:
        yield running


@pytest.fixture
def cimd(make_env: EnvFactory, host: FixtureHost, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(TEST_CA_ENV, str(host.ca_file))
    env: Env = make_env(OPTIONS)
    env.provider.core.allow_loopback_fetch = True  # what --test-mode does
    return env


def document(host: FixtureHost, path: str, **changes: Any) -> str:
    url = host.url(path)
    doc = {"client_id": url, "client_name": "Conformance app", "redirect_uris": [REDIRECT], **changes}
    host.serve_json(path, {k: v for k, v in doc.items() if v is not None}, headers={"Cache-Control": "no-store"})
    return url


async def authorize(env: Env, client_id: str) -> httpx.Response:
    _, challenge = pkce_pair()
    return await env.authorize(client_id, code_challenge=challenge, code_challenge_method="S256", state="s")


async def test_metadata_advertises_cimd_and_private_key_jwt(cimd: Env) -> None:
    doc = (await cimd.http.get("/.well-known/oauth-authorization-server")).json()
    assert doc["client_id_metadata_document_supported"] is True
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    assert "none" not in doc["token_endpoint_auth_signing_alg_values_supported"]


async def test_a_document_client_completes_the_flow_and_its_code_is_bound_to_it(cimd: Env, host: FixtureHost) -> None:
    client_id = document(host, "/clients/ok.json")
    tokens = await cimd.tokens(client_id)
    assert (await cimd.api(tokens["access_token"])).status_code == 200
    other = document(host, "/clients/other.json")
    code, verifier = await cimd.code(client_id)
    response = await cimd.token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": other}
    )
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("path", "changes", "reason"),
    [
        (
            "/clients/mismatch.json",
            {"client_id": "https://elsewhere.test/clients/mismatch.json"},
            "client_id is not the URL",
        ),
        ("/clients/secret.json", {"client_secret": "s3cret"}, "client secret"),
        ("/clients/noname.json", {"client_name": None}, "client_name"),
        ("/clients/basic.json", {"token_endpoint_auth_method": "client_secret_basic"}, "shared-secret"),
        ("/clients/js.json", {"redirect_uris": ["javascript:alert(1)"]}, "redirect URI rejected"),
        ("/clients/nouris.json", {"redirect_uris": []}, "redirect_uris"),
        ("/clients/private.json", {"jwks": {"keys": [{"kty": "oct", "k": "AAAA"}]}}, "public keys only"),
    ],
)
async def test_invalid_documents_are_refused_without_redirecting(
    cimd: Env, host: FixtureHost, path: str, changes: dict[str, Any], reason: str
) -> None:
    client_id = document(host, path, **changes)
    response = await authorize(cimd, client_id)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert reason in response.text


@pytest.mark.parametrize("status", [201, 203, 204, 301, 302, 404, 500])
async def test_only_a_200_counts_and_redirects_are_not_followed(cimd: Env, host: FixtureHost, status: int) -> None:
    url = host.url(f"/clients/status-{status}.json")
    target = document(host, "/clients/redirect-target.json")
    body = b'{"client_id": "%s", "client_name": "x", "redirect_uris": ["%s"]}' % (url.encode(), REDIRECT.encode())
    host.serve(
        f"/clients/status-{status}.json", Route(status, {"Content-Type": "application/json", "Location": target}, body)
    )
    before = host.hits_for("/clients/redirect-target.json")
    response = await authorize(cimd, url)
    assert response.status_code == 400
    assert host.hits_for("/clients/redirect-target.json") == before


async def test_oversized_documents_are_refused(cimd: Env, host: FixtureHost) -> None:
    client_id = document(host, "/clients/big.json", padding="x" * 6000)
    response = await authorize(cimd, client_id)
    assert response.status_code == 400
    assert "larger than 5120" in response.text


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1:1/",
        "https://127.0.0.1:1/a/../b.json",
        "https://127.0.0.1:1/a/%2e%2e/b.json",
        "https://u:p@127.0.0.1:1/c.json",
        "https://127.0.0.1:1/c.json#frag",
    ],
)
async def test_malformed_client_id_urls_are_refused_before_any_fetch(cimd: Env, client_id: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.route().pass_through()
        response = await authorize(cimd, client_id)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "client_id", ["https://10.0.0.1/c.json", "https://169.254.169.254/c.json", "https://[fc00::1]/c.json"]
)
async def test_private_address_client_ids_are_refused_even_in_test_mode(cimd: Env, client_id: str) -> None:
    response = await authorize(cimd, client_id)
    assert response.status_code == 400
    assert "non-public address" in response.text


async def test_loopback_documents_need_test_mode(make_env: EnvFactory, host: FixtureHost) -> None:
    env: Env = make_env(OPTIONS)  # not test mode
    client_id = document(host, "/clients/loopback.json")
    response = await authorize(env, client_id)
    assert response.status_code == 400
    assert "non-public address" in response.text


async def test_documents_are_cached_per_cache_control_and_errors_never(cimd: Env, host: FixtureHost) -> None:
    path = "/clients/cached.json"
    url = host.url(path)
    doc = {"client_id": url, "client_name": "cached", "redirect_uris": [REDIRECT]}
    host.serve(path, Route(500, {"Content-Type": "application/json"}, b"{}"))
    assert (await authorize(cimd, url)).status_code == 400
    host.serve_json(path, doc, headers={"Cache-Control": "max-age=600"})
    assert (await authorize(cimd, url)).status_code == 302  # the error was not cached
    hits = host.hits_for(path)
    assert (await authorize(cimd, url)).status_code == 302
    assert host.hits_for(path) == hits  # served from the cache
    cimd.clock.advance(601)
    assert (await authorize(cimd, url)).status_code == 302
    assert host.hits_for(path) == hits + 1


def fails_after_first_fetch(host: FixtureHost, path: str) -> None:
    """The document at ``path`` is served once; every later fetch answers 503 (the host went down)."""
    served = host.routes[path]

    def once(headers: dict[str, str]) -> bytes:
        host.serve(path, Route(503, {"Content-Type": "text/plain"}, b"down"))
        return served.body if isinstance(served.body, bytes) else served.body(headers)

    host.serve(path, Route(200, served.headers, once))


async def test_a_document_that_fails_after_validation_gets_an_error_page_and_no_grant(
    cimd: Env, host: FixtureHost
) -> None:
    # parse_auth_request fetched the document; complete_authorization fetches it again (no-store)
    # and the host is down by then: an error page, no redirect, nothing stored; never a 500.
    client_id = document(host, "/clients/flaky.json")
    fails_after_first_fetch(host, "/clients/flaky.json")
    before = set(await dump_store(cimd.storage))
    response = await authorize(cimd, client_id)
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert "metadata document is not usable: the document URL answered HTTP 503" in response.text
    assert set(await dump_store(cimd.storage)) == before


async def test_the_helpers_raise_the_public_cimd_error_when_the_document_cannot_be_used(
    cimd: Env, host: FixtureHost
) -> None:
    helpers = cimd.provider.helpers
    client_id = document(host, "/clients/helper.json")
    request = await helpers.parse_auth_request(
        f"{ORIGIN}/authorize?response_type=code&client_id={quote(client_id, safe='')}&code_challenge={'a' * 43}"
        "&code_challenge_method=S256"
    )
    assert (await helpers.lookup_client(client_id)) is not None
    fails_after_first_fetch(host, "/clients/helper.json")
    await helpers.lookup_client(client_id)  # the last good fetch
    with pytest.raises(CimdError, match="answered HTTP 503") as raised:
        await helpers.lookup_client(client_id)
    assert raised.value.reason == "the document URL answered HTTP 503 (only 200 counts)"
    with pytest.raises(CimdError):
        await helpers.complete_authorization(request, user_id="u", scope=[], props={})
    hits = host.hits_for("/clients/helper.json")
    assert await helpers.update_client(client_id, client_name="renamed") is None  # never fetched, never stored
    assert host.hits_for("/clients/helper.json") == hits


async def test_private_key_jwt_clients_must_send_a_valid_assertion(cimd: Env, host: FixtureHost) -> None:
    client_id = document(
        host, "/clients/pkjwt.json", token_endpoint_auth_method="private_key_jwt", jwks=jwks(CLIENT_RS256)
    )
    code, verifier = await cimd.code(client_id)
    base = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
    refused = await cimd.token(base)
    assert refused.status_code == 401
    token_endpoint = "http://127.0.0.1:8000/oauth/token"
    assertion = client_assertion(client_id, token_endpoint)
    kinds = {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    ok = await cimd.token({**base, **kinds, "client_assertion": assertion})
    assert ok.status_code == 200, ok.text
    code, verifier = await cimd.code(client_id)
    replay = await cimd.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            **kinds,
            "client_assertion": assertion,
        }
    )
    assert replay.status_code == 401  # the jti was used
    wrong = client_assertion(client_id, "https://other.example/token")
    bad = await cimd.token({**base, **kinds, "client_assertion": wrong})
    assert bad.status_code == 401


async def test_reauthorization_revokes_only_grants_to_the_same_redirect_uri(cimd: Env, host: FixtureHost) -> None:
    second = "http://127.0.0.1:9/other-device"
    client_id = document(host, "/clients/devices.json", redirect_uris=[REDIRECT, second])
    first = await cimd.tokens(client_id)
    verifier, challenge = pkce_pair()
    other = await cimd.authorize(
        client_id, redirect_uri=second, code_challenge=challenge, code_challenge_method="S256", state="s"
    )
    code = parse_qs(urlsplit(other.headers["location"]).query)["code"][0]
    await cimd.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": client_id,
            "redirect_uri": second,
        }
    )
    assert (await cimd.api(first["access_token"])).status_code == 200  # the first device keeps its grant


async def test_basic_authentication_with_an_unusable_document_gets_the_basic_challenge(
    cimd: Env, host: FixtureHost
) -> None:
    url = host.url("/clients/gone.json")
    host.serve("/clients/gone.json", Route(404, {"Content-Type": "application/json"}, b"{}"))
    response = await cimd.token(
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT},
        auth=httpx.BasicAuth(url, "secret"),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].lower().startswith("basic")  # OAUTH21-3.2.4-401-BASIC
