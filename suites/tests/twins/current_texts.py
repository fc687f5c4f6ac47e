"""Twins for the rows the current texts added (issue 17), one behaviour each.

OAuth 2.1 -15's aud and native-app rules and -16's required iss; ID-JAG's cnf and proof checks;
CIMD -02's public keys only; RFC 8707's scope echo (RFC 6749 section 3.3); RFC 6750's
insufficient_scope and one-method rule; MCP's proxy consent. Each names the suite modules that
test its behaviour, to keep the runs short.
"""

from __future__ import annotations

import base64
import contextvars
import dataclasses
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import orjson
from joserfc.jwk import import_key

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import respond
from suites.tests.twins.extensions import b64_json
from suites.tests.twins.extensions import idjag_claims
from suites.tests.twins.issuer import redirects
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Forward
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import encode
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import header
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import on_query
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import replay
from suites.tests.twins.wire import with_header
from suites.tests.twins.wire import without

TOKEN = "/oauth/token"
JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def on_token_form(app: ASGIApp, refuse: Any) -> ASGIApp:
    """Answer a token request with ``refuse(form, scope)`` (an error object) when it says so."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        error = refuse(dict(parse_qsl(body.decode("latin-1"))), scope)
        if error is not None:
            await respond(send, 401, JSON, orjson.dumps({"error": "invalid_client", "error_description": error}))
            return
        await app(scope, replay(body), send)

    return wrapped


# --------------------------------------------------------------------------- OAuth 2.1 -15/-16
@twin(
    "oauth21-iss-dropped",
    ("oauth21.test_authorization_endpoint",),
    {"OAUTH21-4.1.2-ISS", "OAUTH21-4.1.2.1-ISS"},
    note="what RFC 9207 allowed of a server that does not advertise iss; draft -16 requires it",
)
def iss_dropped(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda pairs: [(k, v) for k, v in pairs if k != "iss"])


@twin(
    "oauth21-assertion-aud-issuer-refused",
    ("oauth21.test_token_endpoint",),
    {"OAUTH21-2.4-JWT-AUD"},
    features=True,
    note="only the token endpoint URL is taken as a client assertion's aud (RFC 7523's old reading)",
)
def assertion_aud_issuer_refused(app: ASGIApp) -> ASGIApp:
    def refuse(form: dict[str, str], scope: Scope) -> str | None:
        assertion = form.get("client_assertion")
        if not assertion or assertion.count(".") != 2:
            return None
        payload = assertion.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a.endswith(TOKEN) for a in audiences):
            return "aud must be the token endpoint URL"
        return None

    return on_token_form(app, refuse)


@twin(
    "oauth21-native-app-needs-a-secret",
    ("oauth21.test_redirect_uris",),
    {"OAUTH21-8.1-NATIVE-NO-SECRET"},
    note="a client whose redirect URI is a loopback one gets no token without a client secret",
)
def native_app_needs_a_secret(app: ASGIApp) -> ASGIApp:
    def refuse(form: dict[str, str], scope: Scope) -> str | None:
        headers = dict(scope["headers"])
        loopback = form.get("redirect_uri", "").startswith(("http://127.0.0.1", "http://[::1]", "http://localhost"))
        if loopback and "client_secret" not in form and b"authorization" not in headers:
            return "native apps must authenticate with a client secret"
        return None

    return on_token_form(app, refuse)


# ------------------------------------------------------------------------------------- ID-JAG
ID_JAG_RESPONSE = ("idjag.test_token_response",)


PROOF_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("proof_key", default=None)


def proof_thumbprint(scope: Scope) -> str | None:
    """The RFC 7638 thumbprint of the key in the request's DPoP proof header (unverified)."""
    value = header(scope, b"dpop")
    if value is None or value.count(".") != 2:
        return None
    try:
        jwk = b64_json(value.split(".")[0]).get("jwk")
        return str(import_key(jwk).thumbprint()) if isinstance(jwk, dict) else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def bound_to_the_proof(claims: dict[str, Any]) -> None:
    cnf, jkt = claims.get("cnf"), PROOF_KEY.get()
    if isinstance(cnf, dict) and jkt is not None:
        claims["cnf"] = {**cnf, "jkt": jkt}


@twin(
    "idjag-cnf-mismatch-ignored",
    ID_JAG_RESPONSE,
    {"IDJAG-8.6.1.2.1-CNF-MISMATCH"},
    features=True,
    faults=idjag_claims(bound_to_the_proof),
)
def cnf_mismatch_ignored(app: ASGIApp) -> ASGIApp:
    """A key-bound ID-JAG needs a proof, but a proof by any key will do."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            PROOF_KEY.set(proof_thumbprint(scope))
        await app(scope, receive, send)

    return wrapped


@twin("idjag-invalid-proof-dropped", ID_JAG_RESPONSE, {"IDJAG-8.6.1.2.3-PROOF-NO-CNF"}, features=True)
def invalid_proof_dropped(app: ASGIApp) -> ASGIApp:
    """An invalid DPoP proof at the token endpoint is ignored, as if none had come."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        answer = await forward(scope, body)
        if answer[0] == 400 and (json_of(answer) or {}).get("error") == "invalid_dpop_proof":
            return await forward(with_header(scope, b"dpop", None), body)
        return answer

    return intercept(app, path_is(TOKEN, "POST"), handle)


# --------------------------------------------------------------------------------------- CIMD
PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})  # a private JWK's members


async def public_keys_only(fetch: Callable[..., Awaitable[Any]], url: str, **kwargs: Any) -> Any:
    """A cimd-fetch hook: the document's keys lose their private members before the reference reads it."""
    fetched = await fetch(url, **kwargs)
    try:
        document = orjson.loads(fetched.body)
    except orjson.JSONDecodeError:
        return fetched
    keys = document.get("jwks", {}).get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        return fetched
    document["jwks"]["keys"] = [{k: v for k, v in key.items() if k not in PRIVATE} for key in keys]
    return dataclasses.replace(fetched, body=orjson.dumps(document))


@twin(
    "cimd-private-keys-taken",
    ("cimd.test_client_auth",),
    {"CIMD-4.1-NO-PRIVATE-KEYS"},
    features=True,
    faults={"cimd-fetch": public_keys_only},
)
def private_keys_taken(app: ASGIApp) -> ASGIApp:
    return app


# -------------------------------------------------------------------------------- RFC 8707 / 6749
@twin(
    "token-scope-narrowed-silently",
    ("rfc8707",),
    {"RFC8707-2.2-SCOPE-ECHO"},
    options={"introspection_endpoint": "/oauth/introspect"},
    note="a grant carries one scope less than asked (allowed) and the token response does not say so",
)
def scope_narrowed_silently(app: ASGIApp) -> ASGIApp:
    """The authorization request's first scope is left out of the grant, and no token response names
    the scope it carries."""

    def narrow(scope: Scope, pairs: Pairs) -> Pairs:
        asked = (first(pairs, "scope") or "").split()
        return replaced(pairs, "scope", " ".join(asked[1:]) or None) if asked else pairs

    def drop(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != "scope"} if isinstance(body, dict) else body

    return rewrite(on_query(app, narrow), path_is(TOKEN, "POST"), edit_json(drop))


# ---------------------------------------------------------------------------------- RFC 6750
@twin("bearer-insufficient-scope-as-401", ("rfc6750",), set(), warns={"RFC6750-3.1-INSUFFICIENT-SCOPE"})
def insufficient_scope_as_401(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 403:
            return status, headers, body
        kept = [(k, v) for k, v in headers if k.lower() != b"www-authenticate"]
        return 401, [*kept, (b"www-authenticate", b'Bearer error="invalid_token"')], body

    return rewrite(app, lambda scope: str(scope["path"]).startswith("/api/"), change)


@twin("bearer-two-methods-served", ("rfc6750",), set(), warns={"RFC6750-3.1-ONE-METHOD"})
def two_methods_served(app: ASGIApp) -> ASGIApp:
    """A request to an API route with a token in the header and one in the form is served: the
    form's never reaches the reference."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        pairs = form_of(body)
        if header(scope, b"authorization") is not None and first(pairs, "access_token") is not None:
            body = encode(without(pairs, "access_token"))
        return await forward(scope, body)

    def form_post_to_api(scope: Scope) -> bool:
        content_type = header(scope, b"content-type") or ""
        return (
            str(scope["path"]).startswith("/api/")
            and scope["method"] == "POST"
            and content_type.startswith("application/x-www-form-urlencoded")
        )

    return intercept(app, form_post_to_api, handle)


# --------------------------------------------------------------------------------------- MCP
@twin(
    "mcp-proxy-forwards-at-once",
    ("mcp.test_proxy",),
    {"MCP-PROXY-CONSENT"},
    note="every authorization request goes straight on to an upstream server, before any page",
)
def proxy_forwards_at_once(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/authorize" and scope["method"] == "GET":
            query = scope.get("query_string", b"").decode("latin-1")
            upstream = "https://upstream.oauth-conformance.invalid/authorize?" + urlencode(parse_qsl(query))
            await respond(send, 302, [(b"location", upstream.encode("latin-1"))], b"")
            return
        await app(scope, receive, send)

    return wrapped
