"""RFC 9126: OAuth 2.0 Pushed Authorization Requests (PAR).

https://www.rfc-editor.org/rfc/rfc9126

Served at ``pushed_authorization_request_endpoint`` (off by default). The client authenticates as
at the token endpoint (RFC9126-2.1-CLIENT-AUTH); the pushed parameters are validated as the
authorization endpoint would validate them (RFC9126-2.1-VALIDATE), and kept for
``pushed_authorization_request_ttl`` seconds under a random request_uri bound to the client
(RFC9126-2.2-CREATED, RFC9126-2.2-CLIENT-BOUND). The authorization endpoint then takes
``client_id`` and ``request_uri``, once (RFC9126-4-ONE-TIME), and validates the pushed request
again (RFC 9126 section 4). With ``require_pushed_authorization_requests``, or for a client
registered with it, nothing else is taken (RFC9126-4-REQUIRED, RFC9126-6-CLIENT-REQUIRED).

A DPoP proof sent to this endpoint binds the code as ``dpop_jkt`` would (RFC9449-10.1-PAR).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import orjson

from oauth_reference.core import Core
from oauth_reference.errors import AuthorizationError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery import crypto
from oauth_reference.machinery.asgi import MethodNotAllowedError
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import Put
from oauth_reference.options import TOKEN_BODY_LIMIT
from oauth_reference.specs import rfc9449
from oauth_reference.specs.oauth21 import client_auth
from oauth_reference.specs.oauth21.forms import FormParams
from oauth_reference.specs.oauth21.forms import parse_pairs

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
REFERENCE_LENGTH = 32  # 192 random bits (RFC9126-2.2-UNGUESSABLE)
# Parameters that authenticate the client at this endpoint: they are not part of the request.
_CLIENT_AUTH = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


def _key(request_uri: str) -> str:
    return f"par:{crypto.sha256_hex(request_uri)}"


# What validates a pushed request as the authorization endpoint would (its parse_auth_request with
# pushed=True), handed in by the provider: that endpoint resolves request_uri values with this module.
Validate = Callable[[Core, list[tuple[str, str]], str], Awaitable[object]]


async def push(core: Core, request: Request, origin: str, validate: Validate) -> Response:
    """The PAR endpoint: authenticate, validate, keep; 201 with the request_uri."""
    if request.method != "POST":
        raise MethodNotAllowedError("POST, OPTIONS")
    if request.media_type() != "application/x-www-form-urlencoded":
        raise InvalidRequestError("Content-Type must be application/x-www-form-urlencoded")
    pairs = parse_pairs((await request.body(TOKEN_BODY_LIMIT)).decode("utf-8", "replace"))
    form = FormParams(pairs)  # refuses repeated parameters, as the token endpoint does
    client = await client_auth.authenticate(core, request, form)  # RFC9126-2.1-CLIENT-AUTH
    if form.get("request_uri") is not None:  # RFC9126-2.1-NO-REQUEST-URI
        raise InvalidRequestError("request_uri must not be pushed")
    if form.get("client_id") not in (None, client.client_id):
        raise InvalidRequestError("client_id differs from the authenticated client")
    kept = [(n, v) for n, v in pairs if n not in _CLIENT_AUTH and n != "client_id"]
    kept.append(("client_id", client.client_id))
    if core.options.dpop_enabled:
        proof = await rfc9449.check_proof(core, request)
        if proof is not None:  # RFC9449-10.1-PAR: the proof's key binds the code, as dpop_jkt does
            pushed_jkt = form.get("dpop_jkt")
            if pushed_jkt is not None and not crypto.equal(pushed_jkt, proof.jkt):
                raise InvalidRequestError("dpop_jkt does not match the key of the DPoP proof")
            kept = [(n, v) for n, v in kept if n != "dpop_jkt"] + [("dpop_jkt", proof.jkt)]
    try:  # RFC9126-2.1-VALIDATE: as the authorization endpoint would
        await validate(core, kept, origin)
    except AuthorizationError as exc:  # RFC9126-2.3-ERROR: the token endpoint's error format
        raise exc.oauth_error from None
    request_uri = URN_PREFIX + crypto.random_string(REFERENCE_LENGTH)
    ttl = core.options.pushed_authorization_request_ttl
    expires = core.now() + ttl
    record = {"client_id": client.client_id, "pairs": kept, "expires_at": expires}
    await core.storage.commit([Put(_key(request_uri), orjson.dumps(record), expires)])
    return json_response({"request_uri": request_uri, "expires_in": ttl}, 201, no_store=True)


async def resolve(core: Core, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pushed parameters a request_uri names, used up (RFC9126-4-ONE-TIME); an error page otherwise.

    The request_uri must be unexpired (RFC9126-4-EXPIRED) and sent with the client_id that pushed it
    (RFC9126-2.2-CLIENT-BOUND). No redirect is possible before the pushed redirect URI is known.
    """
    given = dict(pairs)
    request_uri, client_id = given.get("request_uri", ""), given.get("client_id")
    key = _key(request_uri)
    entry = await core.storage.get(key)
    record: dict[str, Any] | None = orjson.loads(entry.value) if entry is not None else None
    if entry is None or record is None or record.get("expires_at", 0) <= core.now():
        raise AuthorizationError(InvalidRequestError("request_uri is unknown, used or expired"))
    if client_id != record["client_id"]:
        raise AuthorizationError(InvalidRequestError("request_uri was pushed by another client"))
    if not await core.storage.commit([Delete(key)], expect={key: entry.version}):
        raise AuthorizationError(InvalidRequestError("request_uri is unknown, used or expired"))
    return [(str(n), str(v)) for n, v in record["pairs"]]
