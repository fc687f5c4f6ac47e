"""Twins that break DPoP (RFC 9449), one behaviour each.

Every twin runs the reference with DPoP on (with nonces), introspection and PAR, and breaks one
check through a public seam: on the wire (a proxy in front of the reference), with a storage
subclass, or, since a proof is signed by the client's key and no proxy can change what it claims,
through the two DPoP faults (``dpop-proof-read`` changes the header and claims the checks see,
``dpop-proof-signature`` the signature check).
"""

from __future__ import annotations

import contextvars
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from joserfc.jwk import import_key

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from suites.tests.twins import Register
from suites.tests.twins import StorageFactory
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import header
from suites.tests.twins.wire import offset_of

SPECS = ("rfc9449",)
OPTIONS: dict[str, object] = {
    "dpop_enabled": True,
    "dpop_nonce": True,
    "introspection_endpoint": "/oauth/introspect",
    "pushed_authorization_request_endpoint": "/oauth/par",
}
# The request being handled, published by :func:`with_request` for the hooks to read.
REQUEST: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("dpop_twin_request", default=None)
# RFC 7517/7518: the members of a private JWK (a proof's jwk must hold none).
PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
Claims = dict[str, Any]


def dpop_twin(name: str, fails: set[str], *, nonces: bool = True, **kwargs: Any) -> Register:
    """A twin of the DPoP suite; ``nonces=False`` runs it without server-supplied nonces."""
    options = OPTIONS if nonces else {**OPTIONS, "dpop_nonce": False}
    return twin(name, SPECS, {f"RFC9449-{f}" for f in fails}, options=options, **kwargs)


def with_request(app: ASGIApp) -> ASGIApp:
    """Publish each request's scope in :data:`REQUEST` (the hooks run in the same task)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            REQUEST.set(scope)
        await app(scope, receive, send)

    return wrapped


def method() -> str:
    scope = REQUEST.get()
    return str(scope["method"]) if scope is not None else "POST"


def url() -> str:
    """The URL of the request being handled, as a proof's htu names it (no query)."""
    scope = REQUEST.get() or {}
    return f"{scope.get('scheme', 'http')}://{header(scope, b'host') or ''}{scope.get('path', '/')}"


def proof_read(change: Callable[[Claims, Claims], None]) -> dict[str, Callable[..., object]]:
    """The faults of a twin whose proof checks see the header and claims ``change`` edited."""

    def read(original: Callable[..., tuple[Claims, Claims]], value: str, **kwargs: Any) -> tuple[Claims, Claims]:
        proof_header, claims = original(value, **kwargs)
        change(proof_header, claims)
        return proof_header, claims

    return {"dpop-proof-read": read}


# ----------------------------------------------------------------------------- section 4.3
@dpop_twin("dpop-two-headers-taken", {"4.3-SINGLE-HEADER"})
def two_headers_taken(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen = False
            headers = []
            for name, value in scope["headers"]:
                if name.lower() == b"dpop":
                    if seen:
                        continue
                    seen = True
                headers.append((name, value))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


@dpop_twin(
    "dpop-typ-not-checked",
    {"4.3-TYP"},
    warns={"RFC9449-5-INVALID-DPOP-PROOF"},
    faults=proof_read(lambda proof_header, claims: proof_header.update(typ="dpop+jwt")),
)
def typ_not_checked(app: ASGIApp) -> ASGIApp:
    return app


def fill(proof_header: Claims, claims: Claims) -> None:
    claims.setdefault("jti", secrets.token_urlsafe(12))
    claims.setdefault("htm", method())
    claims.setdefault("htu", url())
    claims.setdefault("iat", int(time.time() + offset_of(REQUEST.get() or {})))


@dpop_twin("dpop-claims-filled-in", {"4.3-CLAIMS"}, faults=proof_read(fill))
def claims_filled_in(app: ASGIApp) -> ASGIApp:
    """A proof missing jti, htm, htu or iat is read as if it had them right."""
    return with_request(app)


def public_only(proof_header: Claims, claims: Claims) -> None:
    jwk = proof_header.get("jwk")
    if isinstance(jwk, dict):
        proof_header["jwk"] = {k: v for k, v in jwk.items() if k not in PRIVATE}


@dpop_twin("dpop-private-key-taken", {"4.3-NO-PRIVATE-KEY"}, faults=proof_read(public_only))
def private_key_taken(app: ASGIApp) -> ASGIApp:
    return app


def unverified_key(original: Callable[..., str], value: str, jwk: dict[str, Any], alg: str) -> str:
    return str(import_key(jwk).thumbprint())  # the signature is never checked


UNVERIFIED = {"dpop-proof-signature": unverified_key}


@dpop_twin("dpop-signature-not-checked", {"4.3-SIGNATURE"}, faults=UNVERIFIED)
def signature_not_checked(app: ASGIApp) -> ASGIApp:
    return app


@dpop_twin("dpop-unadvertised-signature-not-checked", {"4.3-SIGNATURE"}, faults=UNVERIFIED)
def unadvertised_signature_not_checked(app: ASGIApp) -> ASGIApp:
    """DPoP left out of the metadata, its checks still run (one of them broken): the probe must see
    it. The reference authenticates the client before it reads a proof, so a probe for an unknown
    client saw nothing, and every RFC 9449 requirement was not_applicable."""

    def hide(body: Any) -> Any:
        return (
            {k: v for k, v in body.items() if k != "dpop_signing_alg_values_supported"}
            if isinstance(body, dict)
            else body
        )

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(hide))


