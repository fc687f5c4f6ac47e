"""Twins that break DPoP (RFC 9449), one behaviour each.

Every twin runs the reference with DPoP on (with nonces), introspection and PAR, and breaks one
check: by replacing a piece of ``oauth_reference.specs.rfc9449`` (or a module's view of another
module) in the twin's process, or by wrapping the app.
"""

from __future__ import annotations

import contextvars
import dataclasses
import secrets
import time
from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

SPECS = ("rfc9449",)
OPTIONS: dict[str, object] = {
    "dpop_enabled": True,
    "dpop_nonce": True,
    "introspection_endpoint": "/oauth/introspect",
    "pushed_authorization_request_endpoint": "/oauth/par",
}
METHOD: contextvars.ContextVar[str] = contextvars.ContextVar("method", default="POST")


def dpop_twin(name: str, fails: set[str], *, nonces: bool = True, **kwargs: Any) -> Any:
    """A twin of the DPoP suite; ``nonces=False`` runs it without server-supplied nonces."""
    options = OPTIONS if nonces else {**OPTIONS, "dpop_nonce": False}
    return twin(name, SPECS, {f"RFC9449-{f}" for f in fails}, options=options, **kwargs)


def with_method(app: ASGIApp) -> ASGIApp:
    """Keep each request's method where patched functions can read it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            METHOD.set(str(scope["method"]))
        await app(scope, receive, send)

    return wrapped


def edit_proof(change: Any) -> None:
    """Let ``change(header, claims)`` edit every proof as the reference reads it, before its checks."""
    from oauth_reference.specs import rfc9449

    unverified = rfc9449.unverified

    def edited(value: str, **kwargs: Any) -> Any:
        header, claims = unverified(value, **kwargs)
        change(header, claims)
        return header, claims

    rfc9449.unverified = edited


class Delegate:
    """A module's stand-in: everything from ``module`` but what the subclass redefines."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


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


@dpop_twin("dpop-typ-not-checked", {"4.3-TYP"}, warns={"RFC9449-5-INVALID-DPOP-PROOF"})
def typ_not_checked(app: ASGIApp) -> ASGIApp:
    edit_proof(lambda header, claims: header.update(typ="dpop+jwt"))
    return app


@dpop_twin("dpop-claims-filled-in", {"4.3-CLAIMS"})
def claims_filled_in(app: ASGIApp) -> ASGIApp:
    """A proof missing jti, htm, htu or iat is read as if it had them right."""
    from oauth_reference.specs import rfc9449

    request_url = rfc9449.request_url
    urls: contextvars.ContextVar[str] = contextvars.ContextVar("url", default="")

    def fill(header: dict[str, Any], claims: dict[str, Any]) -> None:
        claims.setdefault("jti", secrets.token_urlsafe(12))
        claims.setdefault("htm", METHOD.get())
        claims.setdefault("htu", urls.get())
        claims.setdefault("iat", int(time.time()))

    async def check_proof(core: Any, request: Any, **kwargs: Any) -> Any:
        urls.set(kwargs.get("url") or request_url(request))
        return await original(core, request, **kwargs)

    original = rfc9449.check_proof
    edit_proof(fill)
    rfc9449.check_proof = check_proof
    return with_method(app)


