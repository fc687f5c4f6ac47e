"""Twins for token exchange (RFC 8693), the JWT bearer grant and client assertions (RFC 7523),
ID-JAG and client ID metadata documents (CIMD), each with the MCP rows it also breaks.

Every twin runs the reference with every feature on (``features=True``: it trusts the test run's
fixture host) and breaks one behaviour, by patching a function of ``oauth_reference`` (this runs
in the twin's server process only) or by wrapping the app. Twins name the suite modules that test
the behaviour (``idjag.test_assertion`` rather than all of ``idjag``) to keep the runs short.
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
import time
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import patch
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
AS_METADATA = "/.well-known/oauth-authorization-server"

EXCHANGE = ("rfc8693",)
GRANT = ("rfc7523.test_jwt_bearer_grant",)
ASSERTION = ("idjag.test_assertion",)
RESPONSE = ("idjag.test_token_response",)
IDJAG_METADATA = ("idjag.test_metadata",)
EMA = ("mcp.test_enterprise_managed_authorization",)
CLIENT_ASSERTION = ("rfc7523.test_client_assertion",)
MCP_CIMD = ("mcp.test_client_id_metadata_documents",)

Pairs = list[tuple[str, str]]
Headers = list[tuple[bytes, bytes]]
FormChange = Callable[[Pairs], Pairs]
ResponseChange = Callable[[Pairs, int, dict[str, Any]], dict[str, Any]]

# Set per token request by the form middleware, read by patches that need the request.
REQUEST: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("twin_request", default=None)


def requested(name: str) -> str:
    """A form parameter (or ``__host__``) of the token request being handled."""
    return (REQUEST.get() or {}).get(name, "")


# ------------------------------------------------------------------------------------ tools
def token_requests(
    app: ASGIApp,
    grant_type: str | None,
    change: FormChange | None = None,
    respond: ResponseChange | None = None,
) -> ASGIApp:
    """Wrap the token endpoint: rewrite the form of requests for ``grant_type`` (any when None)
    before the reference sees it, and their JSON responses after. Every token request's form and
    Host are published in :data:`REQUEST` for patches to read."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/token"):
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        mine = grant_type is None or dict(pairs).get("grant_type") == grant_type
        if mine and change is not None:
            pairs = change(list(pairs))
            body = urlencode(pairs).encode()
        headers = dict(scope["headers"])
        REQUEST.set({**dict(pairs), "__host__": headers.get(b"host", b"").decode("latin-1")})
        new_headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        new_headers.append((b"content-length", str(len(body)).encode()))
        scope = dict(scope, headers=new_headers)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if not mine or respond is None:
            await app(scope, replay, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, replay, capture)
        status, out = start["status"], b"".join(chunks)
        try:
            data = orjson.loads(out)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            out = orjson.dumps(respond(pairs, status, data))
        kept = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        kept.append((b"content-length", str(len(out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": out})

    return wrapped


def without(*names: str) -> FormChange:
    return lambda pairs: [(k, v) for k, v in pairs if k not in names]


def metadata(app: ASGIApp, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    return rewrite(app, path_is(AS_METADATA), edit_json(edit))


ClaimsEdit = Callable[[dict[str, Any], str, str, float], tuple[str, float]]


def idjag_claims(edit: ClaimsEdit) -> None:
    """Patch the ID-JAG claim checks: ``edit(claims, issuer, client_id, now)`` may change the claims
    (the grant goes on with them) and returns the client_id and time the checks then use."""
    from oauth_reference.specs import idjag

    original = idjag._check_claims

    def patched(claims: dict[str, Any], trusted: Any, ema: Any, client_id: str, issuer: str, now: float) -> float:
        client_id, now = edit(claims, issuer, client_id, now)
        return original(claims, trusted, ema, client_id, issuer, now)

    idjag._check_claims = patched  # type: ignore[assignment]


def keep(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
    return client_id, now


def dropping(name: str) -> ClaimsEdit:
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        claims.pop(name, None)
        return client_id, now

    return edit


# ------------------------------------------------------------------------ RFC 8693 twins
@twin("token-exchange-token-unusable", EXCHANGE, set(), features=True, warns={"RFC8693-2.1-GRANT"})
def exchange_token_unusable(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if status == 200 and "access_token" in body:
            body["access_token"] = "oauth-conformance-twin-" + str(body["access_token"])[::-1]
        return body

    return token_requests(app, TOKEN_EXCHANGE, respond=respond)


@twin("token-exchange-no-issued-token-type", EXCHANGE, {"RFC8693-2.2.1-RESPONSE"}, features=True)
def exchange_no_issued_type(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        body.pop("issued_token_type", None)
        return body

    return token_requests(app, TOKEN_EXCHANGE, respond=respond)


@twin(
    "token-exchange-scope-silently-changed",
    EXCHANGE,
    {"RFC8693-2.2.1-SCOPE"},
    warns={"RFC8693-5-NO-ESCALATION"},
    features=True,
)
def exchange_scope_silent(app: ASGIApp) -> ASGIApp:
    # Ignores the requested scope, and then does not say which scope it issued.
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        body.pop("scope", None)
        return body

    return token_requests(app, TOKEN_EXCHANGE, without("scope"), respond)


@twin("token-exchange-subject-type-defaulted", EXCHANGE, {"RFC8693-2.1-SUBJECT-REQUIRED"}, features=True)
def exchange_subject_type_defaulted(app: ASGIApp) -> ASGIApp:
    def change(pairs: Pairs) -> Pairs:
        if "subject_token_type" not in dict(pairs):
            pairs.append(("subject_token_type", ACCESS_TOKEN))
        return pairs

    return token_requests(app, TOKEN_EXCHANGE, change)


@twin("token-exchange-lone-actor-type-ignored", EXCHANGE, {"RFC8693-2.1-ACTOR-TYPE"}, features=True)
def exchange_lone_actor_type(app: ASGIApp) -> ASGIApp:
    def change(pairs: Pairs) -> Pairs:
        return pairs if "actor_token" in dict(pairs) else without("actor_token_type")(pairs)

    return token_requests(app, TOKEN_EXCHANGE, change)


@twin("token-exchange-subject-secret-unchecked", EXCHANGE, {"RFC8693-2.1-VALIDATE"}, features=True)
def exchange_subject_secret_unchecked(app: ASGIApp) -> ASGIApp:
    # Looks a subject token up by its user and grant ids only: an altered secret part still works
    # (a genuine refresh token is left alone: that is RFC8693-2.1-TYPE-MISMATCH's business).
    issued: dict[str, str] = {}
    refresh_tokens: set[str] = set()

    def prefix(token: str) -> str:
        return token.rpartition(":")[0]

    def remember(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        token = body.get("access_token")
        if status == 200 and isinstance(token, str):
            issued[prefix(token)] = token
        if status == 200 and isinstance(body.get("refresh_token"), str):
            refresh_tokens.add(body["refresh_token"])
        return body

    def change(pairs: Pairs) -> Pairs:
        form = dict(pairs)
        if form.get("grant_type") != TOKEN_EXCHANGE:
            return pairs
        if form.get("subject_token") in refresh_tokens:
            return pairs
        known = issued.get(prefix(form.get("subject_token", "")))
        return [(k, known if k == "subject_token" and known else v) for k, v in pairs]

    return token_requests(app, None, change, remember)


@twin("token-exchange-subject-type-unchecked", EXCHANGE, {"RFC8693-2.1-TYPE-MISMATCH"}, features=True)
def exchange_subject_type_unchecked(app: ASGIApp) -> ASGIApp:
    def change(pairs: Pairs) -> Pairs:
        return [(k, ACCESS_TOKEN if k == "subject_token_type" else v) for k, v in pairs]

    return token_requests(app, TOKEN_EXCHANGE, change)


@twin("token-exchange-invalid-subject-access-denied", EXCHANGE, {"RFC8693-2.2.2-ERROR"}, features=True)
def exchange_invalid_subject_access_denied(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if "subject token is not valid" in str(body.get("error_description", "")):
            body["error"] = "access_denied"
        return body

    return token_requests(app, TOKEN_EXCHANGE, respond=respond)


@twin("token-exchange-resource-ignored", EXCHANGE, {"RFC8693-2.1-RESOURCE-URI"}, features=True)
def exchange_resource_ignored(app: ASGIApp) -> ASGIApp:
    return token_requests(app, TOKEN_EXCHANGE, without("resource"))


# ----------------------------------------------------------- JWT bearer grant and ID-JAG twins
@twin(
    "jwt-bearer-refuses-every-assertion",
    GRANT + ASSERTION,
    set(),
    features=True,
    warns={"IDJAG-4.4-GRANT", "RFC7523-2.1-GRANT"},
)
def jwt_bearer_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.jose import JoseCheckError
    from oauth_reference.specs import idjag

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        raise JoseCheckError("the twin trusts no key")

    idjag.verify = verify
    return app


@twin("jwt-bearer-repeated-assertion-accepted", GRANT, {"RFC7523-2.1-ASSERTION"}, features=True)
def jwt_bearer_repeated_assertion(app: ASGIApp) -> ASGIApp:
    def change(pairs: Pairs) -> Pairs:
        seen = False
        kept: Pairs = []
        for name, value in pairs:
            if name == "assertion":
                if seen:
                    continue
                seen = True
            kept.append((name, value))
        return kept

    return token_requests(app, JWT_BEARER, change)


@twin("jwt-bearer-issuer-trailing-slash-accepted", GRANT, {"RFC7523-3-ISS"}, features=True)
def jwt_bearer_issuer_slash(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import idjag

    original = idjag.EnterpriseManagedAuthorization.issuer

    async def lenient(self: Any, iss: str) -> Any:
        return await original(self, iss.rstrip("/"))

    idjag.EnterpriseManagedAuthorization.issuer = lenient  # type: ignore[method-assign]

    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        if isinstance(claims.get("iss"), str):
            claims["iss"] = claims["iss"].rstrip("/")
        return client_id, now

    idjag_claims(edit)
    return app


@twin(
    "jwt-bearer-sub-optional",
    GRANT + ASSERTION,
    {"RFC7523-3-SUB", "IDJAG-3.1-REQUIRED-CLAIMS"},
    features=True,
)
def jwt_bearer_sub_optional(app: ASGIApp) -> ASGIApp:
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        claims.setdefault("sub", "anonymous")
        return client_id, now

    idjag_claims(edit)
    return app


@twin("jwt-bearer-audience-prefix-match", GRANT + ASSERTION, {"RFC7523-3-AUD", "IDJAG-4.4.1-AUD"}, features=True)
def jwt_bearer_audience_prefix(app: ASGIApp) -> ASGIApp:
    # The startswith() audience check found in the wild (JanssenProject/jans#14178).
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        aud = claims.get("aud")
        values = aud if isinstance(aud, list) else [aud]
        if any(isinstance(v, str) and v.startswith(issuer) for v in values):
            claims["aud"] = issuer
        return client_id, now

    idjag_claims(edit)
    return app


@twin("idjag-audience-unchecked", EMA, {"MCP-EMA-AUD"}, features=True)
def idjag_audience_unchecked(app: ASGIApp) -> ASGIApp:
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        if "aud" in claims:
            claims["aud"] = issuer
        return client_id, now

    idjag_claims(edit)
    return app


@twin(
    "jwt-bearer-expired-accepted",
    GRANT + ASSERTION + EMA,
    {"RFC7523-3-EXP", "IDJAG-4.4.1-RFC7521", "MCP-EMA-RFC7521"},
    features=True,
)
def jwt_bearer_expired(app: ASGIApp) -> ASGIApp:
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        exp = claims.get("exp")
        return client_id, (min(now, float(exp)) if isinstance(exp, int | float) else now)

    idjag_claims(edit)
    return app


@twin("jwt-bearer-nbf-ignored", GRANT + ASSERTION, {"RFC7523-3-NBF", "IDJAG-4.4.1-RFC7521"}, features=True)
def jwt_bearer_nbf_ignored(app: ASGIApp) -> ASGIApp:
    idjag_claims(dropping("nbf"))
    return app


@twin(
    "jwt-bearer-signature-unverified",
    GRANT + ASSERTION + EMA,
    {"RFC7523-3-SIG", "IDJAG-4.4.1-RFC7521", "MCP-EMA-RFC7521"},
    features=True,
)
def jwt_bearer_signature_unverified(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.jose import unverified
    from oauth_reference.specs import idjag

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        return unverified(token)[1]

    idjag.verify = verify
    return app


@twin("jwt-bearer-critical-header-ignored", GRANT, {"RFC7523-3-VALID-JWT"}, features=True)
def jwt_bearer_crit_ignored(app: ASGIApp) -> ASGIApp:
    from joserfc import jws
    from joserfc.jwk import KeySet
    from joserfc.registry import HeaderParameter

    from oauth_reference.machinery.jose import JoseCheckError
    from oauth_reference.specs import idjag

    def unverified(token: str, *, limit: int = 16384) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            obj = jws.extract_compact(token.encode("ascii"))
            claims = orjson.loads(obj.payload)
        except Exception:
            raise JoseCheckError("the JWT cannot be parsed") from None
        if not isinstance(claims, dict):
            raise JoseCheckError("the JWT claims are not a JSON object")
        return dict(obj.protected), claims

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        header = jws.extract_compact(token.encode("ascii")).protected
        names = header.get("crit", [])
        known = {str(n): HeaderParameter("any", lambda value: None) for n in names}
        registry = jws.JWSRegistry(header_registry=known)
        try:
            obj = jws.deserialize_compact(token, KeySet.import_key_set(jwks), list(algorithms), registry=registry)  # type: ignore[arg-type]
        except Exception:
            raise JoseCheckError("the JWT signature does not verify with the trusted keys") from None
        return dict(orjson.loads(obj.payload))

    idjag.unverified = unverified
    idjag.verify = verify
    return app


@twin("jwt-bearer-client-secret-unchecked", GRANT, {"RFC7523-3.1-CLIENT-CREDS"}, features=True)
def jwt_bearer_client_secret_unchecked(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        try:
            return await original(core, request, form)
        except InvalidClientError:
            if form.get("grant_type") != JWT_BEARER:
                raise
            credentials = client_auth.read_credentials(request, form)
            found = await clients.lookup(core, credentials.client_id or "")
            if found is None:
                raise
            return found

    client_auth.authenticate = authenticate
    return app


@twin("jwt-bearer-invalid-request-not-invalid-grant", GRANT, {"RFC7523-3.1-INVALID-GRANT"}, features=True)
def jwt_bearer_invalid_request(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidRequestError
    from oauth_reference.specs import idjag

    idjag._fail = lambda reason: InvalidRequestError(f"invalid assertion: {reason}")  # type: ignore[assignment,return-value]
    return app


@twin("idjag-typ-unchecked", ASSERTION + EMA, {"IDJAG-4.4.1-TYP", "MCP-EMA-TYP"}, features=True)
def idjag_typ_unchecked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import idjag

    original = idjag.unverified

    def unverified(token: str, *, limit: int = 16384) -> tuple[dict[str, Any], dict[str, Any]]:
        header, claims = original(token, limit=limit)
        return {**header, "typ": idjag.TYP}, claims

    idjag.unverified = unverified
    return app


@twin("idjag-client-unbound", ASSERTION + EMA, {"IDJAG-4.4.1-CLIENT-BIND", "MCP-EMA-CLIENT-ID"}, features=True)
def idjag_client_unbound(app: ASGIApp) -> ASGIApp:
    def edit(claims: dict[str, Any], issuer: str, client_id: str, now: float) -> tuple[str, float]:
        named = claims.get("client_id")
        return (named if isinstance(named, str) else client_id), now

    idjag_claims(edit)
    return app


@twin("idjag-scope-unbounded", RESPONSE, {"IDJAG-4.4.1-SCOPE"}, features=True)
def idjag_scope_unbounded(app: ASGIApp) -> ASGIApp:
    idjag_claims(dropping("scope"))
    return app


@twin("idjag-resource-unbounded", RESPONSE, {"IDJAG-4.4.1-RESOURCE"}, features=True)
def idjag_resource_unbounded(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import idjag

    idjag.parse_resource = lambda value: "any"
    idjag.canonical = lambda value: "any"
    return app


@twin("idjag-response-silent", RESPONSE, {"IDJAG-4.4.1-RESP-GRANTED"}, features=True)
def idjag_response_silent(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import idjag

    original = idjag.token_response

    def token_response(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = original(*args, **kwargs)
        body.pop("scope", None)
        body.pop("resource", None)
        return body

    idjag.token_response = token_response
    return app


@twin("idjag-authorization-details-ignored", RESPONSE, set(), features=True, warns={"IDJAG-4.4.1-RAR"})
def idjag_rar_ignored(app: ASGIApp) -> ASGIApp:
    idjag_claims(dropping("authorization_details"))
    return app


@twin(
    "idjag-cnf-ignored",
    RESPONSE,
    {"IDJAG-8.6.1.2.2-CNF-NO-PROOF", "IDJAG-8.6.1.2.1-CNF-MISMATCH"},
    features=True,
)
def idjag_cnf_ignored(app: ASGIApp) -> ASGIApp:
    idjag_claims(dropping("cnf"))
    return app


@twin("idjag-token-unusable", EMA, set(), features=True, warns={"MCP-EMA-RESOURCE"})
def idjag_token_unusable(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import idjag

    original = idjag.token_response

    def token_response(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = original(*args, **kwargs)
        body["access_token"] = "oauth-conformance-twin-" + str(body["access_token"])[::-1]
        return body

    idjag.token_response = token_response
    return app


@twin("idjag-profile-without-jwt-bearer-grant", IDJAG_METADATA, {"IDJAG-7-GRANT-TYPE"}, features=True)
def idjag_profile_without_grant(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["grant_types_supported"] = [g for g in doc["grant_types_supported"] if g != JWT_BEARER]
        return doc

    return metadata(app, edit)


@twin(
    "idjag-profiles-a-string",
    IDJAG_METADATA,
    {"IDJAG-7-PROFILES-ARRAY"},
    warns={"IDJAG-7-PROFILE-ADVERTISED"},
    features=True,
)
def idjag_profiles_string(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["authorization_grant_profiles_supported"] = "urn:ietf:params:oauth:grant-profile:id-jag"
        return doc

    return metadata(app, edit)


@twin("idjag-profiles-disclose-issuers", IDJAG_METADATA, {"IDJAG-8.4-NO-DISCLOSE"}, features=True)
def idjag_profiles_disclose(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["authorization_grant_profiles_supported"] = [
            *doc["authorization_grant_profiles_supported"],
            "https://idp.enterprise.example/trusted-issuer",
        ]
        return doc

    return metadata(app, edit)


# ---------------------------------------------------------------- client assertion twins
def client_assertion_claims(edit: Callable[[dict[str, Any]], None]) -> None:
    """Patch the claims a verified client assertion yields (the checks then see the edited ones)."""
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.verify

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        claims = original(token, jwks, algorithms)
        edit(claims)
        return claims

    client_auth.verify = verify


@twin("client-assertion-always-refused", CLIENT_ASSERTION, {"RFC7523-2.2-CLIENT-AUTH"}, features=True)
def client_assertion_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.jose import JoseCheckError
    from oauth_reference.specs.oauth21 import client_auth

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        raise JoseCheckError("the twin trusts no client key")

    client_auth.verify = verify
    return app


@twin("client-assertion-sub-unchecked", CLIENT_ASSERTION, {"RFC7523-3-CLIENT-SUB"}, features=True)
def client_assertion_sub_unchecked(app: ASGIApp) -> ASGIApp:
    client_assertion_claims(lambda claims: claims.update(sub=claims.get("iss")))
    return app


@twin("client-assertion-audience-unchecked", CLIENT_ASSERTION, {"RFC7523-3-CLIENT-AUD"}, features=True)
def client_assertion_audience_unchecked(app: ASGIApp) -> ASGIApp:
    # The issuer is the origin the request came to: the middleware publishes its Host.
    client_assertion_claims(lambda claims: claims.update(aud=f"http://{requested('__host__')}"))
    return token_requests(app, None)


@twin("client-assertion-expiry-unchecked", CLIENT_ASSERTION, {"RFC7523-3-CLIENT-EXP"}, features=True)
def client_assertion_expiry_unchecked(app: ASGIApp) -> ASGIApp:
    client_assertion_claims(lambda claims: claims.update(exp=int(time.time()) + 60))
    return app


@twin("client-assertion-signature-unverified", CLIENT_ASSERTION, {"RFC7523-3-CLIENT-SIG"}, features=True)
def client_assertion_signature_unverified(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.jose import unverified
    from oauth_reference.specs.oauth21 import client_auth

    def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        return unverified(token)[1]

    client_auth.verify = verify
    return app


@twin("client-assertion-invalid-request", CLIENT_ASSERTION, {"RFC7523-3.2-INVALID-CLIENT"}, features=True)
def client_assertion_invalid_request(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidRequestError
    from oauth_reference.specs.oauth21 import client_auth

    client_auth.InvalidClientError = InvalidRequestError  # type: ignore[misc]
    return app


# --------------------------------------------------------------------------------- CIMD twins
def document_clients(wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    from oauth_reference.specs import cimd

    cimd.document_client = wrap(cimd.document_client)


def fetches(wrap: Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]) -> None:
    from oauth_reference.specs import cimd

    cimd.fetch = wrap(cimd.fetch)


@twin("cimd-documents-refused", ("cimd.test_flow",), {"CIMD-5-METADATA"}, features=True, warns={"CIMD-4-CODE-FLOW"})
def cimd_documents_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.cimd import CimdError

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def document_client(doc: Any, url: str, options: Any) -> Any:
            raise CimdError("the twin accepts no document")

        return document_client

    document_clients(wrap)
    return app


@twin("cimd-flag-missing", ("cimd.test_flow",), {"CIMD-5-METADATA"}, features=True)
def cimd_flag_missing(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc.pop("client_id_metadata_document_supported", None)
        return doc

    return metadata(app, edit)


@twin("cimd-code-not-bound-to-its-client", ("cimd.test_flow",), {"CIMD-4-CODE-BINDING"}, features=True)
def cimd_code_unbound(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import grants

    original = grants.load

    async def load(storage: Any, user_id: str, grant_id: str) -> Any:
        found = await original(storage, user_id, grant_id)
        asker = requested("client_id")
        if found is not None and asker.startswith("https://") and found[0].client_id.startswith("https://"):
            return dataclasses.replace(found[0], client_id=asker), found[1]
        return found

    grants.load = load
    return token_requests(app, None)


@twin("cimd-url-rules-unchecked", ("cimd.test_client_ids",), set(), features=True, warns={"CIMD-3-URL-RULES"})
def cimd_url_rules_unchecked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import cimd

    cimd.client_id_problem = lambda client_id: None if client_id.startswith("https://") else "https only"
    return app


@twin("cimd-unspecified-address-fetched", ("cimd.test_client_ids",), {"CIMD-6.5-SSRF-CLIENT-ID"}, features=True)
def cimd_unspecified_fetched(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import fetch

    original = fetch.special_use
    fetch.special_use = lambda address: not address.is_unspecified and original(address)
    return app


@twin("cimd-any-status-accepted", ("cimd.test_responses",), {"CIMD-4-ONLY-200"}, features=True)
def cimd_any_status(app: ASGIApp) -> ASGIApp:
    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def fetch(url: str, **kwargs: Any) -> Any:
            fetched = await original(url, **kwargs)
            if fetched.status != 200 and not 300 <= fetched.status < 400:
                return dataclasses.replace(fetched, status=200)
            return fetched

        return fetch

    fetches(wrap)
    return app


@twin("cimd-redirects-followed", ("cimd.test_responses",), {"CIMD-4-NO-REDIRECTS"}, features=True)
def cimd_redirects_followed(app: ASGIApp) -> ASGIApp:
    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def fetch(url: str, **kwargs: Any) -> Any:
            fetched = await original(url, **kwargs)
            location = fetched.headers.get("location")
            if 300 <= fetched.status < 400 and location:
                return await original(location, **kwargs)
            return fetched

        return fetch

    fetches(wrap)
    return app


@twin(
    "cimd-client-id-not-compared",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.1-CLIENT-ID-MATCH", "MCP-CIMD-CLIENT-ID"},
    features=True,
)
def cimd_client_id_not_compared(app: ASGIApp) -> ASGIApp:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def document_client(doc: Any, url: str, options: Any) -> Any:
            if isinstance(doc, dict) and isinstance(doc.get("client_id"), str):
                doc = {**doc, "client_id": url}
            return original(doc, url, options)

        return document_client

    document_clients(wrap)
    return app


@twin(
    "cimd-broken-documents-patched-up",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.1-JSON", "MCP-CIMD-DOCUMENT"},
    features=True,
)
def cimd_broken_documents(app: ASGIApp) -> ASGIApp:
    from oauth_conformance.profile import DEFAULT_REDIRECT_URI

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def document_client(doc: Any, url: str, options: Any) -> Any:
            if not isinstance(doc, dict):
                doc = {"client_name": "patched up", "redirect_uris": [DEFAULT_REDIRECT_URI]}
            doc = {"client_id": url, **doc}
            return original(doc, url, options)

        return document_client

    document_clients(wrap)
    return app


@twin("cimd-shared-secret-accepted", ("cimd.test_document_content",), {"CIMD-4.1-NO-SYMMETRIC"}, features=True)
def cimd_shared_secret(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import crypto

    secret_members = ("client_secret", "client_secret_expires_at", "token_endpoint_auth_method")

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def document_client(doc: Any, url: str, options: Any) -> Any:
            if not isinstance(doc, dict):
                return original(doc, url, options)
            method = doc.get("token_endpoint_auth_method", "none")
            if not str(method).startswith("client_secret") and "client_secret" not in doc:
                return original(doc, url, options)
            client = original({k: v for k, v in doc.items() if k not in secret_members}, url, options)
            client.token_endpoint_auth_method = (
                "client_secret_basic" if method == "client_secret_basic" else "client_secret_post"
            )
            client.client_secret_hash = crypto.sha256_hex(
                str(doc.get("client_secret", "oauth-conformance-shared-secret"))
            )
            return client

        return document_client

    document_clients(wrap)
    return app


@twin("cimd-errors-cached", ("cimd.test_caching",), {"CIMD-4.4-NO-ERROR-CACHE"}, features=True)
def cimd_errors_cached(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import cimd

    original = cimd.resolve
    failures: dict[str, Exception] = {}

    async def resolve(core: Any, client_id: str) -> Any:
        if client_id in failures:
            raise failures[client_id]
        try:
            return await original(core, client_id)
        except cimd.CimdError as exc:
            failures[client_id] = exc
            raise

    cimd.resolve = resolve
    return app


@twin(
    "cimd-redirect-uri-unchecked",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.5-REDIRECT-EXACT", "MCP-CIMD-REDIRECT-URIS"},
    features=True,
)
def cimd_redirect_uri_unchecked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    authorization.find_registered = lambda requested, registered: requested if registered else None
    return app


@twin("cimd-private-key-jwt-unenforced", ("cimd.test_client_auth",), {"CIMD-6.2-PKJWT"}, features=True)
def cimd_private_key_jwt_unenforced(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        try:
            return await original(core, request, form)
        except InvalidClientError:
            credentials = client_auth.read_credentials(request, form)
            if credentials.method != "none" or not (credentials.client_id or "").startswith("https://"):
                raise
            found = await clients.lookup(core, credentials.client_id or "")
            if found is None or found.token_endpoint_auth_method != "private_key_jwt":
                raise
            return found

    client_auth.authenticate = authenticate
    return app


@twin("mcp-redirect-host-hidden", MCP_CIMD, {"MCP-CIMD-REDIRECT-HOST"}, features=True)
def mcp_redirect_host_hidden(app: ASGIApp) -> ASGIApp:
    sentence = re.compile(rb"<p>After your decision you are sent to <strong>[^<]*</strong>\.</p>")

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, headers, sentence.sub(b"", body)

    return rewrite(app, path_is("/authorize"), change)


# --------------------------------------------------------------- SHOULDs and MAYs (warnings only)
@twin(
    "token-exchange-unknown-audience-invalid-request",
    EXCHANGE,
    set(),
    warns={"RFC8693-2.2.2-INVALID-TARGET"},
    features=True,
    note="an audience the server does not serve is refused, but with invalid_request",
)
def exchange_unknown_audience_invalid_request(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("error") == "invalid_target" and "audience" in dict(pairs):
            body["error"] = "invalid_request"
        return body

    return token_requests(app, TOKEN_EXCHANGE, respond=respond)


@twin(
    "token-exchange-without-client-authentication",
    EXCHANGE,
    set(),
    warns={"RFC8693-2.1-CLIENT-AUTH"},
    features=True,
    note="a token exchange naming a confidential client_id is served without the client's credentials",
)
def exchange_without_client_authentication(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        try:
            return await original(core, request, form)
        except InvalidClientError:
            credentials = client_auth.read_credentials(request, form)
            if form.get("grant_type") != TOKEN_EXCHANGE or credentials.method != "none":
                raise
            found = await clients.lookup(core, credentials.client_id or "")
            if found is None:
                raise
            return found

    patch(client_auth, "authenticate", authenticate)
    return app


# The ID-JAG grant's props key, and the refresh token the twin added to its grant (per request).
_PROPS_KEY: contextvars.ContextVar[Any] = contextvars.ContextVar("twin_idjag_props_key", default=None)
_REFRESH: contextvars.ContextVar[str | None] = contextvars.ContextVar("twin_idjag_refresh", default=None)


@twin(
    "idjag-refresh-token-issued",
    RESPONSE,
    set(),
    warns={"IDJAG-4.4.3-NO-RT"},
    features=True,
    note="the ID-JAG grant gets a working refresh token (until the grant expires), as the code grant does",
)
def idjag_refresh_token_issued(app: ASGIApp) -> ASGIApp:
    from types import SimpleNamespace

    from oauth_reference.machinery import crypto
    from oauth_reference.machinery import grants
    from oauth_reference.specs import idjag

    def encrypt_new_props(props: Any) -> Any:
        key, encrypted = grants.encrypt_new_props(props)
        _PROPS_KEY.set(key)
        return key, encrypted

    def grant_writes(grant: Any) -> Any:
        key = _PROPS_KEY.get()
        if key is not None and grant.refresh_token_id is None:
            _PROPS_KEY.set(None)
            refresh_token = grants.new_token(grant.user_id, grant.id)
            grant.refresh_token_id = crypto.sha256_hex(refresh_token)
            grant.refresh_token_wrapped_key = crypto.wrap_key(key, refresh_token)
            _REFRESH.set(refresh_token)
        return grants.grant_writes(grant)

    proxy = SimpleNamespace(**{name: getattr(grants, name) for name in dir(grants) if not name.startswith("__")})
    proxy.encrypt_new_props = encrypt_new_props
    proxy.grant_writes = grant_writes
    patch(idjag, "grants", proxy)
    original = vars(idjag)["token_response"]

    def token_response(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = original(*args, **kwargs)
        refresh_token = _REFRESH.get()
        if refresh_token is not None:
            _REFRESH.set(None)
            body["refresh_token"] = refresh_token
        return body

    patch(idjag, "token_response", token_response)
    return app


@twin(
    "idjag-public-clients-allowed",
    RESPONSE,
    set(),
    warns={"IDJAG-8.1-CONFIDENTIAL"},
    options={"enterprise_managed_authorization": {"allow_public_clients": True}},
    features=True,
    note="the reference's allow_public_clients option on",
)
def idjag_public_clients_allowed(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "jwt-bearer-replay-not-recorded",
    GRANT,
    set(),
    warns={"RFC7523-3-REPLAY"},
    features=True,
    note="the jti replay marker is never written, so the same assertion works again (a MAY: a warning)",
)
def jwt_bearer_replay_not_recorded(app: ASGIApp) -> ASGIApp:
    import secrets

    from oauth_reference.machinery.storage import Put
    from oauth_reference.specs import idjag

    def put(key: str, *args: Any, **kwargs: Any) -> Put:
        if key.startswith("idjag-jti:"):
            key = f"twin-forgotten:{secrets.token_hex(16)}"  # written, but never where the check looks
        return Put(key, *args, **kwargs)

    patch(idjag, "Put", put)
    return app


@twin(
    "cimd-cached-by-origin",
    ("cimd.test_flow",),
    set(),
    warns={"CIMD-4-FETCH"},
    features=True,
    note="documents are cached per origin: a new URL on a known host is never fetched",
)
def cimd_cached_by_origin(app: ASGIApp) -> ASGIApp:
    from urllib.parse import urlsplit

    from oauth_reference.specs import cimd

    original = cimd.resolve
    by_origin: dict[str, Any] = {}

    async def resolve(core: Any, client_id: str) -> Any:
        if cimd.client_id_problem(client_id) is not None:
            return await original(core, client_id)
        parts = urlsplit(client_id)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in by_origin:
            return dataclasses.replace(by_origin[origin], client_id=client_id)
        client = await original(core, client_id)
        by_origin[origin] = client
        return client

    patch(cimd, "resolve", resolve)
    return app


@twin(
    "cimd-slow-fetch-awaited",
    ("cimd.test_responses",),
    set(),
    warns={"CIMD-4.3-FETCH-FAIL"},
    features=True,
    note="a 30-second fetch timeout: a document that trickles in holds the authorization request",
)
def cimd_slow_fetch_awaited(app: ASGIApp) -> ASGIApp:
    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def fetch(url: str, **kwargs: Any) -> Any:
            kwargs["policy"] = dataclasses.replace(kwargs["policy"], timeout=30.0)
            return await original(url, **kwargs)

        return fetch

    fetches(wrap)
    return app


@twin(
    "cimd-no-size-limit",
    ("cimd.test_responses",),
    set(),
    warns={"CIMD-6.6-MAX-SIZE"},
    features=True,
    note="documents are read up to 100 MB",
)
def cimd_no_size_limit(app: ASGIApp) -> ASGIApp:
    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def fetch(url: str, **kwargs: Any) -> Any:
            return await original(url, **{**kwargs, "limit": 100_000_000})

        return fetch

    fetches(wrap)
    return app


@twin(
    "cimd-cache-control-ignored",
    ("cimd.test_caching",),
    set(),
    warns={"CIMD-4.4-HTTP-CACHE"},
    features=True,
    note="every valid document is cached for a day, whatever its Cache-Control says",
)
def cimd_cache_control_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import cimd

    patch(cimd, "cache_lifetime", lambda headers, cap: cap)
    return app


@twin(
    "cimd-client-host-hidden",
    ("cimd.test_client_auth",),
    set(),
    warns={"CIMD-6.4-HOST-DISPLAY"},
    features=True,
    note="the consent page names the client only by its (self-asserted) client_name",
)
def cimd_client_host_hidden(app: ASGIApp) -> ASGIApp:
    client_id = re.compile(rb" \(client id <code>[^<]*</code>\)")

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, headers, client_id.sub(b"", body)

    return rewrite(app, path_is("/authorize"), change)


@twin(
    "cimd-registered-ids-look-like-urls",
    ("cimd.test_flow",),
    set(),
    warns={"CIMD-6.9-NO-HTTPS-IDS"},
    features=True,
    note="dynamic registration hands out client ids such as https://clients.reference.invalid/<random>",
)
def cimd_registered_ids_look_like_urls(app: ASGIApp) -> ASGIApp:
    from types import SimpleNamespace

    from oauth_reference import client_store as clients
    from oauth_reference.machinery import crypto
    from oauth_reference.machinery import records
    from oauth_reference.machinery.records import ClientInfo

    def random_string(length: int) -> str:
        value = crypto.random_string(length)
        return f"https://clients.reference.invalid/{value}" if length == clients.CLIENT_ID_LENGTH else value

    proxy = SimpleNamespace(**{name: getattr(crypto, name) for name in dir(crypto) if not name.startswith("__")})
    proxy.random_string = random_string
    patch(clients, "crypto", proxy)
    original = clients.lookup

    async def lookup(core: Any, client_id: str) -> Any:
        # Registered clients first: their ids look like document URLs, but nothing is fetched for them.
        entry = await core.storage.get(records.client_key(client_id))
        if entry is None:
            return await original(core, client_id)
        client = records.load(ClientInfo, entry.value)
        expires = client.registration_expires_at
        return None if expires is not None and expires <= core.now() else client

    patch(clients, "lookup", lookup)
    return app


@twin(
    "mcp-cimd-unsupported",
    MCP_CIMD,
    set(),
    warns={"MCP-CIMD-SUPPORT"},
    options={"client_id_metadata_document_enabled": False},
    features=True,
    note="client ID metadata documents off (the reference's option)",
)
def mcp_cimd_unsupported(app: ASGIApp) -> ASGIApp:
    return app
