"""Shared pieces of the token endpoint: the request context and the success response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidTargetError
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.specs.oauth21.forms import FormParams
from oauth_reference.specs.rfc8707 import as_claim
from oauth_reference.specs.rfc8707 import matches_granted
from oauth_reference.specs.rfc8707 import select_resources
from oauth_reference.specs.rfc9449 import Proof

if TYPE_CHECKING:
    from starlette.requests import Request as StarletteRequest

RETIRED_KEEP = 32  # retired refresh-token hashes kept per grant for reuse detection


@dataclass(frozen=True, slots=True)
class TokenRequest:
    core: Core
    form: FormParams
    client: ClientInfo
    issuer: str
    scope: Scope | None = None  # the ASGI scope, for the hooks that see the request
    proof: Proof | None = None  # the request's checked DPoP proof (RFC 9449), if it carried one

    def http_request(self) -> StarletteRequest:
        """The token request as a Starlette ``Request`` for application hooks (its body was read)."""
        from starlette.requests import Request as StarletteRequest

        return StarletteRequest(self.scope if self.scope is not None else {"type": "http", "headers": []})

    @property
    def bind_jkt(self) -> str | None:
        """The key the tokens of this request are bound to: the proof's, where DPoP is on (RFC9449-5-TOKEN-TYPE)."""
        return self.proof.jkt if self.proof is not None and self.core.options.dpop_enabled else None


def resolve_resource(request: TokenRequest, grant: Grant) -> list[str] | None:
    """The access token's audience: ``None`` (bound to no resource) when neither the authorization
    request nor this token request named one.

    RFC 8707 section 2.2: a token request may name granted resources or ones below them (a narrower
    audience for this access token; the grant keeps its resources), nothing else; for a grant that
    named none, any resource this provider serves.
    """
    core = request.core
    chosen = select_resources(request.form.get_all("resource"), core.served_resources(request.issuer))
    granted = grant.resource
    if chosen and granted:
        origin_only = core.options.resource_match_origin_only
        for resource in chosen:  # RFC8707-2.2-INVALID-TARGET, OAUTH21-3.2.3-RT-BOUND
            if not matches_granted(resource, granted, origin_only=origin_only):
                raise InvalidTargetError("the requested resource was not granted")
    return chosen or granted or None


def token_response(
    access_token: str,
    expires_in: int,
    scope: list[str],
    refresh_token: str | None,
    resource: list[str] | None,
    *,
    dpop: bool = False,
) -> dict[str, Any]:
    """OAuth 2.1 section 3.2.3 (OAUTH21-3.2.3-RESPONSE, OAUTH21-3.2.3-EXPIRES-IN, OAUTH21-3.2.3-SCOPE)."""
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "DPoP" if dpop else "Bearer",  # RFC9449-5-TOKEN-TYPE
        "expires_in": expires_in,
        "scope": " ".join(scope),
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if resource:  # the audience: one resource as a string, several as an array
        body["resource"] = as_claim(resource)
    return body
