"""``OAuthProvider``: the ASGI application that wraps yours.

Requests for a host the provider does not serve are refused (``hosts.py``). The others are
dispatched in this order: CORS preflights for the provider's endpoints, the AS metadata
(RFC 8414), the protected resource metadata (RFC 9728), the token endpoint (which also revokes,
RFC 7009), the registration endpoint (RFC 7591), the API routes (bearer check, then your API
handler), and everything else to your default handler. WebSocket handshakes take the same path:
on an API route the bearer check comes first, as for any request. The lifespan protocol is
passed on to your handlers, so their startup and shutdown run with the server's.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import orjson

from oauth_reference import error_hook
from oauth_reference import external_tokens
from oauth_reference.core import Core
from oauth_reference.errors import ConfigurationError
from oauth_reference.errors import InvalidDpopProofError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidTokenError
from oauth_reference.errors import OAuthError
from oauth_reference.errors import ServerError
from oauth_reference.errors import TemporarilyUnavailableError
from oauth_reference.errors import UseDpopNonceError
from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.helpers import OAuthHelpers
from oauth_reference.machinery.asgi import JSON_TYPE
from oauth_reference.machinery.asgi import NO_STORE
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.asgi import empty
from oauth_reference.machinery.asgi import error_response
from oauth_reference.machinery.asgi import json_response
from oauth_reference.machinery.asgi import with_cors
from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.lifespan import Lifespans
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage.memory import MemoryStorage
from oauth_reference.options import EnterpriseManagedAuthorization
from oauth_reference.options import ProviderOptions
from oauth_reference.options import ResourceMetadata
from oauth_reference.purge import PurgeResult
from oauth_reference.specs import rfc6750
from oauth_reference.specs import rfc7591
from oauth_reference.specs import rfc7662
from oauth_reference.specs import rfc8414
from oauth_reference.specs import rfc9126
from oauth_reference.specs import rfc9449
from oauth_reference.specs import rfc9728
from oauth_reference.specs.oauth21 import token_endpoint as token
from oauth_reference.specs.oauth21.authorization_endpoint import parse_auth_request

log = logging.getLogger("oauth_reference")
_OPTION_NAMES = [f.name for f in fields(ProviderOptions)]
METADATA_DOCUMENTS_KEPT = 64
PROVIDER_KEY = "oauth_reference.provider"  # in the scope of every handler call: the provider itself
ORIGIN_KEY = "oauth_reference.origin"  # ...and the origin it served the request as
_REFUSED_HOST = Response(400, b"Invalid host header", [(b"content-type", b"text/plain; charset=utf-8")])


_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})


class _TrackedSend:
    """``send`` for a wrapped application, noting whether it began a response (then nothing else may)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    def __call__(self, message: Message) -> Awaitable[None]:
        # Not a coroutine of its own: the wrapped send's awaitable is handed back as it is, which
        # saves a coroutine frame on each of a response's messages.
        if message["type"] in _STARTS:
            self.started = True
        return self.send(message)


@dataclass(frozen=True, slots=True)
class _ApiRoute:
    host: str | None
    path: str
    handler: ASGIApp


def _parse_routes(routes: dict[str, ASGIApp]) -> list[_ApiRoute]:
    parsed = []
    for route, handler in routes.items():
        if route.startswith(("http://", "https://")):
            parts = urlsplit(route)
            parsed.append(_ApiRoute(parts.netloc.lower(), parts.path or "/", handler))
        else:
            parsed.append(_ApiRoute(None, route, handler))
    return sorted(parsed, key=lambda r: len(r.path), reverse=True)  # the longest prefix wins


FORM_TOKEN_LIMIT = 1 << 20  # the largest form body an API request may carry (it is read for access_token)


