"""Twins that break the reference's robustness, one behaviour each (the ROBUST suite).

Each runs only the module of the suite that judges it (``robust.test_fuzz``,
``robust.test_hostile``, ``robust.test_state_machine``), which keeps the twins' own run short.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import widened_on_refresh
from suites.tests.twins.revocation import revokes_nothing
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import run
from suites.tests.twins.wire import send_answer

FUZZ = ("robust.test_fuzz",)
HOSTILE = ("robust.test_hostile",)
STATE = ("robust.test_state_machine",)
TOKEN = "/oauth/token"
REGISTER = "/oauth/register"
SERVER_ERROR = b'{"error":"server_error","error_description":"unexpected server error"}'
# The client metadata the reference reads (RFC 7591 section 2); it ignores any other member.
KNOWN_METADATA = (
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "policy_uri",
    "tos_uri",
    "jwks_uri",
    "jwks",
    "contacts",
    "scope",
    "software_id",
    "software_version",
    "application_type",
)

Handler = Callable[[Scope, bytes, Receive, Send], Awaitable[bool]]  # True: it answered (or never will)


async def answer(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def never_answer(receive: Receive) -> None:
    """Hang: read whatever comes, answer nothing, return only when the client gives up."""
    while (await receive())["type"] != "http.disconnect":
        pass


def buffered(app: ASGIApp, when: Callable[[Scope], bool], handle: Handler) -> ASGIApp:
    """Read the whole request body first; ``handle`` may answer, else the app gets the body replayed."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if await handle(scope, body, receive, send):
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapped


def header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope["headers"] if k.lower() == name), None)


def form_of(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def edit_error(edit: Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]]]) -> Any:
    """A rewrite of JSON error responses (status >= 400) only."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status < 400 or not body.startswith(b"{"):
            return status, headers, body
        new_status, doc = edit(status, orjson.loads(body))
        return new_status, headers, orjson.dumps(doc)

    return change


# ------------------------------------------------------------------------------------ fuzzing
@twin("robust-500-on-unknown-parameter", FUZZ, {"ROBUST-FUZZ-NO-5XX"})
def server_error_on_unknown_parameter(app: ASGIApp) -> ASGIApp:
    """The token endpoint crashes on any form parameter it does not know."""
    known = {
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
        "subject_token",
        "subject_token_type",
        "actor_token",
        "actor_token_type",
        "requested_token_type",
        "audience",
        "assertion",
    }

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        if any(name not in known for name, _ in form_of(body)):
            await answer(send, 500, SERVER_ERROR)
            return True
        return False

    return buffered(app, path_is(TOKEN, "POST"), handle)


@twin("robust-reflects-markup", FUZZ, {"ROBUST-FUZZ-NO-REFLECTION"})
def reflects_markup(app: ASGIApp) -> ASGIApp:
    """The demo application's pages stop escaping what they show (a client's name, above all)."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        html_page = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
        return status, headers, html.unescape(body.decode("utf-8")).encode("utf-8") if html_page else body

    return rewrite(app, path_is("/authorize"), change)


