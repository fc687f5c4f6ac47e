"""Twins for token exchange (RFC 8693), the JWT bearer grant and client assertions (RFC 7523),
ID-JAG and client ID metadata documents (CIMD), each with the MCP rows it also breaks.

Every twin runs the reference with every feature on (``features=True``: it trusts the test run's
fixture host) and breaks one behaviour: on the wire, through options, or through the faults of
``oauth_reference.faults`` that wrap a step nothing outside can reach (how an assertion is read and
verified, how a metadata document is fetched). Twins name the suite modules that test the
behaviour (``idjag.test_assertion`` rather than all of ``idjag``) to keep the runs short.
"""

from __future__ import annotations

import base64
import contextvars
import dataclasses
import re
import secrets
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx
import orjson

from oauth_reference import TrustedIssuer
from oauth_reference import TrustedIssuerQuery
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from suites.tests.twins import twin
from suites.tests.twins.core import let_through
from suites.tests.twins.core import redeemed_by_its_client
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import basic
from suites.tests.twins.wire import encode
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import header
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import presented
from suites.tests.twins.wire import query_of
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import run
from suites.tests.twins.wire import send_answer
from suites.tests.twins.wire import with_header
from suites.tests.twins.wire import with_json
from suites.tests.twins.wire import with_query

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

# Set per token request by the form middleware, read by the hooks that need the request.
REQUEST: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("twin_request", default=None)


def requested(name: str) -> str:
    """A form parameter (or ``__host__``, or ``__client__``: the client the credentials name) of the
    token request being handled."""
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
        client = presented(scope, pairs).client_id or ""
        REQUEST.set({**dict(pairs), "__host__": headers.get(b"host", b"").decode("latin-1"), "__client__": client})
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


ClaimsEdit = Callable[[dict[str, Any]], None]
Verify = Callable[[str, dict[str, Any], tuple[str, ...]], dict[str, Any]]


