"""Twins that break the reference's OAuth 2.1 core (draft -13), one behaviour each.

Each patch runs only in the twin's server process: it wraps the app with the rewrite middleware,
or replaces a function of the reference that is looked up at call time (module attributes the
endpoints call through, such as ``authorization.parse_auth_request`` or ``client_auth.authenticate``).
Functions captured when the provider is built (the grant table) are reached through the modules
they call instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import html
import re
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
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
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

OAUTH21 = ("oauth21",)
MCP_ROWS = "mcp.test_oauth21_rows"
AUTHORIZE = "/authorize"
TOKEN = "/oauth/token"
METADATA = "/.well-known/oauth-authorization-server"
Pairs = list[tuple[str, str]]


# ------------------------------------------------------------------------------------ tooling
def patch(target: Any, name: str, value: Any) -> None:
    """Replace ``target.name`` (a module attribute the reference looks up at call time)."""
    setattr(target, name, value)


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, Headers, bytes]:
    """Run ``app`` on a request with ``body`` and capture its response."""
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, replay(body), capture)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


def on_token_requests(
    app: ASGIApp,
    handle: Callable[
        [Scope, Pairs, Callable[[Pairs], Awaitable[tuple[int, Headers, bytes]]]], Awaitable[tuple[int, Headers, bytes]]
    ],
) -> ASGIApp:
    """Let ``handle(scope, pairs, forward)`` decide each token endpoint POST; ``forward`` runs the reference."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        pairs = parse_qsl((await read_body(receive)).decode("utf-8", "replace"), keep_blank_values=True)

        async def forward(new_pairs: Pairs) -> tuple[int, Headers, bytes]:
            return await call(app, scope, urlencode(new_pairs).encode())

        await respond(send, *await handle(scope, pairs, forward))

    return wrapped


def wrap_parse(transform: Callable[[Pairs], Pairs]) -> None:
    """Rewrite the authorization request's parameters before the reference parses them."""
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.parse_auth_request

    async def parse(core: Any, pairs: Pairs, origin: str) -> Any:
        return await original(core, transform(list(pairs)), origin)

    patch(authorization, "parse_auth_request", parse)


def wrap_token_form(transform: Callable[[Pairs], Pairs]) -> None:
    """Rewrite the token endpoint's form before the reference reads it."""
    from oauth_reference.specs.oauth21 import forms
    from oauth_reference.specs.oauth21 import token_endpoint as token

    def parse_form(body: bytes) -> Any:
        return forms.FormParams(transform(forms.parse_pairs(body.decode("utf-8"))))

    patch(token, "parse_form", parse_form)


