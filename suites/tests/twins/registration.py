"""Twins that break client registration (RFC 7591) and registration management (RFC 7592).

The reference does not offer RFC 7592, so the RFC 7592 twins wrap it in :class:`Management`, a
minimal correct management layer (the control twin ``registration-management`` proves it passes
every RFC 7592 MUST), and break one behaviour of that layer each.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from oauth_reference import ClientInfo
from oauth_reference import OAuthError
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import helpers
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import Forward
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import presented
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import replay
from suites.tests.twins.wire import with_json

REGISTER = "/oauth/register"
TOKEN = "/oauth/token"
AS_METADATA = "/.well-known/oauth-authorization-server"
SPECS = ("rfc7591",)
# The client metadata of RFC 7591 section 2 (and OpenID's application_type), as registrations echo it.
CLIENT_METADATA = (
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
)


def registration(app: ASGIApp, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    """Rewrite successful registration responses."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status not in (200, 201):
            return status, headers, body
        return edit_json(edit)(status, headers, body)

    return rewrite(app, path_is(REGISTER, "POST"), change)


Registering = Callable[[dict[str, Any]], Awaitable[Answer]]  # the reference's registration endpoint


def on_registrations(app: ASGIApp, handle: Callable[[dict[str, Any], Registering], Awaitable[Answer]]) -> ASGIApp:
    """``handle(metadata, register)`` answers each registration request that is a JSON object;
    ``register(metadata)`` runs the reference's registration endpoint on (other) metadata."""

    async def handler(scope: Scope, body: bytes, forward: Forward) -> Answer:
        try:
            meta = orjson.loads(body)
        except orjson.JSONDecodeError:
            meta = None
        if not isinstance(meta, dict):
            return await forward(scope, body)

        async def register(metadata: dict[str, Any]) -> Answer:
            return await forward(scope, orjson.dumps(metadata))

        return await handle(meta, register)

    return intercept(app, path_is(REGISTER, "POST"), handler)


# The refusal the reference gives a registration it cannot accept (400 invalid_client_metadata),
# brought about by an authentication method it does not know.
REFUSED = {"token_endpoint_auth_method": "refused-by-this-server"}


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
    """Every client gets the same secret (and it works: the twin sends each client's real one on)."""
    secret = "the-same-secret-for-every-client-0123456789"
    clients = Clients()

    async def handle(scope: Scope, pairs: Pairs, forward: Callable[[Scope, Pairs], Awaitable[Answer]]) -> Answer:
        given = presented(scope, pairs)
        if given.secret == secret and given.client_id in clients.known:
            scope, pairs = clients.authenticate_as(scope, pairs, given.client_id)
        return await forward(scope, pairs)

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "client_secret": secret} if "client_secret" in doc else doc

    return on_token(registration(clients.observe(app), edit), handle)


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
    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        return await register(meta if "token_endpoint_auth_method" in meta else {**meta, **REFUSED})

    return on_registrations(app, handle)


@twin("registration-rejects-unknown-metadata", SPECS, {"RFC7591-2-IGNORE-UNKNOWN"})
def rejects_unknown_metadata(app: ASGIApp) -> ASGIApp:
    known = {*CLIENT_METADATA, "software_statement"}

    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        return await register({**meta, **REFUSED} if set(meta) - known else meta)

    return on_registrations(app, handle)


@twin("registration-keeps-jwks-and-jwks-uri", SPECS, {"RFC7591-2-JWKS-XOR"})
def keeps_jwks_and_jwks_uri(app: ASGIApp) -> ASGIApp:
    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        if meta.get("jwks") is None or meta.get("jwks_uri") is None:
            return await register(meta)
        answer = await register({k: v for k, v in meta.items() if k != "jwks"})
        info = json_of(answer)
        return with_json(answer, {**info, "jwks": meta["jwks"]}) if answer[0] == 201 and info else answer

    return on_registrations(app, handle)


@twin("registration-code-client-without-redirect-uris", SPECS, {"RFC7591-5-REDIRECT-REQUIRED"})
def code_client_without_redirect_uris(app: ASGIApp) -> ASGIApp:
    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        if meta.get("redirect_uris"):
            return await register(meta)
        answer = await register({**meta, "redirect_uris": ["https://placeholder.invalid/cb"]})
        info = json_of(answer)
        return with_json(answer, {**info, "redirect_uris": []}) if answer[0] == 201 and info else answer

    return on_registrations(app, handle)


@twin(
    "registration-remote-http-redirect-uri",
    ("rfc7591", "mcp"),
    {"RFC7591-5-REDIRECT-CLASS", "MCP-COMM-REDIRECT"},
)
def remote_http_redirect_uri(app: ASGIApp) -> ASGIApp:
    """A remote http redirect URI registers: it is sent on as https, and answered as it came."""

    def remote_http(uri: object) -> bool:
        host = urlsplit(str(uri)).hostname or ""
        return str(uri).startswith("http://") and host not in ("localhost", "::1") and not host.startswith("127.")

    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        uris = meta.get("redirect_uris")
        if not isinstance(uris, list) or not any(remote_http(u) for u in uris):
            return await register(meta)
        safe = ["https://" + str(u)[7:] if remote_http(u) else u for u in uris]
        answer = await register({**meta, "redirect_uris": safe})
        info = json_of(answer)
        return with_json(answer, {**info, "redirect_uris": uris}) if answer[0] == 201 and info else answer

    return on_registrations(app, handle)


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
    """Grant types that do not go with the response types register anyway, as they were sent."""

    async def handle(meta: dict[str, Any], register: Registering) -> Answer:
        answer = await register(meta)
        if answer[0] != 400 or "inconsistent" not in str((json_of(answer) or {}).get("error_description")):
            return answer
        grants: list[Any] = meta["grant_types"] if isinstance(meta.get("grant_types"), list) else []
        again = await register({**meta, "grant_types": [*grants, "authorization_code"]})
        info = json_of(again)
        return with_json(again, {**info, "grant_types": grants}) if again[0] == 201 and info else answer

    return on_registrations(app, handle)