def edited_claims(edit: ClaimsEdit) -> Callable[[Verify, str, dict[str, Any], tuple[str, ...]], dict[str, Any]]:
    """A verify hook: the signature is verified, then ``edit(claims)`` changes the claims the
    checks that follow see (the token request being handled is in :func:`requested`)."""

    def verify(original: Verify, token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
        claims = original(token, jwks, algorithms)
        edit(claims)
        return claims

    return verify


def idjag_claims(edit: ClaimsEdit) -> dict[str, Callable[..., object]]:
    """The faults of a twin whose ID-JAG checks see the claims ``edit`` changed."""
    return {"idjag-verify": edited_claims(edit)}


def dropping(name: str) -> ClaimsEdit:
    def edit(claims: dict[str, Any]) -> None:
        claims.pop(name, None)

    return edit


def this_issuer() -> str:
    """The issuer of the request being handled (the reference's issuer is the origin it was sent to)."""
    return f"http://{requested('__host__')}"


def b64_json(part: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def unverified_claims(verify: Verify, token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
    """A verify hook that verifies nothing: the claims as the token states them."""
    claims = b64_json(token.split(".")[1])
    return claims if isinstance(claims, dict) else verify(token, jwks, algorithms)


def corrupted_assertion(pairs: Pairs) -> Pairs:
    """The assertion with its signature replaced: no key verifies it."""
    return [(k, v.rsplit(".", 1)[0] + ".AAAA" if k == "assertion" else v) for k, v in pairs]


# ------------------------------------------------------------------------ RFC 8693 twins
@twin("token-exchange-token-unusable", EXCHANGE, set(), features=True, warns={"RFC8693-2.1-GRANT"})
def exchange_token_unusable(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if status == 200 and "access_token" in body:
            body["access_token"] = "oauth-conformance-twin-" + str(body["access_token"])[::-1]
        return body

    return token_requests(app, TOKEN_EXCHANGE, respond=respond)


def delegating_with_jwts(app: ASGIApp, *, act: bool) -> ASGIApp:
    """Token exchange that accepts an actor token (the reference refuses delegation) and issues the
    delegation result as a JWT, with an act claim naming the actor's client (``act``) or without."""
    marker = "oauth_conformance_twin_actor"

    def change(pairs: Pairs) -> Pairs:
        form = dict(pairs)
        if form.get("actor_token") and form.get("actor_token_type"):
            kept = [(k, v) for k, v in pairs if k not in ("actor_token", "actor_token_type")]
            return [*kept, (marker, "1")]
        return pairs

    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if status != 200 or dict(pairs).get(marker) != "1":
            return body
        claims: dict[str, Any] = {"iss": "twin", "sub": "alice", "exp": int(time.time()) + 300}
        if act:
            claims["act"] = {"sub": "the-acting-client"}

        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

        body["access_token"] = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
        return body

    return token_requests(app, TOKEN_EXCHANGE, change=change, respond=respond)


@twin(
    "token-exchange-delegation-with-act",
    EXCHANGE,
    set(),
    features=True,
    note="a control: delegation results are JWTs whose act claim names the actor",
)
def exchange_delegation_with_act(app: ASGIApp) -> ASGIApp:
    return delegating_with_jwts(app, act=True)


@twin(
    "token-exchange-delegation-without-act",
    EXCHANGE,
    set(),
    warns={"RFC8693-4.1-ACT"},
    features=True,
    note="delegation results are JWTs without an act claim",
)
def exchange_delegation_without_act(app: ASGIApp) -> ASGIApp:
    return delegating_with_jwts(app, act=False)


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


@twin(
    "token-exchange-scope-silently-changed-first-failed",
    EXCHANGE,
    {"RFC8693-2.2.1-SCOPE"},
    warns={"RFC8693-5-NO-ESCALATION"},
    features=True,
    note="the scope test read one 503 to its wider-scope exchange as a refusal of the scope",
)
def exchange_scope_silent_first_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, whose first exchange asking for a scope gets a 503 page."""
    failed: list[bool] = []

    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        form = dict(form_of(body))
        if form.get("grant_type") == TOKEN_EXCHANGE and form.get("scope") and not failed:
            failed.append(True)
            return 503, [(b"content-type", b"text/html; charset=utf-8")], b"<!doctype html><p>try again later</p>"
        return await forward(scope, body)

    return intercept(exchange_scope_silent(app), path_is("/oauth/token", "POST"), handle)


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
    return token_requests(app, JWT_BEARER, corrupted_assertion)


@twin("jwt-bearer-repeated-assertion-accepted", GRANT, {"OAUTH21-3.2-NO-DUPLICATES"}, features=True)
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


def trailing_slash_lenient(base: dict[str, Any]) -> dict[str, Any]:
    """Options: the trusted issuers, found by an ``iss`` with or without a trailing slash (a resolver
    function, the option's public form)."""
    trusted = base["enterprise_managed_authorization"]["trusted_issuers"]

    def resolve(query: TrustedIssuerQuery) -> TrustedIssuer | None:
        for entry in trusted:
            if str(entry["issuer"]).rstrip("/") == query.iss.rstrip("/"):
                return TrustedIssuer(**{**entry, "issuer": query.iss})
        return None

    return {"enterprise_managed_authorization": {"trusted_issuers": resolve}}


@twin(
    "jwt-bearer-issuer-trailing-slash-accepted",
    GRANT,
    {"RFC7523-3-ISS"},
    features=True,
    options=trailing_slash_lenient,
)
def jwt_bearer_issuer_slash(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "jwt-bearer-sub-optional",
    GRANT + ASSERTION,
    {"RFC7523-3-SUB", "IDJAG-3.1-REQUIRED-CLAIMS"},
    features=True,
    faults=idjag_claims(lambda claims: claims.update(sub=claims.get("sub") or "anonymous")),
)
def jwt_bearer_sub_optional(app: ASGIApp) -> ASGIApp:
    return app


def audience_prefix(claims: dict[str, Any]) -> None:
    # The startswith() audience check found in the wild (JanssenProject/jans#14178).
    issuer = this_issuer()
    aud = claims.get("aud")
    values = aud if isinstance(aud, list) else [aud]
    if any(isinstance(v, str) and v.startswith(issuer) for v in values):
        claims["aud"] = issuer


@twin(
    "jwt-bearer-audience-prefix-match",
    GRANT + ASSERTION,
    {"RFC7523-3-AUD", "IDJAG-4.4.1-AUD"},
    features=True,
    faults=idjag_claims(audience_prefix),
)
def jwt_bearer_audience_prefix(app: ASGIApp) -> ASGIApp:
    return token_requests(app, None)


def any_audience(claims: dict[str, Any]) -> None:
    if "aud" in claims:
        claims["aud"] = this_issuer()


@twin("idjag-audience-unchecked", EMA, {"MCP-EMA-AUD"}, features=True, faults=idjag_claims(any_audience))
def idjag_audience_unchecked(app: ASGIApp) -> ASGIApp:
    return token_requests(app, None)


def never_expired(claims: dict[str, Any]) -> None:
    """An expired assertion is seen as one that expires in a minute (its lifetime kept)."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and exp <= time.time():
        shift = int(time.time() - exp) + 60
        claims["exp"] = exp + shift
        if isinstance(iat, int | float):
            claims["iat"] = iat + shift


@twin(
    "jwt-bearer-expired-accepted",
    GRANT + ASSERTION + EMA,
    {"RFC7523-3-EXP", "IDJAG-4.4.1-RFC7521", "MCP-EMA-RFC7521"},
    features=True,
    faults=idjag_claims(never_expired),
)
def jwt_bearer_expired(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "jwt-bearer-nbf-ignored",
    GRANT + ASSERTION,
    {"RFC7523-3-NBF", "IDJAG-4.4.1-RFC7521"},
    features=True,
    faults=idjag_claims(dropping("nbf")),
)
def jwt_bearer_nbf_ignored(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "jwt-bearer-signature-unverified",
    GRANT + ASSERTION + EMA,
    {"RFC7523-3-SIG", "IDJAG-4.4.1-RFC7521", "MCP-EMA-RFC7521"},
    features=True,
    faults={"idjag-verify": unverified_claims},
)
def jwt_bearer_signature_unverified(app: ASGIApp) -> ASGIApp:
    return app


Parse = Callable[[str], tuple[dict[str, Any], dict[str, Any]]]


def read_with_crit(parse: Parse, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A parse hook that reads the header and claims whatever critical extensions the header names
    (anything else it cannot read, the reference's own parser refuses)."""
    parts = token.split(".")
    try:
        header, claims = b64_json(parts[0]), b64_json(parts[1])
    except (ValueError, IndexError, orjson.JSONDecodeError):
        return parse(token)
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else parse(token)


def verify_with_crit(verify: Verify, token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
    """A verify hook that accepts any critical header extension (joserfc, told each one is known)."""
    from joserfc import jws
    from joserfc.jwk import KeySet
    from joserfc.registry import HeaderParameter

    try:
        header = jws.extract_compact(token.encode("ascii")).protected
        known = {str(n): HeaderParameter("any", lambda value: None) for n in header.get("crit", [])}
        registry = jws.JWSRegistry(header_registry=known)
        keys = KeySet.import_key_set({"keys": jwks["keys"]})
        return dict(orjson.loads(jws.deserialize_compact(token, keys, list(algorithms), registry=registry).payload))
    except Exception:
        return verify(token, jwks, algorithms)  # refused as the reference refuses it


@twin(
    "jwt-bearer-critical-header-ignored",
    GRANT,
    {"RFC7523-3-VALID-JWT"},
    features=True,
    faults={"idjag-parse": read_with_crit, "idjag-verify": verify_with_crit},
)
def jwt_bearer_crit_ignored(app: ASGIApp) -> ASGIApp:
    return app


@twin("jwt-bearer-client-secret-unchecked", GRANT, {"RFC7523-3.1-CLIENT-CREDS"}, features=True)
def jwt_bearer_client_secret_unchecked(app: ASGIApp) -> ASGIApp:
    """With a JWT bearer grant, the client's credentials are not checked."""
    clients = Clients()
    return let_through(app, clients, lambda scope, pairs: first(pairs, "grant_type") == JWT_BEARER)


@twin("jwt-bearer-invalid-request-not-invalid-grant", GRANT, {"RFC7523-3.1-INVALID-GRANT"}, features=True)
def jwt_bearer_invalid_request(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("error") == "invalid_grant" and str(body.get("error_description")).startswith("invalid assertion"):
            body["error"] = "invalid_request"
        return body

    return token_requests(app, JWT_BEARER, respond=respond)


def typ_forced(parse: Parse, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, claims = parse(token)
    return {**header, "typ": "oauth-id-jag+jwt"}, claims


@twin(
    "idjag-typ-unchecked",
    ASSERTION + EMA,
    {"IDJAG-4.4.1-TYP", "MCP-EMA-TYP"},
    features=True,
    faults={"idjag-parse": typ_forced},
)
def idjag_typ_unchecked(app: ASGIApp) -> ASGIApp:
    return app


def client_unbound(claims: dict[str, Any]) -> None:
    """The assertion's client_id is not compared with the authenticated client."""
    if isinstance(claims.get("client_id"), str) and requested("__client__"):
        claims["client_id"] = requested("__client__")


@twin(
    "idjag-client-unbound",
    ASSERTION + EMA,
    {"IDJAG-4.4.1-CLIENT-BIND", "MCP-EMA-CLIENT-ID"},
    features=True,
    faults=idjag_claims(client_unbound),
)
def idjag_client_unbound(app: ASGIApp) -> ASGIApp:
    return token_requests(app, None)


@twin("idjag-scope-unbounded", RESPONSE, {"IDJAG-4.4.1-SCOPE"}, features=True, faults=idjag_claims(dropping("scope")))
def idjag_scope_unbounded(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "idjag-resource-unbounded",
    RESPONSE,
    {"IDJAG-4.4.1-RESOURCE"},
    features=True,
    faults=idjag_claims(dropping("resource")),
)
def idjag_resource_unbounded(app: ASGIApp) -> ASGIApp:
    """Neither the assertion's resource claim nor the request's resource parameter bounds the token."""
    return token_requests(app, JWT_BEARER, without("resource"))


def foreign_resource(claims: dict[str, Any]) -> str | None:
    """The ID-JAG's resource claim when it names a resource on another host than the one the
    request was sent to (None: no claim, or one served here)."""
    claim = claims.get("resource")
    if not isinstance(claim, str) or urlsplit(claim).netloc == requested("__host__"):
        return None
    return claim


def foreign_resource_dropped(claims: dict[str, Any]) -> None:
    if foreign_resource(claims) is not None:
        claims.pop("resource")


def foreign_resource_echoed(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """The response names the ID-JAG's foreign resource, whatever the token was issued for."""
    assertion = dict(pairs).get("assertion", "")
    try:
        claims = b64_json(assertion.split(".")[1])
    except (ValueError, IndexError, orjson.JSONDecodeError):
        return body
    foreign = foreign_resource(claims) if isinstance(claims, dict) else None
    if status == 200 and foreign is not None:
        body["resource"] = [foreign] if isinstance(body.get("resource"), list) else foreign
    return body


@twin(
    "idjag-foreign-resource-echoed",
    RESPONSE,
    {"IDJAG-4.4.1-RESOURCE"},
    features=True,
    faults=idjag_claims(foreign_resource_dropped),
    note="an ID-JAG for another host's resource gets a token for this server's own resource, the response"
    " naming the ID-JAG's resource",
)
def idjag_foreign_resource_echoed(app: ASGIApp) -> ASGIApp:
    """The ID-JAG's resource claim is not checked when it names a resource served elsewhere: the token
    is the one an ID-JAG without a resource gets (this server's resource, which takes it), and the
    response says the foreign resource was granted."""
    return token_requests(app, JWT_BEARER, respond=foreign_resource_echoed)


@twin("idjag-response-silent", RESPONSE, {"IDJAG-4.4.1-RESP-GRANTED"}, features=True)
def idjag_response_silent(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if status == 200:
            body.pop("scope", None)
            body.pop("resource", None)
        return body

    return token_requests(app, JWT_BEARER, respond=respond)


@twin(
    "idjag-authorization-details-ignored",
    RESPONSE,
    set(),
    features=True,
    warns={"IDJAG-4.4.1-RAR"},
    faults=idjag_claims(dropping("authorization_details")),
)
def idjag_rar_ignored(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "idjag-cnf-ignored",
    RESPONSE,
    {"IDJAG-8.6.1.2.2-CNF-NO-PROOF", "IDJAG-8.6.1.2.1-CNF-MISMATCH"},
    features=True,
    faults=idjag_claims(dropping("cnf")),
)
def idjag_cnf_ignored(app: ASGIApp) -> ASGIApp:
    return app


@twin("idjag-token-unusable", EMA, set(), features=True, warns={"MCP-EMA-RESOURCE"})
def idjag_token_unusable(app: ASGIApp) -> ASGIApp:
    def respond(pairs: Pairs, status: int, body: dict[str, Any]) -> dict[str, Any]:
        if status == 200 and "access_token" in body:
            body["access_token"] = "oauth-conformance-twin-" + str(body["access_token"])[::-1]
        return body

    return token_requests(app, JWT_BEARER, respond=respond)


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
def client_assertion_claims(edit: ClaimsEdit) -> dict[str, Callable[..., object]]:
    """The faults of a twin whose client assertion checks see the claims ``edit`` changed."""
    return {"client-assertion-verify": edited_claims(edit)}


def no_client_key(verify: Verify, token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
    return verify(token, {"keys": []}, algorithms)  # the twin trusts no client key


@twin(
    "client-assertion-always-refused",
    CLIENT_ASSERTION,
    {"RFC7523-2.2-CLIENT-AUTH"},
    features=True,
    faults={"client-assertion-verify": no_client_key},
)
def client_assertion_refused(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "client-assertion-sub-unchecked",
    CLIENT_ASSERTION,
    {"RFC7523-3-CLIENT-SUB"},
    features=True,
    faults=client_assertion_claims(lambda claims: claims.update(sub=claims.get("iss"))),
)
def client_assertion_sub_unchecked(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "client-assertion-audience-unchecked",
    CLIENT_ASSERTION,
    {"RFC7523-3-CLIENT-AUD"},
    features=True,
    faults=client_assertion_claims(lambda claims: claims.update(aud=this_issuer())),
)
def client_assertion_audience_unchecked(app: ASGIApp) -> ASGIApp:
    # The issuer is the origin the request came to: the middleware publishes its Host.
    return token_requests(app, None)


@twin(
    "client-assertion-expiry-unchecked",
    CLIENT_ASSERTION,
    {"RFC7523-3-CLIENT-EXP"},
    features=True,
    faults=client_assertion_claims(lambda claims: claims.update(exp=int(time.time()) + 60)),
)
def client_assertion_expiry_unchecked(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "client-assertion-signature-unverified",
    CLIENT_ASSERTION,
    {"RFC7523-3-CLIENT-SIG"},
    features=True,
    faults={"client-assertion-verify": unverified_claims},
)
def client_assertion_signature_unverified(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "client-assertion-signature-unverified-unadvertised",
    CLIENT_ASSERTION,
    {"RFC7523-3-CLIENT-SIG"},
    features=True,
    faults={"client-assertion-verify": unverified_claims},
)
def client_assertion_signature_unverified_unadvertised(app: ASGIApp) -> ASGIApp:
    """private_key_jwt left out of the metadata while the token endpoint takes client assertions,
    their signatures unchecked: trusted from the metadata, every RFC 7523 client assertion check
    was not_applicable; the probe that tries the method must find it."""

    def unadvertised(body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        methods = [m for m in body.get("token_endpoint_auth_methods_supported", []) if m != "private_key_jwt"]
        return {**body, "token_endpoint_auth_methods_supported": methods}

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(unadvertised))


@twin("client-assertion-invalid-request", CLIENT_ASSERTION, {"RFC7523-3.2-INVALID-CLIENT"}, features=True)
def client_assertion_invalid_request(app: ASGIApp) -> ASGIApp:
    """Client authentication failures are answered 400 invalid_request, not invalid_client."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if b'"invalid_client"' not in body:
            return status, headers, body
        return 400, headers, body.replace(b'"invalid_client"', b'"invalid_request"')

    return rewrite(app, path_is("/oauth/token", "POST"), change)


# --------------------------------------------------------------------------------- CIMD twins
Fetch = Callable[..., Awaitable[Any]]  # the reference's fetch: (url, *, limit, policy) -> Fetched


def fetching(hook: Callable[..., Awaitable[Any]]) -> dict[str, Callable[..., object]]:
    """The faults of a twin that fetches metadata documents with ``hook(fetch, url, **kwargs)``,
    ``fetch`` being the reference's own fetch (its answer has ``status``, ``headers``, ``body``)."""
    return {"cimd-fetch": hook}


def documents(edit: Callable[[Any, str], Any]) -> dict[str, Callable[..., object]]:
    """The faults of a twin that reads each fetched document as ``edit(document, url)`` (a document
    that is not JSON is left as it came)."""

    async def hook(fetch: Fetch, url: str, **kwargs: Any) -> Any:
        fetched = await fetch(url, **kwargs)
        try:
            doc = orjson.loads(fetched.body)
        except orjson.JSONDecodeError:
            return fetched
        return dataclasses.replace(fetched, body=orjson.dumps(edit(doc, url)))

    return fetching(hook)


@twin(
    "cimd-documents-refused",
    ("cimd.test_flow",),
    {"CIMD-5-METADATA"},
    features=True,
    warns={"CIMD-4-CODE-FLOW"},
    faults=documents(lambda doc, url: []),  # every document is read as one that is not an object
)
def cimd_documents_refused(app: ASGIApp) -> ASGIApp:
    return app


@twin("cimd-flag-missing", ("cimd.test_flow",), {"CIMD-5-METADATA"}, features=True)
def cimd_flag_missing(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc.pop("client_id_metadata_document_supported", None)
        return doc

    return metadata(app, edit)


@twin("cimd-flag-missing-first-document-failed", ("cimd.test_flow",), {"CIMD-5-METADATA"}, features=True)
def cimd_flag_missing_first_document_failed(app: ASGIApp) -> ASGIApp:
    """Hides the flag, and its first document client's authorization request fails (as a fetch that
    failed once would): the harness must try again before it concludes documents do not work."""
    failed: list[str] = []

    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        client_id = first(query_of(scope), "client_id") or ""
        if client_id.startswith("https://") and not failed:
            failed.append(client_id)
            page = b"<!doctype html><p>the client's metadata document could not be fetched</p>"
            return 400, [(b"content-type", b"text/html; charset=utf-8")], page
        return await forward(scope, body)

    return intercept(cimd_flag_missing(app), path_is("/authorize", "GET"), handle)


@twin("cimd-code-not-bound-to-its-client", ("cimd.test_flow",), {"CIMD-4-CODE-BINDING"}, features=True)
def cimd_code_unbound(app: ASGIApp) -> ASGIApp:
    return redeemed_by_its_client(app)


@twin(
    "cimd-url-rules-unchecked",
    ("cimd.test_client_ids",),
    set(),
    features=True,
    warns={"CIMD-3-URL-RULES"},
    faults={"cimd-url-rules-unchecked"},
)
def cimd_url_rules_unchecked(app: ASGIApp) -> ASGIApp:
    return app


async def unspecified_reached(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    # Connecting to 0.0.0.0 reaches this machine: the fetch goes where such a connection would.
    parts = urlsplit(url)
    if parts.hostname == "0.0.0.0":  # noqa: S104
        url = urlunsplit(parts._replace(netloc=parts.netloc.replace("0.0.0.0", "127.0.0.1", 1)))  # noqa: S104
    return await fetch(url, **kwargs)


@twin(
    "cimd-unspecified-address-fetched",
    ("cimd.test_client_ids",),
    {"CIMD-6.5-SSRF-CLIENT-ID"},
    features=True,
    faults=fetching(unspecified_reached),
)
def cimd_unspecified_fetched(app: ASGIApp) -> ASGIApp:
    return app


async def any_status(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    fetched = await fetch(url, **kwargs)
    if fetched.status != 200 and not 300 <= fetched.status < 400:
        return dataclasses.replace(fetched, status=200)
    return fetched


@twin(
    "cimd-any-status-accepted",
    ("cimd.test_responses",),
    {"CIMD-4-ONLY-200"},
    features=True,
    faults=fetching(any_status),
)
def cimd_any_status(app: ASGIApp) -> ASGIApp:
    return app


async def redirects_followed(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    fetched = await fetch(url, **kwargs)
    location = fetched.headers.get("location")
    if 300 <= fetched.status < 400 and location:
        return await fetch(location, **kwargs)
    return fetched


@twin(
    "cimd-redirects-followed",
    ("cimd.test_responses",),
    {"CIMD-4-NO-REDIRECTS"},
    features=True,
    faults=fetching(redirects_followed),
)
def cimd_redirects_followed(app: ASGIApp) -> ASGIApp:
    return app


def client_id_is_the_url(doc: Any, url: str) -> Any:
    return {**doc, "client_id": url} if isinstance(doc, dict) and isinstance(doc.get("client_id"), str) else doc


@twin(
    "cimd-client-id-not-compared",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.1-CLIENT-ID-MATCH", "MCP-CIMD-CLIENT-ID"},
    features=True,
    faults=documents(client_id_is_the_url),
)
def cimd_client_id_not_compared(app: ASGIApp) -> ASGIApp:
    return app


def patched_up(doc: Any, url: str) -> Any:
    from oauth_conformance.profile import DEFAULT_REDIRECT_URI

    if not isinstance(doc, dict):
        doc = {"client_name": "patched up", "redirect_uris": [DEFAULT_REDIRECT_URI]}
    return {"client_id": url, **doc}


@twin(
    "cimd-broken-documents-patched-up",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.1-JSON", "MCP-CIMD-DOCUMENT"},
    features=True,
    faults=documents(patched_up),
)
def cimd_broken_documents(app: ASGIApp) -> ASGIApp:
    return app


SECRET_MEMBERS = ("client_secret", "client_secret_expires_at", "token_endpoint_auth_method")


def secret_dropped(doc: Any, url: str) -> Any:
    """A document's shared secret (and secret method) is dropped: the client becomes a public one."""
    if not isinstance(doc, dict):
        return doc
    method = str(doc.get("token_endpoint_auth_method", "none"))
    if not method.startswith("client_secret") and "client_secret" not in doc:
        return doc
    return {k: v for k, v in doc.items() if k not in SECRET_MEMBERS}


# The shared secrets of the documents the twin below fetched, by client_id (one twin per process).
_DOCUMENT_SECRETS: dict[str, str] = {}


def secret_kept_apart(doc: Any, url: str) -> Any:
    """The document's shared secret is kept by the twin's middleware; the reference sees a public client."""
    if isinstance(doc, dict) and isinstance(doc.get("client_secret"), str):
        _DOCUMENT_SECRETS[url] = doc["client_secret"]
    return secret_dropped(doc, url)


@twin(
    "cimd-shared-secret-accepted",
    ("cimd.test_document_content",),
    {"CIMD-4.1-NO-SYMMETRIC"},
    features=True,
    faults=documents(secret_kept_apart),
)
def cimd_shared_secret(app: ASGIApp) -> ASGIApp:
    """A document client with a shared secret is served, and the secret decides: the one its document
    names gets tokens, a wrong one is refused (invalid_client). The reference itself sees a public
    client; the middleware checks the secret before it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/oauth/token":
            body = await read_body(receive)
            pairs = form_of(body)
            credentials = presented(scope, pairs)
            client_id = credentials.client_id or ""
            if client_id.startswith("https://"):
                expected = _DOCUMENT_SECRETS.get(client_id)
                if expected is not None and credentials.secret != expected:
                    refused = {"error": "invalid_client", "error_description": "client authentication failed"}
                    await send_answer(send, json_answer(401, refused))
                    return
                pairs = [*without("client_id", "client_secret")(pairs), ("client_id", client_id)]
                scope = with_header(scope, b"authorization", None)
            await send_answer(send, await run(app, scope, encode(pairs)))
            return
        await app(scope, receive, send)

    return wrapped


@twin("cimd-errors-cached", ("cimd.test_caching",), {"CIMD-4.4-NO-ERROR-CACHE"}, features=True)
def cimd_errors_cached(app: ASGIApp) -> ASGIApp:
    """A client_id whose authorization request was refused is refused again, unfetched."""
    refused: dict[str, Answer] = {}

    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        client_id = first(query_of(scope), "client_id") or ""
        if client_id in refused:
            return refused[client_id]
        answer = await forward(scope, body)
        if client_id.startswith("https://") and answer[0] == 400:
            refused[client_id] = answer
        return answer

    return intercept(app, path_is("/authorize", "GET"), handle)


@twin(
    "cimd-redirect-uri-unchecked",
    ("cimd.test_document_content", *MCP_CIMD),
    {"CIMD-4.5-REDIRECT-EXACT", "MCP-CIMD-REDIRECT-URIS"},
    features=True,
    faults={"redirect-uri-match": lambda match, requested, registered: True},
)
def cimd_redirect_uri_unchecked(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "cimd-private-key-jwt-unenforced",
    ("cimd.test_client_auth",),
    {"CIMD-6.2-PKJWT"},
    features=True,
    faults={"private-key-jwt-optional"},
)
def cimd_private_key_jwt_unenforced(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "cimd-private-key-jwt-unenforced-unadvertised",
    ("cimd.test_client_auth",),
    {"CIMD-6.2-PKJWT"},
    features=True,
    faults={"private-key-jwt-optional"},
    note="private_key_jwt left out of the metadata made the document client checks not_applicable",
)
def cimd_private_key_jwt_unenforced_unadvertised(app: ASGIApp) -> ASGIApp:
    """The twin above, whose metadata leaves private_key_jwt out of its auth methods (it still takes it)."""

    def unlisted(body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        methods = body.get("token_endpoint_auth_methods_supported")
        kept = [m for m in methods if m != "private_key_jwt"] if isinstance(methods, list) else methods
        return {**body, "token_endpoint_auth_methods_supported": kept}

    return rewrite(app, path_is(AS_METADATA), edit_json(unlisted))


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
    clients = Clients()

    def condition(scope: Scope, pairs: Pairs) -> bool:
        return first(pairs, "grant_type") == TOKEN_EXCHANGE and presented(scope, pairs).method == "none"

    return let_through(app, clients, condition)


@twin(
    "idjag-refresh-token-issued",
    RESPONSE,
    set(),
    warns={"IDJAG-4.4.3-NO-RT"},
    features=True,
    note="the ID-JAG grant gets a working refresh token (until the grant's access token expires)",
)
def idjag_refresh_token_issued(app: ASGIApp) -> ASGIApp:
    """An ID-JAG's token response carries a refresh token; refreshing with it exchanges (RFC 8693)
    the grant's latest access token for a new one, and rotates the refresh token."""
    latest: dict[str, str] = {}  # refresh token -> the access token it renews

    def refresh_token_for(access_token: str) -> str:
        token = "oauth-conformance-twin-rt-" + secrets.token_urlsafe(24)
        latest[token] = access_token
        return token

    async def handle(scope: Scope, pairs: Pairs, forward: Callable[[Scope, Pairs], Awaitable[Answer]]) -> Answer:
        given = first(pairs, "refresh_token") if first(pairs, "grant_type") == "refresh_token" else None
        if given in latest:
            exchange = [(k, v) for k, v in pairs if k not in ("grant_type", "refresh_token")]
            exchange += [
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", latest.pop(given or "")),
                ("subject_token_type", ACCESS_TOKEN),
            ]
            pairs = exchange
        answer = await forward(scope, pairs)
        data = json_of(answer)
        renewing = given is not None and first(pairs, "grant_type") == TOKEN_EXCHANGE
        if answer[0] == 200 and data is not None and (first(pairs, "grant_type") == JWT_BEARER or renewing):
            data.pop("issued_token_type", None)
            data["refresh_token"] = refresh_token_for(str(data["access_token"]))
            return with_json(answer, data)
        return answer

    return on_token(app, handle)


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


REPLAY_MARKERS = "idjag-jti:"  # the storage schema's ID-JAG replay markers (reference/README.md)


class ForgetfulOfAssertions(SQLiteStorage):
    """A store that never writes an ID-JAG's replay marker (nor waits for its absence)."""

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        kept = [w for w in writes if not (isinstance(w, Put) and w.key.startswith(REPLAY_MARKERS))]
        conditions = {k: v for k, v in (expect or {}).items() if not k.startswith(REPLAY_MARKERS)}
        return await super().commit(kept, expect=conditions)


@twin(
    "jwt-bearer-replay-not-recorded",
    GRANT,
    set(),
    warns={"RFC7523-3-REPLAY"},
    features=True,
    note="the jti replay marker is never written, so the same assertion works again (a MAY: a warning)",
    storage=lambda path, clock: ForgetfulOfAssertions(path, clock),
)
def jwt_bearer_replay_not_recorded(app: ASGIApp) -> ASGIApp:
    return app


def cached_by_origin_hook() -> Callable[..., Awaitable[Any]]:
    by_origin: dict[str, Any] = {}

    async def hook(fetch: Fetch, url: str, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in by_origin:
            by_origin[origin] = await fetch(url, **kwargs)
            return by_origin[origin]
        known = by_origin[origin]  # never fetched: the origin's first document, as this URL's
        try:
            doc = orjson.loads(known.body)
        except orjson.JSONDecodeError:
            return known
        return dataclasses.replace(known, body=orjson.dumps(client_id_is_the_url(doc, url)), url=url)

    return hook


cached_by_origin = cached_by_origin_hook()


@twin(
    "cimd-cached-by-origin",
    ("cimd.test_flow",),
    set(),
    warns={"CIMD-4-FETCH"},
    features=True,
    note="documents are cached per origin: a new URL on a known host is never fetched",
    faults=fetching(cached_by_origin),
)
def cimd_cached_by_origin(app: ASGIApp) -> ASGIApp:
    return app


async def slow_fetch_awaited(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    return await fetch(url, **{**kwargs, "policy": dataclasses.replace(kwargs["policy"], timeout=30.0)})


@twin(
    "cimd-slow-fetch-awaited",
    ("cimd.test_responses",),
    set(),
    warns={"CIMD-4.3-FETCH-FAIL"},
    features=True,
    note="a 30-second fetch timeout: a document that trickles in holds the authorization request",
    faults=fetching(slow_fetch_awaited),
)
def cimd_slow_fetch_awaited(app: ASGIApp) -> ASGIApp:
    return app


async def no_size_limit(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    return await fetch(url, **{**kwargs, "limit": 100_000_000})


@twin(
    "cimd-no-size-limit",
    ("cimd.test_responses",),
    set(),
    warns={"CIMD-6.6-MAX-SIZE"},
    features=True,
    note="documents are read up to 100 MB",
    faults=fetching(no_size_limit),
)
def cimd_no_size_limit(app: ASGIApp) -> ASGIApp:
    return app


async def cached_for_a_day(fetch: Fetch, url: str, **kwargs: Any) -> Any:
    fetched = await fetch(url, **kwargs)
    if fetched.status != 200:
        return fetched
    headers = httpx.Headers({**fetched.headers, "cache-control": "max-age=86400"})
    return dataclasses.replace(fetched, headers=headers)


@twin(
    "cimd-cache-control-ignored",
    ("cimd.test_caching",),
    set(),
    warns={"CIMD-4.4-HTTP-CACHE"},
    features=True,
    note="every valid document is cached for a day, whatever its Cache-Control says",
    faults=fetching(cached_for_a_day),
)
def cimd_cache_control_ignored(app: ASGIApp) -> ASGIApp:
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
    """Registered clients are told ids of the form https://clients.reference.invalid/<id>; the twin
    puts the reference's own id back in every request that names one (so nothing is fetched)."""
    prefix = "https://clients.reference.invalid/"

    def real(client_id: str) -> str:
        return client_id[len(prefix) :] if client_id.startswith(prefix) else client_id

    def named(pairs: Pairs) -> Pairs:
        return [(k, real(v) if k == "client_id" else v) for k, v in pairs]

    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        scope = with_query(scope, named(query_of(scope)))
        value = header(scope, b"authorization") or ""
        if value[:6].lower() == "basic ":
            given = presented(scope, [])
            scope = with_header(scope, b"authorization", basic(real(given.client_id or ""), given.secret or ""))
        if scope["path"] == "/oauth/token":
            body = encode(named(form_of(body)))
        answer = await forward(scope, body)
        data = json_of(answer)
        if scope["path"] == "/oauth/register" and answer[0] == 201 and data is not None:
            return with_json(answer, {**data, "client_id": prefix + str(data["client_id"])})
        return answer

    return intercept(app, lambda scope: True, handle)


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


@twin(
    "cimd-embedded-urls-fetched-anywhere",
    ("cimd.test_embedded_urls",),
    {"CIMD-6.5-SSRF-EMBEDDED"},
    features=True,
    note="fetches reach any address, special-use ones included (0.0.0.0 reaches the fixture host); a MUST"
    " NOT since CIMD draft 02 (a SHOULD NOT in 01)",
    faults={"fetch-any-address"},
)
def cimd_embedded_urls_fetched_anywhere(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "cimd-embedded-urls-control",
    ("cimd.test_embedded_urls",),
    set(),
    features=True,
    note="a control: the reference refuses a document's jwks_uri on 0.0.0.0 unfetched",
)
def cimd_embedded_urls_control(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "cimd-no-localhost-warning",
    ("mcp.test_authorization_page",),
    set(),
    warns={"MCP-CIMD-LOCALHOST-WARNING"},
    features=True,
    note="the authorization page shows a localhost-only client exactly as any other (no loopback warning)",
)
def cimd_no_localhost_warning(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any, bytes]:
        return status, headers, re.sub(rb"<p class=warn>.*?</p>", b"", body) if status == 200 else body

    return rewrite(app, path_is("/authorize", "GET"), change)


@twin(
    "cimd-localhost-warning-control",
    ("mcp.test_authorization_page",),
    set(),
    features=True,
    note="a control: the reference's page warns that a localhost-only client receives the result on the user's"
    " own computer",
)
def cimd_localhost_warning_control(app: ASGIApp) -> ASGIApp:
    return app
