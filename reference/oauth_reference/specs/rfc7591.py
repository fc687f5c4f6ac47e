"""RFC 7591: OAuth 2.0 Dynamic Client Registration Protocol.

https://www.rfc-editor.org/rfc/rfc7591

POST a JSON object of client metadata; get 201 with the client's id, secret (confidential
clients only) and every registered metadata value (RFC7591-3.2.1-201, RFC7591-3.2.1-ECHO).
"""

from __future__ import annotations

from typing import Any

import orjson

from oauth_reference import client_store as clients
from oauth_reference import registration_callback
from oauth_reference.core import Core
from oauth_reference.errors import InvalidClientMetadataError
from oauth_reference.machinery.asgi import MethodNotAllowedError
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.options import REGISTRATION_BODY_LIMIT

_ECHO = (
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "policy_uri",
    "tos_uri",
    "jwks_uri",
    "jwks",
    "contacts",
    "scope",
    "software_id",
    "software_version",
    "application_type",
    "dpop_bound_access_tokens",
    "require_pushed_authorization_requests",
)


def client_information(client: ClientInfo) -> dict[str, Any]:
    """RFC 7591 section 3.2.1: the client information response."""
    # RFC7591-3.2.1-CLIENT-ID; no registration_client_uri nor registration_access_token, as no
    # client configuration endpoint is served: neither, never one alone (RFC7592-3-BOTH-OR-NEITHER).
    body: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": client.registration_date}
    # A secret only for a confidential client (RFC7591-3.2.1-SECRET-CONFIDENTIAL, RFC7591-2-PUBLIC-NO-SECRET),
    # always with its expiry, 0 for never (RFC7591-3.2.1-SECRET-EXPIRES).
    if client.client_secret is not None:
        body["client_secret"] = client.client_secret
        body["client_secret_expires_at"] = client.client_secret_expires_at or 0
    for name in _ECHO:  # RFC7591-3.2.1-ECHO
        value = getattr(client, name)
        if value is not None:
            body[name] = value
    body.update(client.i18n or {})  # RFC 7591 section 2.2: "client_name#ja" and the like, as sent
    return body


async def register(core: Core, request: Request) -> Response:
    # RFC7591-3-POST-JSON: a POST of a JSON object; any other body is a 400, never a 5xx
    # (ROBUST-HOSTILE-CONTENT-TYPE, ROBUST-HOSTILE-REGISTRATION-LIMITS).
    if request.method != "POST":
        raise MethodNotAllowedError("POST, OPTIONS")
    if request.media_type() != "application/json":
        raise InvalidClientMetadataError("the registration request must be application/json")
    raw = await request.body(REGISTRATION_BODY_LIMIT)
    # RFC7591-3.2.2-ERROR: undecodable JSON, too deep (orjson stops at 1,024 levels) or not UTF-8, is
    # invalid_client_metadata (ROBUST-HOSTILE-DEEP-JSON, ROBUST-HOSTILE-ENCODING).
    try:
        meta = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidClientMetadataError("the registration request is not valid JSON") from None
    if not isinstance(meta, dict):
        raise InvalidClientMetadataError("client metadata must be a JSON object")
    fields = clients.validate_metadata(meta, core.options, registration=True)
    callback = core.options.client_registration_callback
    if callback is not None:  # the application may refuse the client before it is stored
        await registration_callback.run(callback, meta, request.scope, raw)
    client = await clients.create(core, fields, registration=True)
    return json_response(client_information(client), 201, no_store=True)  # RFC7591-3.2.1-201
