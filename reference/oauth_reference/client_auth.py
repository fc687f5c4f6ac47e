"""Client authentication at the token and revocation endpoints (OAuth 2.1 section 2.4).

``client_secret_basic``, ``client_secret_post`` and ``none``. Every failure is 401
``invalid_client``; when the client tried HTTP Basic the response carries a ``Basic`` challenge
(OAUTH21-3.2.4-401-BASIC). A client uses the method it registered; a client created without an
explicit method may use either secret method, never ``none``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from . import clients
from . import crypto
from .asgi import Request
from .core import Core
from .errors import InvalidClientError
from .errors import InvalidRequestError
from .forms import FormParams
from .records import ClientInfo

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="OAuth"'}


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str | None
    secret: str | None
    method: str  # client_secret_basic, client_secret_post or none


def read_credentials(request: Request, form: FormParams) -> Credentials:
    authorization = request.header("authorization")
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")
    if authorization is not None and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep or not raw_id:
                raise ValueError
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidClientError("malformed HTTP Basic credentials", headers=BASIC_CHALLENGE) from None
        # OAuth 2.1 section 2.4.1: id and secret are form-urlencoded before Basic encoding.
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if body_secret is not None or (body_id is not None and body_id != client_id):
            raise InvalidRequestError("the client must not use more than one authentication method")
        return Credentials(client_id, secret, "client_secret_basic")
    if body_secret is not None:
        return Credentials(body_id, body_secret, "client_secret_post")
    return Credentials(body_id, None, "none")


async def authenticate(core: Core, request: Request, form: FormParams) -> ClientInfo:
    credentials = read_credentials(request, form)
    challenge = BASIC_CHALLENGE if credentials.method == "client_secret_basic" else None
    if credentials.client_id is None:
        raise InvalidClientError("client authentication is required (client_id is missing)")
    client = await clients.lookup(core, credentials.client_id)
    if client is None:
        raise InvalidClientError("unknown client", headers=challenge)
    registered = client.token_endpoint_auth_method
    if registered == "none":
        if credentials.method != "none":
            raise InvalidClientError("this public client must not send a client secret", headers=challenge)
        return client
    if credentials.method == "none":
        raise InvalidClientError("this confidential client must authenticate", headers=challenge)
    if client.auth_method_explicit and credentials.method != registered:
        raise InvalidClientError(f"this client is registered for {registered}", headers=challenge)
    assert credentials.secret is not None
    stored = client.client_secret_hash or ""
    # Hash first, then compare in constant time: timing reveals nothing about the stored hash.
    if not stored or not crypto.equal(crypto.sha256_hex(credentials.secret), stored):
        raise InvalidClientError("client authentication failed", headers=challenge)
    expires = client.client_secret_expires_at
    if expires and expires <= core.now():
        raise InvalidClientError("the client secret has expired", headers=challenge)
    return client
