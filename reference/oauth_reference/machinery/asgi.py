"""ASGI vocabulary and the small request/response objects the provider's endpoints use.

The provider answers its own endpoints with these instead of a framework's, to keep the hot
paths (token checks, token issuance, metadata) short.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import OAuthError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
NO_STORE = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}
JSON_TYPE = (b"content-type", b"application/json")


class PayloadTooLargeError(InvalidRequestError):
    status = 413


class MethodNotAllowedError(InvalidRequestError):
    """An endpoint of the provider called with a method it does not serve (405, with ``Allow``)."""

    status = 405

    def __init__(self, allow: str) -> None:
        super().__init__("method not allowed", headers={"Allow": allow})


class Request:
    """What an endpoint needs from an HTTP request scope."""

    __slots__ = ("_headers", "_origin", "method", "path", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope.get("method", "GET")  # a WebSocket handshake is a GET
        self.path: str = scope["path"]
        self._headers: dict[str, str] | None = None
        self._origin: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Lower-cased header names; repeated headers are joined with ``, ``."""
        if self._headers is None:
            headers: dict[str, str] = {}
            for raw_name, raw_value in self.scope["headers"]:
                name = raw_name.decode("latin-1").lower()
                value = raw_value.decode("latin-1")
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            self._headers = headers
        return self._headers

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def header_count(self, name: str) -> int:
        raw = name.encode("latin-1")
        return sum(1 for k, _ in self.scope["headers"] if k.lower() == raw)

    @property
    def host(self) -> str:
        host = self.header("host")
        if host is None:
            server = self.scope.get("server")
            if not server:
                raise InvalidRequestError("the request has no Host header")
            host = f"{server[0]}:{server[1]}" if server[1] not in (80, 443) else str(server[0])
        if not _HOST.match(host):
            raise InvalidRequestError("the Host header is malformed")
        return host

    @property
    def scheme(self) -> str:
        """``http`` or ``https``; a WebSocket's ``ws`` and ``wss`` name the same origins."""
        scheme: str = self.scope.get("scheme", "http")
        return _HTTP_SCHEMES.get(scheme, scheme)

    @property
    def origin(self) -> str:
        if self._origin is None:  # worked out once: the Host check is a regular expression
            self._origin = f"{self.scheme}://{self.host}"
        return self._origin

    def serve_as(self, origin: str) -> None:
        """Treat the request as addressed to ``origin`` (the provider's vetted form of its host)."""
        self._origin = origin

    @property
    def url(self) -> str:
        query = self.scope.get("query_string", b"")
        path = self.scope.get("raw_path") or self.path.encode("utf-8")
        base = self.origin + path.decode("latin-1")
        return f"{base}?{query.decode('latin-1')}" if query else base

    @property
    def client_host(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    def query_pairs(self) -> list[tuple[str, str]]:
        """Query parameters; invalid UTF-8 after percent-decoding is a request error (ROBUST-HOSTILE-ENCODING)."""
        try:
            return parse_qsl(
                self.scope.get("query_string", b"").decode("ascii"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=200,
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidRequestError("the query string is not valid percent-encoded UTF-8") from exc

    async def body(self, limit: int) -> bytes:
        """The whole body, refusing more than ``limit`` bytes (413) without reading past it.

        ROBUST-HOSTILE-BIG-BODY.
        """
        declared = self.header("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise PayloadTooLargeError(f"the request body must be at most {limit} bytes")
            except ValueError:
                raise InvalidRequestError("Content-Length is not a number") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"the request body must be at most {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def media_type(self) -> str | None:
        value = self.header("content-type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower()


class Response:
    """A complete HTTP response; calling it sends it."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self.status = status
        self.body = body
        self.headers = list(headers)

    def set_header(self, name: str, value: str) -> None:
        raw = name.lower().encode("latin-1")
        self.headers = [(k, v) for k, v in self.headers if k != raw]
        self.headers.append((raw, value.encode("latin-1")))

    def header(self, name: str) -> str | None:
        raw = name.lower().encode("latin-1")
        for k, v in self.headers:
            if k == raw:
                return v.decode("latin-1")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode("ascii"))]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})


def json_response(
    data: Any, status: int = 200, *, no_store: bool = False, headers: Iterable[tuple[bytes, bytes]] = ()
) -> Response:
    base = [JSON_TYPE, *NO_STORE] if no_store else [JSON_TYPE]
    return Response(status, orjson.dumps(data), [*base, *headers])


def error_response(error: OAuthError) -> Response:
    """RFC 6749 section 5.2: a JSON error object, never cached.

    OAUTH21-3.2.4-ERROR, RFC7009-2.2.1-ERROR-FORMAT, ROBUST-FUZZ-ERROR-SHAPE, ROBUST-FUZZ-ERROR-NO-STORE.
    """
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    return json_response(error.body(), error.status_code, no_store=True, headers=extra)


def empty(status: int, headers: Iterable[tuple[bytes, bytes]] = ()) -> Response:
    return Response(status, b"", headers)


def with_cors(response: Response, origin: str | None) -> Response:
    """Open CORS for the provider's own endpoints, so browser-based clients can use them (RFC8414-3-CORS)."""
    if origin:
        response.headers += [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"GET, HEAD, POST, OPTIONS"),
            (b"access-control-allow-headers", b"Authorization, Content-Type, DPoP, MCP-Protocol-Version"),
            # DPoP-Nonce: RFC 9449 section 8 asks it be readable by browser-based clients
            (b"access-control-expose-headers", b"WWW-Authenticate, Retry-After, DPoP-Nonce"),
            (b"access-control-max-age", b"86400"),
            (b"vary", b"Origin"),
        ]
    return response
