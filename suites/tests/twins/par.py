"""Twins that break pushed authorization requests (RFC 9126), one behaviour each.

Each twin turns the PAR endpoint on and breaks one behaviour on the wire, in front of the reference:
the twins that loosen ``request_uri`` remember what each one was pushed with and push it again.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import Register
from suites.tests.twins import twin
from suites.tests.twins.introspection import secret_not_checked_at
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.wire import AUTHORIZE
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Forward
from suites.tests.twins.wire import first
from suites.tests.twins.wire import form_of
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_answer
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import offset_of
from suites.tests.twins.wire import query_of
from suites.tests.twins.wire import read_body
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import replay
from suites.tests.twins.wire import with_header
from suites.tests.twins.wire import with_offset
from suites.tests.twins.wire import with_query

SPECS = ("rfc9126",)
PATH = "/oauth/par"
OPTIONS: dict[str, object] = {"pushed_authorization_request_endpoint": PATH}


def par_twin(name: str, fails: set[str], options: dict[str, object] | None = None, **kwargs: Any) -> Register:
    return twin(name, SPECS, {f"RFC9126-{f}" for f in fails}, options=options or OPTIONS, **kwargs)


@dataclass
class Pushed:
    """A pushed request as the PAR endpoint took it: enough to push it again."""

    scope: Scope
    body: bytes
    client_id: str | None
    expires_at: float  # on the reference's clock: wall time plus the request's test offset
    used: bool = False


def loose_request_uris(
    app: ASGIApp, *, client_bound: bool = True, one_time: bool = True, expires: bool = True
) -> ASGIApp:
    """The authorization endpoint without one of the three request_uri checks: a request_uri that
    another client sends is sent as its pusher's, and a used or expired one is pushed again."""
    pushes: dict[str, Pushed] = {}

    async def push(scope: Scope, body: bytes, forward: Forward) -> Answer:
        answer = await forward(scope, body)
        data = json_of(answer)
        if answer[0] == 201 and data is not None and isinstance(data.get("request_uri"), str):
            lifetime = float(data.get("expires_in", 60))
            client_id = first(form_of(body), "client_id") or presented_id(scope)
            expires_at = time.time() + offset_of(scope) + lifetime
            pushes[data["request_uri"]] = Pushed(with_header(scope, b"dpop", None), body, client_id, expires_at)
        return answer

    async def authorize(scope: Scope, body: bytes, forward: Forward) -> Answer:
        pairs = query_of(scope)
        pushed = pushes.get(first(pairs, "request_uri") or "")
        if pushed is not None:
            if not client_bound and pushed.client_id and first(pairs, "client_id") != pushed.client_id:
                pairs = replaced(pairs, "client_id", pushed.client_id)
            now = time.time() + offset_of(scope)
            if (not one_time and pushed.used) or (not expires and now >= pushed.expires_at):
                again = await push(with_offset(pushed.scope, offset_of(scope)), pushed.body, forward)
                fresh = (json_of(again) or {}).get("request_uri")
                if isinstance(fresh, str):
                    pairs = replaced(pairs, "request_uri", fresh)
                    pushes[fresh].client_id = pushed.client_id
            pushed.used = True
            scope = with_query(scope, pairs)
        return await forward(scope, body)

    return intercept(intercept(app, path_is(PATH, "POST"), push), path_is(AUTHORIZE, "GET"), authorize)


def presented_id(scope: Scope) -> str | None:
    from suites.tests.twins.wire import presented

    return presented(scope, []).client_id


@par_twin("par-request-uri-reusable", set(), warns={"RFC9126-4-ONE-TIME"})
def request_uri_reusable(app: ASGIApp) -> ASGIApp:
    return loose_request_uris(app, one_time=False)


@par_twin("par-request-uri-not-client-bound", {"2.2-CLIENT-BOUND"})
def request_uri_not_client_bound(app: ASGIApp) -> ASGIApp:
    return loose_request_uris(app, client_bound=False)


@par_twin("par-request-uri-never-expires", {"4-EXPIRED"})
def request_uri_never_expires(app: ASGIApp) -> ASGIApp:
    return loose_request_uris(app, expires=False)


@par_twin("par-secret-not-checked", {"2.1-CLIENT-AUTH"})
def secret_not_checked(app: ASGIApp) -> ASGIApp:
    return secret_not_checked_at(app, PATH)


@par_twin("par-takes-request-uri", {"2.1-NO-REQUEST-URI"})
def takes_request_uri(app: ASGIApp) -> ASGIApp:
    """A pushed request_uri is dropped instead of refused."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            pairs = parse_qsl((await read_body(receive)).decode("latin-1"), keep_blank_values=True)
            body = urlencode([(k, v) for k, v in pairs if k != "request_uri"]).encode("latin-1")
            await app(scope, replay(body), send)
            return
        await app(scope, receive, send)

    return wrapped


@par_twin("par-no-expires-in", {"2.2-CREATED"})
def no_expires_in(app: ASGIApp) -> ASGIApp:
    def drop(body: Any) -> Any:
        return {k: v for k, v in body.items() if k != "expires_in"} if isinstance(body, dict) else body

    return rewrite(app, path_is(PATH, "POST"), edit_json(drop))


@par_twin("par-errors-are-200", set(), warns={"RFC9126-2.3-ERROR"})
def errors_are_200(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any, bytes]:
        return (200 if status == 400 else status), headers, body

    return rewrite(app, path_is(PATH, "POST"), change)


def b64_json(part: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@par_twin("par-refuses-its-own-url-as-audience", {"2-AUDIENCE"}, features=True)
def refuses_its_own_url(app: ASGIApp) -> ASGIApp:
    """A client assertion whose aud is the PAR endpoint URL is refused (the issuer and token endpoint work)."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        assertion = first(form_of(body), "client_assertion")
        if assertion is not None and assertion.count(".") == 2:
            try:
                aud = b64_json(assertion.split(".")[1]).get("aud")
            except (ValueError, AttributeError):
                aud = None
            audiences = aud if isinstance(aud, list) else [aud]
            if any(isinstance(a, str) and a.endswith(PATH) for a in audiences) and not any(
                isinstance(a, str) and not a.endswith(PATH) for a in audiences
            ):
                return json_answer(401, {"error": "invalid_client", "error_description": "aud must name this server"})
        return await forward(scope, body)

    return intercept(app, path_is(PATH, "POST"), handle)


@par_twin("par-required-but-not-enforced", set(), warns={"RFC9126-4-REQUIRED"})
def required_but_not_enforced(app: ASGIApp) -> ASGIApp:
    def say_required(body: Any) -> Any:
        return {**body, "require_pushed_authorization_requests": True} if isinstance(body, dict) else body

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(say_required))


@par_twin("par-required-control", set(), options={**OPTIONS, "require_pushed_authorization_requests": True})
def required_control(app: ASGIApp) -> ASGIApp:
    """The control of the twin above: PAR required and enforced passes, the rest of the suite too."""
    return app
