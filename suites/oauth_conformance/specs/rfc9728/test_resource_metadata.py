"""RFC 9728: the protected resource's metadata, where it is served and what it says."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.resource_metadata import challenged_metadata_url
from oauth_conformance.support.resource_metadata import document
from oauth_conformance.support.resource_metadata import metadata_url
from oauth_conformance.support.resource_metadata import resource_identifier
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import OAUTH_WELL_KNOWN
from oauth_conformance.target import OIDC_WELL_KNOWN
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

LIST_PARAMETERS = (
    "authorization_servers",
    "scopes_supported",
    "bearer_methods_supported",
    "resource_signing_alg_values_supported",
    "resource_encryption_alg_values_supported",
    "resource_encryption_enc_values_supported",
    "authorization_details_types_supported",
    "dpop_signing_alg_values_supported",
)
# Section 2: an empty bearer_methods_supported says that no method is supported; it is not "no value".
MAY_BE_EMPTY = ("bearer_methods_supported",)


@pytest.fixture
def identifier(oauth: OAuth) -> str:
    return resource_identifier(oauth)


@pytest.fixture
def metadata(http: httpx.Client, identifier: str) -> dict[str, Any]:
    """The metadata at the section 3 location (not_tested when there is none; see RFC9728-3-WELLKNOWN)."""
    return document(http, metadata_url(identifier), "RFC9728-3-WELLKNOWN")


def resource_of(metadata: dict[str, Any]) -> str:
    resource = metadata.get("resource")
    if not isinstance(resource, str):
        raise PrerequisiteFailed("the metadata has no resource string (see RFC9728-2-RESOURCE)")
    return resource


# ------------------------------------------------------------------------------- section 3
@requirement("RFC9728-3-WELLKNOWN")
def test_metadata_is_served_at_the_well_known_location_of_the_resource(http: httpx.Client, identifier: str) -> None:
    url = metadata_url(identifier)
    response = http.get(url)
    assert response.status_code == 200, (
        f"GET {url} (built from resource {identifier}) answered HTTP {response.status_code}"
    )


@requirement("RFC9728-3.2-200-JSON")
def test_metadata_response_is_200_with_a_json_object(http: httpx.Client, identifier: str) -> None:
    response = http.get(metadata_url(identifier))
    if response.status_code != 200:
        raise PrerequisiteFailed(f"the metadata URL answered HTTP {response.status_code} (see RFC9728-3-WELLKNOWN)")
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media == "application/json", f"Content-Type is {media or 'missing'}, not application/json"
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise AssertionError("the body is not JSON") from None
    assert isinstance(data, dict), "the body is not a JSON object"


@requirement("RFC9728-3.2-NO-EMPTY")
def test_multi_valued_parameters_are_non_empty_arrays(metadata: dict[str, Any]) -> None:
    problems = []
    for name, value in metadata.items():
        if name in LIST_PARAMETERS and not isinstance(value, list):
            problems.append(f"{name} is {type(value).__name__}, not an array")
        elif isinstance(value, list) and not value and name not in MAY_BE_EMPTY:
            problems.append(f"{name} is an empty array (leave it out instead)")
    assert not problems, "; ".join(problems)


# ------------------------------------------------------------------------- sections 1.2, 2
@requirement("RFC9728-2-RESOURCE")
def test_the_resource_parameter_is_an_absolute_url_without_fragment(metadata: dict[str, Any], target: Target) -> None:
    resource = metadata.get("resource")
    assert isinstance(resource, str), f"resource is {resource!r}: the parameter is required"
    parts = urlsplit(resource)
    assert parts.scheme and parts.netloc, f"resource {resource!r} is not an absolute URL"
    assert "#" not in resource, f"resource {resource!r} has a fragment"
    if target.supports(Feature.TLS):
        assert parts.scheme == "https", f"resource {resource!r} is not https"


@requirement("RFC9728-1.2-NO-QUERY")
def test_the_resource_identifier_has_no_query(metadata: dict[str, Any]) -> None:
    resource = resource_of(metadata)
    assert not urlsplit(resource).query, f"resource {resource!r} has a query component"


@requirement("RFC9728-2-JWKS-URI")
def test_a_resource_jwks_uri_is_https(metadata: dict[str, Any]) -> None:
    jwks_uri = metadata.get("jwks_uri")
    if jwks_uri is None:
        not_applicable("the metadata has no jwks_uri")
    assert urlsplit(str(jwks_uri)).scheme == "https", f"jwks_uri {jwks_uri!r} is not https"


@requirement("RFC9728-2-SIGNING-ALGS")
def test_resource_signing_algorithms_never_include_none(metadata: dict[str, Any]) -> None:
    algs = metadata.get("resource_signing_alg_values_supported")
    if algs is None:
        not_applicable("the metadata has no resource_signing_alg_values_supported")
    assert isinstance(algs, list) and "none" not in algs, f"resource_signing_alg_values_supported is {algs!r}"


@requirement("RFC9728-2.2-SIGNED")
def test_signed_metadata_is_a_signed_jwt_with_an_issuer(metadata: dict[str, Any]) -> None:
    token = metadata.get("signed_metadata")
    if token is None:
        not_applicable("the metadata has no signed_metadata")
    parts = str(token).split(".")
    assert len(parts) == 3 and all(parts), "signed_metadata is not a compact JWS"

    def decode(part: str) -> Any:
        return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    assert decode(parts[0]).get("alg") not in (None, "none"), "signed_metadata is not signed (alg none)"
    assert "iss" in decode(parts[1]), "signed_metadata has no iss claim"


def issuer_metadata(http: httpx.Client, issuer: str) -> tuple[str, dict[str, Any]] | str:
    """The AS metadata found from an issuer identifier, in the order MCP clients try (RFC 8414 first),
    or what the candidate URLs answered. A 5xx is asked once more: one failed request does not
    decide that a server serves no metadata."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    candidates = [f"{origin}{OAUTH_WELL_KNOWN}{path}", f"{origin}{OIDC_WELL_KNOWN}{path}"]
    if path:
        candidates.append(f"{origin}{path}{OIDC_WELL_KNOWN}")
    answered = []
    for url in candidates:
        response, first = asked_twice(partial(http.get, url), lambda r: r.status_code >= 500)
        if response.status_code == 200:
            try:
                data = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                answered.append(f"{url} answered HTTP 200 without JSON")
                continue
            if isinstance(data, dict):
                return url, data
        again = f", HTTP {first.status_code} before" if first is not None else ""
        answered.append(f"{url} answered HTTP {response.status_code}{again}")
    return "; ".join(answered)


