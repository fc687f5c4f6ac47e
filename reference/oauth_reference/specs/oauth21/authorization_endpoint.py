"""The authorization endpoint's logic, for the application's own ``/authorize`` UI.

The application owns the UI (as in the seed): it calls :func:`parse_auth_request` on the
incoming request, shows consent, then calls :func:`complete_authorization`, which stores the
grant and returns the URL to redirect the user agent to (OAuth 2.1 sections 4.1.1 and 4.1.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from oauth_reference import client_store as clients
from oauth_reference.core import Core
from oauth_reference.errors import AuthorizationError
from oauth_reference.errors import CimdError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidScopeError
from oauth_reference.errors import InvalidTargetError
from oauth_reference.errors import OAuthError
from oauth_reference.errors import UnauthorizedClientError
from oauth_reference.errors import UnsupportedResponseTypeError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery.records import AuthRequest
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.records import client_grants_prefix
from oauth_reference.machinery.records import grant_key
from oauth_reference.options import AUTHORIZATION_CODE_TTL
from oauth_reference.specs import rfc7636
from oauth_reference.specs.oauth21.redirect_uris import redirect_uri_matches
from oauth_reference.specs.oauth21.redirect_uris import redirect_uri_problem
from oauth_reference.specs.oauth21.scopes import parse_scope
from oauth_reference.specs.rfc8707 import select_resources

MAX_BATCH = 1000
_NOT_REDIRECTABLE = ("client_id", "redirect_uri")
# The longest authorization request parameter accepted (ROBUST-HOSTILE-LONG-VALUES). An absurd
# state cannot be echoed in an error redirect, so such a request is refused without one.
MAX_PARAMETER_LENGTH = 4096
_JKT = re.compile(r"^[A-Za-z0-9_-]{43}$")


def build_redirect(redirect_uri: str, params: Mapping[str, str | None], *, fragment: bool = False) -> str:
    """Add response parameters to a redirect URI, keeping its own query (OAuth 2.1 section 2.3)."""
    parts = urlsplit(redirect_uri)
    ours = {k: v for k, v in params.items() if v is not None}
    if fragment:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, urlencode(ours)))
    # OAUTH21-2.3-QUERY, OAUTH21-4.1.2-RESPONSE: the registered query stays, no parameter twice
    kept = [piece for piece in parts.query.split("&") if piece and piece.split("=", 1)[0] not in ours]
    query = "&".join([*kept, urlencode(ours)]) if ours else "&".join(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def error_redirect(request_info: _Partial, error: OAuthError) -> str:
    """RFC9207-2-ERROR: error responses carry ``iss`` as success responses do."""
    return build_redirect(
        request_info.redirect_uri,
        {
            "error": error.error,
            "error_description": error.description,
            "state": request_info.state or None,  # OAUTH21-4.1.2-STATE
            "iss": request_info.issuer,
        },
        fragment=request_info.fragment,
    )


def error_redirect_for(request: AuthRequest, error: OAuthError) -> str:
    """An error response for a request that passed :func:`parse_auth_request` (a denial, say)."""
    return error_redirect(
        _Partial(request.redirect_uri, request.state, request.issuer, request.response_type == "token"), error
    )


class _Partial:
    __slots__ = ("fragment", "issuer", "redirect_uri", "state")

    def __init__(self, redirect_uri: str, state: str, issuer: str, fragment: bool) -> None:
        self.redirect_uri = redirect_uri
        self.state = state
        self.issuer = issuer
        self.fragment = fragment


def registered_redirect(core: Core, requested: str, client: ClientInfo) -> bool:
    """Whether ``requested`` is one of the client's redirect URIs (OAuth 2.1 section 2.3.1).

    OAUTH21-2.3.1-EXACT-MATCH, OAUTH21-8.4.2-LOOPBACK-PORT, OAUTH21-4.1.1-LOCALHOST-PORT,
    MCP-CIMD-REDIRECT-URIS (a metadata document's redirect_uris are the client's).
    """
    matches = core.faults.wrap("redirect-uri-match", redirect_uri_matches)
    return not redirect_uri_problem(requested) and any(matches(requested, r) for r in client.redirect_uris)


async def parse_auth_request(
    core: Core, pairs: list[tuple[str, str]], origin: str, *, pushed: bool = False
) -> AuthRequest:
    """Validate an authorization request (OAuth 2.1 section 4.1.1).

    Errors found before the client and redirect URI are validated carry no ``redirect_to``
    (OAUTH21-4.1.2.1-NO-REDIRECT); later ones do, with ``state`` and ``iss``. ``pushed`` says the
    request is being pushed to the PAR endpoint (RFC 9126), which validates it the same way.
    """
    parts = origin.split("://", 1)
    trusted = core.trusted_origin(parts[0], parts[1]) if len(parts) == 2 else None
    if trusted is None:  # the provider answers the hosts its operator named (hosts.py)
        raise AuthorizationError(InvalidRequestError("the request arrived at a host this server does not serve"))
    issuer = core.issuer(trusted)  # RFC9207-2.3-IDENTICAL: iss is the issuer the metadata names
    via_par = pushed
    if not pushed and core.options.pushed_authorization_request_endpoint and any(n == "request_uri" for n, _ in pairs):
        from oauth_reference.specs import rfc9126

        pairs = await rfc9126.resolve(core, pairs)  # RFC9126-4-ONE-TIME, RFC9126-4-EXPIRED, RFC9126-2.2-CLIENT-BOUND
        via_par = True
    params: dict[str, str] = {}
    repeated: list[str] = []
    resources: list[str] = []
    for name, value in pairs:
        if value == "":  # OAUTH21-3.1-EMPTY-PARAM: a parameter without a value is omitted
            continue
        if len(value) > MAX_PARAMETER_LENGTH:  # ROBUST-HOSTILE-LONG-VALUES
            message = f"parameter {name[:40]!r} is longer than {MAX_PARAMETER_LENGTH} characters"
            raise AuthorizationError(InvalidRequestError(message))
        if name == "resource":
            resources.append(value)
        elif name in params:  # OAUTH21-3.1-NO-DUPLICATES
            repeated.append(name)
        else:
            params[name] = value
    # OAUTH21-4.1.2.1-NO-REDIRECT, ROBUST-FUZZ-NO-OPEN-REDIRECT: until the client and its redirect
    # URI are validated, errors carry no redirect.
    for name in _NOT_REDIRECTABLE:
        if name in repeated:
            raise AuthorizationError(InvalidRequestError(f'parameter "{name}" must not be repeated'))
    client_id = params.get("client_id")
    if client_id is None:
        raise AuthorizationError(InvalidRequestError("client_id is required"))
    try:
        client = await clients.lookup(core, client_id)
    except CimdError as exc:
        message = f"the client's metadata document is not usable: {exc.reason}"
        raise AuthorizationError(InvalidRequestError(message)) from None
    if client is None:
        raise AuthorizationError(InvalidRequestError("unknown client_id"))
    requested_uri = params.get("redirect_uri")
    if requested_uri is None:
        if len(client.redirect_uris) != 1:
            raise AuthorizationError(InvalidRequestError("redirect_uri is required for this client"))
        redirect_uri = client.redirect_uris[0]
    else:
        if not registered_redirect(core, requested_uri, client):
            raise AuthorizationError(InvalidRequestError("redirect_uri is not registered for this client"))
        redirect_uri = requested_uri

    state = params.get("state", "")
    response_type = params.get("response_type")
    implicit = response_type == "token" and core.options.allow_implicit_flow
    partial = _Partial(redirect_uri, state, issuer, fragment=implicit)

    def fail(error: OAuthError) -> AuthorizationError:
        return AuthorizationError(error, error_redirect(partial, error))

    if repeated:  # OAUTH21-3.1-NO-DUPLICATES
        raise fail(InvalidRequestError(f'parameter "{repeated[0]}" must not be repeated'))
    # RFC9126-4-REQUIRED, RFC9126-6-CLIENT-REQUIRED: only pushed requests, when the server or the client says so
    if not via_par and (
        core.options.require_pushed_authorization_requests or client.require_pushed_authorization_requests
    ):
        raise fail(InvalidRequestError("authorization requests must be pushed to the PAR endpoint first"))
    # OAUTH21-4.1.1-RESPONSE-TYPE, OAUTH21-4.1.1-NO-IMPLICIT: code only, token only if enabled
    if response_type is None:
        raise fail(InvalidRequestError("response_type is required"))
    if response_type != "code" and not implicit:
        raise fail(UnsupportedResponseTypeError(f"response_type {response_type[:40]!r} is not supported"))
    if response_type not in client.response_types:
        raise fail(UnauthorizedClientError(f"this client is not registered for response_type {response_type}"))

    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if implicit:
        challenge = method = None
    elif challenge is None:
        if method is not None:
            raise fail(InvalidRequestError("code_challenge_method was sent without code_challenge"))
        if client.is_public:
            # OAUTH21-4.1.2.1-PKCE-PUBLIC, RFC7636-4.4.1-MISSING, MCP-CODE-PKCE
            raise fail(InvalidRequestError("public clients must use PKCE: code_challenge is required"))
    else:
        method = method or "plain"  # RFC7636-4.3-DEFAULT-PLAIN: the default method is plain
        # RFC7636-4.4.1-METHOD: an unknown method, or plain when not enabled, is invalid_request
        if method not in rfc7636.METHODS or (method == "plain" and not core.options.allow_plain_pkce):
            raise fail(InvalidRequestError(f"code_challenge_method {method[:20]!r} is not supported"))
        if not rfc7636.valid_challenge(challenge, method):  # RFC7636-4.2-CHALLENGE-SYNTAX
            raise fail(InvalidRequestError("code_challenge is malformed (RFC 7636 section 4.2)"))

    try:
        scope = parse_scope(params.get("scope"))
        supported = core.options.scopes_supported
        if supported is not None:
            unknown = [s for s in scope if s not in supported]
            if unknown:
                raise InvalidScopeError(f"unknown scope: {' '.join(unknown)[:100]}")
        resource = select_resources(resources, core.served_resources(issuer))  # RFC8707-2.1-INVALID-TARGET
    except (InvalidScopeError, InvalidTargetError) as exc:
        raise fail(exc) from None

    dpop_jkt = params.get("dpop_jkt") if core.options.dpop_enabled else None
    if dpop_jkt is not None and not _JKT.match(dpop_jkt):  # RFC 9449 section 10: a SHA-256 JWK thumbprint
        raise fail(InvalidRequestError("dpop_jkt must be a base64url SHA-256 JWK thumbprint"))
    return AuthRequest(
        response_type=response_type,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=challenge,
        code_challenge_method=method if challenge else None,
        resource=resource,
        issuer=issuer,
        dpop_jkt=dpop_jkt,  # RFC9449-10-DPOP-JKT
    )


def check_batch_size(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("revoke_existing_grants_batch_size must be a positive integer")
    return min(value, MAX_BATCH)


async def complete_authorization(
    core: Core,
    request: AuthRequest,
    *,
    user_id: str,
    metadata: Any,
    scope: list[str],
    props: Any,
    revoke_existing_grants: bool = True,
    revoke_existing_grants_batch_size: int = 50,
) -> str:
    """Store the grant, mint the code (or, for the implicit flow, the token); return the redirect."""
    batch = check_batch_size(revoke_existing_grants_batch_size)
    grants.check_user_id(user_id)
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
        raise TypeError("scope must be a list of strings")
    # Re-validate what parse_auth_request checked: the request object comes from the app.
    client = await clients.lookup(core, request.client_id)
    if client is None:
        raise ValueError("the client no longer exists")
    if not registered_redirect(core, request.redirect_uri, client):
        raise ValueError("the redirect URI is not registered for this client")
    if request.response_type not in ("code", "token") or (
        request.response_type == "token" and not core.options.allow_implicit_flow
    ):
        raise ValueError("unsupported response type")

    now = core.now()
    grant_id = grants.new_grant_id()
    props_key, encrypted = grants.encrypt_new_props(props)
    grant = Grant(
        id=grant_id,
        client_id=client.client_id,
        user_id=user_id,
        scope=list(dict.fromkeys(scope)),
        metadata=metadata,
        encrypted_props=encrypted,
        created_at=int(now),
        expires_at=None,
        resource=request.resource,
        redirect_uri=request.redirect_uri,
        dpop_jkt=request.dpop_jkt,  # RFC9449-10-DPOP-JKT, RFC9449-10.1-PAR
    )
    if request.response_type == "code":
        # RFC7636-4.4-NO-LEAK: the code is random; nothing in it or beside it reveals the challenge
        code = grants.new_token(user_id, grant_id)
        grant.auth_code_id = crypto.sha256_hex(code)
        grant.auth_code_wrapped_key = crypto.wrap_key(props_key, code)
        grant.code_expires_at = now + AUTHORIZATION_CODE_TTL  # OAUTH21-4.1.2-CODE-TTL-10MIN
        grant.expires_at = grant.code_expires_at
        # RFC7636-4.4-BIND: the challenge and its method are bound to this code's grant
        grant.code_challenge = request.code_challenge
        grant.code_challenge_method = request.code_challenge_method
        writes = grants.grant_writes(grant)
        # OAUTH21-4.1.2-RESPONSE, OAUTH21-4.1.2-STATE, RFC9207-2-SUCCESS: code, state and one iss
        params: dict[str, str | None] = {"code": code, "state": request.state or None, "iss": request.issuer}
    else:
        ttl = core.options.access_token_ttl
        grant.expires_at = now + ttl
        minted = grants.mint_access_token(
            grant,
            client_id=client.client_id,
            props_key=props_key,
            encrypted_props=encrypted,
            scope=grant.scope,
            audience=request.resource or None,  # unbound unless the request named resources
            now=now,
            ttl=ttl,
        )
        writes = [*grants.grant_writes(grant), minted.write]
        params = {
            "access_token": minted.token,
            "token_type": "bearer",
            "expires_in": str(ttl),
            "scope": " ".join(grant.scope),
            "state": request.state or None,
            "iss": request.issuer,
        }
    if not await core.storage.commit(writes, expect={grant_key(user_id, grant_id): None}):
        raise RuntimeError("grant id collision")
    if revoke_existing_grants:
        # One metadata-document client id serves every installation of the app: revoke only the
        # grants that came back to the same redirect URI, not the user's other devices.
        same_uri = request.redirect_uri if client.metadata_document else None
        await revoke_other_grants(core, client.client_id, user_id, keep=grant_id, batch=batch, redirect_uri=same_uri)
    return build_redirect(request.redirect_uri, params, fragment=request.response_type == "token")


async def revoke_other_grants(
    core: Core, client_id: str, user_id: str, *, keep: str, batch: int, redirect_uri: str | None = None
) -> int:
    """Revoke the user's other grants for this client, listing ``batch`` index keys at a time."""
    prefix = client_grants_prefix(client_id, user_id)
    revoked = 0
    cursor: str | None = None
    while True:
        page = await core.storage.list(prefix, limit=batch, cursor=cursor)
        for key in page.keys:
            grant_id = key.name[len(prefix) :]
            if grant_id == keep:
                continue
            if redirect_uri is not None:
                found = await grants.load(core.storage, user_id, grant_id)
                if found is None or found[0].redirect_uri != redirect_uri:
                    continue
            if await grants.revoke(core.storage, user_id, grant_id, cache=core.props_cache):
                revoked += 1
        if page.cursor is None:
            return revoked
        cursor = page.cursor
