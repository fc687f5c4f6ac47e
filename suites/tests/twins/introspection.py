"""Twins that break token introspection (RFC 7662), one behaviour each.

The reference serves introspection at the path ``introspection_endpoint`` names (off by default,
so each twin turns it on); each twin breaks one behaviour on the wire, in front of the reference.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import Forward
from suites.tests.twins.wire import Issued
from suites.tests.twins.wire import encode
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import presented
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import replay

SPECS = ("rfc7662",)
PATH = "/oauth/introspect"
OPTIONS: dict[str, object] = {"introspection_endpoint": PATH}


def secret_not_checked_at(app: ASGIApp, path: str) -> ASGIApp:
    """At ``path``, a registered client is taken by its id: a wrong secret is replaced by its own."""
    clients = Clients()

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        pairs = form_of(body)
        given = presented(scope, pairs)
        if (
            given.method in ("client_secret_basic", "client_secret_post")
            and given.client_id in clients.known
            and not clients.authenticates(scope, pairs)
        ):
            scope, pairs = clients.authenticate_as(scope, pairs, given.client_id or "")
        return await forward(scope, encode(pairs))

    return clients.observe(intercept(app, path_is(path, "POST"), handle))


@twin("introspection-secret-not-checked", SPECS, {"RFC7662-2.1-AUTHZ"}, options=OPTIONS, warns={"RFC7662-2.3-401"})
def secret_not_checked(app: ASGIApp) -> ASGIApp:
    return secret_not_checked_at(app, PATH)


@twin("introspection-hint-is-authoritative", SPECS, {"RFC7662-2.1-HINT-FALLBACK"}, options=OPTIONS)
def hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    """A token hinted as a refresh token is looked for among refresh tokens only."""
    issued = Issued()

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        pairs = form_of(body)
        token = first(pairs, "token")
        if first(pairs, "token_type_hint") == "refresh_token" and issued.of_kind(token, "access_token"):
            answer = await forward(scope, body)  # the client is still authenticated as usual
            return json_answer(200, {"active": False}) if answer[0] == 200 else answer
        return await forward(scope, body)

    return issued.observe(intercept(app, path_is(PATH, "POST"), handle))


@twin("introspection-inactive-says-why", SPECS, set(), options=OPTIONS, warns={"RFC7662-2.2-INACTIVE-NO-INFO"})
def inactive_says_why(app: ASGIApp) -> ASGIApp:
    def explain(body: Any) -> Any:
        return (
            {**body, "error_description": "the token is unknown or has expired"} if body == {"active": False} else body
        )

    return rewrite(app, path_is(PATH, "POST"), edit_json(explain))


@twin(
    "introspection-unknown-token-is-an-error",
    SPECS,
    {"RFC7662-2.2-INACTIVE", "RFC7662-2.3-NOT-AN-ERROR"},
    options=OPTIONS,
)
def unknown_token_is_an_error(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any, bytes]:
        if status == 200 and orjson.loads(body) == {"active": False}:
            return 400, headers, orjson.dumps({"error": "invalid_token", "error_description": "unknown token"})
        return status, headers, body

    return rewrite(app, path_is(PATH, "POST"), change)


@twin("introspection-caches-answers", SPECS, {"RFC7662-4-EXPIRED", "RFC7662-4-REVOKED"}, options=OPTIONS)
def caches_answers(app: ASGIApp) -> ASGIApp:
    """An active answer is remembered per token and given again, whatever became of the token."""
    cache: dict[str, bytes] = {}

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        form = dict(parse_qsl(body.decode("latin-1")))
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        key = f"{authorization}|{form.get('client_id')}|{form.get('client_secret')}|{form.get('token')}"
        if key in cache:
            headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": cache[key]})
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                chunks.append(message.get("body", b""))
            await send(message)

        await app(scope, replay(body), capture)
        answer = b"".join(chunks)
        if start.get("status") == 200 and b'"active":true' in answer:
            cache[key] = answer

    return wrapped
