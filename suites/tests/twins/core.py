"""Twins that break the reference's OAuth 2.1 core (draft -13), one behaviour each.

Each twin breaks the reference from outside (``wire.py``: a request rewritten before the
reference reads it, an answer rewritten after, a request answered by the twin itself), through
public API (options, a storage class), or, for what nothing outside can reach, through a named
fault of ``oauth_reference.faults``. See the rule in ``suites/tests/twins/__init__.py``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import quote_plus
from urllib.parse import unquote_plus
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import orjson

from oauth_reference import Clock
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import REGISTER
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import Flows
from suites.tests.twins.wire import Forward as WireForward
from suites.tests.twins.wire import Issued
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import basic
from suites.tests.twins.wire import encode
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import header
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import location_of
from suites.tests.twins.wire import offset_of
from suites.tests.twins.wire import on_form
from suites.tests.twins.wire import on_query
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import presented
from suites.tests.twins.wire import query_of
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import redirects
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import replay
from suites.tests.twins.wire import run
from suites.tests.twins.wire import send_answer
from suites.tests.twins.wire import with_header
from suites.tests.twins.wire import with_json
from suites.tests.twins.wire import with_location
from suites.tests.twins.wire import with_offset
from suites.tests.twins.wire import without

OAUTH21 = ("oauth21",)
MCP_ROWS = "mcp.test_oauth21_rows"
AUTHORIZE = "/authorize"
TOKEN = "/oauth/token"
METADATA = "/.well-known/oauth-authorization-server"
Forward = Callable[[Scope, Pairs], Awaitable[Answer]]
# The parameters of an authorization response (OAuth 2.1 section 4.1.2, RFC 9207), as opposed to
# those of the registered redirect URI's own query.
RESPONSE_PARAMETERS = ("code", "state", "iss", "error", "error_description", "error_uri")


# ------------------------------------------------------------------------------------ tooling
async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send_answer(send, (status, headers, body))


def metadata_edit(app: ASGIApp, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    return rewrite(app, path_is(METADATA), edit_json(edit))


def drop_headers(*names: bytes) -> Callable[[int, Headers, bytes], tuple[int, Headers, bytes]]:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, [(k, v) for k, v in headers if k.lower() not in names], body

    return change


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def nobodys_challenge() -> str:
    """An S256 challenge nobody holds the verifier of."""
    return s256(secrets.token_urlsafe(32))


def edit_parameter(url: str, name: str, edit: Callable[[str], str]) -> str:
    """``url`` with the query parameter ``name`` rewritten by ``edit``; every other byte kept."""
    parts = urlsplit(url)
    pieces = []
    for piece in parts.query.split("&"):
        key, sep, value = piece.partition("=")
        if sep and unquote_plus(key) == name:
            piece = f"{key}={quote_plus(edit(unquote_plus(value)))}"
        pieces.append(piece)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(pieces), parts.fragment))


def grant_type(pairs: Pairs) -> str | None:
    return first(pairs, "grant_type")


def invalid_grant(description: str) -> Answer:
    return json_answer(400, {"error": "invalid_grant", "error_description": description})


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
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        # Refused as the reference refuses a request without client_id: an error page, no redirect.
        unknown = [name for name, _ in pairs if name not in KNOWN_AUTHORIZATION_PARAMETERS]
        return without(pairs, "client_id") if unknown else pairs

    return on_query(app, transform)


@twin("authorize-repeated-parameter-served", OAUTH21, {"OAUTH21-3.1-NO-DUPLICATES"})
def authorize_repeated_parameter_served(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        seen: set[str] = set()
        kept = []
        for name, value in pairs:
            if name not in seen or name == "resource":
                kept.append((name, value))
                seen.add(name)
        return kept

    return on_query(app, transform)


@twin("authorize-empty-parameter-taken-literally", OAUTH21, {"OAUTH21-3.1-EMPTY-PARAM"})
def authorize_empty_parameter_taken_literally(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        # An empty redirect_uri is read as the URI "", which no client registered: an error page.
        if ("redirect_uri", "") in pairs:
            return replaced(pairs, "redirect_uri", "https://empty-redirect-uri.oauth-conformance.invalid/")
        return pairs

    return on_query(app, transform)


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
    auto_approve=True,
    note="the demo application in auto-approve mode: no user is ever authenticated",
)
def authorize_approves_without_login(app: ASGIApp) -> ASGIApp:
    return app


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
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        return pairs if first(pairs, "response_type") is not None else [*pairs, ("response_type", "code")]

    return on_query(app, transform)


@twin("authorize-implicit-grant", OAUTH21, {"OAUTH21-4.1.1-NO-IMPLICIT"}, options={"allow_implicit_flow": True})
def authorize_implicit_grant(app: ASGIApp) -> ASGIApp:
    return app


@twin("metadata-advertises-unsupported-response-type", OAUTH21, set(), warns={"OAUTH21-4.1.1-ADVERTISED-TYPES"})
def metadata_advertises_unsupported_response_type(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["response_types_supported"] = [*doc["response_types_supported"], "code id_token"]
        return doc

    return metadata_edit(app, edit)


# Redirect URI matching: the reference's own comparison (``match``) widened or narrowed.
Match = Callable[[str, str], bool]


def matching(broken: Callable[[Match, str, str], bool]) -> dict[str, Callable[..., object]]:
    """The faults of a twin whose redirect URI comparison is ``broken(match, requested, registered)``."""
    return {"redirect-uri-match": broken}


@twin(
    "redirect-prefix-match",
    OAUTH21,
    {"OAUTH21-2.3.1-EXACT-MATCH"},
    faults=matching(
        lambda match, requested, registered: match(requested, registered) or requested.startswith(registered)
    ),
)
def redirect_prefix_match(app: ASGIApp) -> ASGIApp:
    return app


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _parsed_loopback_match(requested: str, registered: str) -> bool:
    """Cloudflare 1.2.3's matching of loopback redirect URIs (isValidRedirectUri): both parsed as
    URLs, then scheme, host name, path and query compared, so an upper-case scheme, userinfo and
    an empty query ('?') all pass; other URIs are compared as strings (by ``match``)."""
    a, b = urlsplit(requested), urlsplit(registered)
    if (a.hostname or "") not in LOOPBACK_HOSTS or (b.hostname or "") not in LOOPBACK_HOSTS:
        return False
    return (a.scheme.lower(), a.hostname, a.path, a.query) == (b.scheme.lower(), b.hostname, b.path, b.query)


@twin(
    "redirect-loopback-parsed-match",
    OAUTH21,
    {"OAUTH21-2.3.1-EXACT-MATCH"},
    note="loopback redirect URIs matched as Cloudflare 1.2.3 does; the findings its baseline records"
    " (suites/tests/test_finding_gate.py)",
    faults=matching(
        lambda match, requested, registered: (
            match(requested, registered) or _parsed_loopback_match(requested, registered)
        )
    ),
)
def redirect_loopback_parsed_match(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "redirect-loopback-parsed-then-prefix-match",
    OAUTH21,
    {"OAUTH21-2.3.1-EXACT-MATCH"},
    note="the same, degraded to accepting any URI that starts with the registered one (the class of"
    " CVE-2025-4143): the Cloudflare baseline, which accepts the requirement's failure, must fail on it",
    faults=matching(
        lambda match, requested, registered: (
            match(requested, registered)
            or _parsed_loopback_match(requested, registered)
            or requested.startswith(registered)
        )
    ),
)
def redirect_loopback_parsed_then_prefix_match(app: ASGIApp) -> ASGIApp:
    return app


def redirect_case_insensitive_match(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "redirect-query-ignored",
    OAUTH21,
    {"OAUTH21-2.3.1-EXACT-MATCH"},
    faults=matching(
        lambda match, requested, registered: (
            match(requested, registered) or requested.split("?", 1)[0] == registered.split("?", 1)[0]
        )
    ),
)
def redirect_query_ignored(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "redirect-loopback-port-fixed",
    OAUTH21,
    {"OAUTH21-4.1.1-LOCALHOST-PORT", "OAUTH21-8.4.2-LOOPBACK-PORT"},
    faults=matching(lambda match, requested, registered: requested == registered),
)
def redirect_loopback_port_fixed(app: ASGIApp) -> ASGIApp:
    return app


def response_parameters_only(url: str) -> str:
    """``url`` without the registered query: only the authorization response's own parameters."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if unquote_plus(p.partition("=")[0]) in RESPONSE_PARAMETERS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


