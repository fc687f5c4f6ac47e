"""Twins that break how the reference's API routes take bearer tokens (RFC 6750, MCP)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import OFFSET
from suites.tests.twins.wire import header
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import send_answer
from suites.tests.twins.wire import with_header

SPECS = ("rfc6750", "mcp")
API = "/api/"


def on_api(scope: Scope) -> bool:
    return str(scope["path"]).startswith(API)


def challenges(edit: Any) -> Any:
    """Rewrite the WWW-Authenticate header of API responses with ``edit(status, value)``."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        out: Headers = []
        for name, value in headers:
            if name.lower() == b"www-authenticate":
                replaced = edit(status, value.decode("latin-1"))
                if replaced is not None:
                    out.append((name, replaced.encode("latin-1")))
            else:
                out.append((name, value))
        return status, out, body

    return change


def on_api_headers(app: ASGIApp, edit: Any) -> ASGIApp:
    """Rewrite the Authorization header of API requests with ``edit(value)`` (``None``: no header)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and on_api(scope):
            value = header(scope, b"authorization")
            if value is not None:
                scope = with_header(scope, b"authorization", edit(value))
        await app(scope, receive, send)

    return wrapped


@twin("bearer-header-refused", SPECS, {"RFC6750-2.1-HEADER"})
def header_refused(app: ASGIApp) -> ASGIApp:
    """This resource takes no tokens at all: every bearer token reaches it as an unknown one."""

    def edit(value: str) -> str:
        return "Bearer not-a-token-of-this-server" if value[:7].lower() == "bearer " else value

    return on_api_headers(app, edit)


@twin("bearer-scheme-case-sensitive", SPECS, {"RFC6750-2.1-SCHEME-CASE"})
def scheme_case_sensitive(app: ASGIApp) -> ASGIApp:
    """Only "Bearer" spelled so is the Bearer scheme; "bearer" and "BEARER" make a malformed token."""

    def edit(value: str) -> str:
        return "Bearer ," if value[:7].lower() == "bearer " and not value.startswith("Bearer ") else value

    return on_api_headers(app, edit)


@twin("bearer-no-challenge", SPECS, {"RFC6750-3-CHALLENGE"}, warns={"RFC6750-3.1-INVALID-TOKEN"})
def no_challenge(app: ASGIApp) -> ASGIApp:
    return rewrite(app, on_api, challenges(lambda status, value: None))


@twin("bearer-repeated-error-attribute", SPECS, {"RFC6750-3-ATTRIBUTES-ONCE"})
def repeated_error_attribute(app: ASGIApp) -> ASGIApp:
    return rewrite(app, on_api, challenges(lambda status, value: f'{value}, error="invalid_token", realm="again"'))


@twin("bearer-unescaped-description", SPECS, {"RFC6750-3-ATTRIBUTE-CHARS"})
def unescaped_description(app: ASGIApp) -> ASGIApp:
    import re

    def edit(status: int, value: str) -> str:
        if "error_description=" in value:
            return re.sub(r'error_description="[^"]*"', 'error_description="d\u00e9j\u00e0 vu"', value)
        return f'{value}, error_description="d\u00e9j\u00e0 vu"'

    return rewrite(app, on_api, challenges(edit))


@twin("bearer-error-on-anonymous-requests", SPECS, set(), warns={"RFC6750-3.1-NO-ERROR-ANON"})
def error_on_anonymous_requests(app: ASGIApp) -> ASGIApp:
    def edit(status: int, value: str) -> str:
        return value if "error=" in value else f'{value}, error="invalid_request"'

    return rewrite(app, on_api, challenges(edit))


@twin(
    "bearer-expired-tokens-accepted",
    SPECS,
    {"RFC6750-5.2-LIFETIME", "MCP-TOKEN-INVALID-401"},
    warns={"RFC6750-3.1-INVALID-TOKEN"},
    note="an expired token that works is neither refused (RFC 6750) nor answered 401 (MCP)",
)
def expired_tokens_accepted(app: ASGIApp) -> ASGIApp:
    """Token responses still state the configured expires_in; the resource never sees them expire
    (an API request is judged at the clock without the test mode's offset)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and on_api(scope):
            scope = with_header(scope, OFFSET, None)
        await app(scope, receive, send)

    return wrapped


@twin("bearer-query-token-accepted", SPECS, {"MCP-TOKEN-QUERY"})
def query_token_accepted(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and on_api(scope):
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            headers = dict(scope["headers"])
            if "access_token" in query and b"authorization" not in headers:
                token = f"Bearer {query['access_token']}".encode("latin-1")
                scope = dict(scope, headers=[*scope["headers"], (b"authorization", token)])
        await app(scope, receive, send)

    return wrapped


@twin("bearer-anonymous-403", SPECS, {"MCP-ERR-401"})
def anonymous_403(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return (403 if status == 401 and not body else status), headers, body

    return rewrite(app, on_api, change)


@twin("bearer-invalid-token-400", SPECS, {"MCP-TOKEN-INVALID-401"}, warns={"RFC6750-3.1-INVALID-TOKEN"})
def invalid_token_400(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return (400 if status == 401 and body else status), headers, body

    return rewrite(app, on_api, change)


@twin("bearer-any-jwt-accepted", SPECS, {"MCP-TOKEN-OWN-ONLY"})
def any_jwt_accepted(app: ASGIApp) -> ASGIApp:
    """A bearer token that looks like a JWT is taken on trust: the API answers for an empty grant."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        value = header(scope, b"authorization") if scope["type"] == "http" and on_api(scope) else None
        if value is not None and value[:7].lower() == "bearer " and value[7:].strip().count(".") == 2:
            whoami = {"props": {}, "scope": [], "client_id": "jwt-client", "user_id": "jwt-user"}
            await send_answer(send, json_answer(200, whoami))  # "a JWT: it must be fine"
            return
        await app(scope, receive, send)

    return wrapped


@twin(
    "bearer-long-lived-tokens",
    SPECS,
    set(),
    options={"access_token_ttl": 86400},
    warns={"RFC6750-5.3-SHORT-LIVED", "MCP-THEFT-SHORT-AT"},
)
def long_lived_tokens(app: ASGIApp) -> ASGIApp:
    return app


@twin("bearer-challenge-without-scope", SPECS, set(), warns={"MCP-PRM-SCOPE"})
def challenge_without_scope(app: ASGIApp) -> ASGIApp:
    import re

    return rewrite(app, on_api, challenges(lambda status, value: re.sub(r', scope="[^"]*"', "", value)))
