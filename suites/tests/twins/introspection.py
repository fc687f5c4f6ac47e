"""Twins that break token introspection (RFC 7662), one behaviour each.

The reference serves introspection at the path ``introspection_endpoint`` names (off by default,
so each twin turns it on); twins replace a piece of ``oauth_reference.specs.rfc7662`` in the twin's
process, or wrap the app.
"""

from __future__ import annotations

import contextvars
from typing import Any
from urllib.parse import parse_qsl

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import read_body
from suites.tests.twins.core import replay
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

SPECS = ("rfc7662",)
PATH = "/oauth/introspect"
OPTIONS: dict[str, object] = {"introspection_endpoint": PATH}


class SecretBlind:
    """``client_auth`` for one module: the client is looked up by its id and its secret never checked."""

    def __getattr__(self, name: str) -> Any:
        from oauth_reference.specs.oauth21 import client_auth

        return getattr(client_auth, name)

    async def authenticate(self, core: Any, request: Any, form: Any) -> Any:
        from oauth_reference import client_store
        from oauth_reference.errors import InvalidClientError
        from oauth_reference.specs.oauth21 import client_auth

        credentials = client_auth.read_credentials(request, form)
        client = await client_store.lookup(core, credentials.client_id) if credentials.client_id else None
        if client is None:
            raise InvalidClientError("unknown client")
        return client


@twin("introspection-secret-not-checked", SPECS, {"RFC7662-2.1-AUTHZ"}, options=OPTIONS, warns={"RFC7662-2.3-401"})
def secret_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7662

    rfc7662.client_auth = SecretBlind()  # type: ignore[assignment]
    return app


ACCESS_TRIED: contextvars.ContextVar[bool] = contextvars.ContextVar("access_tried", default=False)


@twin("introspection-hint-is-authoritative", SPECS, {"RFC7662-2.1-HINT-FALLBACK"}, options=OPTIONS)
def hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    """A token hinted as a refresh token is looked for among refresh tokens only."""
    from oauth_reference.specs import rfc7662

    access, refresh = rfc7662._access_token, rfc7662._refresh_token

    async def access_token(*args: Any) -> Any:
        ACCESS_TRIED.set(True)
        return await access(*args)

    async def refresh_token(*args: Any) -> Any:
        found = await refresh(*args)
        if found is None and not ACCESS_TRIED.get():  # searched first, as the hint asked: stop here
            return dict(rfc7662.INACTIVE)
        return found

    rfc7662._access_token = access_token
    rfc7662._refresh_token = refresh_token

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        ACCESS_TRIED.set(False)
        await app(scope, receive, send)

    return wrapped


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
