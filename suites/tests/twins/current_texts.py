"""Twins for the rows the current texts added (issue 17), one behaviour each.

OAuth 2.1 -15's aud and native-app rules and -16's required iss; ID-JAG's cnf and proof checks;
CIMD -02's public keys only; RFC 8707's scope echo (RFC 6749 section 3.3); RFC 6750's
insufficient_scope and one-method rule; MCP's proxy consent. Each names the suite modules that
test its behaviour, to keep the runs short.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import read_body
from suites.tests.twins.core import replay
from suites.tests.twins.core import respond
from suites.tests.twins.issuer import redirects
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

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


@twin("idjag-cnf-mismatch-ignored", ID_JAG_RESPONSE, {"IDJAG-8.6.1.2.1-CNF-MISMATCH"}, features=True)
def cnf_mismatch_ignored(app: ASGIApp) -> ASGIApp:
    """A key-bound ID-JAG needs a proof, but a proof by any key will do."""
    from oauth_reference.specs import idjag

    check = idjag._check_binding

    def any_key(claims: dict[str, Any], request: Any) -> None:
        cnf = claims.get("cnf")
        if isinstance(cnf, dict) and request.proof is not None:
            claims = {**claims, "cnf": {**cnf, "jkt": request.proof.jkt}}
        check(claims, request)

    idjag._check_binding = any_key
    return app


@twin("idjag-invalid-proof-dropped", ID_JAG_RESPONSE, {"IDJAG-8.6.1.2.3-PROOF-NO-CNF"}, features=True)
def invalid_proof_dropped(app: ASGIApp) -> ASGIApp:
    """An invalid DPoP proof at the token endpoint is ignored, as if none had come."""
    from oauth_reference.errors import InvalidDpopProofError
    from oauth_reference.specs.oauth21 import token_endpoint
    from suites.tests.twins.dpop import Delegate

    class Lenient(Delegate):
        async def check_proof(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return await self._module.check_proof(*args, **kwargs)
            except InvalidDpopProofError:
                return None

    token_endpoint.rfc9449 = Lenient(token_endpoint.rfc9449)
    return app


# --------------------------------------------------------------------------------------- CIMD
@twin("cimd-private-keys-taken", ("cimd.test_client_auth",), {"CIMD-4.1-NO-PRIVATE-KEYS"}, features=True)
def private_keys_taken(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import cimd

    cimd.public_jwks_problem = lambda jwks: None
    return app


# -------------------------------------------------------------------------------- RFC 8707 / 6749
@twin(
    "token-scope-narrowed-silently",
    ("rfc8707",),
    {"RFC8707-2.2-SCOPE-ECHO"},
    options={"introspection_endpoint": "/oauth/introspect"},
    note="a code exchange grants one scope less than asked (allowed) and the response does not say so",
)
def scope_narrowed_silently(app: ASGIApp) -> ASGIApp:
    import dataclasses

    from oauth_reference.specs.oauth21 import code_grant
    from suites.tests.twins.dpop import Delegate

    class Narrowing(Delegate):
        async def issuance(self, *args: Any, **kwargs: Any) -> Any:
            issued = await self._module.issuance(*args, **kwargs)
            return dataclasses.replace(issued, scope=issued.scope[1:])

    code_grant.callbacks = Narrowing(code_grant.callbacks)

    def drop(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != "scope"} if isinstance(body, dict) else body

    return rewrite(app, path_is(TOKEN, "POST"), edit_json(drop))


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
    from oauth_reference import provider

    async def never(request: Any, receive: Any) -> tuple[bool, Any]:
        return False, receive

    provider._form_token = never
    return app


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
