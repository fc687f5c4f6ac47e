"""The ``on_error`` option: observe, and optionally replace, every OAuth error response.

The provider calls the hook just before it sends an OAuth error response of its own: the JSON
``{"error": ...}`` answers of the token, revocation and registration endpoints (including 405,
413, 503 ``temporarily_unavailable`` and 500 ``server_error``) and the 401 ``invalid_token``
answers on API routes. A request to an API route with no credentials at all gets a bare
``Bearer`` challenge with no error code (RFC 6750 section 3.1), so the hook is not called for it;
nor is it called for the 404/405 answers of the metadata documents, which are not OAuth errors.

The hook receives an :class:`ErrorEvent` and returns ``None`` (send the default response) or a
response to send instead: the provider's own :class:`~oauth_reference.machinery.asgi.Response`, or a
Starlette (or FastAPI) ``Response`` with its body in memory. It may be a coroutine function. If it
raises, or returns anything else, the provider logs that (the exception's type and where it was
raised, never its message, which may quote request data) and sends the default response: the
hook can never turn an OAuth error into a 500.

Without a hook the provider logs each error response as a warning on the ``oauth_reference``
logger (``OAuth error response: 400 invalid_grant - ...``), as the seed's default ``onError`` does;
a hook replaces that default, so ``on_error=lambda event: None`` silences it.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from oauth_reference.errors import OAuthError
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.asgi import Response

log = logging.getLogger("oauth_reference")


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An OAuth error response the provider is about to send.

    ``code`` is the wire ``error`` value, ``description`` the ``error_description`` (``None`` when
    the response has none), ``status`` the HTTP status, and ``headers`` every header of the
    default response (lower-case names, read-only; CORS headers are added afterwards, to whatever
    response is sent). ``method`` and ``path`` name the request; the query string is left out.
    """

    code: str
    description: str | None
    status: int
    headers: Mapping[str, str]
    method: str
    path: str


OnErrorResult = object  # None, a Response, or a Starlette response
OnErrorHook = Callable[[ErrorEvent], OnErrorResult | Awaitable[OnErrorResult]]


def event_for(error: OAuthError, default: Response, request: Request) -> ErrorEvent:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in default.headers}
    return ErrorEvent(
        code=error.error,
        description=error.description,
        status=default.status,
        headers=MappingProxyType(headers),
        method=request.method,
        path=request.path,
    )


def _where(exc: BaseException) -> str:
    """``file:line in function`` of the innermost frame: enough to find the bug, no values."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def log_warning(event: ErrorEvent) -> None:
    """The default hook, the seed's: one warning per OAuth error response (no query, no token)."""
    log.warning("OAuth error response: %d %s - %s", event.status, event.code, event.description or "")


def _adopt(result: object) -> Response | None:
    """A copy of what the hook returned as the provider's Response; None if it is not a response."""
    if isinstance(result, Response):
        return Response(result.status, result.body, result.headers)
    # A Starlette or FastAPI response (JSONResponse, PlainTextResponse, RedirectResponse, ...): its
    # body is in memory. Streaming and file responses have no body to copy and are refused.
    status, body, headers = (getattr(result, name, None) for name in ("status_code", "body", "raw_headers"))
    if isinstance(status, int) and isinstance(body, bytes) and isinstance(headers, list):
        # content-length is recomputed when the response is sent.
        kept = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() != b"content-length"]
        return Response(status, body, kept)
    return None


async def respond(hook: OnErrorHook | None, error: OAuthError, default: Response, request: Request) -> Response:
    """The response to send for ``error``: the hook's override, or ``default``."""
    if hook is None:
        log_warning(event_for(error, default, request))
        return default
    event = event_for(error, default, request)
    try:
        result: object = hook(event)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        log.error(
            "the on_error hook raised %s at %s for a %d %s response to %s %s; sending the default response",
            type(exc).__name__,
            _where(exc),
            event.status,
            event.code,
            event.method,
            event.path,
        )
        return default
    if result is None:
        return default
    # A copy: CORS headers are appended to the response sent, and the hook may hand out one
    # shared response object for every error.
    adopted = _adopt(result)
    if adopted is None:
        log.error(
            "the on_error hook returned %s, not a Response with its body or None; sending the default response",
            type(result).__name__,
        )
        return default
    return adopted
