"""Twins that a harness without positive controls, probing and coverage would have PASSED (issue 13).

Each breaks the reference the way an adversary, or an unlucky implementer, would: a dead
authorization endpoint, error pages served with HTTP 200, a feature left out of the metadata, a
refresh grant that refuses every valid refresh, a revocation endpoint that does nothing, a page
that hides the redirect host. All of them are wire rewrites (the reference itself is untouched), so
they stay valid whatever the reference's internals become.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import AUTHORIZE
from suites.tests.twins.core import Forward
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.core import respond
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import on_token

CODE_FLOW_SUITES = ("oauth21", "rfc7636", "mcp.test_oauth21_rows")
JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


# ---------------------------------------------------------------- 1: a dead authorization endpoint
@twin(
    "authorize-dead",
    CODE_FLOW_SUITES,
    {
        "OAUTH21-4.1-CODE-FLOW",
        "OAUTH21-3.1-GET",
        "RFC7636-4.2-S256-MTI",
        "MCP-CODE-PKCE",
    },
    note="issue 13 item 1: /authorize answers 500 to everything; it used to pass with 89 not_tested",
)
def authorize_dead(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AUTHORIZE:
            await respond(send, 500, [(b"content-type", b"text/plain")], b"Internal Server Error")
            return
        await app(scope, receive, send)

    return wrapped


# ------------------------------------------------------------ 2: almost nothing can be verified
@twin(
    "registration-hidden-no-clients",
    ("rfc8414", *CODE_FLOW_SUITES),
    set(),
    inconclusive=True,
    note="issue 13 item 2: no registration_endpoint and no client in the profile; it used to PASS with 4 MUSTs",
)
def registration_hidden(app: ASGIApp) -> ASGIApp:
    def edit(metadata: dict[str, Any]) -> dict[str, Any]:
        metadata.pop("registration_endpoint", None)
        return metadata

    return metadata_edit(app, edit)


# ------------------------------------------- 3: refresh left out of the metadata, and never rotated
@twin(
    "refresh-unadvertised-never-rotated",
    ("rfc8414", "oauth21", "mcp.test_oauth21_rows"),
    {"OAUTH21-4.3.1-RT-ROTATE", "OAUTH21-4.3.1-RT-SUPERSEDED", "MCP-SEC-RT-ROTATION"},
    warns={"RFC8414-2-GRANTS-TRUTHFUL"},
    note="issue 13 item 3: refresh_token left out of grant_types_supported made every refresh MUST not_applicable",
)
def refresh_unadvertised_never_rotated(app: ASGIApp) -> ASGIApp:
    # The client keeps the first refresh token of a grant for ever: the twin maps it to the
    # reference's current one, so it is never rotated and its reuse is never noticed.
    current: dict[str, str] = {}

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> tuple[int, Headers, bytes]:
        form = dict(pairs)
        if form.get("grant_type") != "refresh_token":
            return await forward(scope, pairs)
        kept = form.get("refresh_token", "")
        live = current.get(kept, kept)
        status, headers, body = await forward(scope, [(k, live if k == "refresh_token" else v) for k, v in pairs])
        if status == 200:
            data = orjson.loads(body)
            if isinstance(data.get("refresh_token"), str):
                current[kept] = data["refresh_token"]
                data["refresh_token"] = kept
            body = orjson.dumps(data)
        return status, headers, body

    def unadvertise(metadata: dict[str, Any]) -> dict[str, Any]:
        metadata["grant_types_supported"] = [g for g in metadata["grant_types_supported"] if g != "refresh_token"]
        return metadata

    return metadata_edit(on_token(app, handle), unadvertise)


@twin(
    "refresh-unadvertised-first-exchange-failed",
    ("rfc8414", "oauth21", "mcp.test_oauth21_rows"),
    {"OAUTH21-4.3.1-RT-ROTATE", "OAUTH21-4.3.1-RT-SUPERSEDED", "MCP-SEC-RT-ROTATION"},
    warns={"RFC8414-2-GRANTS-TRUTHFUL"},
    note="the probe for unadvertised refresh tokens was one code flow: a 503 to its code exchange made"
    " every refresh MUST not_applicable",
)
def refresh_unadvertised_first_exchange_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, whose first code exchange (the probe's, before the first test) gets a 503."""
    failed: list[bool] = []

    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> tuple[int, Headers, bytes]:
        if dict(pairs).get("grant_type") == "authorization_code" and not failed:
            failed.append(True)
            return 503, [(b"content-type", b"text/html; charset=utf-8")], b"<!doctype html><p>try again later</p>"
        return await forward(scope, pairs)

    return on_token(refresh_unadvertised_never_rotated(app), handle)