@twin("robust-stack-trace", FUZZ, set(), warns={"ROBUST-FUZZ-NO-STACK-TRACE"})
def leaks_stack_trace(app: ASGIApp) -> ASGIApp:
    """Registration errors carry the Python traceback that led to them."""
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/site-packages/oauth_reference/rfc7591.py", line 66, in register\n'
        "    fields = clients.validate_metadata(meta, core.options, registration=True)\n"
        "oauth_reference.errors.InvalidClientMetadataError: invalid client metadata\n"
    )

    def edit(status: int, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return status, {**doc, "trace": trace}

    return rewrite(app, path_is(REGISTER, "POST"), edit_error(edit))


@twin("robust-missing-grant-type-succeeds", FUZZ, {"ROBUST-FUZZ-MISSING-REQUIRED"})
def missing_grant_type_succeeds(app: ASGIApp) -> ASGIApp:
    """A token request with neither grant_type nor token is answered 200, as an empty revocation."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 400 and b"grant_type is required" in body:
            return 200, [(b"cache-control", b"no-store")], b""
        return status, headers, body

    return rewrite(app, path_is(TOKEN, "POST"), change)


@twin("robust-unregistered-error-code", FUZZ, {"ROBUST-FUZZ-ERROR-SHAPE"})
def unregistered_error_code(app: ASGIApp) -> ASGIApp:
    """An unsupported grant type is refused with a made-up error code."""

    def edit(status: int, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if doc.get("error") == "unsupported_grant_type":
            doc["error"] = "unsupported_grant"
        return status, doc

    return rewrite(app, path_is(TOKEN, "POST"), edit_error(edit))


@twin("robust-error-cacheable", FUZZ, set(), warns={"ROBUST-FUZZ-ERROR-NO-STORE"})
def error_cacheable(app: ASGIApp) -> ASGIApp:
    """Token endpoint errors lose Cache-Control: no-store (a SHOULD: the run warns, and passes)."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status >= 400:
            headers = [(k, v) for k, v in headers if k.lower() not in (b"cache-control", b"pragma")]
        return status, headers, body

    return rewrite(app, path_is(TOKEN, "POST"), change)


@twin("robust-open-redirect", FUZZ, {"ROBUST-FUZZ-NO-OPEN-REDIRECT"})
def open_redirect(app: ASGIApp) -> ASGIApp:
    """An authorization request the server cannot validate is bounced to whatever redirect_uri it names."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/authorize" and scope["method"] == "GET":
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            target = query.get("redirect_uri", "")
            if target.startswith(("http://", "https://")) and "attacker" in target:
                location = f"{target}{'&' if '?' in target else '?'}error=invalid_request".encode("latin-1")
                headers = [(b"location", location), (b"content-length", b"0")]
                await send({"type": "http.response.start", "status": 302, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        await app(scope, receive, send)

    return wrapped


@twin("robust-leaks-secret", FUZZ, {"ROBUST-FUZZ-NO-SECRET-LEAK"})
def leaks_secret(app: ASGIApp) -> ASGIApp:
    """A failed client authentication names the secret it expected (the latest one issued)."""
    issued: list[str] = []

    def remember(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 201:
            secret = orjson.loads(body).get("client_secret")
            if isinstance(secret, str):
                issued.append(secret)
        return status, headers, body

    def edit(status: int, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if doc.get("error") == "invalid_client" and issued:
            doc["error_description"] = f"{doc.get('error_description', '')} (expected secret {issued[-1]})"
        return status, doc

    return rewrite(rewrite(app, path_is(REGISTER, "POST"), remember), path_is(TOKEN, "POST"), edit_error(edit))


@twin("robust-hangs-on-non-ascii", FUZZ, set(), warns={"ROBUST-FUZZ-NO-HANG"})
def hangs_on_non_ascii(app: ASGIApp) -> ASGIApp:
    """The token endpoint never answers a form value with a character outside ASCII."""

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        if any(not value.isascii() for _, value in form_of(body)):
            await never_answer(receive)
            return True
        return False

    return buffered(app, path_is(TOKEN, "POST"), handle)


# ------------------------------------------------------------------------------ hostile input
@twin("robust-500-on-malformed-body", HOSTILE, {"ROBUST-HOSTILE-ENCODING", "ROBUST-HOSTILE-DUPLICATE-PARAMS"})
def server_error_on_malformed_body(app: ASGIApp) -> ASGIApp:
    """A token request body the form parser refuses (bad UTF-8, a repeated parameter, more than
    100 fields) crashes."""

    def malformed(body: bytes) -> bool:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return True
        names = [name for name, value in pairs if value and name != "resource"]
        return len(pairs) > 100 or len(names) != len(set(names))

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        form = (header(scope, b"content-type") or b"").split(b";")[0].strip() == b"application/x-www-form-urlencoded"
        if form and len(body) <= 64 << 10 and malformed(body):
            await answer(send, 500, SERVER_ERROR)
            return True
        return False

    return buffered(app, path_is(TOKEN, "POST"), handle)


@twin("robust-hangs-on-huge-body", HOSTILE, {"ROBUST-HOSTILE-BIG-BODY"})
def hangs_on_huge_body(app: ASGIApp) -> ASGIApp:
    """A request declaring more than 4 MiB is never answered."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        length = header(scope, b"content-length") if scope["type"] == "http" else None
        if length is not None and length.isdigit() and int(length) > 4 << 20:
            await never_answer(receive)
            return
        await app(scope, receive, send)

    return wrapped


@twin("robust-500-on-deep-json", HOSTILE, {"ROBUST-HOSTILE-DEEP-JSON"})
def server_error_on_deep_json(app: ASGIApp) -> ASGIApp:
    """A registration nested deeper than 500 levels crashes the server (a recursive parser)."""

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        depth = deepest = 0
        for byte in body:
            if byte in b"[{":
                depth += 1
                deepest = max(deepest, depth)
            elif byte in b"]}":
                depth -= 1
        if deepest > 500:
            await answer(send, 500, SERVER_ERROR)
            return True
        return False

    return buffered(app, path_is(REGISTER, "POST"), handle)


@twin("robust-registration-unbounded", HOSTILE, set(), warns={"ROBUST-HOSTILE-REGISTRATION-LIMITS"})
def registration_unbounded(app: ASGIApp) -> ASGIApp:
    """The registration endpoint reads up to 16 MiB: tens of thousands of redirect URIs are registered
    (a SHOULD: the run warns, and passes). The reference reads 1 MiB, so a bigger registration is
    sent to it with its first redirect URI only and no unknown members, and answered in full."""

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        if not 1 << 20 < len(body) <= 16 << 20:
            return False
        try:
            meta = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(meta, dict):
            return False
        uris = meta.get("redirect_uris")
        small = {k: v for k, v in meta.items() if k in KNOWN_METADATA}
        if isinstance(uris, list) and uris:
            small["redirect_uris"] = uris[:1]
        status, headers, content = await run(app, scope, orjson.dumps(small))
        if status == 201 and isinstance(uris, list):
            content = orjson.dumps({**orjson.loads(content), "redirect_uris": uris})
        await send_answer(send, (status, headers, content))
        return True

    return buffered(app, path_is(REGISTER, "POST"), handle)


@twin("robust-500-on-huge-registration", HOSTILE, {"ROBUST-HOSTILE-HUGE-JSON"})
def server_error_on_huge_registration(app: ASGIApp) -> ASGIApp:
    """A registration (under 4 MiB) with more than 1,000 redirect URIs or members crashes the server."""

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        if len(body) > 4 << 20:
            return False
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        uris = doc.get("redirect_uris") if isinstance(doc, dict) else None
        if isinstance(doc, dict) and (len(doc) > 1000 or (isinstance(uris, list) and len(uris) > 1000)):
            await answer(send, 500, SERVER_ERROR)
            return True
        return False

    return buffered(app, path_is(REGISTER, "POST"), handle)


@twin("robust-500-without-content-type", HOSTILE, {"ROBUST-HOSTILE-CONTENT-TYPE"})
def server_error_without_content_type(app: ASGIApp) -> ASGIApp:
    """A token request without Content-Type crashes the server."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == TOKEN and header(scope, b"content-type") is None:
            await answer(send, 500, SERVER_ERROR)
            return
        await app(scope, receive, send)

    return wrapped


@twin("robust-500-on-big-header", HOSTILE, set(), warns={"ROBUST-HOSTILE-BIG-HEADERS"})
def server_error_on_big_header(app: ASGIApp) -> ASGIApp:
    """A header value longer than 8 KiB crashes the server."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(len(v) > 8 << 10 for _, v in scope["headers"]):
            await answer(send, 500, SERVER_ERROR)
            return
        await app(scope, receive, send)

    return wrapped


@twin("robust-500-on-long-value", HOSTILE, {"ROBUST-HOSTILE-LONG-VALUES"})
def server_error_on_long_value(app: ASGIApp) -> ASGIApp:
    """A token request parameter longer than 10,000 characters (up to 1 MiB) crashes the server."""

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        if len(body) <= 1 << 20 and any(len(value) > 10_000 for _, value in form_of(body)):
            await answer(send, 500, SERVER_ERROR)
            return True
        return False

    return buffered(app, path_is(TOKEN, "POST"), handle)


@twin("robust-code-race", HOSTILE, {"ROBUST-HOSTILE-CONCURRENT-CODE"})
def code_race(app: ASGIApp) -> ASGIApp:
    """Simultaneous redemptions of one code all get the first one's tokens (a check-then-act race)."""
    in_flight: dict[str, asyncio.Future[tuple[int, bytes]]] = {}

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        fields = dict(form_of(body))
        code = fields.get("code")
        if fields.get("grant_type") != "authorization_code" or not code:
            return False
        if code in in_flight:
            status, content = await in_flight[code]
            await answer(send, status, content)
            return True
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        in_flight[code] = future
        captured: dict[str, Any] = {"status": 500, "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await asyncio.sleep(0.3)  # the window in which the others arrive
        try:
            await app(scope, replay, capture)
        finally:
            future.set_result((captured["status"], captured["body"]))
            await asyncio.sleep(0.1)
            del in_flight[code]
        return True

    return buffered(app, path_is(TOKEN, "POST"), handle)


# ------------------------------------------------------------------------------ state machine
@twin("robust-code-reusable", STATE, {"ROBUST-STATE-CODE-ONCE", "OAUTH21-4.1.3-CODE-ONCE"})
def code_reusable(app: ASGIApp) -> ASGIApp:
    """A redeemed code is answered again with the tokens it gave the first time."""
    redeemed: dict[str, bytes] = {}

    async def handle(scope: Scope, body: bytes, receive: Receive, send: Send) -> bool:
        fields = dict(form_of(body))
        code = fields.get("code")
        if fields.get("grant_type") != "authorization_code" or not code:
            return False
        if code in redeemed:
            await answer(send, 200, redeemed[code])
            return True
        captured: dict[str, Any] = {"status": 0, "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, capture)
        if captured["status"] == 200:
            redeemed[code] = captured["body"]
        return True

    return buffered(app, path_is(TOKEN, "POST"), handle)


@twin(
    "robust-revocation-ignored",
    STATE,
    {"ROBUST-STATE-REVOKED", "RFC7009-2.1-IMMEDIATE"},
    warns={"ROBUST-STATE-REVOKED-ACCESS", "RFC7009-2-ACCESS", "RFC7009-2.1-CASCADE"},
)
def revocation_ignored(app: ASGIApp) -> ASGIApp:
    """Revocation answers 200 and revokes nothing."""
    return revokes_nothing(app)


@twin(
    "robust-refresh-grace-undeclared",
    STATE,
    {"ROBUST-STATE-RT-SUPERSEDED", "OAUTH21-4.3.1-RT-SUPERSEDED"},
    options={"refresh_token_grace": True},
    note="the seed library's grace period, which the profile does not declare",
)
def refresh_grace_undeclared(app: ASGIApp) -> ASGIApp:
    return app


@twin("robust-refresh-widens-scope", STATE, {"ROBUST-STATE-SCOPE", "OAUTH21-4.3.1-RT-SCOPE"})
def refresh_widens_scope(app: ASGIApp) -> ASGIApp:
    """A refresh issues whatever scope it asks for, the grant's or not."""
    return widened_on_refresh(app)


@twin("robust-audience-ignored", STATE, set(), warns={"ROBUST-STATE-AUDIENCE"})
def audience_ignored(app: ASGIApp) -> ASGIApp:
    """A second protected resource (advertised in the metadata) accepts the first one's tokens."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"].startswith("/other/"):
            # served by the API behind /api/: the audience check sees /api/whoami, never /other/
            scope = dict(scope, path="/api/whoami", raw_path=b"/api/whoami")
            await app(scope, receive, send)
            return
        if scope["path"] == "/.well-known/oauth-authorization-server":

            def edit(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
                doc = orjson.loads(body)
                origin = doc["issuer"].rstrip("/")
                doc["protected_resources"] = [*doc.get("protected_resources", []), f"{origin}/other/api"]
                return status, headers, orjson.dumps(doc)

            await rewrite(app, lambda s: True, edit)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped
