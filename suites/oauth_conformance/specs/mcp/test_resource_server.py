"""MCP: what the MCP server (the protected resource the profile names) must do with tokens, and
how MCP clients find its metadata."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from functools import partial
from typing import Any

import httpx
import orjson

from oauth_conformance import requirement
from oauth_conformance.support import controls
from oauth_conformance.support.checks import bearer_param
from oauth_conformance.support.checks import resource_refused
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.resource_metadata import json_object
from oauth_conformance.support.resource_metadata import metadata_url
from oauth_conformance.support.resource_metadata import root_metadata_url
from oauth_conformance.target import Target
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import not_tested

DISCOVERY = "MCP-PRM-DISCOVERY"  # an MCP client finds the resource metadata
ANONYMOUS_401 = "MCP-ERR-401"  # a request without a token is answered 401


def unknown_token() -> str:
    return f"oauth-conformance-unknown-{secrets.token_hex(16)}"


def forged_jwt(issuer: str, audience: str) -> str:
    """A JWT access token that names the right issuer and audience but is signed with a key of ours."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode("ascii")

    now = int(time.time())
    header = part({"alg": "HS256", "typ": "at+jwt", "kid": "oauth-conformance-forged"})
    claims = part(
        {
            "iss": issuer,
            "aud": audience,
            "sub": "oauth-conformance",
            "client_id": "oauth-conformance",
            "scope": "openid profile",
            "iat": now,
            "exp": now + 600,
            "jti": secrets.token_hex(8),
        }
    )
    mac = hmac.new(secrets.token_bytes(32), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode('ascii')}"


def discovered_metadata(oauth: OAuth, http: httpx.Client) -> dict[str, Any]:
    """The resource metadata as an MCP client finds it: the challenge's resource_metadata, else the
    path-suffixed well-known URI, else the root one. A 5xx is asked once more; when none of them
    serves a JSON object (or one hangs), MCP-PRM-DISCOVERY fails, in a step of the test."""
    named = bearer_param(oauth.call_resource(None), "resource_metadata")
    candidates = [named] if named else []
    candidates += [metadata_url(oauth.resource_url), root_metadata_url(oauth.resource_url)]
    answered = []
    for url in dict.fromkeys(candidates):
        response = controls.step(partial(http.get, url), DISCOVERY, f"GET {url}")
        found = json_object(response)
        if found is not None:
            return found
        answered.append(f"{url} answered HTTP {response.status_code}")
    raise controls.broken(DISCOVERY, "no resource metadata could be found: " + "; ".join(answered))


# ---------------------------------------------------------------------------- error handling
@requirement("MCP-ERR-401")
def test_a_request_without_a_token_is_answered_401(oauth: OAuth) -> None:
    response = oauth.call_resource(None)
    assert response.status_code == 401, f"a request without a token got HTTP {response.status_code}, not 401"


# ---------------------------------------------------------------------------- token handling
@requirement("MCP-TOKEN-INVALID-401")
def test_an_unknown_token_is_answered_401(oauth: OAuth) -> None:
    response = oauth.call_resource(unknown_token())
    assert response.status_code == 401, f"an unknown token got HTTP {response.status_code}, not 401"


@requirement("MCP-TOKEN-INVALID-401")
def test_an_expired_token_is_answered_401(oauth: OAuth, clients: Clients, clock: TargetClock) -> None:
    tokens = oauth.usable_tokens(clients.public())
    if tokens.expires_in is None:
        not_tested("the token response states no expires_in, so the harness cannot know when the token expires")
    clock.advance(tokens.expires_in + 60)
    response = oauth.call_resource(tokens.access_token)
    assert response.status_code == 401, f"the expired token got HTTP {response.status_code}, not 401"


@requirement("MCP-TOKEN-OWN-ONLY")
def test_a_token_its_authorization_server_never_issued_is_refused(oauth: OAuth, target: Target) -> None:
    audience = oauth.resource or oauth.resource_url
    response = oauth.call_resource(forged_jwt(target.issuer, audience))
    assert resource_refused(response), (
        f"a JWT signed with the harness's own key was accepted (HTTP {response.status_code})"
    )


# ------------------------------------------------------------------------ token requirements
@requirement("MCP-TOKEN-QUERY")
def test_an_access_token_in_the_query_string_is_ignored(oauth: OAuth, clients: Clients, http: httpx.Client) -> None:
    tokens = oauth.usable_tokens(clients.public())
    method = oauth.target.profile.resource.method
    response = http.request(method, oauth.resource_url, params={"access_token": tokens.access_token})
    assert resource_refused(response), (
        f"a request carrying its token only in the query string was accepted (HTTP {response.status_code})"
    )


# ------------------------------------------------------------------- resource metadata discovery
@requirement("MCP-PRM-DISCOVERY")
def test_mcp_clients_can_find_the_resource_metadata(oauth: OAuth, http: httpx.Client) -> None:
    response = oauth.call_resource(None)
    if bearer_param(response, "resource_metadata"):
        return
    url = oauth.resource_url
    found = [u for u in (metadata_url(url), root_metadata_url(url)) if json_object(http.get(u)) is not None]
    assert found, (
        f"the 401 names no resource_metadata and neither {metadata_url(url)} nor {root_metadata_url(url)}"
        " serves metadata"
    )


@requirement("MCP-PRM-SCOPE")
def test_the_401_challenge_names_the_scope_needed(oauth: OAuth) -> None:
    response = controls.step(partial(oauth.call_resource, None), ANONYMOUS_401, "a request without a token")
    if response.status_code != 401:
        raise controls.broken(ANONYMOUS_401, f"a request without a token got HTTP {response.status_code}, not 401")
    assert bearer_param(response, "scope"), "the 401 challenge has no scope parameter"


@requirement("MCP-PRM-AS-LIST")
def test_the_resource_metadata_lists_an_authorization_server(oauth: OAuth, http: httpx.Client) -> None:
    found = discovered_metadata(oauth, http)
    servers = found.get("authorization_servers")
    assert isinstance(servers, list) and servers, f"authorization_servers is {servers!r}: at least one is required"