def right_method(proof_header: Claims, claims: Claims) -> None:
    if "htm" in claims:
        claims["htm"] = method()


@dpop_twin("dpop-htm-not-checked", {"4.3-HTM", "7.1-RESOURCE-CHECKS"}, faults=proof_read(right_method))
def htm_not_checked(app: ASGIApp) -> ASGIApp:
    return with_request(app)


def right_url(proof_header: Claims, claims: Claims) -> None:
    if "htu" in claims:
        claims["htu"] = url()


@dpop_twin("dpop-htu-not-checked", {"4.3-HTU", "7.1-RESOURCE-CHECKS"}, faults=proof_read(right_url))
def htu_not_checked(app: ASGIApp) -> ASGIApp:
    return with_request(app)


# ---------------------------------------------------------------------------- section 11.1
def just_made(proof_header: Claims, claims: Claims) -> None:
    if isinstance(claims.get("iat"), int | float):
        claims["iat"] = int(time.time() + offset_of(REQUEST.get() or {}))


@dpop_twin("dpop-lifetime-not-checked", {"11.1-LIFETIME"}, nonces=False, faults=proof_read(just_made))
def lifetime_not_checked(app: ASGIApp) -> ASGIApp:
    return with_request(app)


JTI_MARKERS = "dpop-jti:"  # the storage schema's DPoP replay markers (reference/README.md)


class ForgetfulOfProofs(SQLiteStorage):
    """A store that never writes a DPoP proof's replay marker (nor waits for its absence)."""

    async def commit(self, writes: Any, *, expect: Any = None) -> bool:
        kept: list[Write] = [w for w in writes if not (isinstance(w, Put) and w.key.startswith(JTI_MARKERS))]
        conditions = {k: v for k, v in (expect or {}).items() if not k.startswith(JTI_MARKERS)}
        return await super().commit(kept, expect=conditions)


@dpop_twin(
    "dpop-replay-allowed",
    set(),
    warns={"RFC9449-11.1-JTI-REPLAY"},
    storage=lambda path, clock: ForgetfulOfProofs(path, clock),
)
def replay_allowed(app: ASGIApp) -> ASGIApp:
    return app


# ------------------------------------------------------------------------------- section 8
NONCES: list[str] = []  # the last DPoP-Nonce the reference sent, learned on the wire


def fresh_nonce(proof_header: Claims, claims: Claims) -> None:
    if "nonce" in claims and NONCES:
        claims["nonce"] = NONCES[-1]