@twin("redirect-registered-query-dropped", OAUTH21, {"OAUTH21-2.3-QUERY"})
def redirect_registered_query_dropped(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda scope, location: response_parameters_only(location))


@twin(
    "redirect-invalid-client-bounced",
    OAUTH21,
    {"OAUTH21-4.1.2.1-NO-REDIRECT", "OAUTH21-2.3.1-EXACT-MATCH"},
    note="refusals of an unknown client or unregistered redirect URI are sent to that URI",
)
def redirect_invalid_client_bounced(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        status, headers, content = await forward(scope, body)
        uri = first(query_of(scope), "redirect_uri")
        if status != 400 or not uri:  # the reference's error page: a request it would not redirect
            return status, headers, content
        return 302, [(b"location", f"{uri}{'&' if '?' in uri else '?'}error=invalid_request".encode())], b""

    return intercept(app, path_is(AUTHORIZE, "GET"), handle)


def moved_to_fragment(url: str) -> str:
    """The authorization response's parameters moved from the query to the fragment."""
    parts = urlsplit(url)
    pieces = [p for p in parts.query.split("&") if p]
    ours = [p for p in pieces if unquote_plus(p.partition("=")[0]) in RESPONSE_PARAMETERS]
    if not any(p.startswith("code=") for p in ours):
        return url
    kept = [p for p in pieces if p not in ours]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), "&".join(ours)))


@twin("response-code-in-fragment", OAUTH21, {"OAUTH21-4.1.2-RESPONSE"})
def response_code_in_fragment(app: ASGIApp) -> ASGIApp:
    return redirects(app, lambda scope, location: moved_to_fragment(location))


@twin("response-state-plus-decoded", OAUTH21, {"OAUTH21-4.1.2-STATE"})
def response_state_plus_decoded(app: ASGIApp) -> ASGIApp:
    # A form-decoding round trip too many: a "+" in the state comes back as a space.
    return redirects(app, lambda scope, location: edit_parameter(location, "state", lambda s: s.replace("+", " ")))


@twin("deny-unregistered-error-code", OAUTH21, {"OAUTH21-4.1.2.1-ERROR"})
def deny_unregistered_error_code(app: ASGIApp) -> ASGIApp:
    def edit(scope: Scope, location: str) -> str:
        return edit_parameter(location, "error", lambda e: "user_denied" if e == "access_denied" else e)

    return redirects(app, edit)


def skip_public_pkce(app: ASGIApp, clients: Clients) -> ASGIApp:
    """A public client's authorization request without a code_challenge gets one nobody can answer
    to: the reference then issues the code, as a server that does not require PKCE would."""

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        if first(pairs, "code_challenge") is None and clients.is_public(first(pairs, "client_id")):
            challenge = [("code_challenge", nobodys_challenge()), ("code_challenge_method", "S256")]
            return [*without(pairs, "code_challenge_method"), *challenge]
        return pairs

    return clients.observe(on_query(app, transform))


@twin(
    "pkce-optional-for-public-clients",
    ("oauth21", "rfc7636", MCP_ROWS),
    {"OAUTH21-4.1.2.1-PKCE-PUBLIC", "MCP-CODE-PKCE"},
)
def pkce_optional_for_public_clients(app: ASGIApp) -> ASGIApp:
    return skip_public_pkce(app, Clients())


def code_lifetime(app: ASGIApp, limit: float) -> ASGIApp:
    """Codes live ``limit`` seconds: an exchange within that age is sent at the clock of the code's
    issue (the test mode's per-request offset), where the reference sees a fresh code."""
    flows = Flows()

    def transform(scope: Scope, pairs: Pairs) -> tuple[Scope, Pairs]:
        flow = flows.of(first(pairs, "code")) if grant_type(pairs) == "authorization_code" else None
        if flow is not None and offset_of(scope) - flow.offset <= limit:
            scope = with_offset(scope, flow.offset)
        return scope, pairs

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        return await forward(*transform(scope, pairs))

    return flows.observe(on_token(app, handle))


@twin("code-lifetime-unlimited", OAUTH21, {"OAUTH21-4.1.2-CODE-TTL"}, warns={"OAUTH21-4.1.2-CODE-TTL-10MIN"})
def code_lifetime_unlimited(app: ASGIApp) -> ASGIApp:
    return code_lifetime(app, float("inf"))