def metadata_edit(app: ASGIApp, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    return rewrite(app, path_is(METADATA), edit_json(edit))


def drop_headers(*names: bytes) -> Callable[[int, Headers, bytes], tuple[int, Headers, bytes]]:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, [(k, v) for k, v in headers if k.lower() not in names], body

    return change


# The client the token endpoint authenticated, and the form it read, for patches deeper down.
CURRENT_CLIENT: contextvars.ContextVar[Any] = contextvars.ContextVar("twin_client", default=None)
CURRENT_FORM: contextvars.ContextVar[Any] = contextvars.ContextVar("twin_form", default=None)


def remember_client() -> None:
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        client = await original(core, request, form)
        CURRENT_CLIENT.set(client)
        CURRENT_FORM.set(form)
        return client

    patch(client_auth, "authenticate", authenticate)


def grants_proxy(module: Any, **overrides: Any) -> None:
    """Give ``module`` (code_grant, refresh_grant) a ``grants`` whose named functions are replaced."""
    from oauth_reference.machinery import grants

    proxy = SimpleNamespace(**{name: getattr(grants, name) for name in dir(grants) if not name.startswith("__")})
    for name, value in overrides.items():
        setattr(proxy, name, value)
    patch(module, "grants", proxy)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# ------------------------------------------------------------------------ authorization endpoint
@twin("authorize-get-refused", OAUTH21, {"OAUTH21-3.1-GET", "OAUTH21-4.1-CODE-FLOW"})
def authorize_get_refused(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AUTHORIZE and scope["method"] == "GET":
            await respond(send, 405, [(b"allow", b"POST")], b"")
            return
        await app(scope, receive, send)

    return wrapped


KNOWN_AUTHORIZATION_PARAMETERS = {
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
}


@twin("authorize-unknown-parameter-refused", OAUTH21, {"OAUTH21-3.1-IGNORE-UNKNOWN"})
def authorize_unknown_parameter_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.errors import InvalidRequestError

    def transform(pairs: Pairs) -> Pairs:
        unknown = [name for name, _ in pairs if name not in KNOWN_AUTHORIZATION_PARAMETERS]
        if unknown:
            raise AuthorizationError(InvalidRequestError(f"unknown parameter {unknown[0]}"))
        return pairs

    wrap_parse(transform)
    return app


@twin("authorize-repeated-parameter-served", OAUTH21, {"OAUTH21-3.1-NO-DUPLICATES"})
def authorize_repeated_parameter_served(app: ASGIApp) -> ASGIApp:
    def transform(pairs: Pairs) -> Pairs:
        seen: set[str] = set()
        kept = []
        for name, value in pairs:
            if name not in seen or name == "resource":
                kept.append((name, value))
                seen.add(name)
        return kept

    wrap_parse(transform)
    return app


@twin("authorize-empty-parameter-taken-literally", OAUTH21, {"OAUTH21-3.1-EMPTY-PARAM"})
def authorize_empty_parameter_taken_literally(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.errors import InvalidRequestError

    def transform(pairs: Pairs) -> Pairs:
        if ("redirect_uri", "") in pairs:
            raise AuthorizationError(InvalidRequestError("redirect_uri '' is not registered"))
        return pairs

    wrap_parse(transform)
    return app


@twin("authorize-cors", OAUTH21, {"OAUTH21-3.1-NO-CORS"})
def authorize_cors(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != AUTHORIZE:
            await app(scope, receive, send)
            return

        async def add_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), (b"access-control-allow-origin", b"*")])
            await send(message)

        await app(scope, receive, add_cors)

    return wrapped


@twin(
    "authorize-approves-without-login",
    OAUTH21,
    {"OAUTH21-3.1-AUTHN-FIRST", "OAUTH21-7.12.2-AUTH-BEFORE-ERROR"},
    note="the demo application in auto-approve mode: no user is ever authenticated",
)
def authorize_approves_without_login(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.clock import OffsetClock
    from oauth_reference.serving import testmode
    from oauth_reference.serving.demo import build_reference

    clock = OffsetClock()
    return testmode.install(build_reference({"allow_plain_pkce": False}, clock=clock, auto_approve=True), clock)


@twin("authorize-error-bounced-before-login", OAUTH21, {"OAUTH21-7.12.2-AUTH-BEFORE-ERROR"})
def authorize_error_bounced_before_login(app: ASGIApp) -> ASGIApp:
    """The reference before its fix: an erroneous request is redirected to the client at once."""
    blob_field = re.compile(rb'<input type=hidden name=request value="([^"]*)">')

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        found = blob_field.search(body)
        if status != 200 or found is None:
            return status, headers, body
        data = html.unescape(found.group(1).decode()).split(".", 1)[0]
        fields = orjson.loads(base64.urlsafe_b64decode(data))
        if "error_redirect" not in fields:
            return status, headers, body
        return 302, [(b"location", fields["error_redirect"].encode())], b""

    return rewrite(app, path_is(AUTHORIZE, "GET"), change)


@twin("authorize-missing-response-type-accepted", OAUTH21, {"OAUTH21-4.1.1-RESPONSE-TYPE"})
def authorize_missing_response_type_accepted(app: ASGIApp) -> ASGIApp:
    wrap_parse(
        lambda pairs: pairs if any(n == "response_type" for n, _ in pairs) else [*pairs, ("response_type", "code")]
    )
    return app


@twin("authorize-implicit-grant", OAUTH21, {"OAUTH21-4.1.1-NO-IMPLICIT"}, options={"allow_implicit_flow": True})
def authorize_implicit_grant(app: ASGIApp) -> ASGIApp:
    return app


@twin("metadata-advertises-unsupported-response-type", OAUTH21, set(), warns={"OAUTH21-4.1.1-ADVERTISED-TYPES"})
def metadata_advertises_unsupported_response_type(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["response_types_supported"] = [*doc["response_types_supported"], "code id_token"]
        return doc

    return metadata_edit(app, edit)


def _matching(broken: Callable[[str, str], bool]) -> None:
    from oauth_reference.specs.oauth21 import redirect_uris as uris

    original = uris.redirect_uri_matches
    patch(
        uris,
        "redirect_uri_matches",
        lambda requested, registered: original(requested, registered) or broken(requested, registered),
    )


@twin("redirect-prefix-match", OAUTH21, {"OAUTH21-2.3.1-EXACT-MATCH"})
def redirect_prefix_match(app: ASGIApp) -> ASGIApp:
    _matching(lambda requested, registered: requested.startswith(registered))
    return app


@twin("redirect-case-insensitive-match", OAUTH21, {"OAUTH21-2.3.1-EXACT-MATCH"})
def redirect_case_insensitive_match(app: ASGIApp) -> ASGIApp:
    _matching(lambda requested, registered: requested.lower() == registered.lower())
    return app


@twin("redirect-query-ignored", OAUTH21, {"OAUTH21-2.3.1-EXACT-MATCH"})
def redirect_query_ignored(app: ASGIApp) -> ASGIApp:
    _matching(lambda requested, registered: requested.split("?", 1)[0] == registered.split("?", 1)[0])
    return app


@twin(
    "redirect-loopback-port-fixed",
    OAUTH21,
    {"OAUTH21-4.1.1-LOCALHOST-PORT", "OAUTH21-8.4.2-LOOPBACK-PORT"},
    warns=set(),
)
def redirect_loopback_port_fixed(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import redirect_uris as uris

    patch(uris, "redirect_uri_matches", lambda requested, registered: requested == registered)
    return app


def _wrap_build_redirect(
    change: Callable[[str, dict[str, str | None], bool], tuple[str, dict[str, str | None], bool]],
) -> None:
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.build_redirect

    def build_redirect(redirect_uri: str, params: Any, *, fragment: bool = False) -> str:
        uri, new_params, new_fragment = change(redirect_uri, dict(params), fragment)
        return original(uri, new_params, fragment=new_fragment)

    patch(authorization, "build_redirect", build_redirect)


@twin("redirect-registered-query-dropped", OAUTH21, {"OAUTH21-2.3-QUERY"})
def redirect_registered_query_dropped(app: ASGIApp) -> ASGIApp:
    _wrap_build_redirect(lambda uri, params, fragment: (uri.split("?", 1)[0], params, fragment))
    return app


@twin(
    "redirect-invalid-client-bounced",
    OAUTH21,
    {"OAUTH21-4.1.2.1-NO-REDIRECT", "OAUTH21-2.3.1-EXACT-MATCH"},
    note="refusals of an unknown client or unregistered redirect URI are sent to that URI (after sign-in)",
)
def redirect_invalid_client_bounced(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.parse_auth_request

    async def parse(core: Any, pairs: Pairs, origin: str) -> Any:
        try:
            return await original(core, pairs, origin)
        except AuthorizationError as exc:
            uri = dict(pairs).get("redirect_uri")
            if exc.redirect_to is not None or not uri:
                raise
            raise AuthorizationError(exc.oauth_error, authorization.build_redirect(uri, {"error": exc.code})) from None

    patch(authorization, "parse_auth_request", parse)
    return app


@twin("response-code-in-fragment", OAUTH21, {"OAUTH21-4.1.2-RESPONSE"})
def response_code_in_fragment(app: ASGIApp) -> ASGIApp:
    _wrap_build_redirect(lambda uri, params, fragment: (uri, params, fragment or "code" in params))
    return app


@twin("response-state-plus-decoded", OAUTH21, {"OAUTH21-4.1.2-STATE"})
def response_state_plus_decoded(app: ASGIApp) -> ASGIApp:
    def change(uri: str, params: dict[str, str | None], fragment: bool) -> tuple[str, dict[str, str | None], bool]:
        state = params.get("state")
        if state:
            params["state"] = state.replace("+", " ")  # a form-decoding round trip too many
        return uri, params, fragment

    _wrap_build_redirect(change)
    return app


@twin("deny-unregistered-error-code", OAUTH21, {"OAUTH21-4.1.2.1-ERROR"})
def deny_unregistered_error_code(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import AccessDeniedError
    from oauth_reference.serving.demo import app as demo

    class UserDenied(AccessDeniedError):
        error = "user_denied"

    patch(demo, "AccessDeniedError", UserDenied)
    return app


def _skip_public_pkce() -> None:
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.parse_auth_request

    async def parse(core: Any, pairs: Pairs, origin: str) -> Any:
        try:
            return await original(core, pairs, origin)
        except AuthorizationError as exc:
            if "must use PKCE" not in (exc.description or ""):
                raise
            # A challenge nobody holds a verifier for stands in for the missing one.
            dummy = s256(base64.urlsafe_b64encode(hashlib.sha256(origin.encode()).digest()).decode())
            return await original(core, [*pairs, ("code_challenge", dummy), ("code_challenge_method", "S256")], origin)

    patch(authorization, "parse_auth_request", parse)


@twin(
    "pkce-optional-for-public-clients",
    ("oauth21", "rfc7636", MCP_ROWS),
    {"OAUTH21-4.1.2.1-PKCE-PUBLIC", "MCP-CODE-PKCE"},
)
def pkce_optional_for_public_clients(app: ASGIApp) -> ASGIApp:
    _skip_public_pkce()
    return app


@twin("code-lifetime-unlimited", OAUTH21, {"OAUTH21-4.1.2-CODE-TTL"}, warns={"OAUTH21-4.1.2-CODE-TTL-10MIN"})
def code_lifetime_unlimited(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    patch(authorization, "AUTHORIZATION_CODE_TTL", 10**8)
    return app


@twin("consent-redirect-307", OAUTH21, {"OAUTH21-7.5.4-NO-307"}, warns={"OAUTH21-7.5.4-SEE-OTHER"})
def consent_redirect_307(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return (307 if status == 303 else status), headers, body

    return rewrite(app, path_is(AUTHORIZE, "POST"), change)


@twin("consent-page-frameable", OAUTH21, {"OAUTH21-7.10-CLICKJACK"}, warns={"OAUTH21-7.10-CSP"})
def consent_page_frameable(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(AUTHORIZE), drop_headers(b"x-frame-options", b"content-security-policy"))


# -------------------------------------------------------------------------------- token endpoint
@twin("token-get-accepted", OAUTH21, set(), warns={"OAUTH21-3.2-POST"})
def token_get_accepted(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == TOKEN and scope["method"] == "GET":
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            post = dict(scope, method="POST", query_string=b"", headers=headers)
            await app(post, replay(scope.get("query_string", b"")), send)
            return
        await app(scope, receive, send)

    return wrapped


KNOWN_TOKEN_PARAMETERS = {
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "client_id",
    "client_secret",
    "refresh_token",
    "scope",
    "resource",
    "token",
    "token_type_hint",
    "username",
    "password",
}


@twin("token-unknown-parameter-refused", OAUTH21, {"OAUTH21-3.2-IGNORE-UNKNOWN"})
def token_unknown_parameter_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidRequestError

    def transform(pairs: Pairs) -> Pairs:
        unknown = [name for name, _ in pairs if name not in KNOWN_TOKEN_PARAMETERS]
        if unknown:
            raise InvalidRequestError(f"unknown parameter {unknown[0]}")
        return pairs

    wrap_token_form(transform)
    return app


@twin("token-repeated-parameter-served", OAUTH21, {"OAUTH21-3.2-NO-DUPLICATES"})
def token_repeated_parameter_served(app: ASGIApp) -> ASGIApp:
    wrap_token_form(lambda pairs: list(dict(reversed(pairs)).items()))
    return app


@twin("token-empty-parameter-taken-literally", OAUTH21, {"OAUTH21-3.2-EMPTY-PARAM"})
def token_empty_parameter_taken_literally(app: ASGIApp) -> ASGIApp:
    # The form parser drops empty values; this server keeps an empty client_secret as a credential.
    wrap_token_form(lambda pairs: [(n, "(empty)" if n == "client_secret" and v == "" else v) for n, v in pairs])
    return app


@twin("token-response-cacheable", OAUTH21, {"OAUTH21-3.2.3-NO-STORE"})
def token_response_cacheable(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(TOKEN, "POST"), drop_headers(b"cache-control", b"pragma"))


@twin("token-type-not-bearer", OAUTH21, {"OAUTH21-3.2.3-RESPONSE"})
def token_type_not_bearer(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 200 or not body.startswith(b"{"):
            return status, headers, body
        return status, headers, orjson.dumps({**orjson.loads(body), "token_type": "mac"})

    return rewrite(app, path_is(TOKEN, "POST"), change)


@twin("token-error-description-quotes", OAUTH21, {"OAUTH21-3.2.4-ERROR"})
def token_error_description_quotes(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status < 400:
            return status, headers, body
        data = orjson.loads(body)
        data["error_description"] = f'{data.get("error_description", "")} "see the \\manual\\"'
        return status, headers, orjson.dumps(data)

    return rewrite(app, path_is(TOKEN, "POST"), change)


@twin("basic-failure-without-challenge", OAUTH21, {"OAUTH21-3.2.4-401-BASIC"})
def basic_failure_without_challenge(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(TOKEN, "POST"), drop_headers(b"www-authenticate"))


@twin("unknown-grant-invalid-request", OAUTH21, {"OAUTH21-3.2.4-UNSUPPORTED-GRANT"})
def unknown_grant_invalid_request(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidRequestError
    from oauth_reference.specs.oauth21 import token_endpoint as token

    patch(token, "UnsupportedGrantTypeError", InvalidRequestError)
    return app


def _let_through(condition: Callable[[Any, str], bool]) -> None:
    """client_auth.authenticate lets a confidential client without its secret through when ``condition``."""
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        try:
            return await original(core, request, form)
        except InvalidClientError as exc:
            client_id = form.get("client_id")
            if client_id is None or not condition(form, exc.description or ""):
                raise
            client = await clients.lookup(core, client_id)
            if client is None:
                raise
            return client

    patch(client_auth, "authenticate", authenticate)


@twin(
    "confidential-client-unauthenticated",
    OAUTH21,
    {"OAUTH21-3.2.2-CONF-AUTH", "OAUTH21-4.3.1-RT-CONF-AUTH"},
    note="one fault, seen at the code exchange and at the refresh",
)
def confidential_client_unauthenticated(app: ASGIApp) -> ASGIApp:
    _let_through(lambda form, reason: "must authenticate" in reason)
    return app


@twin("client-secret-not-checked", OAUTH21, {"OAUTH21-3.2.2-AUTHENTICATE"})
def client_secret_not_checked(app: ASGIApp) -> ASGIApp:
    _let_through(lambda form, reason: reason == "client authentication failed")
    return app


@twin("refresh-confidential-unauthenticated", OAUTH21, {"OAUTH21-4.3.1-RT-CONF-AUTH"})
def refresh_confidential_unauthenticated(app: ASGIApp) -> ASGIApp:
    _let_through(lambda form, reason: "must authenticate" in reason and form.get("grant_type") == "refresh_token")
    return app


@twin("client-secret-post-refused", OAUTH21, {"OAUTH21-2.4.1-SECRET-POST"})
def client_secret_post_refused(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.read_credentials

    def read_credentials(request: Any, form: Any) -> Any:
        credentials = original(request, form)
        if credentials.method == "client_secret_post":
            raise InvalidClientError("client credentials in the body are not supported")
        return credentials

    patch(client_auth, "read_credentials", read_credentials)
    return app


@twin("basic-credentials-not-form-decoded", OAUTH21, set(), warns={"OAUTH21-2.4.1-BASIC-ENCODING"})
def basic_credentials_not_form_decoded(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import client_auth

    patch(client_auth, "unquote_plus", lambda value: value)
    return app


@twin("basic-authentication-broken", OAUTH21, {"OAUTH21-3.2.2-AUTH-METHODS"})
def basic_authentication_broken(app: ASGIApp) -> ASGIApp:
    """client_secret_basic is advertised, but every Basic header fails."""
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.read_credentials

    def read_credentials(request: Any, form: Any) -> Any:
        credentials = original(request, form)
        if credentials.method == "client_secret_basic":
            raise InvalidClientError("malformed HTTP Basic credentials", headers=client_auth.BASIC_CHALLENGE)
        return credentials

    patch(client_auth, "read_credentials", read_credentials)
    return app


@twin("token-credentials-from-query", OAUTH21, {"OAUTH21-2.4.1-NOT-IN-URI"})
def token_credentials_from_query(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if scope["type"] != "http" or scope["path"] != TOKEN or scope["method"] != "POST" or not query:
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        await app(dict(scope, query_string=b""), replay(body + b"&" + query), send)

    return wrapped


@twin("two-auth-methods-accepted", OAUTH21, {"OAUTH21-2.4-ONE-METHOD"})
def two_auth_methods_accepted(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidRequestError
    from oauth_reference.specs.oauth21 import client_auth
    from oauth_reference.specs.oauth21 import forms

    original = client_auth.read_credentials

    def read_credentials(request: Any, form: Any) -> Any:
        try:
            return original(request, form)
        except InvalidRequestError:
            kept = [(k, v) for k, v in form._single.items() if k not in ("client_id", "client_secret")]
            return original(request, forms.FormParams(kept))

    patch(client_auth, "read_credentials", read_credentials)
    return app


@twin("credentials-too-short", OAUTH21, {"OAUTH21-7.7-ENTROPY"})
def credentials_too_short(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.machinery import grants

    patch(grants, "GRANT_ID_LENGTH", 4)
    patch(grants, "SECRET_LENGTH", 4)
    patch(clients, "CLIENT_SECRET_LENGTH", 8)
    return app


# ------------------------------------------------------------------------------ code grant
@twin("code-replay-returns-tokens-again", OAUTH21, {"OAUTH21-4.1.3-CODE-ONCE"})
def code_replay_returns_tokens_again(app: ASGIApp) -> ASGIApp:
    """An 'idempotent' token endpoint: a code presented again gets the first response again."""
    issued: dict[str, tuple[int, Headers, bytes]] = {}

    async def handle(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        form = dict(pairs)
        code = form.get("code")
        if form.get("grant_type") == "authorization_code" and code in issued:
            return issued[code]
        response: tuple[int, Headers, bytes] = await forward(pairs)
        if code and response[0] == 200:
            issued[code] = response
        return response

    return on_token_requests(app, handle)


@twin("code-redemption-not-atomic", OAUTH21, {"OAUTH21-4.1.3-CODE-ONCE"})
def code_redemption_not_atomic(app: ASGIApp) -> ASGIApp:
    """Read, check, write without a condition: simultaneous redemptions all see an unused code."""
    from oauth_reference.machinery import grants
    from oauth_reference.machinery.storage.sqlite import SQLiteStorage
    from oauth_reference.specs.oauth21 import code_grant

    async def slow_load(storage: Any, user_id: str, grant_id: str) -> Any:
        found = await grants.load(storage, user_id, grant_id)
        await asyncio.sleep(0.05)
        return found

    grants_proxy(code_grant, load=slow_load)
    commit = SQLiteStorage.commit

    async def unconditional(self: Any, writes: Any, *, expect: Any = None) -> bool:
        return await commit(self, writes)

    patch(SQLiteStorage, "commit", unconditional)
    return app


def _grant_seen_by(module: Any, change: Callable[[Any], Any]) -> None:
    """``module``'s grants.load returns the grant as ``change`` rewrites it (per request)."""
    from oauth_reference.machinery import grants

    async def load(storage: Any, user_id: str, grant_id: str) -> Any:
        found = await grants.load(storage, user_id, grant_id)
        if found is None:
            return None
        grant, version = found
        return change(grant), version

    remember_client()
    grants_proxy(module, load=load)


@twin("code-client-binding-ignored", OAUTH21, {"OAUTH21-4.1.3-CLIENT-BIND"})
def code_client_binding_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    _grant_seen_by(code_grant, lambda grant: replace(grant, client_id=CURRENT_CLIENT.get().client_id))
    return app


@twin("code-exchange-without-client-id", OAUTH21, {"OAUTH21-4.1.3-PUBLIC-CLIENT-ID"})
def code_exchange_without_client_id(app: ASGIApp) -> ASGIApp:
    """The client is taken from the code when the request names none."""
    from oauth_reference import client_store as clients
    from oauth_reference.errors import InvalidClientError
    from oauth_reference.machinery import grants
    from oauth_reference.specs.oauth21 import client_auth

    original = client_auth.authenticate

    async def authenticate(core: Any, request: Any, form: Any) -> Any:
        try:
            return await original(core, request, form)
        except InvalidClientError:
            ids = grants.split_token(form.get("code") or "")
            if form.get("client_id") is not None or ids is None:
                raise
            found = await grants.load(core.storage, *ids)
            client = await clients.lookup(core, found[0].client_id) if found else None
            if client is None or not client.is_public:
                raise
            return client

    patch(client_auth, "authenticate", authenticate)
    return app


@twin("code-verifier-optional", OAUTH21, {"OAUTH21-4.1.3-VERIFIER-REQUIRED"})
def code_verifier_optional(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    def change(grant: Any) -> Any:
        if CURRENT_FORM.get().get("code_verifier") is None:
            return replace(grant, code_challenge=None, code_challenge_method=None)
        return grant

    _grant_seen_by(code_grant, change)
    return app


@twin("code-pkce-downgrade-accepted", OAUTH21, {"OAUTH21-4.1.3-PKCE-DOWNGRADE"})
def code_pkce_downgrade_accepted(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    def change(grant: Any) -> Any:
        verifier = CURRENT_FORM.get().get("code_verifier")
        if grant.code_challenge is None and grant.auth_code_wrapped_key is not None and verifier is not None:
            return replace(grant, code_challenge=s256(verifier), code_challenge_method="S256")
        return grant

    _grant_seen_by(code_grant, change)
    return app


@twin("code-redirect-uri-ignored", OAUTH21, {"OAUTH21-10.2-REDIRECT-URI"})
def code_redirect_uri_ignored(app: ASGIApp) -> ASGIApp:
    def transform(pairs: Pairs) -> Pairs:
        if ("grant_type", "authorization_code") in pairs and any(n == "code_verifier" for n, _ in pairs):
            return [(n, v) for n, v in pairs if n != "redirect_uri"]
        return pairs

    wrap_token_form(transform)
    return app


@twin(
    "client-credentials-unauthenticated",
    OAUTH21,
    {"OAUTH21-4.2-CC-CONFIDENTIAL", "OAUTH21-4.2.1-CC-AUTH"},
    note="one fault: the client credentials grant never authenticates the client",
)
def client_credentials_unauthenticated(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["grant_types_supported"] = [*doc["grant_types_supported"], "client_credentials"]
        return doc

    async def handle(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        if ("grant_type", "client_credentials") not in pairs:
            result: tuple[int, Headers, bytes] = await forward(pairs)
            return result
        body = orjson.dumps(
            {
                "access_token": "cc." + hashlib.sha256(repr(pairs).encode()).hexdigest(),
                "token_type": "Bearer",
                "expires_in": 600,
            }
        )
        return 200, [(b"content-type", b"application/json"), (b"cache-control", b"no-store")], body

    return metadata_edit(on_token_requests(app, handle), edit)


# -------------------------------------------------------------------------------- refresh grant
@twin("refresh-client-binding-ignored", OAUTH21, {"OAUTH21-4.3-RT-CLIENT-BIND"})
def refresh_client_binding_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    _grant_seen_by(refresh_grant, lambda grant: replace(grant, client_id=CURRENT_CLIENT.get().client_id))
    return app


@twin("refresh-token-hash-truncated", OAUTH21, {"OAUTH21-4.3-RT-INTEGRITY"}, note="like bcrypt's 72-byte limit")
def refresh_token_hash_truncated(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import crypto

    crypto.sha256_hex = lambda value: hashlib.sha256(value[:40].encode("utf-8")).hexdigest()
    return app


@twin("refresh-scope-widened", OAUTH21, {"OAUTH21-4.3.1-RT-SCOPE"})
def refresh_scope_widened(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    patch(refresh_grant, "narrow", lambda requested, granted: list(requested))
    return app


@twin(
    "refresh-not-rotated",
    (*OAUTH21, MCP_ROWS),
    {"OAUTH21-4.3.1-RT-ROTATE", "MCP-SEC-RT-ROTATION", "OAUTH21-4.3.2-REFRESH-VALID"},
    note="the dropped successor leaves the client the rotated-out token, which no longer refreshes",
)
def refresh_not_rotated(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        status, headers, body = await forward(pairs)
        if status == 200 and ("grant_type", "refresh_token") in pairs:
            data = orjson.loads(body)
            data.pop("refresh_token", None)
            body = orjson.dumps(data)
        return status, headers, body

    return on_token_requests(app, handle)


@twin(
    "refresh-grace-undeclared",
    OAUTH21,
    {"OAUTH21-4.3.1-RT-SUPERSEDED"},
    options={"refresh_token_grace": True},
    note="the seed library's grace period, while the profile declares none",
)
def refresh_grace_undeclared(app: ASGIApp) -> ASGIApp:
    return app


@twin("refresh-reuse-not-detected", OAUTH21, {"OAUTH21-4.3.1-RT-REUSE"})
def refresh_reuse_not_detected(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    async def revoke(storage: Any, user_id: str, grant_id: str) -> bool:
        return False

    grants_proxy(refresh_grant, revoke=revoke)
    return app


@twin("refresh-narrowing-sticks", OAUTH21, {"OAUTH21-4.3.3-RT-SAME-SCOPE"})
def refresh_narrowing_sticks(app: ASGIApp) -> ASGIApp:
    """The refresh token issued by a narrowed refresh carries the narrowed scope."""
    from oauth_reference.machinery import grants
    from oauth_reference.specs.oauth21 import refresh_grant

    def mint(grant: Any, **kwargs: Any) -> Any:
        grant.scope = list(kwargs["scope"])
        return grants.mint_access_token(grant, **kwargs)

    grants_proxy(refresh_grant, mint_access_token=mint)
    return app


@twin(
    "refresh-resource-ignored",
    OAUTH21,
    set(),
    note="a control: a refresh naming another resource gets a token still bound to the consented one (what"
    " the mcp SDK does); section 3.2.3 holds, and the missing invalid_target is RFC 8707's to judge",
)
def refresh_resource_ignored(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    patch(
        refresh_grant,
        "resolve_resource",
        lambda request, grant: grant.resource or request.core.resource(request.issuer),
    )
    return app


@twin("refresh-resource-rebound", OAUTH21, {"OAUTH21-3.2.3-RT-BOUND"})
def refresh_resource_rebound(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import refresh_grant

    def resolve_resource(request: Any, grant: Any) -> Any:
        requested = request.form.get_all("resource")  # the one repeatable parameter
        return requested[0] if requested else grant.resource or request.core.resource(request.issuer)

    patch(refresh_grant, "resolve_resource", resolve_resource)
    return app


# ------------------------------------------------------------------------ SHOULDs (warnings only)
@twin("code-lifetime-fifteen-minutes", OAUTH21, set(), warns={"OAUTH21-4.1.2-CODE-TTL-10MIN"})
def code_lifetime_fifteen_minutes(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    patch(authorization, "AUTHORIZATION_CODE_TTL", 900)
    return app


@twin("consent-redirect-302", OAUTH21, set(), warns={"OAUTH21-7.5.4-SEE-OTHER"})
def consent_redirect_302(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return (302 if status == 303 else status), headers, body

    return rewrite(app, path_is(AUTHORIZE, "POST"), change)


@twin("consent-page-without-csp", OAUTH21, set(), warns={"OAUTH21-7.10-CSP"})
def consent_page_without_csp(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(AUTHORIZE), drop_headers(b"content-security-policy"))


@twin("token-without-expires-in", OAUTH21, set(), warns={"OAUTH21-3.2.3-EXPIRES-IN"})
def token_without_expires_in(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 200 or not body.startswith(b"{"):
            return status, headers, body
        data = orjson.loads(body)
        data.pop("expires_in", None)
        return status, headers, orjson.dumps(data)

    return rewrite(app, path_is(TOKEN, "POST"), change)


@twin("code-replay-keeps-tokens", OAUTH21, set(), warns={"OAUTH21-4.1.3-REVOKE-ON-REUSE"})
def code_replay_keeps_tokens(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    async def revoke(storage: Any, user_id: str, grant_id: str) -> bool:
        return False

    grants_proxy(code_grant, revoke=revoke)
    return app


@twin("redirect-localhost-port-fixed", OAUTH21, {"OAUTH21-4.1.1-LOCALHOST-PORT"}, warns=set())
def redirect_localhost_port_fixed(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import redirect_uris as uris

    original = uris.redirect_uri_matches
    patch(
        uris,
        "redirect_uri_matches",
        lambda requested, registered: (
            requested == registered or ("//localhost" not in registered and original(requested, registered))
        ),
    )
    return app


@twin(
    "pkce-optional-for-confidential-clients",
    OAUTH21,
    set(),
    warns={"OAUTH21-7.5.2-PKCE-ALL"},
    note="the reference's own behaviour (PKCE is required of public clients only), kept even if that changes",
)
def pkce_optional_for_confidential_clients(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store as clients
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.specs.oauth21 import authorization_endpoint as authorization

    original = authorization.parse_auth_request

    async def parse(core: Any, pairs: Pairs, origin: str) -> Any:
        try:
            return await original(core, pairs, origin)
        except AuthorizationError as exc:
            form = dict(pairs)
            if "code_challenge" in form or "code_challenge" not in (exc.description or ""):
                raise
            client = await clients.lookup(core, form.get("client_id", ""))
            if client is None or client.is_public:
                raise
            # A challenge nobody holds a verifier for stands in for the missing one.
            dummy = s256(base64.urlsafe_b64encode(hashlib.sha256(origin.encode()).digest()).decode())
            return await original(core, [*pairs, ("code_challenge", dummy), ("code_challenge_method", "S256")], origin)

    patch(authorization, "parse_auth_request", parse)
    return app


@twin(
    "code-replay-with-wrong-verifier-revokes",
    OAUTH21,
    set(),
    warns={"OAUTH21-7.5.3-NO-DOS-REVOKE"},
    note="any second presentation of a used code revokes its tokens, even one with a wrong code_verifier",
)
def code_replay_with_wrong_verifier_revokes(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs.oauth21 import code_grant

    patch(code_grant, "_valid_replay", lambda grant, verifier, redirect_uri: True)
    return app
