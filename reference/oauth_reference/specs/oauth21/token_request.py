"""Shared pieces of the token endpoint: the request context and the success response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidTargetError
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.specs.oauth21.forms import FormParams
from oauth_reference.specs.rfc8707 import select_resource
from oauth_reference.specs.rfc8707 import within
from oauth_reference.specs.rfc9449 import Proof

RETIRED_KEEP = 32  # retired refresh-token hashes kept per grant for reuse detection


@dataclass(frozen=True, slots=True)
class TokenRequest:
    core: Core
    form: FormParams
    client: ClientInfo
    issuer: str
    proof: Proof | None = None  # the request's checked DPoP proof (RFC 9449), if it carried one

    @property
    def bind_jkt(self) -> str | None:
        """The key the tokens of this request are bound to: the proof's, where DPoP is on (RFC9449-5-TOKEN-TYPE)."""
        return self.proof.jkt if self.proof is not None and self.core.options.dpop_enabled else None


def resolve_resource(request: TokenRequest, grant: Grant) -> str:
    """RFC 8707 section 2.2: a token request may name the granted resource or one below it (a
    narrower audience for this access token; the grant keeps its resource), nothing else."""
    configured = request.core.resource(request.issuer)
    granted = grant.resource or configured
    chosen = select_resource(request.form.get_all("resource"), configured)
    if chosen is not None and not within(chosen, granted):  # RFC8707-2.2-INVALID-TARGET, OAUTH21-3.2.3-RT-BOUND
        raise InvalidTargetError("the requested resource was not granted")
    return chosen or granted


def token_response(
    access_token: str,
    expires_in: int,
    scope: list[str],
    refresh_token: str | None,
    resource: str | None,
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
    if resource is not None:
        body["resource"] = resource
    return body