@twin("consent-redirect-307", OAUTH21, {"OAUTH21-7.5.4-NO-307"}, warns={"OAUTH21-7.5.4-SEE-OTHER"})
def consent_redirect_307(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return (307 if status == 303 else status), headers, body

    return rewrite(app, path_is(AUTHORIZE, "POST"), change)


@twin("consent-page-frameable", OAUTH21, {"OAUTH21-7.10-CLICKJACK"}, warns={"OAUTH21-7.10-CSP"})
def consent_page_frameable(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(AUTHORIZE), drop_headers(b"x-frame-options", b"content-security-policy"))


@twin(
    "consent-page-frameable-first-page-failed",
    OAUTH21,
    {"OAUTH21-7.10-CLICKJACK"},
    warns={"OAUTH21-7.10-CSP"},
    note="the framing test read one 500 page as the deployment showing no login page",
)
def consent_page_frameable_first_page_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, where the framing test's client gets a 500 page for its first authorization request."""
    clients = Clients()
    failed: list[str] = []

    async def handle(scope: Scope, body: bytes, forward: WireForward) -> Answer:
        client_id = first(query_of(scope), "client_id") or ""
        known = clients.known.get(client_id)
        name = str(known.information.get("client_name", "")) if known is not None else ""
        if "cannot_be_framed" in name and not failed:
            failed.append(client_id)
            return 500, [(b"content-type", b"text/html; charset=utf-8")], b"<!doctype html><p>internal error</p>"
        return await forward(scope, body)

    return clients.observe(intercept(consent_page_frameable(app), path_is(AUTHORIZE, "GET"), handle))


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
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        # Refused as the reference refuses a repeated parameter: 400 invalid_request.
        if any(name not in KNOWN_TOKEN_PARAMETERS for name, _ in pairs):
            return [*pairs, ("grant_type", "refused"), ("grant_type", "refused")]
        return pairs

    return on_form(app, transform)


@twin("token-repeated-parameter-served", OAUTH21, {"OAUTH21-3.2-NO-DUPLICATES"})
def token_repeated_parameter_served(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        return list({name: first(pairs, name) or "" for name, _ in pairs}.items())

    return on_form(app, transform)


@twin("token-empty-parameter-taken-literally", OAUTH21, {"OAUTH21-3.2-EMPTY-PARAM"})
def token_empty_parameter_taken_literally(app: ASGIApp) -> ASGIApp:
    # The reference drops empty values; this server keeps an empty client_secret as a credential.
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        return [(n, "(empty)" if n == "client_secret" and v == "" else v) for n, v in pairs]

    return on_form(app, transform)


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
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if b'"unsupported_grant_type"' not in body:
            return status, headers, body
        return status, headers, body.replace(b'"unsupported_grant_type"', b'"invalid_request"')

    return rewrite(app, path_is(TOKEN, "POST"), change)


def let_through(app: ASGIApp, clients: Clients, condition: Callable[[Scope, Pairs], bool]) -> ASGIApp:
    """A token endpoint request ``condition`` picks is sent with its client's real credentials, as
    if the server had not checked the ones it carried (the clients are learned as they register)."""

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        client_id = presented(scope, pairs).client_id
        if client_id in clients.known and condition(scope, pairs):
            scope, pairs = clients.authenticate_as(scope, pairs, client_id)
        return await forward(scope, pairs)

    return clients.observe(on_token(app, handle))


def confidential(clients: Clients, scope: Scope, pairs: Pairs) -> bool:
    client_id = presented(scope, pairs).client_id
    return client_id is not None and client_id in clients.known and not clients.is_public(client_id)


def without_credentials(clients: Clients, scope: Scope, pairs: Pairs) -> bool:
    """A confidential client named, and no secret (nor assertion) sent."""
    return confidential(clients, scope, pairs) and presented(scope, pairs).method == "none"


def with_wrong_secret(clients: Clients, scope: Scope, pairs: Pairs) -> bool:
    given = presented(scope, pairs)
    known = clients.known.get(given.client_id or "")
    return known is not None and given.secret is not None and given.secret != known.secret


@twin(
    "confidential-client-unauthenticated",
    OAUTH21,
    {"OAUTH21-3.2.2-CONF-AUTH", "OAUTH21-4.3.1-RT-CONF-AUTH"},
    note="one fault, seen at the code exchange and at the refresh",
)
def confidential_client_unauthenticated(app: ASGIApp) -> ASGIApp:
    clients = Clients()
    return let_through(app, clients, lambda scope, pairs: without_credentials(clients, scope, pairs))


@twin("client-secret-not-checked", OAUTH21, {"OAUTH21-3.2.2-AUTHENTICATE"})
def client_secret_not_checked(app: ASGIApp) -> ASGIApp:
    clients = Clients()
    return let_through(app, clients, lambda scope, pairs: with_wrong_secret(clients, scope, pairs))


@twin("client-secret-not-checked-unadvertised", OAUTH21, {"OAUTH21-3.2.2-AUTHENTICATE"})
def client_secret_not_checked_unadvertised(app: ASGIApp) -> ASGIApp:
    """The metadata offers public clients only, yet the token endpoint takes client secrets, and a
    wrong one works: with the secret methods trusted from the metadata, the wrong-secret check was
    not_applicable; the probe that tries them must find them."""
    clients = Clients()
    lenient = let_through(app, clients, lambda scope, pairs: with_wrong_secret(clients, scope, pairs))

    def public_only(body: Any) -> Any:
        return {**body, "token_endpoint_auth_methods_supported": ["none"]} if isinstance(body, dict) else body

    return rewrite(lenient, path_is("/.well-known/oauth-authorization-server"), edit_json(public_only))


@twin("refresh-confidential-unauthenticated", OAUTH21, {"OAUTH21-4.3.1-RT-CONF-AUTH"})
def refresh_confidential_unauthenticated(app: ASGIApp) -> ASGIApp:
    clients = Clients()

    def condition(scope: Scope, pairs: Pairs) -> bool:
        return grant_type(pairs) == "refresh_token" and without_credentials(clients, scope, pairs)

    return let_through(app, clients, condition)


@twin("client-secret-post-refused", OAUTH21, {"OAUTH21-2.4.1-SECRET-POST"})
def client_secret_post_refused(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        # A secret in the body never authenticates: it is read as a wrong one (401 invalid_client).
        if first(pairs, "client_secret") and (header(scope, b"authorization") or "")[:6].lower() != "basic ":
            return replaced(pairs, "client_secret", "client-credentials-in-the-body-are-not-supported")
        return pairs

    return on_form(app, transform)


@twin("basic-credentials-not-form-decoded", OAUTH21, set(), warns={"OAUTH21-2.4.1-BASIC-ENCODING"})
def basic_credentials_not_form_decoded(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        value = header(scope, b"authorization") if scope["type"] == "http" else None
        if scope.get("path") == TOKEN and value is not None and value[:6].lower() == "basic ":
            try:
                raw_id, _, raw_secret = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
            except ValueError:
                raw_id = ""
            if raw_id:  # the id and secret as they came, never form-decoded
                scope = with_header(scope, b"authorization", basic(raw_id, raw_secret))
        await app(scope, receive, send)

    return wrapped


@twin("basic-authentication-broken", OAUTH21, {"OAUTH21-3.2.2-AUTH-METHODS"})
def basic_authentication_broken(app: ASGIApp) -> ASGIApp:
    """client_secret_basic is advertised, but every Basic header fails."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        value = header(scope, b"authorization") if scope["type"] == "http" else None
        if scope.get("path") == TOKEN and value is not None and value[:6].lower() == "basic ":
            scope = with_header(scope, b"authorization", "Basic !")  # malformed: 401 with a Basic challenge
        await app(scope, receive, send)

    return wrapped


@twin("token-credentials-from-query", OAUTH21, {"OAUTH21-2.4.1-NOT-IN-URI"})
def token_credentials_from_query(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if scope["type"] != "http" or scope["path"] != TOKEN or scope["method"] != "POST" or not query:
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        await send_answer(send, await run(app, dict(scope, query_string=b""), body + b"&" + query))

    return wrapped


@twin("two-auth-methods-accepted", OAUTH21, {"OAUTH21-2.4-ONE-METHOD"})
def two_auth_methods_accepted(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        # A second method beside HTTP Basic, or beside a client assertion, is dropped unread.
        basic_given = (header(scope, b"authorization") or "")[:6].lower() == "basic "
        assertion = first(pairs, "client_assertion") is not None
        if basic_given and not assertion and first(pairs, "client_secret") is not None:
            return without(pairs, "client_id", "client_secret")
        if basic_given and not assertion and first(pairs, "client_id") != presented(scope, pairs).client_id:
            return without(pairs, "client_id")
        if assertion and not basic_given and first(pairs, "client_secret") is not None:
            return without(pairs, "client_id", "client_secret")
        return pairs

    return on_form(app, transform)


class Aliases:
    """Short stand-ins for the reference's codes, tokens and secrets: the twin issues these, and
    puts the real ones back in every request."""

    FIELDS = ("code", "refresh_token", "token", "subject_token", "client_secret", "actor_token")

    def __init__(self, length: int) -> None:
        self.length = length
        self.real: dict[str, str] = {}
        self.alias: dict[str, str] = {}

    def short(self, value: str) -> str:
        if value not in self.alias:
            made = secrets.token_urlsafe(self.length)[: self.length]
            self.alias[value], self.real[made] = made, value
        return self.alias[value]

    def long(self, value: str) -> str:
        return self.real.get(value, value)


@twin("credentials-too-short", OAUTH21, {"OAUTH21-7.7-ENTROPY"})
def credentials_too_short(app: ASGIApp) -> ASGIApp:
    """Codes, tokens and client secrets of 8 to 12 characters (well under 128 bits)."""
    tokens, secrets_ = Aliases(12), Aliases(8)

    def request(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        value = header(scope, b"authorization") or ""
        if value[:7].lower() == "bearer ":
            scope = with_header(scope, b"authorization", "Bearer " + tokens.long(value[7:].strip()))
        elif value[:6].lower() == "basic ":
            raw_id, _, raw_secret = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
            secret = secrets_.long(unquote_plus(raw_secret))
            scope = with_header(scope, b"authorization", basic(unquote_plus(raw_id), secret))
        if scope["path"] == TOKEN and scope["method"] == "POST":
            pairs = [
                (n, (secrets_ if n == "client_secret" else tokens).long(v) if n in Aliases.FIELDS else v)
                for n, v in form_of(body)
            ]
            body = encode(pairs)
        return scope, body

    def answer(scope: Scope, given: Answer) -> Answer:
        status, headers, content = given
        data = json_of(given)
        if data is not None and status in (200, 201):
            for name in ("access_token", "refresh_token"):
                if isinstance(data.get(name), str):
                    data[name] = tokens.short(data[name])
            if isinstance(data.get("client_secret"), str):
                data["client_secret"] = secrets_.short(data["client_secret"])
            return with_json(given, data)
        location = location_of(headers)
        if location is not None and "code=" in location:
            headers = with_location(headers, edit_parameter(location, "code", tokens.short))
        return status, headers, content

    async def handle(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        scope, body = request(scope, body)
        return answer(scope, await forward(scope, body))

    return intercept(app, lambda scope: True, handle)


# ------------------------------------------------------------------------------ code grant
@twin("code-replay-returns-tokens-again", OAUTH21, {"OAUTH21-4.1.3-CODE-ONCE"})
def code_replay_returns_tokens_again(app: ASGIApp) -> ASGIApp:
    """An 'idempotent' token endpoint: a code presented again gets the first response again."""
    issued: dict[str, Answer] = {}

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        code = first(pairs, "code")
        if grant_type(pairs) == "authorization_code" and code in issued:
            return issued[code]
        response = await forward(scope, pairs)
        if code and response[0] == 200:
            issued[code] = response
        return response

    return on_token(app, handle)


GRANT_KEY = "grant:"  # the storage schema's grant records (reference/README.md, "Storage schema")


class Unconditional(SQLiteStorage):
    """A store whose commits ignore their conditions, and whose grant reads take a while: read,
    check, write, so that simultaneous redemptions of one code all see it unused."""

    async def get(self, key: str) -> Entry | None:
        entry = await super().get(key)
        if key.startswith(GRANT_KEY):
            await asyncio.sleep(0.05)
        return entry

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        return await super().commit(writes)


def unconditional(path: str, clock: Clock) -> Unconditional:
    return Unconditional(path, clock)


@twin(
    "code-redemption-not-atomic",
    OAUTH21,
    {"OAUTH21-4.1.3-CODE-ONCE", "OAUTH21-4.3.1-RT-SUPERSEDED"},
    storage=unconditional,
    note="commits never conditional: simultaneous redemptions of a code, and simultaneous refreshes"
    " with one refresh token, all succeed (the races are released together since issue 13)",
)
def code_redemption_not_atomic(app: ASGIApp) -> ASGIApp:
    return app


def redeemed_by_its_client(app: ASGIApp) -> ASGIApp:
    """A code is redeemed with the credentials of the client it was issued to, whichever client
    presents it (once that client has authenticated)."""
    clients, flows = Clients(), Flows()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        owner = flows.client_of(first(pairs, "code")) if grant_type(pairs) == "authorization_code" else None
        other = owner is not None and owner != presented(scope, pairs).client_id
        if other and owner and clients.authenticates(scope, pairs):
            scope, pairs = clients.authenticate_as(scope, pairs, owner)
        return await forward(scope, pairs)

    return clients.observe(flows.observe(on_token(app, handle)))


@twin("code-client-binding-ignored", OAUTH21, {"OAUTH21-4.1.3-CLIENT-BIND"})
def code_client_binding_ignored(app: ASGIApp) -> ASGIApp:
    return redeemed_by_its_client(app)


@twin("code-exchange-without-client-id", OAUTH21, {"OAUTH21-4.1.3-PUBLIC-CLIENT-ID"})
def code_exchange_without_client_id(app: ASGIApp) -> ASGIApp:
    """The client is taken from the code when the request names none."""
    clients, flows = Clients(), Flows()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        owner = flows.client_of(first(pairs, "code")) if grant_type(pairs) == "authorization_code" else None
        if owner is not None and clients.is_public(owner) and presented(scope, pairs).client_id is None:
            pairs = [*pairs, ("client_id", owner)]
        return await forward(scope, pairs)

    return clients.observe(flows.observe(on_token(app, handle)))


@twin("code-verifier-optional", OAUTH21, {"OAUTH21-4.1.3-VERIFIER-REQUIRED"}, faults={"code-verifier-optional"})
def code_verifier_optional(app: ASGIApp) -> ASGIApp:
    return app


@twin("code-pkce-downgrade-accepted", OAUTH21, {"OAUTH21-4.1.3-PKCE-DOWNGRADE"})
def code_pkce_downgrade_accepted(app: ASGIApp) -> ASGIApp:
    """A code_verifier sent for a code issued without a code_challenge is ignored."""
    flows = Flows()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        flow = flows.of(first(pairs, "code")) if grant_type(pairs) == "authorization_code" else None
        if flow is not None and first(flow.request, "code_challenge") is None:
            pairs = without(pairs, "code_verifier")
        return await forward(scope, pairs)

    return flows.observe(on_token(app, handle))


@twin(
    "code-pkce-downgrade-accepted-first-request-failed",
    OAUTH21,
    {"OAUTH21-4.1.3-PKCE-DOWNGRADE"},
    note="the downgrade test read one refused request without PKCE as the server requiring PKCE",
)
def code_pkce_downgrade_accepted_first_request_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, where each confidential client's first authorization request without a
    code_challenge gets a 500 page."""
    clients = Clients()
    failed: set[str] = set()

    async def handle(scope: Scope, body: bytes, forward: WireForward) -> Answer:
        query = query_of(scope)
        client_id = first(query, "client_id") or ""
        confidential = client_id in clients.known and not clients.is_public(client_id)
        if confidential and first(query, "code_challenge") is None and client_id not in failed:
            failed.add(client_id)
            return 500, [(b"content-type", b"text/html; charset=utf-8")], b"<!doctype html><p>internal error</p>"
        return await forward(scope, body)

    return clients.observe(intercept(code_pkce_downgrade_accepted(app), path_is("/authorize", "GET"), handle))


@twin("code-redirect-uri-ignored", OAUTH21, {"OAUTH21-10.2-REDIRECT-URI"})
def code_redirect_uri_ignored(app: ASGIApp) -> ASGIApp:
    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        if grant_type(pairs) == "authorization_code" and first(pairs, "code_verifier") is not None:
            return without(pairs, "redirect_uri")
        return pairs

    return on_form(app, transform)


@twin(
    "client-credentials-unauthenticated",
    OAUTH21,
    {"OAUTH21-4.2-CC-CONFIDENTIAL", "OAUTH21-4.2.1-CC-AUTH", "OAUTH21-3.2.4-UNAUTHORIZED-CLIENT"},
    note="one fault: the client credentials grant never authenticates the client (so a client registered"
    " for authorization_code only gets such a token too)",
)
def client_credentials_unauthenticated(app: ASGIApp) -> ASGIApp:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["grant_types_supported"] = [*doc["grant_types_supported"], "client_credentials"]
        return doc

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        if ("grant_type", "client_credentials") not in pairs:
            return await forward(scope, pairs)
        body = orjson.dumps(
            {
                "access_token": "cc." + hashlib.sha256(repr(pairs).encode()).hexdigest(),
                "token_type": "Bearer",
                "expires_in": 600,
            }
        )
        return 200, [(b"content-type", b"application/json"), (b"cache-control", b"no-store")], body

    return metadata_edit(on_token(app, handle), edit)


# -------------------------------------------------------------------------------- refresh grant
@twin("refresh-client-binding-ignored", OAUTH21, {"OAUTH21-4.3-RT-CLIENT-BIND"})
def refresh_client_binding_ignored(app: ASGIApp) -> ASGIApp:
    """A refresh token is used with the credentials of the client it was issued to, whichever client
    presents it (once that client has authenticated)."""
    clients, issued = Clients(), Issued()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        token = first(pairs, "refresh_token") if grant_type(pairs) == "refresh_token" else None
        owner = issued.clients.get(token or "")
        if owner is not None and owner != presented(scope, pairs).client_id and clients.authenticates(scope, pairs):
            scope, pairs = clients.authenticate_as(scope, pairs, owner)
        return await forward(scope, pairs)

    return clients.observe(on_token(issued.observe(app), handle))


@twin("refresh-token-hash-truncated", OAUTH21, {"OAUTH21-4.3-RT-INTEGRITY"}, note="like bcrypt's 72-byte limit")
def refresh_token_hash_truncated(app: ASGIApp) -> ASGIApp:
    """Refresh tokens are compared by their first 40 characters only."""
    issued = Issued()

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        token = first(pairs, "refresh_token") or ""
        if grant_type(pairs) != "refresh_token" or token in issued.kinds:
            return pairs
        alike = [t for t, kind in issued.kinds.items() if kind == "refresh_token" and t[:40] == token[:40]]
        return replaced(pairs, "refresh_token", alike[-1]) if alike else pairs

    return on_form(issued.observe(app), transform)


def widened_on_refresh(app: ASGIApp) -> ASGIApp:
    """A refresh issues whatever scope it asks for: a scope the reference refuses as wider than the
    grant is asked for no more, and the answer states the scope asked for."""

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        answer = await forward(scope, pairs)
        asked = first(pairs, "scope")
        if grant_type(pairs) != "refresh_token" or not asked or (json_of(answer) or {}).get("error") != "invalid_scope":
            return answer
        again = await forward(scope, without(pairs, "scope"))
        data = json_of(again)
        return with_json(again, {**data, "scope": asked}) if again[0] == 200 and data is not None else answer

    return on_token(app, handle)


@twin("refresh-scope-widened", OAUTH21, {"OAUTH21-4.3.1-RT-SCOPE"})
def refresh_scope_widened(app: ASGIApp) -> ASGIApp:
    return widened_on_refresh(app)


@twin(
    "refresh-not-rotated",
    (*OAUTH21, MCP_ROWS),
    {"OAUTH21-4.3.1-RT-ROTATE", "MCP-SEC-RT-ROTATION", "OAUTH21-4.3.2-REFRESH-VALID"},
    note="the dropped successor leaves the client the rotated-out token, which no longer refreshes",
)
def refresh_not_rotated(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        answer = await forward(scope, pairs)
        data = json_of(answer)
        if answer[0] == 200 and grant_type(pairs) == "refresh_token" and data is not None:
            data.pop("refresh_token", None)
            return with_json(answer, data)
        return answer

    return on_token(app, handle)


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
    """A refresh token used before is refused, but nothing is revoked."""
    used: set[str] = set()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        token = first(pairs, "refresh_token") if grant_type(pairs) == "refresh_token" else None
        if token in used:
            return invalid_grant("the refresh token was already used")
        answer = await forward(scope, pairs)
        if token is not None and answer[0] == 200:
            used.add(token)
        return answer

    return on_token(app, handle)


@twin("refresh-narrowing-sticks", OAUTH21, {"OAUTH21-4.3.3-RT-SAME-SCOPE"})
def refresh_narrowing_sticks(app: ASGIApp) -> ASGIApp:
    """The refresh token issued by a narrowed refresh carries the narrowed scope."""
    narrowed: dict[str, str] = {}  # refresh token -> the scope it is stuck with

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        token = first(pairs, "refresh_token") if grant_type(pairs) == "refresh_token" else None
        if token in narrowed and first(pairs, "scope") is None:
            pairs = [*pairs, ("scope", narrowed[token])]
        answer = await forward(scope, pairs)
        successor = (json_of(answer) or {}).get("refresh_token")
        if token is not None and answer[0] == 200 and first(pairs, "scope") and isinstance(successor, str):
            narrowed[successor] = first(pairs, "scope") or ""
        return answer

    return on_token(app, handle)


@twin(
    "refresh-resource-ignored",
    OAUTH21,
    set(),
    note="a control: a refresh naming another resource gets a token still bound to the consented one (what"
    " the mcp SDK does); section 3.2.3 holds, and the missing invalid_target is RFC 8707's to judge",
)
def refresh_resource_ignored(app: ASGIApp) -> ASGIApp:
    """A refresh ignores the resource it asks for: its token is for the grant's resource."""

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        return without(pairs, "resource") if grant_type(pairs) == "refresh_token" else pairs

    return on_form(app, transform)


@twin("refresh-resource-rebound", OAUTH21, {"OAUTH21-3.2.3-RT-BOUND"})
def refresh_resource_rebound(app: ASGIApp) -> ASGIApp:
    """A refresh naming a resource gets a token for it, consented or not (the response says so)."""

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        asked = first(pairs, "resource") if grant_type(pairs) == "refresh_token" else None
        if asked is None:
            return await forward(scope, pairs)
        answer = await forward(scope, without(pairs, "resource"))
        body = json_of(answer)
        return with_json(answer, {**body, "resource": asked}) if answer[0] == 200 and body else answer

    return on_token(app, handle)


# ------------------------------------------------------------------------ SHOULDs (warnings only)
@twin("code-lifetime-fifteen-minutes", OAUTH21, set(), warns={"OAUTH21-4.1.2-CODE-TTL-10MIN"})
def code_lifetime_fifteen_minutes(app: ASGIApp) -> ASGIApp:
    return code_lifetime(app, 900)


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
    """A redeemed code presented again is refused, and nothing is revoked."""
    redeemed: set[str] = set()

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        code = first(pairs, "code") if grant_type(pairs) == "authorization_code" else None
        if code in redeemed:
            return invalid_grant("the authorization code was already used")
        answer = await forward(scope, pairs)
        if code is not None and answer[0] == 200:
            redeemed.add(code)
        return answer

    return on_token(app, handle)


@twin(
    "redirect-localhost-port-fixed",
    OAUTH21,
    {"OAUTH21-4.1.1-LOCALHOST-PORT"},
    faults=matching(
        lambda match, requested, registered: (
            requested == registered or ("//localhost" not in registered and match(requested, registered))
        )
    ),
)
def redirect_localhost_port_fixed(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "pkce-optional-for-confidential-clients",
    OAUTH21,
    set(),
    warns={"OAUTH21-7.5.2-PKCE-ALL"},
    note="the reference's own behaviour: PKCE is required of public clients only",
)
def pkce_optional_for_confidential_clients(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "code-replay-with-wrong-verifier-revokes",
    OAUTH21,
    set(),
    warns={"OAUTH21-7.5.3-NO-DOS-REVOKE"},
    note="any second presentation of a used code revokes its tokens, even one with a wrong code_verifier",
)
def code_replay_with_wrong_verifier_revokes(app: ASGIApp) -> ASGIApp:
    """A replay is sent with the verifier (and redirect URI) of the code's first, valid exchange:
    the reference then judges it a valid replay, and revokes."""
    first_exchange: dict[str, Pairs] = {}

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        code = first(pairs, "code") if grant_type(pairs) == "authorization_code" else None
        if code in first_exchange:
            valid = first_exchange[code]
            for name in ("code_verifier", "redirect_uri"):
                pairs = replaced(pairs, name, first(valid, name))
        answer = await forward(scope, pairs)
        if code is not None and answer[0] == 200:
            first_exchange[code] = pairs
        return answer

    return on_token(app, handle)


@twin(
    "grant-types-unrestricted",
    ("oauth21.test_grant_permissions",),
    {"OAUTH21-3.2.4-UNAUTHORIZED-CLIENT"},
    options={"allow_token_exchange_grant": True},
    note="the token endpoint lets every client use every grant it offers, whatever the client registered",
)
def grant_types_unrestricted(app: ASGIApp) -> ASGIApp:
    """Every client is registered for every grant the server offers; the answer echoes what it asked."""

    async def handle(scope: Scope, body: bytes, forward: WireForward) -> Answer:
        try:
            asked = orjson.loads(body)
        except orjson.JSONDecodeError:
            return await forward(scope, body)
        if not isinstance(asked, dict):
            return await forward(scope, body)
        offered = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"]
        answer = await forward(scope, orjson.dumps({**asked, "grant_types": offered}))
        registered = json_of(answer)
        if answer[0] == 201 and registered and "grant_types" in asked:
            return with_json(answer, {**registered, "grant_types": asked["grant_types"]})
        return answer

    return intercept(app, path_is(REGISTER, "POST"), handle)


@twin(
    "grant-types-restricted",
    ("oauth21.test_grant_permissions",),
    set(),
    options={"allow_token_exchange_grant": True},
    note="a control: the reference with token exchange on keeps a client registered for authorization_code"
    " from it with unauthorized_client",
)
def grant_types_restricted(app: ASGIApp) -> ASGIApp:
    return app


def _cookie(scope: Scope, name: str) -> str | None:
    raw: str = dict(scope.get("headers", [])).get(b"cookie", b"").decode("latin-1")
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _call(app: ASGIApp, scope: Scope, body: bytes = b"") -> tuple[int, Headers, bytes]:
    """Run one request through ``app`` and collect its response."""
    start: Message = {}
    chunks: list[bytes] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


@twin(
    "authorization-approvals-remembered",
    ("oauth21.test_repeated_authorization",),
    set(),
    warns={"OAUTH21-7.3.1-NO-SILENT-REPEAT"},
    note="once the user approved a client in a browser session, the client's next request in that session is"
    " approved at once, public client or not",
)
def authorization_approvals_remembered(app: ASGIApp) -> ASGIApp:
    _CSRF_COOKIE = "oauth_demo_csrf"  # the demo's session cookie, as its pages set it

    last: dict[str, str] = {}  # session cookie -> the client its consent page was shown for
    approved: set[tuple[str, str]] = set()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != AUTHORIZE:
            await app(scope, receive, send)
            return
        session = _cookie(scope, _CSRF_COOKIE)
        if scope["method"] == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            status, headers, out = await _call(app, scope, body)
            location = dict(headers).get(b"location", b"")
            if session and status == 303 and b"code=" in location and session in last:
                approved.add((session, last[session]))
        else:
            client_id = dict(parse_qsl(scope.get("query_string", b"").decode())).get("client_id", "")
            status, headers, out = await _call(app, scope)
            for name, value in headers:  # a first visit: the session the page starts
                if name.lower() == b"set-cookie" and value.startswith(_CSRF_COOKIE.encode() + b"="):
                    session = session or value.split(b";")[0].split(b"=", 1)[1].decode()
            if session:
                last[session] = client_id
            if session and (session, client_id) in approved and status == 200:
                # Remembered: submit the consent page's own form on the user's behalf.
                fields = dict(re.findall(rb'name=(\w+) value="([^"]*)"', out))
                form = {k.decode(): html.unescape(v.decode()) for k, v in fields.items() if k in (b"request", b"csrf")}
                form.update(username="alice", password="wonderland", action="approve")
                posted = dict(scope, method="POST", query_string=b"")
                posted["headers"] = [
                    *[(k, v) for k, v in scope["headers"] if k.lower() not in (b"content-type", b"content-length")],
                    (b"content-type", b"application/x-www-form-urlencoded"),
                ]
                status, headers, out = await _call(app, posted, urlencode(form).encode())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return wrapped


@twin(
    "authorization-approvals-asked-again",
    ("oauth21.test_repeated_authorization",),
    set(),
    note="a control: the reference asks again (its login and consent page) in a session where the user"
    " approved the client before",
)
def authorization_approvals_asked_again(app: ASGIApp) -> ASGIApp:
    return app
