"""RFC 8414: the authorization server metadata document, fetched and checked member by member."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.support import controls
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.probes import unadvertised
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import OAUTH_WELL_KNOWN
from oauth_conformance.target import OIDC_WELL_KNOWN
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

ENDPOINT_MEMBERS = (
    "authorization_endpoint",
    "token_endpoint",
    "registration_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "jwks_uri",
    "service_documentation",
    "op_policy_uri",
    "op_tos_uri",
)
LIST_MEMBERS = (
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "code_challenge_methods_supported",
    "ui_locales_supported",
    "protected_resources",
    "authorization_grant_profiles_supported",
)
JWT_METHODS = ("private_key_jwt", "client_secret_jwt")
METADATA_RESPONSE = "RFC8414-3.2-200-JSON"


def well_known_url(issuer: str) -> str:
    """RFC 8414 section 3: the well-known string goes between the host and the issuer's path."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{OAUTH_WELL_KNOWN}{path}"


@pytest.fixture
def document(target: Target, http: httpx.Client) -> dict[str, Any]:
    """The metadata, fetched again by this test (so its evidence shows the exchange). Discovery got
    it: an answer other than 200 is asked once more, and a second one is a failure of the metadata
    response (RFC8414-3.2-200-JSON), never a not_tested that would switch this test off; only a
    429 (the harness's many requests refused for a while) leaves the test not_tested."""
    response, first = asked_twice(lambda: http.get(target.metadata_url), lambda r: r.status_code != 200)
    if first is not None:
        if response.status_code == 429:  # the harness asked too often: a limit, not a broken document
            not_tested(f"the metadata URL answered HTTP {first.status_code}, then 429 Too Many Requests")
        if response.status_code != 200:
            shown = f"HTTP {first.status_code}, then HTTP {response.status_code}"
            raise controls.broken(METADATA_RESPONSE, f"the metadata URL answered {shown}")
    data = orjson.loads(response.content)
    assert isinstance(data, dict)
    return data


@requirement("RFC8414-3-WELLKNOWN")
def test_metadata_is_served_at_the_well_known_path_inserted_before_the_issuer_path(
    target: Target, http: httpx.Client
) -> None:
    url = well_known_url(target.issuer or target.expected_issuer)
    response = http.get(url)
    assert response.status_code == 200, (
        f"GET {url} answered HTTP {response.status_code}; metadata was found at {target.metadata_url}"
    )


@requirement("RFC8414-3.2-200-JSON")
def test_metadata_response_is_200_with_a_json_object(target: Target, http: httpx.Client) -> None:
    response = http.get(target.metadata_url)
    assert response.status_code == 200
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media == "application/json", f"Content-Type is {media or 'missing'}, not application/json"
    assert isinstance(orjson.loads(response.content), dict), "the body is not a JSON object"


@requirement("RFC8414-3.2-NO-EMPTY")
def test_multi_valued_members_are_non_empty_arrays(document: dict[str, Any]) -> None:
    problems = []
    for name, value in document.items():
        if name in LIST_MEMBERS and not isinstance(value, list):
            problems.append(f"{name} is {type(value).__name__}, not an array")
        elif isinstance(value, list) and not value:
            problems.append(f"{name} is an empty array (omit it instead)")
    assert not problems, "; ".join(problems)


@requirement("RFC8414-3.3-ISSUER-EXACT")
def test_issuer_is_identical_to_the_issuer_the_url_was_built_from(target: Target, document: dict[str, Any]) -> None:
    expected = target.expected_issuer
    assert document.get("issuer") == expected, (
        f"issuer is {document.get('issuer')!r} but the metadata URL {target.metadata_url} was built from {expected!r}"
    )


@requirement("RFC8414-2-ISSUER-FORM")
def test_issuer_has_no_query_and_no_fragment(document: dict[str, Any]) -> None:
    issuer = document.get("issuer")
    assert isinstance(issuer, str), "issuer is missing"
    parts = urlsplit(issuer)
    assert parts.scheme and parts.netloc, f"issuer {issuer!r} is not an absolute URL"
    assert "?" not in issuer and "#" not in issuer, f"issuer {issuer!r} has a query or fragment"


@requirement("RFC8414-2-ISSUER-HTTPS")
def test_issuer_uses_https(document: dict[str, Any]) -> None:
    assert str(document.get("issuer", "")).startswith("https://"), f"issuer {document.get('issuer')!r} is not https"


