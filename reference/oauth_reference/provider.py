"""``OAuthProvider``: the ASGI application that wraps yours.

Requests are dispatched in this order: CORS preflights for the provider's endpoints, the AS
metadata (RFC 8414), the protected resource metadata (RFC 9728), the token endpoint (which also
revokes, RFC 7009), the registration endpoint (RFC 7591), the API routes (bearer check, then
your API handler), and everything else to your default handler.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import orjson

from oauth_reference import error_hook
from oauth_reference.core import Core
from oauth_reference.errors import ConfigurationError
from oauth_reference.errors import InvalidDpopProofError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidTokenError
from oauth_reference.errors import OAuthError
from oauth_reference.errors import ServerError
from oauth_reference.errors import TemporarilyUnavailableError
from oauth_reference.errors import UseDpopNonceError
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
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage.memory import MemoryStorage
from oauth_reference.options import EnterpriseManagedAuthorization
from oauth_reference.options import ProviderOptions
from oauth_reference.options import ResourceMetadata
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
    provider reads the time.
    """

    def __init__(self, *, storage: Storage | None = None, clock: Clock | None = None, **options: Any) -> None:
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
        self.core = Core(self.options, self.storage, self.clock)
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.options.default_handler(scope, receive, send)
            return
        request = Request(scope, receive)
        origin = request.header("origin")
        try:
            response = await self._dispatch(request, scope, receive, send)
        except OAuthError as exc:
            response = with_cors(await self._error(request, exc), origin)
        except StorageUnavailableError as exc:
            log.warning("store unavailable: %s", exc)
            error = TemporarilyUnavailableError("the store is unavailable; retry later", headers={"Retry-After": "5"})
            response = with_cors(await self._error(request, error), origin)
        except Exception:  # ROBUST-FUZZ-NO-STACK-TRACE: logged, never shown to the client
            log.exception("unexpected error on %s %s", request.method, request.path)
            response = await self._error(request, ServerError("unexpected server error"))
        if response is not None:
            await response(scope, receive, send)

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
        is_introspection = self._matches(self._introspection, request)
        is_par = self._matches(self._par, request)
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
        await self._default(scope, receive, send)
        return None

    async def _default(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["oauth_provider"] = self.helpers
        scope.setdefault("state", {})["oauth_provider"] = self.helpers
        await self.options.default_handler(scope, receive, send)

    async def _api(
        self, route: _ApiRoute, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> Response | None:
        core = self.core
        origin = request.origin
        issuer = core.issuer(origin)
        url = f"{origin}{request.path}"
        authorization = request.header("authorization")
        cors = request.header("origin")
        if core.options.dpop_enabled and authorization is not None and authorization[:5].lower() == "dpop ":
            checked = await self._dpop_api(request, authorization[5:].strip(), url)
            if isinstance(checked, Response):
                return with_cors(checked, cors)
            await self._call(route, checked, scope, receive, send)
            return None
        try:
            in_body, receive = await _form_token(request, receive)
            if in_body and authorization is not None:  # RFC6750-3.1-ONE-METHOD: two ways at once
                raise InvalidRequestError("the access token was sent by more than one method")
            token_value = rfc6750.extract(authorization)  # MCP-TOKEN-QUERY
            context = await rfc6750.check(core, token_value, url)
        except rfc6750.MissingToken:  # MCP-ERR-401, RFC6750-3.1-NO-ERROR-ANON: 401, bare challenge
            headers = [(b"www-authenticate", rfc6750.challenge(core, issuer, url=url).encode("latin-1")), *NO_STORE]
            return with_cors(Response(401, b"", headers), cors)
        except (InvalidTokenError, InvalidRequestError) as exc:  # MCP-TOKEN-INVALID-401, RFC6750-3.1-INVALID-TOKEN
            response = error_response(exc)
            response.set_header("www-authenticate", rfc6750.challenge(core, issuer, exc, url=url))
            return with_cors(await self._error(request, exc, response), cors)
        await self._call(route, context, scope, receive, send)
        return None

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
            return await self._error(request, exc, response)

    async def _call(
        self, route: _ApiRoute, context: rfc6750.ApiContext, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["oauth"] = context
        scope["oauth_provider"] = self.helpers
        state = scope.setdefault("state", {})
        state["oauth"] = context
        state["oauth_provider"] = self.helpers
        await route.handler(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.storage.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