# ------------------------------------------------------------- 4: a refresh grant that never works
def _refuse_refreshes(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> tuple[int, Headers, bytes]:
        if dict(pairs).get("grant_type") == "refresh_token":
            return _token_json(400, {"error": "invalid_grant", "error_description": "invalid refresh token"})
        return await forward(scope, pairs)

    return on_token(app, handle)


@twin(
    "refresh-always-invalid-grant",
    ("oauth21", "mcp.test_oauth21_rows", "rfc7009"),
    {"OAUTH21-4.3.2-REFRESH-VALID"},
    note="issue 13 item 4: every valid refresh answered invalid_grant; no MUST failed",
)
def refresh_always_invalid_grant(app: ASGIApp) -> ASGIApp:
    return _refuse_refreshes(app)


@twin(
    "refresh-always-invalid-grant-revocation-inert",
    ("oauth21", "rfc7009"),
    {"OAUTH21-4.3.2-REFRESH-VALID"},
    warns={"RFC7009-2-ACCESS", "RFC7009-2.1-CASCADE"},
    note="issue 13 item 4: on top, a revocation endpoint that checks the client and revokes nothing; IMMEDIATE,"
    " HINT-FALLBACK and BAD-HINT passed, reading the failed refresh as a revoked token",
)
def refresh_always_invalid_grant_revocation_inert(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, pairs: Pairs, forward: Forward) -> tuple[int, Headers, bytes]:
        if "grant_type" not in dict(pairs):  # a revocation request (RFC 7009 section 2.1): of a token nobody holds
            unknown = f"oauth-conformance-twin-{secrets.token_hex(16)}"
            pairs = [(k, unknown if k == "token" else v) for k, v in pairs]
        return await forward(scope, pairs)

    return on_token(_refuse_refreshes(app), handle)


# ------------------------------------------------------------------- 5: error pages with HTTP 200
@twin(
    "authorize-error-pages-200",
    ("oauth21", "rfc7636"),
    {
        "OAUTH21-4.1.1-RESPONSE-TYPE",
        "OAUTH21-4.1.2.1-ERROR",
        "RFC7636-4.3-DEFAULT-PLAIN",
        "RFC7636-4.4.1-MISSING",
        "RFC7636-4.4.1-METHOD",
    },
    warns={"RFC7636-4.2-CHALLENGE-SYNTAX"},
    note="issue 13 item 5: every refusal (an error redirect, a denial, an error page) becomes a page without a"
    " form served with 200; with status 400 such pages failed, with 200 they were not_tested",
)
def authorize_error_pages_200(app: ASGIApp) -> ASGIApp:
    page = (
        b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Error</title></head>"
        b"<body><h1>Something went wrong</h1><p>Please go back to the application.</p></body></html>"
    )

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        location = dict(headers).get(b"location", b"")
        refused = (
            status >= 400
            or (status == 200 and b"Sign in to continue" in body)  # what precedes an error redirect
            or (status in (302, 303) and b"error=" in location)  # the error redirect itself (a denial)
        )
        if refused:
            kept = [(k, v) for k, v in headers if k.lower() not in (b"content-type", b"set-cookie", b"location")]
            return 200, [*kept, (b"content-type", b"text/html; charset=utf-8")], page
        return status, headers, body

    return rewrite(app, path_is(AUTHORIZE), change)


# ---------------------------------------------------- 9: the redirect host only in a hidden input
@twin(
    "mcp-redirect-host-in-hidden-input",
    ("mcp.test_client_id_metadata_documents",),
    {"MCP-CIMD-REDIRECT-HOST"},
    features=True,
    note="issue 13 item 9: the host stands only in a hidden <input>; a substring search of the body passed it",
)
def mcp_redirect_host_in_hidden_input(app: ASGIApp) -> ASGIApp:
    sentence = re.compile(rb"<p>After your decision you are sent to <strong>([^<]*)</strong>\.</p>")

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        hidden = rb'<input type=hidden name=redirect_host value="\1">'
        return status, headers, sentence.sub(hidden, body)

    return rewrite(app, path_is(AUTHORIZE), change)


@twin(
    "mcp-redirect-host-in-script-past-4k",
    ("mcp.test_client_id_metadata_documents",),
    {"MCP-CIMD-REDIRECT-HOST"},
    features=True,
    note="issue 13 item 9: the host stands only in a script after 4 KB of padding (evidence is cut at 4 KB)",
)
def mcp_redirect_host_in_script(app: ASGIApp) -> ASGIApp:
    sentence = re.compile(rb"<p>After your decision you are sent to <strong>([^<]*)</strong>\.</p>")

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        padding = b"<!-- " + secrets.token_hex(2500).encode() + b" -->"
        return status, headers, sentence.sub(padding + rb'<script>var host = "\1";</script>', body)

    return rewrite(app, path_is(AUTHORIZE), change)


@twin(
    "mcp-redirect-host-shown-past-4k",
    ("mcp.test_client_id_metadata_documents",),
    set(),
    features=True,
    note="control for item 9: the host is visible, but only after 4 KB of markup (the check reads the whole page)",
)
def mcp_redirect_host_shown_late(app: ASGIApp) -> ASGIApp:
    sentence = re.compile(rb"(<p>After your decision you are sent to <strong>[^<]*</strong>\.</p>)")

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        padding = b"<!-- " + secrets.token_hex(2500).encode() + b" -->"
        return status, headers, sentence.sub(padding + rb"\1", body)

    return rewrite(app, path_is(AUTHORIZE), change)


def _token_json(status: int, body: dict[str, Any]) -> tuple[int, Headers, bytes]:
    return status, list(JSON), orjson.dumps(body)