@requirement("RFC8414-2-REQUIRED")
def test_required_members_are_present(document: dict[str, Any]) -> None:
    missing = [n for n in ("issuer", "response_types_supported") if n not in document]
    grants = document.get("grant_types_supported", ["authorization_code", "implicit"])
    front_channel = any(g in grants for g in ("authorization_code", "implicit"))
    if front_channel and "authorization_endpoint" not in document:
        missing.append("authorization_endpoint")
    if grants != ["implicit"] and "token_endpoint" not in document:
        missing.append("token_endpoint")
    assert not missing, f"missing required members: {', '.join(missing)}"


@requirement("RFC8414-2-RESPTYPES-21")
def test_response_types_include_code_and_no_front_channel_tokens(document: dict[str, Any]) -> None:
    types = document.get("response_types_supported", [])
    assert "code" in types, f"response_types_supported {types} lacks code"
    token_types = [t for t in types if "token" in str(t).split(" ")]
    assert not token_types, f"response_types_supported offers front-channel tokens: {token_types}"


@requirement("RFC8414-2-PKCE")
def test_pkce_methods_are_advertised_with_s256(document: dict[str, Any]) -> None:
    methods = document.get("code_challenge_methods_supported")
    assert methods is not None, "code_challenge_methods_supported is absent: clients conclude PKCE is unsupported"
    assert "S256" in methods, f"code_challenge_methods_supported {methods} lacks S256"


@requirement("RFC8414-2-PKCE-NO-PLAIN")
def test_plain_pkce_is_not_offered(document: dict[str, Any]) -> None:
    assert "plain" not in document.get("code_challenge_methods_supported", []), "plain PKCE is offered"


@requirement("RFC8414-2-GRANTS-EXPLICIT")
def test_grant_types_are_explicit_and_exclude_implicit_and_password(document: dict[str, Any]) -> None:
    grants = document.get("grant_types_supported")
    assert grants is not None, "grant_types_supported is absent, so it defaults to authorization_code and implicit"
    legacy = [g for g in grants if g in ("implicit", "password")]
    assert not legacy, f"grant_types_supported lists grants OAuth 2.1 removed: {legacy}"


@requirement("RFC8414-2-GRANTS-TRUTHFUL")
def test_every_advertised_grant_type_is_accepted_by_the_token_endpoint(
    target: Target, http: httpx.Client, clients: Clients, document: dict[str, Any]
) -> None:
    grants = document.get("grant_types_supported")
    if not grants:
        not_applicable("grant_types_supported is not listed")
    token_endpoint = document.get("token_endpoint")
    if not token_endpoint:
        not_tested("no token_endpoint to try the grants on")
    client = clients.confidential() if "client_credentials" in grants else clients.public()
    from oauth_conformance.support.flows import basic_auth

    refused = []
    for grant in grants:
        if grant == "implicit":
            continue
        data = {"grant_type": grant}
        headers = {}
        if client.client_secret and client.auth_method == "client_secret_basic":
            headers["Authorization"] = basic_auth(client.client_id, client.client_secret)
        else:
            data["client_id"] = client.client_id
            if client.client_secret:
                data["client_secret"] = client.client_secret
        response = http.post(token_endpoint, data=data, headers=headers)
        try:
            error = response.json().get("error")
        except ValueError:
            error = None
        if error == "unsupported_grant_type":
            refused.append(grant)
    assert not refused, f"advertised but refused with unsupported_grant_type: {', '.join(refused)}"


@requirement("RFC8414-2-GRANTS-TRUTHFUL")
def test_every_grant_the_target_offers_is_advertised(target: Target, recorder: Recorder) -> None:
    if "grant_types_supported" not in target.metadata:
        not_applicable("grant_types_supported is not listed (its default is authorization_code and implicit)")
    left_out = unadvertised(target)  # what the probes before the first test saw (support/probes.py)
    for grant, seen in left_out.items():
        recorder.flag(grant, f"grant type {grant} is offered but grant_types_supported leaves it out: {seen}")
    assert not left_out, f"offered but not in grant_types_supported: {', '.join(sorted(left_out))}"


@requirement("RFC8414-2-AUTHMETHODS")
def test_token_endpoint_auth_methods_are_explicit(document: dict[str, Any]) -> None:
    assert "token_endpoint_auth_methods_supported" in document, "token_endpoint_auth_methods_supported is absent"


@requirement("RFC8414-2-SIGNALG")
def test_signing_algorithms_accompany_jwt_auth_methods_and_never_include_none(document: dict[str, Any]) -> None:
    problems = []
    for family in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        methods = document.get(f"{family}_auth_methods_supported", [])
        algs = document.get(f"{family}_auth_signing_alg_values_supported")
        if any(m in JWT_METHODS for m in methods) and not algs:
            problems.append(f"{family}_auth_signing_alg_values_supported is missing while {methods} lists a JWT method")
        if algs and "none" in algs:
            problems.append(f"{family}_auth_signing_alg_values_supported lists none")
    assert not problems, "; ".join(problems)


