"""Twins that break client registration (RFC 7591) and registration management (RFC 7592).

The reference does not offer RFC 7592, so the RFC 7592 twins wrap it in :class:`Management`, a
minimal correct management layer (the control twin ``registration-management`` proves it passes
every RFC 7592 MUST), and break one behaviour of that layer each.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import orjson

from oauth_reference.core import Core
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

REGISTER = "/oauth/register"
AS_METADATA = "/.well-known/oauth-authorization-server"
SPECS = ("rfc7591",)


def registration(app: ASGIApp, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    """Rewrite successful registration responses."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status not in (200, 201):
            return status, headers, body
        return edit_json(edit)(status, headers, body)

    return rewrite(app, path_is(REGISTER, "POST"), change)


def wrap_validation(wrapper: Callable[[Callable[..., dict[str, Any]], dict[str, Any], Any], dict[str, Any]]) -> None:
    """Replace clients.validate_metadata for registrations (in the twin's process only)."""
    from oauth_reference import client_store as clients

    original = clients.validate_metadata

    def patched(meta: Any, options: Any, *, registration: bool, partial: bool = False) -> dict[str, Any]:
        if not registration:
            return original(meta, options, registration=registration, partial=partial)
        return wrapper(lambda m: original(m, options, registration=True, partial=partial), dict(meta), options)

    clients.validate_metadata = patched


# ---------------------------------------------------------------------------------- RFC 7591
@twin("registration-answers-200", SPECS, set(), warns={"RFC7591-3.2.1-201"})
def answers_200(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(REGISTER, "POST"), lambda s, h, b: (200 if s == 201 else s, h, b))


