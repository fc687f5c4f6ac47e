"""Registering clients for the tests (RFC 7591), shared with the RFC 7592 and MCP suites."""

from __future__ import annotations

from typing import Any

import httpx

from oauth_conformance.features import Feature
from oauth_conformance.support import controls
from oauth_conformance.support import probes
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import basic_auth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotApplicable
from oauth_conformance.verdicts import PrerequisiteFailed

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def method_for(target: Target) -> str:
    """An auth method the target advertises, preferring none (no secret needed)."""
    if target.supports(Feature.PUBLIC_CLIENTS):
        return "none"
    if target.supports(Feature.CLIENT_SECRET_BASIC):
        return "client_secret_basic"
    return "client_secret_post"


def secret_method(target: Target, oauth: OAuth, clients: Clients) -> str:
    """A client secret method the target offers (advertised, or seen by the probe), Basic first."""
    probes.secret_methods(target, oauth, clients)
    for method, feature in (
        ("client_secret_basic", Feature.CLIENT_SECRET_BASIC),
        ("client_secret_post", Feature.CLIENT_SECRET_POST),
    ):
        if target.supports(feature):
            return method
    raise NotApplicable("the target offers no client-secret auth method (none advertised, none seen to work)")


def registered(clients: Clients, metadata: dict[str, Any]) -> dict[str, Any]:
    """Register; the client information, or not_tested if the registration itself failed."""
    response = clients.register(metadata)
    if not 200 <= response.status_code < 300:
        reason = f"registration answered HTTP {response.status_code} {error_code(response) or ''}".strip()
        if metadata == clients.metadata(clients.plain_method()) or not clients.registration_works():
            raise controls.broken(controls.REGISTRATION, reason)  # the plain registration was refused
        raise PrerequisiteFailed(f"{reason}; a plain registration works, so this metadata is refused")
    try:
        body = response.json()
    except ValueError:
        raise PrerequisiteFailed("the registration response is not JSON (see RFC7591-3.2.1-201)") from None
    if not isinstance(body, dict):
        raise PrerequisiteFailed("the registration response is not a JSON object (see RFC7591-3.2.1-201)")
    return body


def issued_secret(body: dict[str, Any]) -> str | None:
    secret = body.get("client_secret")
    return secret if isinstance(secret, str) and secret else None


def effective_method(body: dict[str, Any], requested: str | None) -> str:
    """The method the client ended up with: as the response names it, else what was asked (or the default)."""
    method = body.get("token_endpoint_auth_method")
    if isinstance(method, str):
        return method
    return requested or "client_secret_basic"  # RFC 7591 section 2: the default when omitted


def authenticates(target: Target, http: httpx.Client, client_id: str, secret: str | None, method: str) -> bool:
    """Whether the token endpoint takes these credentials: a junk code then fails with invalid_grant
    (or another grant error), never with invalid_client."""
    data = {"grant_type": "authorization_code", "code": "oauth-conformance-junk-code"}
    headers = {}
    if method == "client_secret_basic" and secret is not None:
        headers["Authorization"] = basic_auth(client_id, secret)
    elif method == "client_secret_post" and secret is not None:
        data |= {"client_id": client_id, "client_secret": secret}
    else:
        data["client_id"] = client_id
    response = http.post(target.endpoint("token_endpoint") or "", data=data, headers=headers)
    return error_code(response) != "invalid_client"