@dpop_twin("dpop-nonce-not-checked", {"8-NONCE"}, faults=proof_read(fresh_nonce))
def nonce_not_checked(app: ASGIApp) -> ASGIApp:
    """Any nonce is taken: the checks see the last one the server handed out instead."""

    def learn(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        NONCES[:] = [v.decode("latin-1") for k, v in headers if k.lower() == b"dpop-nonce"][-1:] or NONCES
        return status, headers, body

    return rewrite(app, lambda scope: True, learn)


@dpop_twin("dpop-two-nonce-headers", {"8-ONE-NONCE-HEADER"}, warns={"RFC9449-8-USE-DPOP-NONCE"})
def two_nonce_headers(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        nonces = [(k, v) for k, v in headers if k.lower() == b"dpop-nonce"]
        return status, headers + nonces, body

    return rewrite(app, lambda scope: True, change)


# ------------------------------------------------------------------------------- section 5
@dpop_twin("dpop-token-type-bearer", {"5-TOKEN-TYPE"})
def token_type_bearer(app: ASGIApp) -> ASGIApp:
    def bearer(body: Any) -> Any:
        return {**body, "token_type": "Bearer"} if isinstance(body, dict) and body.get("token_type") == "DPoP" else body

    return rewrite(app, path_is("/oauth/token", "POST"), edit_json(bearer))


class Unbinding(SQLiteStorage):
    """A store that loses a member of the records under a key prefix (a key binding), as it reads them."""

    prefix = ""
    member = ""

    def only_now(self) -> bool:
        return True

    async def get(self, key: str) -> Entry | None:
        entry = await super().get(key)
        if entry is None or not key.startswith(self.prefix) or not self.only_now():
            return entry
        record = orjson.loads(entry.value)
        if not isinstance(record, dict) or record.get(self.member) is None:
            return entry
        record[self.member] = None
        return Entry(orjson.dumps(record), entry.version, entry.expires_at, entry.metadata)


def unbinding(prefix: str, member: str, when: Callable[[], bool] | None = None) -> StorageFactory:
    """A storage factory: records under ``prefix`` are read without ``member`` (when ``when()`` says so)."""

    class Made(Unbinding):
        def only_now(self) -> bool:
            return when() if when is not None else True

    Made.prefix, Made.member = prefix, member
    return lambda path, clock: Made(path, clock)


@dpop_twin("dpop-refresh-token-unbound", {"5-RT-BOUND"}, storage=unbinding("grant:", "refresh_jkt"))
def refresh_token_unbound(app: ASGIApp) -> ASGIApp:
    return app


@dpop_twin("dpop-bound-client-ignored", {"5.2-BOUND-CLIENT"}, storage=unbinding("client:", "dpop_bound_access_tokens"))
def bound_client_ignored(app: ASGIApp) -> ASGIApp:
    return app


@dpop_twin("dpop-algs-with-a-mac", set(), warns={"RFC9449-5.1-ALGS"})
def algs_with_a_mac(app: ASGIApp) -> ASGIApp:
    def add(body: Any) -> Any:
        algs = body.get("dpop_signing_alg_values_supported")
        return {**body, "dpop_signing_alg_values_supported": [*algs, "HS256"]} if isinstance(algs, list) else body

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(add))


# ------------------------------------------------------------------------- sections 6 and 10
@dpop_twin("dpop-introspection-without-cnf", {"6.2-INTROSPECTION"})
def introspection_without_cnf(app: ASGIApp) -> ASGIApp:
    def drop(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != "cnf"} if isinstance(body, dict) else body

    return rewrite(app, path_is("/oauth/introspect", "POST"), edit_json(drop))


@dpop_twin("dpop-jkt-not-checked", {"10-DPOP-JKT", "10.1-PAR"}, storage=unbinding("grant:", "dpop_jkt"))
def jkt_not_checked(app: ASGIApp) -> ASGIApp:
    return app


@dpop_twin("dpop-par-proof-ignored", {"10.1-PAR"})
def par_proof_ignored(app: ASGIApp) -> ASGIApp:
    """The PAR endpoint never sees the request's DPoP proof (so binds the code to no key)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/oauth/par":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"dpop"]}
        await app(scope, receive, send)

    return wrapped


# ------------------------------------------------------------------------------- section 7
BEARER: contextvars.ContextVar[bool] = contextvars.ContextVar("dpop_twin_bearer", default=False)


@dpop_twin("dpop-bearer-downgrade", {"7.2-NO-DOWNGRADE"}, storage=unbinding("token:", "jkt", when=BEARER.get))
def bearer_downgrade(app: ASGIApp) -> ASGIApp:
    """A DPoP-bound token sent as a bearer token is served: its binding is not read for such requests."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            BEARER.set((header(scope, b"authorization") or "")[:7].lower() == "bearer ")
        await app(scope, receive, send)

    return wrapped


_ERROR = re.compile(r'error="([^"]*)"')


@dpop_twin("dpop-challenge-bearer", set(), warns={"RFC9449-7.1-CHALLENGE"})
def challenge_bearer(app: ASGIApp) -> ASGIApp:
    """The API routes answer a refused DPoP request with a Bearer challenge."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        out: Headers = []
        for k, v in headers:
            if k.lower() == b"www-authenticate" and v[:5].lower() == b"dpop ":
                found = _ERROR.search(v.decode("latin-1"))
                v = f'Bearer error="{found.group(1) if found else "invalid_token"}"'.encode("latin-1")
            out.append((k, v))
        return status, out, body

    return rewrite(app, lambda scope: str(scope["path"]).startswith("/api"), change)