@twin(
    "registration-secrets-never-expire",
    SPECS,
    set(),
    warns={"RFC7591-3.2.1-SECRET-EXPIRY"},
    options={"client_registration_ttl": None},
)
def secrets_never_expire(app: ASGIApp) -> ASGIApp:
    """The registration response still states when the secret expires (in 90 days, the reference's
    default); the registrations (option ``client_registration_ttl = None``) never expire."""

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        if "client_secret" in doc and isinstance(doc.get("client_id_issued_at"), int):
            doc["client_secret_expires_at"] = doc["client_id_issued_at"] + 90 * 86_400
        return doc

    return registration(app, edit)


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
    DELETE removes, all through the provider's helpers (``lookup_client``, ``update_client``,
    ``delete_client``: public API). ``broken`` names one behaviour to get wrong (a twin); empty,
    the layer is correct."""

    def __init__(self, app: ASGIApp, broken: str = "") -> None:
        self.app = app
        self.broken = broken
        self.tokens: dict[str, str] = {}  # client_id -> sha256 of its registration access token
        self.secrets: dict[str, str] = {}  # client_id -> the secret the registration issued
        self.cached: dict[str, dict[str, Any]] = {}  # the last information returned, per client
        self.deleted: set[str] = set()  # clients whose deletion left their record (and grants) behind

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
        if path == TOKEN and self.deleted:
            body = await read_body(receive)
            if presented(scope, form_of(body)).client_id in self.deleted:  # deleted: it no longer authenticates
                await json_reply(send, 401, {"error": "invalid_client", "error_description": "unknown client"})
                return
            receive = replay(body)
        await self.app(scope, receive, send)

    # -------------------------------------------------------------------- registration response
    def _registered(self, scope: Scope, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 201:
            return status, headers, body
        info = orjson.loads(body)
        token = secrets.token_urlsafe(32)
        self.tokens[info["client_id"]] = digest(token)
        if isinstance(info.get("client_secret"), str):
            self.secrets[info["client_id"]] = info["client_secret"]
        info["registration_client_uri"] = f"{origin(scope)}{REGISTER}/{info['client_id']}"
        if self.broken != "half":
            info["registration_access_token"] = token
        self.cached[info["client_id"]] = info
        return status, headers, orjson.dumps(info)

    # ------------------------------------------------------------- client configuration endpoint
    async def _configure(self, scope: Scope, receive: Receive, send: Send, client_id: str) -> None:
        token = bearer(scope)
        known = self.tokens.get(client_id)
        if self.broken != "no-token-check" and (
            token is None or known is None or not hmac.compare_digest(known, digest(token))
        ):
            challenge = 'Bearer realm="registration"' + ("" if token is None else ', error="invalid_token"')
            await json_reply(send, 401, {"error": "invalid_token"}, [(b"www-authenticate", challenge.encode())])
            return
        client = None if client_id in self.deleted else await helpers().lookup_client(client_id)
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

    def _information(
        self, scope: Scope, client: ClientInfo, token: str | None, left_out: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """RFC 7591 section 3.2.1's client information, less the optional members an update left out."""
        info: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": client.registration_date}
        for name in CLIENT_METADATA:
            value = getattr(client, name, None)
            if value is not None and name not in left_out:
                info[name] = value
        info["registration_client_uri"] = f"{origin(scope)}{REGISTER}/{client.client_id}"
        if token is not None:
            info["registration_access_token"] = token
        self.cached[client.client_id] = info
        return info

    async def _update(self, scope: Scope, receive: Receive, send: Send, client: ClientInfo, token: str | None) -> None:
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
        changes: dict[str, Any] = dict(meta)
        if secret is not None:
            if self.broken == "chosen-secret":
                changes["client_secret"] = secret
            elif secret != self.secrets.get(client.client_id):
                await json_reply(send, 400, {"error": "invalid_client_metadata", "error_description": "wrong secret"})
                return
        if self.broken == "update-augments" and isinstance(meta.get("redirect_uris"), list):
            changes["redirect_uris"] = list(dict.fromkeys([*client.redirect_uris, *meta["redirect_uris"]]))
        try:
            updated = await helpers().update_client(client.client_id, **changes)
        except (OAuthError, ValueError, TypeError) as exc:
            error = exc if isinstance(exc, OAuthError) else OAuthError(str(exc))
            await json_reply(send, error.status_code, error.body())
            return
        assert updated is not None
        if isinstance(secret, str) and self.broken == "chosen-secret":
            self.secrets[client.client_id] = secret
        # Section 2.2: the request replaces the registration; members it leaves out are deleted.
        left_out = tuple(name for name in OPTIONAL_METADATA if name not in meta)
        info = self._information(scope, updated, token, left_out)
        if self.broken == "update-client-id":
            info = {**info, "client_id": asked_id}
        if self.broken == "update-204":
            await reply(send, 204, b"", None)
            return
        await json_reply(send, 200, info)

    async def _delete(self, send: Send, client_id: str) -> None:
        if self.broken == "delete-keeps-grants":
            self.deleted.add(client_id)  # it no longer authenticates, but its grants and tokens live on
        elif self.broken != "delete-keeps-client":
            await helpers().delete_client(client_id)
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

        def add(doc: dict[str, Any]) -> dict[str, Any]:
            return {**doc, "software_statement": statement} if returned and isinstance(statement, str) else doc

        await registration(app, add)(scope, replay(body), send)

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