@requirement("RFC9728-2-AS-ISSUERS")
def test_each_listed_authorization_server_is_an_issuer_identifier(
    metadata: dict[str, Any], http: httpx.Client, note: Callable[[str], None]
) -> None:
    servers = metadata.get("authorization_servers")
    if not servers:
        not_applicable("the metadata lists no authorization_servers (the parameter is optional)")
    assert isinstance(servers, list), f"authorization_servers is {servers!r}, not an array"
    mismatched, checked = [], 0
    for entry in servers:
        try:
            found = issuer_metadata(http, str(entry))
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):  # no connection at all: perhaps the run's network
                note(f"authorization server {entry!r} could not be reached to check it: {type(exc).__name__}")
                continue
            checked += 1  # connected, and no answer: the server's hang, not the network's
            mismatched.append(f"{entry!r} left its metadata request unanswered ({type(exc).__name__})")
            continue
        except httpx.HTTPError as exc:
            note(f"authorization server {entry!r} could not be reached to check it: {type(exc).__name__}")
            continue
        checked += 1
        if isinstance(found, str):
            mismatched.append(f"{entry!r} serves no authorization server metadata ({found})")
        elif found[1].get("issuer") != entry:
            mismatched.append(f"{entry!r} leads to {found[0]}, whose issuer is {found[1].get('issuer')!r}")
    if not checked:
        not_tested("none of the listed authorization servers could be reached")
    assert not mismatched, "; ".join(mismatched)


# ----------------------------------------------------------------------------- section 3.3
@requirement("RFC9728-3.3-RESOURCE-MATCH")
def test_the_resource_is_identical_to_the_identifier_the_url_was_built_from(
    metadata: dict[str, Any], identifier: str
) -> None:
    resource = resource_of(metadata)
    assert resource == identifier, (
        f"the metadata at {metadata_url(identifier)} names resource {resource!r}, not {identifier!r}"
    )


@requirement("RFC9728-3.3-CHALLENGE-MATCH")
def test_metadata_named_by_the_challenge_is_for_the_resource_requested(oauth: OAuth, http: httpx.Client) -> None:
    requested = oauth.resource_url
    url = challenged_metadata_url(oauth)
    if url is None:
        not_applicable("the resource's challenge names no resource_metadata")
    resource = resource_of(document(http, url, "RFC9728-5.1-METADATA-URL"))
    if resource == requested:
        return
    # A resource that protects a path prefix answers for the URLs below it with its own metadata,
    # which is not wrong by itself: section 3.3 is then checked on a request to that resource.
    assert contains(resource, requested), (
        f"the challenge for {requested} points to metadata for resource {resource!r}, which does not contain"
        " it; clients must not use it"
    )
    own = challenged_metadata_url(oauth, resource)
    if own is None:
        not_tested(
            f"the challenge for {requested} names the metadata of {resource}, a resource containing it; a request"
            f" to {resource} itself gets no challenge naming resource_metadata to check section 3.3 on"
        )
    named = resource_of(document(http, own, "RFC9728-5.1-METADATA-URL"))
    assert named == resource, (
        f"the challenge for {resource} points to metadata for resource {named!r}; clients must not use it"
    )


def contains(resource: str, url: str) -> bool:
    """Whether ``url`` lies at or below ``resource`` (same origin, the path below a whole segment)."""
    outer, inner = urlsplit(resource), urlsplit(url)
    if (outer.scheme, outer.netloc) != (inner.scheme, inner.netloc) or outer.query:
        return False
    base = outer.path.rstrip("/")
    return inner.path == base or inner.path.startswith(base + "/")


# ----------------------------------------------------------------------------- section 5.1
@requirement("RFC9728-5.1-METADATA-URL")
def test_the_challenges_resource_metadata_url_serves_the_metadata(oauth: OAuth, http: httpx.Client) -> None:
    url = challenged_metadata_url(oauth)
    if url is None:
        not_applicable("the resource's challenge names no resource_metadata")
    response = http.get(url)
    assert response.status_code == 200, f"resource_metadata {url} answered HTTP {response.status_code}"
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise AssertionError(f"resource_metadata {url} does not serve JSON") from None
    assert isinstance(data, dict), f"resource_metadata {url} serves no JSON object"