@dpop_twin("dpop-private-key-taken", {"4.3-NO-PRIVATE-KEY"})
def private_key_taken(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    rfc9449.PRIVATE_MEMBERS = frozenset()
    return app


@dpop_twin("dpop-signature-not-checked", {"4.3-SIGNATURE"})
def signature_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    class Unchecked(Delegate):
        @staticmethod
        def decode(*args: Any, **kwargs: Any) -> None:
            return None

    rfc9449.jwt = Unchecked(rfc9449.jwt)
    return app


@dpop_twin("dpop-htm-not-checked", {"4.3-HTM", "7.1-RESOURCE-CHECKS"})
def htm_not_checked(app: ASGIApp) -> ASGIApp:
    edit_proof(lambda header, claims: claims.update(htm=METHOD.get()) if "htm" in claims else None)
    return with_method(app)


@dpop_twin("dpop-htu-not-checked", {"4.3-HTU", "7.1-RESOURCE-CHECKS"})
def htu_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    rfc9449.normalized = lambda url: "https://any.example/"
    return app


# ---------------------------------------------------------------------------- section 11.1
@dpop_twin("dpop-lifetime-not-checked", {"11.1-LIFETIME"}, nonces=False)
def lifetime_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    rfc9449.PROOF_LIFETIME = 10**8
    rfc9449.FUTURE_SKEW = 10**8
    return app


@dpop_twin("dpop-replay-allowed", set(), warns={"RFC9449-11.1-JTI-REPLAY"})
def replay_allowed(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    class Forgetful(Delegate):
        @staticmethod
        def sha256_hex(value: str) -> str:
            return secrets.token_hex(32)  # every proof's replay marker is a new one

    rfc9449.crypto = Forgetful(rfc9449.crypto)
    return app


# ------------------------------------------------------------------------------- section 8
@dpop_twin("dpop-nonce-not-checked", {"8-NONCE"})
def nonce_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    rfc9449.nonce_is_fresh = lambda core, value: True
    return app


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


def unbinding(module: Any, member: str) -> None:
    """``module`` loads grants whose ``member`` (a key binding) is gone."""

    class Unbound(Delegate):
        async def load(self, *args: Any) -> Any:
            found = await self._module.load(*args)
            if found is not None:
                setattr(found[0], member, None)
            return found

    module.grants = Unbound(module.grants)


@dpop_twin("dpop-refresh-token-unbound", {"5-RT-BOUND"})
def refresh_token_unbound(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    unbinding(refresh_grant, "refresh_jkt")
    return app


@dpop_twin("dpop-bound-client-ignored", {"5.2-BOUND-CLIENT"})
def bound_client_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import token_endpoint

    class Forgets(Delegate):
        async def authenticate(self, *args: Any) -> Any:
            client = await self._module.authenticate(*args)
            return dataclasses.replace(client, dpop_bound_access_tokens=None)

    token_endpoint.client_auth = Forgets(token_endpoint.client_auth)
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


@dpop_twin("dpop-jkt-not-checked", {"10-DPOP-JKT", "10.1-PAR"})
def jkt_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    unbinding(code_grant, "dpop_jkt")
    return app


@dpop_twin("dpop-par-proof-ignored", {"10.1-PAR"})
def par_proof_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9126

    class Blind(Delegate):
        @staticmethod
        async def check_proof(*args: Any, **kwargs: Any) -> None:
            return None

    rfc9126.rfc9449 = Blind(rfc9126.rfc9449)
    return app


# ------------------------------------------------------------------------------- section 7
@dpop_twin("dpop-bearer-downgrade", {"7.2-NO-DOWNGRADE"})
def bearer_downgrade(app: ASGIApp) -> ASGIApp:
    """A DPoP-bound token sent as a bearer token is served as if its proof had come."""
    from oauth_reference.machinery import crypto
    from oauth_reference.machinery import grants
    from oauth_reference.machinery import records
    from oauth_reference.machinery.records import AccessToken
    from oauth_reference.specs import rfc6750

    check = rfc6750.check

    async def lenient(core: Any, token: str, url: str, *, dpop_jkt: str | None = None) -> Any:
        ids = grants.split_token(token)
        if dpop_jkt is None and ids is not None:
            entry = await core.storage.get(records.token_key(*ids, crypto.sha256_hex(token)))
            if entry is not None:
                dpop_jkt = records.load(AccessToken, entry.value).jkt
        return await check(core, token, url, dpop_jkt=dpop_jkt)

    rfc6750.check = lenient
    return app


@dpop_twin("dpop-challenge-bearer", set(), warns={"RFC9449-7.1-CHALLENGE"})
def challenge_bearer(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9449

    rfc9449.challenge = lambda error=None, description=None: f'Bearer error="{error or "invalid_token"}"'
    return app