@requirement("RFC8414-2-JWKS")
def test_jwks_uri_serves_a_jwk_set(http: httpx.Client, document: dict[str, Any]) -> None:
    response = http.get(document["jwks_uri"])
    assert response.status_code == 200, f"jwks_uri answered HTTP {response.status_code}"
    jwks = response.json()
    assert isinstance(jwks, dict) and isinstance(jwks.get("keys"), list), "jwks_uri does not serve a JWK Set"
    uses = {k.get("use") for k in jwks["keys"] if isinstance(k, dict)}
    if {"sig", "enc"} <= uses:
        assert None not in uses, "the set holds signing and encryption keys, but some key has no use"


@requirement("RFC8414-2-URLS-FORM")
def test_advertised_urls_are_absolute_without_fragments(document: dict[str, Any]) -> None:
    problems = []
    for name in ENDPOINT_MEMBERS:
        value = document.get(name)
        if value is None:
            continue
        parts = urlsplit(str(value))
        if not parts.scheme or not parts.netloc:
            problems.append(f"{name} {value!r} is not an absolute URL")
        elif "#" in str(value):
            problems.append(f"{name} {value!r} has a fragment")
    assert not problems, "; ".join(problems)


@requirement("RFC8414-2-URLS-HTTPS")
def test_advertised_endpoints_use_https(document: dict[str, Any]) -> None:
    plain = [n for n in ENDPOINT_MEMBERS if n in document and not str(document[n]).startswith("https://")]
    assert not plain, f"not https: {', '.join(plain)}"


@requirement("RFC8414-2-REGISTRATION")
def test_advertised_registration_endpoint_registers_a_client(clients: Clients) -> None:
    response = clients.register(
        clients.metadata(
            "none"
            if "none" in clients.target.metadata.get("token_endpoint_auth_methods_supported", ["none"])
            else "client_secret_basic"
        )
    )
    assert response.status_code in (200, 201), f"registration answered HTTP {response.status_code}"
    assert "client_id" in response.json(), "the registration response has no client_id"


@requirement("RFC8414-2.1-SIGNED")
def test_signed_metadata_is_a_jwt_that_agrees_with_the_plain_members(document: dict[str, Any]) -> None:
    import base64

    token = document["signed_metadata"]
    parts = str(token).split(".")
    assert len(parts) == 3 and all(parts[:2]), "signed_metadata is not a compact JWS"

    def decode(part: str) -> Any:
        return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    header, claims = decode(parts[0]), decode(parts[1])
    assert header.get("alg") not in (None, "none"), "signed_metadata is not signed (alg none)"
    assert "iss" in claims, "signed_metadata has no iss claim"
    clashes = [k for k, v in claims.items() if k in document and k != "signed_metadata" and document[k] != v]
    assert not clashes, f"signed and plain metadata disagree on {clashes}"


@requirement("RFC8414-5-OIDC-CONSISTENT")
def test_every_discovery_document_names_the_same_issuer(target: Target, http: httpx.Client) -> None:
    issuer = target.issuer
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    urls = [f"{origin}{OAUTH_WELL_KNOWN}{path}", f"{origin}{OIDC_WELL_KNOWN}{path}"]
    if path:
        urls.append(f"{origin}{path}{OIDC_WELL_KNOWN}")
    seen = {}
    for url in urls:
        response = http.get(url)
        if response.status_code == 200:
            try:
                seen[url] = response.json().get("issuer")
            except ValueError:
                continue
    assert seen, "no discovery document was served at any of the standard locations"
    different = {u: i for u, i in seen.items() if i != issuer}
    assert not different, f"issuer differs between documents: {different} vs {issuer!r}"


@requirement("RFC8414-6.1-TLS")
def test_metadata_is_not_served_over_plain_http(target: Target, http: httpx.Client) -> None:
    assert not target.metadata_url.startswith("http://"), f"metadata is served over plain http: {target.metadata_url}"
    plain = "http://" + target.metadata_url.removeprefix("https://")
    try:
        response = http.get(plain, timeout=5.0)
    except httpx.HTTPError:
        return  # refused: no metadata over plain http
    if response.status_code in (301, 302, 307, 308):
        assert response.headers.get("location", "").startswith("https://"), "http redirects somewhere other than https"
        return
    assert response.status_code != 200 or "issuer" not in response.text, "metadata is served over plain http"


@requirement("RFC8414-3-CORS")
def test_metadata_allows_cross_origin_reads(target: Target, http: httpx.Client) -> None:
    response = http.get(target.metadata_url, headers={"Origin": "https://client.example"})
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed in ("*", "https://client.example"), "no Access-Control-Allow-Origin for a browser client"
