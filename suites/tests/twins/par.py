"""Twins that break pushed authorization requests (RFC 9126), one behaviour each.

Each twin turns the PAR endpoint on and breaks one behaviour: by replacing a piece of
``oauth_reference.specs.rfc9126`` in the twin's process, or by wrapping the app.
"""

from __future__ import annotations

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
from suites.tests.twins.introspection import SecretBlind
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

SPECS = ("rfc9126",)
PATH = "/oauth/par"
OPTIONS: dict[str, object] = {"pushed_authorization_request_endpoint": PATH}


def par_twin(name: str, fails: set[str], options: dict[str, object] | None = None, **kwargs: Any) -> Any:
    return twin(name, SPECS, {f"RFC9126-{f}" for f in fails}, options=options or OPTIONS, **kwargs)


def lax_resolve(*, client_bound: bool = True, one_time: bool = True, expires: bool = True) -> Any:
    """``rfc9126.resolve`` without one of its three checks."""
    from oauth_reference.errors import AuthorizationError
    from oauth_reference.errors import InvalidRequestError
    from oauth_reference.machinery.storage import Delete
    from oauth_reference.specs import rfc9126

    async def resolve(core: Any, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        given = dict(pairs)
        key = rfc9126._key(given.get("request_uri", ""))
        entry = await core.storage.get(key)
        record = orjson.loads(entry.value) if entry is not None else None
        if entry is None or record is None or (expires and record.get("expires_at", 0) <= core.now()):
            raise AuthorizationError(InvalidRequestError("request_uri is unknown, used or expired"))
        if client_bound and given.get("client_id") != record["client_id"]:
            raise AuthorizationError(InvalidRequestError("request_uri was pushed by another client"))
        if one_time:
            await core.storage.commit([Delete(key)], expect={key: entry.version})
        return [(str(n), str(v)) for n, v in record["pairs"]]

    return resolve


@par_twin("par-request-uri-reusable", set(), warns={"RFC9126-4-ONE-TIME"})
def request_uri_reusable(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9126

    rfc9126.resolve = lax_resolve(one_time=False)
    return app


@par_twin("par-request-uri-not-client-bound", {"2.2-CLIENT-BOUND"})
def request_uri_not_client_bound(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9126

    rfc9126.resolve = lax_resolve(client_bound=False)
    return app


@par_twin("par-request-uri-never-expires", {"4-EXPIRED"})
def request_uri_never_expires(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery.storage import Put
    from oauth_reference.specs import rfc9126

    def kept(key: str, value: bytes, expires: float | None = None) -> Any:
        return Put(key, value, None if expires is None else expires + 10**8)

    rfc9126.Put = kept  # stored for good, as well as never checked
    rfc9126.resolve = lax_resolve(expires=False)
    return app


@par_twin("par-secret-not-checked", {"2.1-CLIENT-AUTH"})
def secret_not_checked(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc9126

    rfc9126.client_auth = SecretBlind()  # type: ignore[assignment]
    return app


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


@par_twin("par-refuses-its-own-url-as-audience", {"2-AUDIENCE"}, features=True)
def refuses_its_own_url(app: ASGIApp) -> ASGIApp:
    """A client assertion whose aud is the PAR endpoint URL is refused (the issuer and token endpoint work)."""
    from oauth_reference.specs import rfc9126

    original = rfc9126.push

    async def push(core: Any, *args: Any) -> Any:
        options = core.options
        par = options.pushed_authorization_request_endpoint
        object.__setattr__(options, "pushed_authorization_request_endpoint", None)
        try:
            return await original(core, *args)
        finally:
            object.__setattr__(options, "pushed_authorization_request_endpoint", par)

    rfc9126.push = push
    return app


@par_twin("par-required-but-not-enforced", set(), warns={"RFC9126-4-REQUIRED"})
def required_but_not_enforced(app: ASGIApp) -> ASGIApp:
    def say_required(body: Any) -> Any:
        return {**body, "require_pushed_authorization_requests": True} if isinstance(body, dict) else body

    return rewrite(app, path_is("/.well-known/oauth-authorization-server"), edit_json(say_required))


@par_twin("par-required-control", set(), options={**OPTIONS, "require_pushed_authorization_requests": True})
def required_control(app: ASGIApp) -> ASGIApp:
    """The control of the twin above: PAR required and enforced passes, the rest of the suite too."""
    return app
