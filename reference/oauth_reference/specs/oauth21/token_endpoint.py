"""The token endpoint (OAuth 2.1 section 3.2): parse, authenticate, dispatch by grant type.

The grant table is plain data: ``grant_type`` -> handler. Features add rows (token exchange,
the JWT bearer grant) only when enabled, so an unsupported grant is ``unsupported_grant_type``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from oauth_reference.client_store import JWT_BEARER
from oauth_reference.client_store import TOKEN_EXCHANGE
from oauth_reference.core import Core
from oauth_reference.errors import InvalidDpopProofError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import UnauthorizedClientError
from oauth_reference.errors import UnsupportedGrantTypeError
from oauth_reference.machinery.asgi import MethodNotAllowedError
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.options import TOKEN_BODY_LIMIT
from oauth_reference.specs import rfc7009
from oauth_reference.specs import rfc9449
from oauth_reference.specs.oauth21 import client_auth
from oauth_reference.specs.oauth21 import code_grant
from oauth_reference.specs.oauth21 import refresh_grant
from oauth_reference.specs.oauth21.forms import parse_form
from oauth_reference.specs.oauth21.token_request import TokenRequest

GrantHandler = Callable[[TokenRequest], Awaitable[dict[str, Any]]]


def grant_table(core: Core) -> dict[str, GrantHandler]:
    # RFC8414-2-GRANTS-TRUTHFUL: the same options decide clients.supported_grant_types
    table: dict[str, GrantHandler] = {"authorization_code": code_grant.exchange}
    if core.options.refresh_tokens_enabled:
        table["refresh_token"] = refresh_grant.refresh
    if core.options.allow_token_exchange_grant:
        from oauth_reference.specs import rfc8693

        table[TOKEN_EXCHANGE] = rfc8693.exchange
    if core.options.enterprise_managed_authorization is not None:
        from oauth_reference.specs import idjag

        table[JWT_BEARER] = idjag.grant
    return table


def client_may_use(client: ClientInfo, grant_type: str) -> bool:
    if grant_type == JWT_BEARER:
        return True  # trust rests on the assertion; registration cannot list it in 0.8
    if grant_type == "refresh_token":
        # A client that may get codes may refresh the tokens they yield.
        return "refresh_token" in client.grant_types or "authorization_code" in client.grant_types
    return grant_type in client.grant_types


async def handle(core: Core, request: Request, grants: dict[str, GrantHandler], issuer: str) -> Response:
    if request.method != "POST":  # OAUTH21-3.2-POST
        raise MethodNotAllowedError("POST, OPTIONS")
    if request.media_type() != "application/x-www-form-urlencoded":  # ROBUST-HOSTILE-CONTENT-TYPE
        raise InvalidRequestError("Content-Type must be application/x-www-form-urlencoded")
    # The bounded body only (ROBUST-HOSTILE-BIG-BODY): credentials in the query are never read
    # (OAUTH21-2.4.1-NOT-IN-URI). The client is authenticated before anything, revocation too
    # (RFC7009-2.1-CLIENT-AUTH).
    form = parse_form(await request.body(TOKEN_BODY_LIMIT))
    client = await client_auth.authenticate(core, request, form)
    grant_type = form.get("grant_type")
    if grant_type is None:
        if form.get("token") is not None:
            return await rfc7009.revoke(core, client, form)
        raise InvalidRequestError("grant_type is required")
    handler = grants.get(grant_type)
    if handler is None:  # OAUTH21-3.2.4-UNSUPPORTED-GRANT
        raise UnsupportedGrantTypeError(f"grant_type {grant_type[:60]!r} is not supported")
    if not client_may_use(client, grant_type):  # OAUTH21-3.2.4-UNAUTHORIZED-CLIENT
        raise UnauthorizedClientError(f"this client is not registered for grant_type {grant_type}")
    proof = await rfc9449.check_proof(core, request) if rfc9449.enabled(core) else None
    if proof is None and client.dpop_bound_access_tokens and core.options.dpop_enabled:  # RFC9449-5.2-BOUND-CLIENT
        raise InvalidDpopProofError("this client always uses DPoP: the token request needs a DPoP proof")
    body = await handler(TokenRequest(core, form, client, issuer, request.scope, proof))
    # RFC 9449 section 8.2: the next nonce comes with the answer, saving the client a round trip.
    extra = rfc9449.nonce_headers(core) if proof is not None else {}
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    return json_response(body, no_store=True, headers=headers)  # OAUTH21-3.2.3-NO-STORE