async def _form_token(request: Request, receive: Receive) -> tuple[bool, Receive]:
    """Whether a form body carries access_token (RFC 6750 section 2.2), and a receive that replays the body.

    Only a form-encoded POST is read; the application still gets the whole body.
    """
    if request.method != "POST" or request.media_type() != "application/x-www-form-urlencoded":
        return False, receive
    body = await request.body(FORM_TOKEN_LIMIT)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    found = any(name == "access_token" for name, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    return found, replay


async def _validate_pushed(core: Core, pairs: list[tuple[str, str]], origin: str) -> object:
    """RFC9126-2.1-VALIDATE: a pushed request is checked as the authorization endpoint would check it."""
    return await parse_auth_request(core, pairs, origin, pushed=True)


def api_context(scope: Scope) -> rfc6750.ApiContext:
    """The access token's props, scope, client and user, inside an API handler."""
    try:
        context: rfc6750.ApiContext = scope["oauth"]
    except KeyError:
        raise LookupError("not inside an API handler called by OAuthProvider") from None
    return context


def provider_helpers(scope: Scope) -> OAuthHelpers:
    """The provider's helpers, inside any handler it calls."""
    try:
        helpers: OAuthHelpers = scope["oauth_provider"]
    except KeyError:
        raise LookupError("not inside a handler called by OAuthProvider") from None
    return helpers


class OAuthProvider:
    """An OAuth 2.1 authorization server wrapped around an ASGI application.

    Options are the seed's, in snake_case (see :class:`ProviderOptions`); ``storage`` is any
    :class:`~oauth_reference.machinery.storage.Storage` (in-memory by default) and ``clock`` where the
    provider reads the time. ``faults`` breaks named behaviours on purpose, for the known-bad twins
    of the conformance suites only (see :mod:`oauth_reference.faults`).
    """

    def __init__(
        self,
        *,
        storage: Storage | None = None,
        clock: Clock | None = None,
        faults: Faults = NO_FAULTS,
        **options: Any,
    ) -> None:
        unknown = [name for name in options if name not in _OPTION_NAMES]
        if unknown:
            hint = difflib.get_close_matches(unknown[0], _OPTION_NAMES, n=1)
            raise ConfigurationError(
                f"unknown option {unknown[0]!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
        options["resource_metadata"] = ResourceMetadata.coerce(options.get("resource_metadata"))
        if options.get("enterprise_managed_authorization") is not None:
            options["enterprise_managed_authorization"] = EnterpriseManagedAuthorization.coerce(
                options["enterprise_managed_authorization"]
            )
        try:
            self.options = ProviderOptions(**options)
        except TypeError as exc:
            raise ConfigurationError(str(exc)) from None
        self.clock: Clock = clock or SystemClock()
        self.storage: Storage = storage if storage is not None else MemoryStorage(self.clock)
        if not isinstance(faults, Faults):
            raise ConfigurationError("faults must be a Faults object (oauth_reference.faults)")
        self.core = Core(self.options, self.storage, self.clock, faults)
        self.helpers = OAuthHelpers(self.core)
        self._grants = token.grant_table(self.core)
        self._routes = _parse_routes(self.options.routes)
        self._token_path = self.core.token_path
        self._token_host = self._host_of(self.options.token_endpoint)
        self._registration_path = self.core.registration_path
        registration = self.options.client_registration_endpoint
        self._registration_host = self._host_of(registration) if registration else None
        # RFC 7662 and RFC 9126 endpoints, when those options are on (path, and host for an absolute URL)
        self._introspection = self._route_of(self.options.introspection_endpoint)
        self._par = self._route_of(self.options.pushed_authorization_request_endpoint)
        self.extra_routes: dict[str, ASGIApp] = {}  # exact paths answered before the default handler
        self._lifespans = Lifespans([self.options.default_handler, *(r.handler for r in self._routes)])
        # The RFC 8414 document, serialized once per issuer: it depends on the options and the
        # issuer only (no secret, no store). Bounded, since the issuer may come from Host headers.
        self._metadata_documents: dict[str, bytes] = {}

    def _metadata_document(self, issuer: str) -> bytes:
        document = self._metadata_documents.get(issuer)
        if document is None:
            if len(self._metadata_documents) >= METADATA_DOCUMENTS_KEPT:
                self._metadata_documents.clear()
            document = orjson.dumps(rfc8414.metadata(self.core, issuer))
            self._metadata_documents[issuer] = document
        return document

    @classmethod
    def _route_of(cls, endpoint: str | None) -> tuple[str, str | None] | None:
        if endpoint is None:
            return None
        path = urlsplit(endpoint).path if endpoint.startswith(("http://", "https://")) else endpoint
        return path, cls._host_of(endpoint)

    @staticmethod
    def _matches(route: tuple[str, str | None] | None, request: Request) -> bool:
        return route is not None and request.path == route[0] and (route[1] is None or request.host.lower() == route[1])

    @staticmethod
    def _host_of(endpoint: str) -> str | None:
        return urlsplit(endpoint).netloc.lower() if endpoint.startswith(("http://", "https://")) else None

    def _api_route(self, request: Request) -> _ApiRoute | None:
        path = request.path
        for route in self._routes:
            if route.host is None and route.path == "/" and path != "/":
                continue  # as in the seed, the path route "/" is the root only, not every path
            if path.startswith(route.path) and (route.host is None or request.host.lower() == route.host):
                return route
        return None

    async def purge_expired_data(self, **options: Any) -> PurgeResult:
        """Sweep expired and orphaned records (the seed's ``purgeExpiredData``); see :mod:`purge`."""
        return await self.helpers.purge_expired_data(**options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        else:  # a scope type ASGI may add later: the application's business
            await self.options.default_handler(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        tracked = _TrackedSend(send)
        try:
            if self._vet_host(request):
                response = await self._dispatch(request, scope, receive, tracked)
            else:
                response = _REFUSED_HOST
        except Exception as exc:
            if tracked.started:
                # The wrapped application failed after it began its response: the server, not us,
                # must end it (and log the error); a second response would be an ASGI error.
                raise
            response = await self._failure(request, exc)
        if response is not None:
            await response(scope, receive, send)

    async def _failure(self, request: Request, exc: Exception) -> Response:
        """The response for an exception raised before any response began."""
        origin = request.header("origin")
        if isinstance(exc, OAuthError):
            return with_cors(await self._error(request, exc), origin)
        if isinstance(exc, StorageUnavailableError):
            log.warning("store unavailable: %s", exc)
            error = TemporarilyUnavailableError("the store is unavailable; retry later", headers={"Retry-After": "5"})
            return with_cors(await self._error(request, error), origin)
        # ROBUST-FUZZ-NO-STACK-TRACE: logged, never shown to the client
        log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
        return await self._error(request, ServerError("unexpected server error"))

    def _vet_host(self, request: Request) -> bool:
        """Serve the request as the origin the operator configured for its host; False: refuse it."""
        host = request.host  # a malformed Host header is an invalid_request (400)
        origin = self.core.trusted_origin(request.scheme, host)
        if origin is None:
            log.warning("refused a request for host %s: set the issuer or allowed_hosts option to serve it", host[:100])
            return False
        request.serve_as(origin)
        return True

    async def _error(self, request: Request, error: OAuthError, default: Response | None = None) -> Response:
        """The response for an OAuth error: ``default`` (or the standard one), unless ``on_error`` replaces it."""
        response = default if default is not None else error_response(error)
        return await error_hook.respond(self.options.on_error, error, response, request)

    async def _dispatch(self, request: Request, scope: Scope, receive: Receive, send: Send) -> Response | None:
        path = request.path
        origin = request.header("origin")
        core = self.core
        is_token = path == self._token_path and (self._token_host is None or request.host.lower() == self._token_host)
        is_registration = path == self._registration_path and (
            self._registration_host is None or request.host.lower() == self._registration_host
        )
        is_introspection = self._introspection is not None and self._matches(self._introspection, request)
        is_par = self._par is not None and self._matches(self._par, request)
        ours = is_token or is_registration or is_introspection or is_par
        if path == rfc8414.WELL_KNOWN or path.startswith(rfc9728.WELL_KNOWN) or ours:
            if request.method == "OPTIONS":
                return with_cors(empty(204), origin)
            if request.header_count("host") > 1:
                raise InvalidRequestError("more than one Host header")
            issuer = core.issuer(request.origin)
            if path == rfc8414.WELL_KNOWN:  # RFC8414-3-WELLKNOWN, MCP-DISC-ORDER
                if request.method not in ("GET", "HEAD"):
                    return empty(405, [(b"allow", b"GET, HEAD, OPTIONS")])
                # RFC8414-3.2-200-JSON, RFC8414-3-CORS
                return with_cors(Response(200, self._metadata_document(issuer), [JSON_TYPE]), origin)
            if path.startswith(rfc9728.WELL_KNOWN):  # RFC9728-3-WELLKNOWN, MCP-PRM-DISCOVERY
                served = rfc9728.served_resource(core, issuer, path)
                if served is None:
                    await self._default(scope, receive, send)
                    return None
                if request.method not in ("GET", "HEAD"):
                    return empty(405, [(b"allow", b"GET, HEAD, OPTIONS")])
                return with_cors(json_response(rfc9728.metadata(core, issuer, served)), origin)  # RFC9728-3.2-200-JSON
            if is_token:
                return with_cors(await token.handle(core, request, self._grants, issuer), origin)
            if is_introspection:  # RFC 7662
                return with_cors(await rfc7662.introspect(core, request, issuer), origin)
            if is_par:  # RFC 9126
                pushed = await rfc9126.push(core, request, request.origin, _validate_pushed)
                return with_cors(pushed, origin)
            return with_cors(await rfc7591.register(core, request), origin)
        route = self._api_route(request)
        if route is not None:
            if request.method == "OPTIONS" and origin:
                return with_cors(empty(204), origin)
            return await self._api(route, request, scope, receive, send)
        extra = self.extra_routes.get(path)
        if extra is not None:
            scope["oauth_provider"] = self.helpers
            await extra(scope, receive, send)
            return None
        scope[ORIGIN_KEY] = request.origin
        await self._default(scope, receive, send)
        return None

    async def _default(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["oauth_provider"] = self.helpers
        scope[PROVIDER_KEY] = self
        scope.setdefault("state", {})["oauth_provider"] = self.helpers
        await self.options.default_handler(scope, receive, send)

    async def _authorize(
        self, request: Request, scope: Scope, authorization: str | None, dpop: bool
    ) -> rfc6750.ApiContext | Response:
        """The bearer check of an API route: the token's context, or the response refusing it.
        ``authorization`` is the request's header, ``dpop`` whether it names the DPoP scheme."""
        core = self.core
        url = f"{request.origin}{request.path}"
        if dpop:
            assert authorization is not None
            return await self._dpop_api(request, authorization[5:].strip(), url)
        try:
            token_value = rfc6750.extract(authorization)  # MCP-TOKEN-QUERY
            try:
                return await rfc6750.check(core, token_value, url)
            except rfc6750.ForeignToken:
                if core.options.resolve_external_token is None:
                    raise
                return await external_tokens.resolve(core, token_value, scope, url)
        except rfc6750.MissingToken:  # MCP-ERR-401, RFC6750-3.1-NO-ERROR-ANON: 401, bare challenge
            issuer = core.issuer(request.origin)
            headers = [(b"www-authenticate", rfc6750.challenge(core, issuer, url=url).encode("latin-1")), *NO_STORE]
            return with_cors(Response(401, b"", headers), request.header("origin"))
        except OAuthError as exc:  # MCP-TOKEN-INVALID-401, RFC6750-3.1-INVALID-TOKEN
            return await self._bearer_error(request, exc)

    async def _bearer_error(self, request: Request, exc: OAuthError) -> Response:
        """An OAuth error on an API route; a 401 or 403 carries the challenge of the scheme the token
        came with: Bearer (RFC 6750 section 3), or DPoP for a DPoP-bound token (RFC9449-7.1-CHALLENGE)."""
        response = error_response(exc)
        if exc.status_code in (401, 403):
            if self._dpop_scheme(request.header("authorization")):
                header = rfc9449.challenge(exc.error, exc.description, scope=getattr(exc, "scope", None))
            else:
                url = f"{request.origin}{request.path}"
                header = rfc6750.challenge(self.core, self.core.issuer(request.origin), exc, url=url)
            response.set_header("www-authenticate", header)
        return with_cors(await self._error(request, exc, response), request.header("origin"))

    async def _api(
        self, route: _ApiRoute, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> Response | None:
        authorization = request.header("authorization")
        dpop = self._dpop_scheme(authorization)
        # Only a POST can carry the token in a form body (RFC 6750 section 2.2): no body is read otherwise.
        if not dpop and request.method == "POST":
            in_body, receive = await _form_token(request, receive)
            if in_body and authorization is not None:  # RFC6750-3.1-ONE-METHOD: two ways at once
                exc = InvalidRequestError("the access token was sent by more than one method")
                response = error_response(exc)
                url = f"{request.origin}{request.path}"
                issuer = self.core.issuer(request.origin)
                response.set_header("www-authenticate", rfc6750.challenge(self.core, issuer, exc, url=url))
                return with_cors(await self._error(request, exc, response), request.header("origin"))
        checked = await self._authorize(request, scope, authorization, dpop)
        if isinstance(checked, Response):
            return checked
        self._enter(scope, checked, request.origin)
        try:
            await route.handler(scope, receive, send)
        except OAuthError as exc:  # raised by the API handler: answered as the provider's own error
            if isinstance(send, _TrackedSend) and send.started:
                raise
            return await self._bearer_error(request, exc)
        return None

    def _dpop_scheme(self, authorization: str | None) -> bool:
        """Whether the token comes with the DPoP scheme (RFC 9449 section 7.1) and DPoP is on."""
        return self.core.options.dpop_enabled and authorization is not None and authorization[:5].lower() == "dpop "

    async def _dpop_api(self, request: Request, token: str, url: str) -> rfc6750.ApiContext | Response:
        """A DPoP-bound token and its proof (RFC 9449 section 7.1); an error response with a DPoP challenge."""
        try:
            proof = await rfc9449.check_proof(self.core, request, url=url, access_token=token, status=401)
            if proof is None:  # RFC9449-7.1-RESOURCE-CHECKS: the proof must come with the token
                raise InvalidDpopProofError("a DPoP proof is required with a DPoP-bound access token", status=401)
            return await rfc6750.check(self.core, token, url, dpop_jkt=proof.jkt)
        except (InvalidDpopProofError, UseDpopNonceError, InvalidTokenError) as exc:
            response = error_response(exc)
            # RFC9449-7.1-CHALLENGE: the DPoP scheme, the error, the algorithms accepted
            response.set_header("www-authenticate", rfc9449.challenge(exc.error, exc.description))
            return with_cors(await self._error(request, exc, response), request.header("origin"))

    def _enter(self, scope: Scope, context: rfc6750.ApiContext, origin: str) -> None:
        """What the API handler finds in its scope: the token's context and the helpers."""
        scope["oauth"] = context
        scope["oauth_provider"] = self.helpers
        scope[PROVIDER_KEY] = self
        scope[ORIGIN_KEY] = origin
        state = scope.setdefault("state", {})
        state["oauth"] = context
        state["oauth_provider"] = self.helpers

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake: refused for another host; on an API route, bearer-checked first."""
        request = Request(scope, receive)
        try:
            served = self._vet_host(request)
        except InvalidRequestError:
            served = False
        if not served:
            await self._refuse_websocket(scope, send, _REFUSED_HOST)
            return
        route = self._api_route(request)
        if route is None:
            scope[ORIGIN_KEY] = request.origin
            await self._default(scope, receive, send)
            return
        authorization = request.header("authorization")
        checked = await self._authorize(request, scope, authorization, self._dpop_scheme(authorization))
        if isinstance(checked, Response):
            await self._refuse_websocket(scope, send, checked)
            return
        self._enter(scope, checked, request.origin)
        await route.handler(scope, receive, send)

    @staticmethod
    async def _refuse_websocket(scope: Scope, send: Send, response: Response) -> None:
        """Refuse a handshake with ``response`` where the server can send one (the ASGI
        ``websocket.http.response`` extension), else by closing it (the server answers 403)."""
        if "websocket.http.response" in scope.get("extensions", {}):
            headers = [*response.headers, (b"content-length", str(len(response.body)).encode("ascii"))]
            await send({"type": "websocket.http.response.start", "status": response.status, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": response.body})
        else:
            await send({"type": "websocket.close", "code": 1008})

    async def oauth_error_response(self, scope: Scope, error: OAuthError) -> Response:
        """The provider's answer to ``error`` raised inside one of its handlers (see :func:`oauth_error_handler`)."""

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        request = Request(scope, no_body)
        request.serve_as(scope.get(ORIGIN_KEY) or request.origin)
        if "oauth" in scope:  # an API route
            return await self._bearer_error(request, error)
        return with_cors(await self._error(request, error), request.header("origin"))

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start and stop the wrapped applications with the server; close the store last."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                failure = await self._lifespans.startup(scope)
                if failure is not None:
                    await self._lifespans.shutdown()
                    await send({"type": "lifespan.startup.failed", "message": failure})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                failure = await self._lifespans.shutdown()
                await self.storage.close()
                if failure is not None:
                    await send({"type": "lifespan.shutdown.failed", "message": failure})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return


async def oauth_error_handler(request: Any, exc: Exception) -> Any:
    """A Starlette or FastAPI exception handler: an ``OAuthError`` raised by your handler is answered
    as the provider answers its own (JSON, ``no-store``, and on an API route the Bearer challenge, or
    the DPoP one for a token that came with the DPoP scheme, for a 401 or 403). Register it with
    ``app.add_exception_handler(OAuthError, oauth_error_handler)`` or
    ``Starlette(exception_handlers={OAuthError: oauth_error_handler})``.
    """
    from starlette.responses import Response as StarletteResponse

    provider = request.scope.get(PROVIDER_KEY)
    if not isinstance(exc, OAuthError) or not isinstance(provider, OAuthProvider):
        raise exc  # not ours to answer (or not called through the provider)
    answer = await provider.oauth_error_response(request.scope, exc)
    response = StarletteResponse(answer.body, answer.status)
    response.raw_headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode("ascii"))]
    return response