@twin("registration-json-refused", SPECS, {"RFC7591-3-POST-JSON"})
def json_refused(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if scope["type"] == "http" and scope["path"] == REGISTER and content_type.startswith(b"application/json"):
            await json_reply(send, 400, {"error": "invalid_client_metadata", "error_description": "send a form"})
            return
        await app(scope, receive, send)

    return wrapped


@twin("registration-no-client-id", SPECS, {"RFC7591-3.2.1-CLIENT-ID"})
def no_client_id(app: ASGIApp) -> ASGIApp:
    return registration(app, lambda d: {k: v for k, v in d.items() if k != "client_id"})


@twin("registration-secret-without-expiry", SPECS, {"RFC7591-3.2.1-SECRET-EXPIRES"})
def secret_without_expiry(app: ASGIApp) -> ASGIApp:
    return registration(app, lambda d: {k: v for k, v in d.items() if k != "client_secret_expires_at"})


@twin("registration-shared-secret", SPECS, {"RFC7591-3.2.1-SECRET-UNIQUE"})
def shared_secret(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.machinery import crypto

    secret = "the-same-secret-for-every-client-0123456789"
    clients.new_secret = lambda: (secret, crypto.sha256_hex(secret))
    return app


@twin("registration-secret-for-public-clients", SPECS, set(), warns={"RFC7591-2-PUBLIC-NO-SECRET"})
def secret_for_public_clients(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("token_endpoint_auth_method") == "none":
            doc |= {"client_secret": secrets.token_urlsafe(24), "client_secret_expires_at": 0}
        return doc

    return registration(app, edit)


@twin(
    "registration-no-secret-for-confidential-clients",
    SPECS,
    set(),
    note="the defaulted (client_secret_basic) registration gets no secret either",
    warns={"RFC7591-2-DEFAULTS", "RFC7591-3.2.1-SECRET-CONFIDENTIAL"},
)
def no_secret_for_confidential_clients(app: ASGIApp) -> ASGIApp:
    drop = ("client_secret", "client_secret_expires_at")
    return registration(app, lambda d: {k: v for k, v in d.items() if k not in drop})


@twin("registration-drops-grant-types", SPECS, {"RFC7591-3.2.1-ECHO"})
def drops_grant_types(app: ASGIApp) -> ASGIApp:
    return registration(app, lambda d: {k: v for k, v in d.items() if k != "grant_types"})


@twin("registration-rejects-omitted-auth-method", SPECS, set(), warns={"RFC7591-2-DEFAULTS"})
def rejects_omitted_auth_method(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidClientMetadataError

    def wrapper(validate: Callable[..., dict[str, Any]], meta: dict[str, Any], options: Any) -> dict[str, Any]:
        if "token_endpoint_auth_method" not in meta:
            raise InvalidClientMetadataError("token_endpoint_auth_method is required")
        return validate(meta)

    wrap_validation(wrapper)
    return app


@twin("registration-rejects-unknown-metadata", SPECS, {"RFC7591-2-IGNORE-UNKNOWN"})
def rejects_unknown_metadata(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidClientMetadataError
    from oauth_reference.specs import rfc7591

    known = {*rfc7591._ECHO, "software_statement"}

    def wrapper(validate: Callable[..., dict[str, Any]], meta: dict[str, Any], options: Any) -> dict[str, Any]:
        unknown = sorted(set(meta) - known)
        if unknown:
            raise InvalidClientMetadataError(f"unknown client metadata: {unknown[0]}")
        return validate(meta)

    wrap_validation(wrapper)
    return app


@twin("registration-keeps-jwks-and-jwks-uri", SPECS, {"RFC7591-2-JWKS-XOR"})
def keeps_jwks_and_jwks_uri(app: ASGIApp) -> ASGIApp:
    def wrapper(validate: Callable[..., dict[str, Any]], meta: dict[str, Any], options: Any) -> dict[str, Any]:
        if meta.get("jwks") is None or meta.get("jwks_uri") is None:
            return validate(meta)
        out = validate({k: v for k, v in meta.items() if k != "jwks"})
        out["jwks"] = meta["jwks"]
        return out

    wrap_validation(wrapper)
    return app


@twin("registration-code-client-without-redirect-uris", SPECS, {"RFC7591-5-REDIRECT-REQUIRED"})
def code_client_without_redirect_uris(app: ASGIApp) -> ASGIApp:
    def wrapper(validate: Callable[..., dict[str, Any]], meta: dict[str, Any], options: Any) -> dict[str, Any]:
        if not meta.get("redirect_uris"):
            out = validate({**meta, "redirect_uris": ["https://placeholder.invalid/cb"]})
            out["redirect_uris"] = []
            return out
        return validate(meta)

    wrap_validation(wrapper)
    return app


@twin(
    "registration-remote-http-redirect-uri",
    ("rfc7591", "mcp"),
    {"RFC7591-5-REDIRECT-CLASS", "MCP-COMM-REDIRECT"},
)
def remote_http_redirect_uri(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients

    original = clients.redirect_uri_problem
    clients.redirect_uri_problem = lambda uri: None if uri.startswith("http://") else original(uri)
    return app


@twin("registration-malformed-json-500", SPECS, {"RFC7591-3.2.2-ERROR"})
def malformed_json_500(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != REGISTER or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            await reply(send, 500, b"Internal Server Error", b"text/plain")
            return
        await app(scope, replay(body), send)

    return wrapped


@twin("registration-public-clients-not-advertised", SPECS, set(), warns={"RFC7591-2-UNSUPPORTED-METHOD"})
def public_clients_not_advertised(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        for name in ("token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"):
            doc[name] = [m for m in doc.get(name, []) if m != "none"]
        return doc

    return rewrite(app, path_is(AS_METADATA), edit_json(edit))


@twin("registration-same-client-id", SPECS, set(), warns={"RFC7591-3.2.1-CLIENT-ID-UNIQUE"})
def same_client_id(app: ASGIApp) -> ASGIApp:
    return registration(app, lambda d: {**d, "client_id": "oauth-conformance-twin-shared-id"})


@twin("registration-inconsistent-types-registered", SPECS, set(), warns={"RFC7591-2.1-CONSISTENT"})
def inconsistent_types_registered(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidClientMetadataError

    def wrapper(validate: Callable[..., dict[str, Any]], meta: dict[str, Any], options: Any) -> dict[str, Any]:
        try:
            return validate(meta)
        except InvalidClientMetadataError as exc:
            if "inconsistent" not in str(exc):
                raise
        out = validate({**meta, "grant_types": [*meta.get("grant_types", []), "authorization_code"]})
        out["grant_types"] = list(meta["grant_types"])
        return out

    wrap_validation(wrapper)
    return app


@twin("registration-secrets-never-expire", SPECS, set(), warns={"RFC7591-3.2.1-SECRET-EXPIRY"})
def secrets_never_expire(app: ASGIApp) -> ASGIApp:
    """The registration response still states when the secret expires; nothing enforces it."""
    from oauth_reference import client_store as clients
    from oauth_reference.machinery import records
    from oauth_reference.machinery.storage import Put

    async def store(core: Core, client: Any) -> None:  # kept forever, whatever its stated expiry
        await core.storage.commit([Put(records.client_key(client.client_id), records.dump(client.stored()), None)])

    async def lookup(core: Core, client_id: str) -> Any:
        entry = await core.storage.get(records.client_key(client_id))
        if entry is None:
            return None
        found = records.load(records.ClientInfo, entry.value)
        return dataclasses.replace(found, registration_expires_at=None, client_secret_expires_at=None)

    clients.store = store
    clients.lookup = lookup
    return app


# ---------------------------------------------------------------------------------- RFC 7592
MANAGEMENT = ("rfc7592",)
# Client metadata an update deletes when it leaves it out (RFC 7592 section 2.2).
OPTIONAL_METADATA = (
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
)


class Management:
    """A minimal RFC 7592 layer: every registration gets a client configuration endpoint at
    ``/oauth/register/{client_id}`` and a registration access token; GET reads, PUT replaces,
    DELETE removes, all through the reference's own client store. ``broken`` names one
    behaviour to get wrong (a twin); empty, the layer is correct."""

    def __init__(self, app: ASGIApp, broken: str = "") -> None:
        self.app = app
        self.broken = broken
        self.tokens: dict[str, str] = {}  # client_id -> sha256 of its registration access token
        self.cached: dict[str, dict[str, Any]] = {}  # the last information returned, per client
        self.core: Core | None = None
        from oauth_reference.specs import rfc7591

        register = rfc7591.register

        async def capturing(core: Core, request: Any) -> Any:
            self.core = core
            return await register(core, request)

        rfc7591.register = capturing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == REGISTER and scope["method"] == "POST":
            await rewrite(self.app, lambda s: True, lambda s, h, b: self._registered(scope, s, h, b))(
                scope, receive, send
            )
            return
        if path.startswith(REGISTER + "/"):
            await self._configure(scope, receive, send, path[len(REGISTER) + 1 :])
            return
        await self.app(scope, receive, send)

    # -------------------------------------------------------------------- registration response
    def _registered(self, scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 201:
            return status, headers, body
        info = orjson.loads(body)
        token = secrets.token_urlsafe(32)
        self.tokens[info["client_id"]] = digest(token)
        info["registration_client_uri"] = f"{origin(scope)}{REGISTER}/{info['client_id']}"
        if self.broken != "half":
            info["registration_access_token"] = token
        self.cached[info["client_id"]] = info
        return status, headers, orjson.dumps(info)

    # ------------------------------------------------------------- client configuration endpoint
    async def _configure(self, scope: Scope, receive: Receive, send: Send, client_id: str) -> None:
        from oauth_reference import client_store as clients

        token = bearer(scope)
        known = self.tokens.get(client_id)
        if self.broken != "no-token-check" and (
            token is None or known is None or not hmac.compare_digest(known, digest(token))
        ):
            challenge = 'Bearer realm="registration"' + ("" if token is None else ', error="invalid_token"')
            await json_reply(send, 401, {"error": "invalid_token"}, [(b"www-authenticate", challenge.encode())])
            return
        assert self.core is not None
        client = await clients.lookup(self.core, client_id)
        if client is None:
            if self.broken == "delete-keeps-record" and client_id in self.cached:
                await json_reply(send, 200, self.cached[client_id])
                return
            self.tokens.pop(client_id, None)  # section 2.1: the token of a missing client SHOULD be revoked
            await json_reply(
                send, 401, {"error": "invalid_token"}, [(b"www-authenticate", b'Bearer error="invalid_token"')]
            )
            return
        method = scope["method"]
        if method == "GET":
            if self.broken == "read-404":
                await json_reply(send, 404, {"error": "not_found"})
                return
            await json_reply(send, 200, self._information(scope, client, token))
        elif method == "PUT":
            await self._update(scope, receive, send, client, token)
        elif method == "DELETE":
            await self._delete(send, client_id)
        else:
            await json_reply(send, 405, {"error": "invalid_request"}, [(b"allow", b"GET, PUT, DELETE")])

    def _information(self, scope: Scope, client: Any, token: str | None) -> dict[str, Any]:
        from oauth_reference.specs import rfc7591

        info = rfc7591.client_information(client)
        info["registration_client_uri"] = f"{origin(scope)}{REGISTER}/{client.client_id}"
        if token is not None:
            info["registration_access_token"] = token
        self.cached[client.client_id] = info
        return info

    async def _update(self, scope: Scope, receive: Receive, send: Send, client: Any, token: str | None) -> None:
        from oauth_reference import client_store as clients
        from oauth_reference.errors import OAuthError
        from oauth_reference.machinery import crypto

        assert self.core is not None
        try:
            meta = orjson.loads(await read_body(receive))
        except orjson.JSONDecodeError:
            meta = None
        if not isinstance(meta, dict):
            await json_reply(send, 400, {"error": "invalid_client_metadata"})
            return
        asked_id = meta.pop("client_id", None)
        if asked_id != client.client_id and self.broken != "update-client-id":
            await json_reply(send, 400, {"error": "invalid_client_metadata", "error_description": "client_id differs"})
            return
        secret = meta.pop("client_secret", None)
        new_hash = client.client_secret_hash
        if secret is not None:
            if self.broken == "chosen-secret":
                new_hash = crypto.sha256_hex(secret)
            elif client.client_secret_hash is None or not crypto.equal(
                crypto.sha256_hex(secret), client.client_secret_hash
            ):
                await json_reply(send, 400, {"error": "invalid_client_metadata", "error_description": "wrong secret"})
                return
        try:
            fields = clients.validate_metadata(meta, self.core.options, registration=True)
        except OAuthError as exc:
            await json_reply(send, exc.status_code, exc.body())
            return
        if self.broken == "update-augments":
            fields["redirect_uris"] = list(dict.fromkeys([*client.redirect_uris, *fields["redirect_uris"]]))
        # Section 2.2: the request replaces the registration; members it leaves out are deleted.
        cleared = dict.fromkeys(OPTIONAL_METADATA)
        updated = dataclasses.replace(client, **{**cleared, **fields}, client_secret_hash=new_hash, client_secret=None)
        await clients.store(self.core, updated)
        info = self._information(scope, updated, token)
        if self.broken == "update-client-id":
            info = {**info, "client_id": asked_id}
        if self.broken == "update-204":
            await reply(send, 204, b"", None)
            return
        await json_reply(send, 200, info)

    async def _delete(self, send: Send, client_id: str) -> None:
        from oauth_reference.helpers import OAuthHelpers

        assert self.core is not None
        if self.broken == "delete-keeps-grants":
            from oauth_reference.machinery import records
            from oauth_reference.machinery.storage import Delete

            await self.core.storage.commit([Delete(records.client_key(client_id))])  # its tokens live on
        elif self.broken != "delete-keeps-client":
            await OAuthHelpers(self.core).delete_client(client_id)
        if self.broken != "delete-keeps-record":
            self.tokens.pop(client_id, None)
        if self.broken == "delete-200":
            await json_reply(send, 200, {"deleted": client_id})
            return
        await reply(send, 204, b"", None)


@twin("registration-management", MANAGEMENT, set(), note="the control: the correct RFC 7592 layer fails nothing")
def management(app: ASGIApp) -> ASGIApp:
    return Management(app)


def _broken(name: str, fails: str, broken: str) -> None:
    twin(f"registration-management-{name}", MANAGEMENT, {fails})(lambda app: Management(app, broken))


twin("registration-management-delete-keeps-tokens", MANAGEMENT, set(), warns={"RFC7592-2.3-DELETE-GRANTS"})(
    lambda app: Management(app, "delete-keeps-grants")
)


_broken("half-issued", "RFC7592-3-BOTH-OR-NEITHER", "half")
_broken("read-404", "RFC7592-2.1-READ", "read-404")
_broken("no-token-check", "RFC7592-2-BEARER", "no-token-check")
_broken("update-204", "RFC7592-2.2-UPDATE", "update-204")
_broken("update-augments", "RFC7592-2.2-REPLACE", "update-augments")
_broken("update-changes-client-id", "RFC7592-2.2-CLIENT-ID", "update-client-id")
_broken("client-chooses-secret", "RFC7592-2.2-SECRET-NOT-CHOSEN", "chosen-secret")
_broken("delete-200", "RFC7592-2.3-DELETE-204", "delete-200")
twin("registration-management-delete-keeps-client", MANAGEMENT, set(), warns={"RFC7592-2.3-DELETE-INVALIDATES"})(
    lambda app: Management(app, "delete-keeps-client")
)
_broken("deleted-still-readable", "RFC7592-2.1-GONE-401", "delete-keeps-record")


# ------------------------------------------------------------------------------------- ASGI
def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def origin(scope: Scope) -> str:
    host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


def bearer(scope: Scope) -> str | None:
    value = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def reply(send: Send, status: int, body: bytes, media: bytes | None, extra: Headers | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store"), *(extra or [])]
    if media is not None:
        headers.append((b"content-type", media))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def json_reply(send: Send, status: int, data: Any, extra: Headers | None = None) -> None:
    await reply(send, status, orjson.dumps(data), b"application/json", extra)


# ------------------------------------------------------------------------ software statements
def trusting_every_statement(app: ASGIApp, *, returned: bool) -> ASGIApp:
    """Registration that takes a software statement's claims over the plain JSON without checking
    who signed it, and returns the statement (``returned``) or not."""
    import base64

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != REGISTER or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        statement = None
        try:
            data = orjson.loads(body)
            statement = data.get("software_statement") if isinstance(data, dict) else None
            if isinstance(statement, str):
                payload = statement.split(".")[1]
                claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                data.update({k: v for k, v in claims.items() if k not in ("iss", "iat", "exp", "jti")})
                data.pop("software_statement", None)
                body = orjson.dumps(data)
        except (orjson.JSONDecodeError, IndexError, ValueError):
            statement = None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        def add(doc: dict[str, Any]) -> dict[str, Any]:
            return {**doc, "software_statement": statement} if returned and isinstance(statement, str) else doc

        await registration(app, add)(scope, replay, send)

    return wrapped


@twin(
    "software-statement-trusted-blindly",
    SPECS,
    set(),
    warns={"RFC7591-2.3-UNTRUSTED-STATEMENT"},
    note="a statement's claims win whoever signed it; the statement is returned unmodified (the control of"
    " RFC7591-3.2.1-STATEMENT-RETURNED)",
)
def software_statement_trusted_blindly(app: ASGIApp) -> ASGIApp:
    return trusting_every_statement(app, returned=True)


@twin(
    "software-statement-used-not-returned",
    SPECS,
    {"RFC7591-3.2.1-STATEMENT-RETURNED"},
    warns={"RFC7591-2.3-UNTRUSTED-STATEMENT"},
    note="a statement's claims win whoever signed it, and the response leaves the statement out",
)
def software_statement_used_not_returned(app: ASGIApp) -> ASGIApp:
    return trusting_every_statement(app, returned=False)
