"""The application the reference serves: what a user of the library would write.

``/authorize`` parses the request with the provider's helpers, shows a login-and-consent page
(approve or deny), and completes the authorization. With ``auto_approve`` it approves every
valid request for a test user at once, like the seed's example worker. ``/api/whoami`` returns
what the access token's grant carries.

The consent form is stateless: the parsed request travels in a hidden field signed with the
app's key, and a double-submit token bound to a cookie protects the POST (CSRF). Every value the
page shows is HTML-escaped.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import html
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route

from oauth_reference.errors import AccessDeniedError
from oauth_reference.errors import AuthorizationError
from oauth_reference.errors import CimdError
from oauth_reference.faults import NO_FAULTS
from oauth_reference.faults import Faults
from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.records import AuthRequest
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.provider import OAuthProvider
from oauth_reference.provider import api_context
from oauth_reference.provider import provider_helpers
from oauth_reference.specs.oauth21.authorization_endpoint import error_redirect_for

# Test-only credentials of the demo's login form (documented in reference/README.md).
DEMO_USERS: Mapping[str, str] = {"alice": "wonderland", "bob": "builder"}
AUTO_APPROVE_USER = "test-user"
WHOAMI = "/api/whoami"
# A route that needs a scope the demo's default requests lack (RFC6750-3.1-INSUFFICIENT-SCOPE).
WRITE_DOCUMENTS = "/api/documents/write"
WRITE_SCOPE = "documents.write"
_CSRF_COOKIE = "oauth_demo_csrf"
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def default_options() -> dict[str, Any]:
    """The options ``oauth-reference serve`` starts from; ``--config`` overrides them."""
    return {
        "api_route": "/api/",
        "authorize_endpoint": "/authorize",
        "token_endpoint": "/oauth/token",
        "client_registration_endpoint": "/oauth/register",
        "scopes_supported": ["profile", "email", "documents.read", "documents.write"],
        "allow_plain_pkce": False,
        "resource_metadata": {"resource": "/api", "resource_name": "oauth-reference demo API"},
    }


def props_for(user: str) -> dict[str, Any]:
    return {"user_id": user, "username": user.capitalize(), "source": "oauth-reference demo"}


class _Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, data: bytes) -> str:
        mac = hmac.new(self._key, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(data).decode() + "." + base64.urlsafe_b64encode(mac).decode()

    def verify(self, token: str) -> bytes | None:
        try:
            blob, mac = token.split(".", 1)
            data = base64.urlsafe_b64decode(blob.encode())
            given = base64.urlsafe_b64decode(mac.encode())
        except (ValueError, UnicodeError):
            return None
        expected = hmac.new(self._key, data, hashlib.sha256).digest()
        return data if hmac.compare_digest(expected, given) else None

    def csrf_for(self, cookie: str) -> str:
        return hmac.new(self._key, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def _error_page(status: int, title: str, detail: str) -> HTMLResponse:
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Authorization error</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p>"
        "<p>The application that sent you here could not be verified, so you are not redirected back to it.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status, headers=_PAGE_HEADERS)


def _consent_page(req: AuthRequest, client_name: str, blob: str, csrf: str, message: str = "") -> str:
    redirect_host = urlsplit(req.redirect_uri).netloc or req.redirect_uri
    loopback_only = redirect_host.split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in req.scope) or "<li>(no specific scope)</li>"
    warning = (
        "<p class=warn>This application receives the result on your own computer (a loopback address).</p>"
        if loopback_only
        else ""
    )
    note = f"<p class=error role=alert>{html.escape(message)}</p>" if message else ""
    e = html.escape
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sign in and authorize</title>"
        "<style>body{font:16px system-ui;max-width:32rem;margin:3rem auto;padding:0 1rem}"
        "fieldset{border:1px solid #ccc;padding:1rem;margin:1rem 0}.warn{color:#8a5a00}.error{color:#b00020}"
        "label{display:block;margin:.5rem 0}button{margin-right:1rem;padding:.4rem 1rem}</style></head><body>"
        f"<h1>Authorize {e(client_name)}</h1>"
        f"<p><strong>{e(client_name)}</strong> (client id <code>{e(req.client_id)}</code>) asks for access.</p>"
        f"<p>After your decision you are sent to <strong>{e(redirect_host)}</strong>.</p>{warning}"
        f"<p>Requested scope:</p><ul>{scopes}</ul>{note}"
        '<form method=post action="">'
        f'<input type=hidden name=request value="{e(blob)}"><input type=hidden name=csrf value="{e(csrf)}">'
        "<fieldset><legend>Sign in</legend>"
        "<label>Username <input name=username autocomplete=username required></label>"
        "<label>Password <input name=password type=password autocomplete=current-password required></label>"
        "</fieldset>"
        "<button type=submit name=action value=approve id=approve>Approve</button>"
        "<button type=submit name=action value=deny id=deny formnovalidate>Deny</button>"
        "</form></body></html>"
    )


def _signed_in(form: Any) -> str | None:
    """The demo user whose credentials the form carries, or None."""
    user = str(form.get("username", ""))
    password = str(form.get("password", ""))
    expected = DEMO_USERS.get(user, "\x00" + password)
    return user if hmac.compare_digest(expected.encode(), password.encode()) else None


def _sign_in_page(redirect_to: str, code: str, blob: str, csrf: str, message: str = "") -> str:
    """The sign-in asked before an erroneous request is sent back to its client."""
    e = html.escape
    host = urlsplit(redirect_to).netloc or redirect_to
    problem = f" ({e(code)})" if code else ""
    note = f"<p class=error role=alert>{e(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sign in to continue</title>"
        "<style>body{font:16px system-ui;max-width:32rem;margin:3rem auto;padding:0 1rem}"
        "fieldset{border:1px solid #ccc;padding:1rem;margin:1rem 0}.error{color:#b00020}"
        "label{display:block;margin:.5rem 0}button{padding:.4rem 1rem}</style></head><body>"
        f"<h1>Sign in to continue</h1><p>The application's request could not be accepted{problem}.</p>"
        f"<p>After you sign in you are sent back to <strong>{e(host)}</strong> with the error.</p>{note}"
        '<form method=post action="">'
        f'<input type=hidden name=request value="{e(blob)}"><input type=hidden name=csrf value="{e(csrf)}">'
        "<fieldset><legend>Sign in</legend>"
        "<label>Username <input name=username autocomplete=username required></label>"
        "<label>Password <input name=password type=password autocomplete=current-password required></label>"
        "</fieldset>"
        "<button type=submit name=action value=approve id=approve>Continue</button>"
        "</form></body></html>"
    )


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    # The helpers raise StorageUnavailableError while the store is down: answer as the
    # provider's own endpoints do (503 temporarily_unavailable), never with a 500.
    body = {"error": "temporarily_unavailable", "error_description": "the store is unavailable; retry later"}
    return JSONResponse(body, 503, headers={"Retry-After": "5", "Cache-Control": "no-store"})


async def _document_unusable(request: Request, exc: Exception) -> Response:
    # lookup_client and complete_authorization fetch a metadata-document client's document again
    # (it may not be cached): when that fetch fails now, the request fails as parse_auth_request's
    # does (an error page, no redirect to a client that cannot be confirmed), never with a 500.
    reason = exc.reason if isinstance(exc, CimdError) else "unknown"
    return _error_page(400, "Invalid authorization request", f"the client's metadata document is not usable: {reason}")


_HANDLERS: Mapping[Any, Any] = {StorageUnavailableError: _store_unavailable, CimdError: _document_unusable}


def build_demo_app(*, auto_approve: bool, secret: bytes | None = None) -> Starlette:
    signer = _Signer(secret or os.urandom(32))

    async def authorize(request: Request) -> Response:
        helpers = provider_helpers(request.scope)
        if request.method == "POST":
            return await _post(request)
        try:
            req = await helpers.parse_auth_request(str(request.url))
        except AuthorizationError as exc:
            if exc.redirect_to is None:
                return _error_page(400, f"Invalid authorization request ({exc.code})", exc.description or exc.code)
            if auto_approve:
                return RedirectResponse(exc.redirect_to, 302)
            # OAUTH21-7.12.2-AUTH-BEFORE-ERROR: an error goes back to the client only after the user has
            # signed in, so a client an attacker registered cannot bounce users through this server.
            cookie = request.cookies.get(_CSRF_COOKIE) or base64.urlsafe_b64encode(os.urandom(18)).decode()
            blob = signer.sign(orjson.dumps({"error_redirect": exc.redirect_to}))
            page = _sign_in_page(exc.redirect_to, exc.code, blob, signer.csrf_for(cookie))
            response = HTMLResponse(page, headers=_PAGE_HEADERS)
            response.set_cookie(_CSRF_COOKIE, cookie, httponly=True, samesite="lax", path="/")
            return response
        if auto_approve:
            done = await helpers.complete_authorization(
                req, user_id=AUTO_APPROVE_USER, scope=req.scope, props=props_for(AUTO_APPROVE_USER)
            )
            return RedirectResponse(done.redirect_to, 302)
        client = await helpers.lookup_client(req.client_id)
        name = (client.client_name if client else None) or req.client_id
        cookie = request.cookies.get(_CSRF_COOKIE) or base64.urlsafe_b64encode(os.urandom(18)).decode()
        blob = signer.sign(orjson.dumps(dataclasses.asdict(req)))
        response = HTMLResponse(_consent_page(req, name, blob, signer.csrf_for(cookie)), headers=_PAGE_HEADERS)
        response.set_cookie(_CSRF_COOKIE, cookie, httponly=True, samesite="lax", path="/")
        return response

    async def _post(request: Request) -> Response:
        helpers = provider_helpers(request.scope)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _error_page(400, "Bad request", "the consent form must be posted as a form")
        form = await request.form()
        cookie = request.cookies.get(_CSRF_COOKIE, "")
        csrf = str(form.get("csrf", ""))
        if not cookie or not hmac.compare_digest(signer.csrf_for(cookie), csrf):
            return _error_page(403, "Request refused", "the consent form failed its CSRF check; start again")
        data = signer.verify(str(form.get("request", "")))
        if data is None:
            return _error_page(400, "Bad request", "the consent form was altered")
        fields = orjson.loads(data)
        if "error_redirect" in fields:
            # The sign-in that precedes an error redirect (OAUTH21-7.12.2-AUTH-BEFORE-ERROR).
            target = str(fields["error_redirect"])
            if not _signed_in(form):
                page = _sign_in_page(target, "", str(form.get("request")), csrf, "Unknown user or wrong password.")
                return HTMLResponse(page, 401, headers=_PAGE_HEADERS)
            return RedirectResponse(target, 303)
        req = AuthRequest(**fields)
        client = await helpers.lookup_client(req.client_id)
        if client is None:
            return _error_page(400, "Unknown client", "the application is no longer registered")
        if form.get("action") == "deny":
            # OAuth 2.1 section 4.1.2.1: access_denied goes back to the client, with state and iss.
            return RedirectResponse(error_redirect_for(req, AccessDeniedError("the user denied the request")), 303)
        user = _signed_in(form)
        if user is None:
            name = client.client_name or req.client_id
            page = _consent_page(req, name, str(form.get("request")), csrf, "Unknown user or wrong password.")
            return HTMLResponse(page, 401, headers=_PAGE_HEADERS)
        done = await helpers.complete_authorization(req, user_id=user, scope=req.scope, props=props_for(user))
        # OAUTH21-7.5.4-NO-307: after a credential POST the redirect is a 303, never a 307.
        return RedirectResponse(done.redirect_to, 303)

    async def index(request: Request) -> Response:
        return HTMLResponse(
            "<!doctype html><title>oauth-reference</title><h1>oauth-reference</h1>"
            "<p>An OAuth 2.1 reference authorization server. Metadata: "
            '<a href="/.well-known/oauth-authorization-server">/.well-known/oauth-authorization-server</a></p>'
        )

    return Starlette(
        routes=[Route("/", index), Route("/authorize", authorize, methods=["GET", "POST"])],
        exception_handlers=_HANDLERS,
    )


def _whoami(scope: Scope) -> dict[str, Any]:
    ctx = api_context(scope)
    return {"props": ctx.props, "scope": ctx.scope, "client_id": ctx.client_id, "user_id": ctx.user_id}


def build_api_app() -> ASGIApp:
    """``/api/whoami``: what the access token's grant carries, as JSON (GET or POST); and
    ``/api/documents/write``, which needs the ``documents.write`` scope.

    The one route is answered directly (the same JSON and headers as Starlette's ``JSONResponse``,
    without the routing and middleware layers, which cost more than the answer on this hot path);
    every other request goes to the Starlette app, for its 404, 405 and HEAD answers.
    """

    async def whoami(request: Request) -> Response:
        return JSONResponse(_whoami(request.scope))

    async def write_documents(request: Request) -> Response:
        # RFC6750-3.1-INSUFFICIENT-SCOPE: a valid token without the scope the route needs gets 403,
        # with the scope it needs in the challenge (RFC 6750 section 3.1).
        if WRITE_SCOPE not in api_context(request.scope).scope:
            challenge = f'Bearer error="insufficient_scope", scope="{WRITE_SCOPE}"'
            body = {"error": "insufficient_scope", "error_description": f"this needs the {WRITE_SCOPE} scope"}
            return JSONResponse(body, 403, headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"})
        return JSONResponse({"written": True, **_whoami(request.scope)})

    routed = Starlette(
        routes=[
            Route(WHOAMI, whoami, methods=["GET", "POST"]),
            Route(WRITE_DOCUMENTS, write_documents, methods=["GET", "POST"]),
        ],
        exception_handlers=_HANDLERS,
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WHOAMI and scope["method"] in ("GET", "POST"):
            body = orjson.dumps(_whoami(scope))
            headers = [(b"content-length", str(len(body)).encode("ascii")), (b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await routed(scope, receive, send)

    return app


def build_reference(
    options: Mapping[str, Any] | None = None,
    *,
    storage: Storage | None = None,
    clock: Clock | None = None,
    auto_approve: bool = False,
    demo_secret: bytes | None = None,
    faults: Faults = NO_FAULTS,
) -> OAuthProvider:
    """The demo application wrapped by the provider, as ``oauth-reference serve`` runs it.

    ``faults`` is for the known-bad twins only (:mod:`oauth_reference.faults`); ``serve`` never sets it.
    """
    merged = {**default_options(), **dict(options or {})}
    if "api_handlers" in merged:
        merged.pop("api_route", None)
    else:
        merged.setdefault("api_handler", build_api_app())
    merged.setdefault("default_handler", build_demo_app(auto_approve=auto_approve, secret=demo_secret))
    return OAuthProvider(storage=storage, clock=clock, faults=faults, **merged)
