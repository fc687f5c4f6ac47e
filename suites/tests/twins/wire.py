"""Wire tools for the twins: middleware that changes what the reference receives and what it sends.

A twin built with these tools breaks the reference from outside, as a proxy in front of it would:
it rewrites a request before the reference reads it (a query, a form, a header), answers a request
itself, runs the reference more than once, or rewrites the answer. Some twins need to remember what
went by: :class:`Clients` learns the registered clients (and so can authenticate as any of them),
:class:`Flows` learns which authorization request each code came from, and :class:`Issued` learns
which client each token was issued to.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import quote_plus
from urllib.parse import unquote_plus
from urllib.parse import urlencode
from urllib.parse import urlsplit

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send

AUTHORIZE = "/authorize"
TOKEN = "/oauth/token"
REGISTER = "/oauth/register"
METADATA = "/.well-known/oauth-authorization-server"
OFFSET = b"x-test-clock-offset"  # the test mode's per-request clock offset (serving/testmode.py)

Headers = list[tuple[bytes, bytes]]
Pairs = list[tuple[str, str]]
Answer = tuple[int, Headers, bytes]  # status, headers, body
Forward = Callable[[Scope, bytes], Awaitable[Answer]]  # run the reference on a request; its answer
Handler = Callable[[Scope, bytes, Forward], Awaitable[Answer]]


# ------------------------------------------------------------------------------------- ASGI
async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def send_answer(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


async def run(app: ASGIApp, scope: Scope, body: bytes) -> Answer:
    """Run ``app`` on a request with ``body`` (its Content-Length set to match); capture the answer."""
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
    if body or scope.get("method") in ("POST", "PUT"):
        headers.append((b"content-length", b"%d" % len(body)))
    await app(dict(scope, headers=headers), replay(body), capture)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


def intercept(app: ASGIApp, when: Callable[[Scope], bool], handle: Handler) -> ASGIApp:
    """Requests ``when`` selects are read whole and answered by ``handle(scope, body, forward)``;
    ``forward`` runs the reference (as often as the handler likes) and returns its answer."""

    async def forward(scope: Scope, body: bytes) -> Answer:
        return await run(app, scope, body)

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not when(scope):
            await app(scope, receive, send)
            return
        await send_answer(send, await handle(scope, await read_body(receive), forward))

    return wrapped


def path_is(path: str, method: str | None = None) -> Callable[[Scope], bool]:
    return lambda scope: scope["path"] == path and (method is None or scope["method"] == method)


# --------------------------------------------------------------------------------- requests
def form_of(body: bytes) -> Pairs:
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def encode(pairs: Pairs) -> bytes:
    return urlencode(pairs).encode()


def query_of(scope: Scope) -> Pairs:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def with_query(scope: Scope, pairs: Pairs) -> Scope:
    return dict(scope, query_string=urlencode(pairs).encode("latin-1"))


def header(scope: Scope, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name), None)


def with_header(scope: Scope, name: bytes, value: str | None) -> Scope:
    """``scope`` with header ``name`` set to ``value`` (removed when ``None``)."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != name]
    if value is not None:
        headers.append((name, value.encode("latin-1")))
    return dict(scope, headers=headers)


def first(pairs: Pairs, name: str) -> str | None:
    return next((v for k, v in pairs if k == name), None)


def without(pairs: Pairs, *names: str) -> Pairs:
    return [(k, v) for k, v in pairs if k not in names]


def replaced(pairs: Pairs, name: str, value: str | None) -> Pairs:
    """``pairs`` with every ``name`` removed and, unless ``value`` is None, one ``name=value`` added."""
    return [*without(pairs, name), *([(name, value)] if value is not None else [])]


def offset_of(scope: Scope) -> float:
    """The test-mode clock offset the request carries (0 without one)."""
    try:
        return float(header(scope, OFFSET) or 0)
    except ValueError:
        return 0.0


def with_offset(scope: Scope, offset: float) -> Scope:
    return with_header(scope, OFFSET, repr(offset) if offset > 0 else None)


# -------------------------------------------------------------------------------- responses
def json_answer(status: int, data: Any, extra: Headers | None = None) -> Answer:
    headers: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), *(extra or [])]
    return status, headers, orjson.dumps(data)


def json_of(answer: Answer) -> dict[str, Any] | None:
    try:
        data = orjson.loads(answer[2])
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def with_json(answer: Answer, data: dict[str, Any]) -> Answer:
    return answer[0], answer[1], orjson.dumps(data)


def location_of(headers: Headers) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == b"location"), None)


def with_location(headers: Headers, url: str) -> Headers:
    return [(k, url.encode("latin-1") if k.lower() == b"location" else v) for k, v in headers]


def url_query(url: str) -> Pairs:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def redirects(app: ASGIApp, edit: Callable[[Scope, str], str], path: str = AUTHORIZE) -> ASGIApp:
    """Rewrite the Location of every redirect ``path`` answers with ``edit(scope, location)``."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        status, headers, content = await forward(scope, body)
        location = location_of(headers)
        if location is not None and 300 <= status < 400:
            headers = with_location(headers, edit(scope, location))
        return status, headers, content

    return intercept(app, path_is(path), handle)


def on_query(app: ASGIApp, transform: Callable[[Scope, Pairs], Pairs], path: str = AUTHORIZE) -> ASGIApp:
    """Rewrite the query of GET requests to ``path`` before the reference reads it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == path and scope["method"] == "GET":
            scope = with_query(scope, transform(scope, query_of(scope)))
        await app(scope, receive, send)

    return wrapped


def on_form(app: ASGIApp, transform: Callable[[Scope, Pairs], Pairs], path: str = TOKEN) -> ASGIApp:
    """Rewrite the form of POST requests to ``path`` (the token endpoint) before the reference reads it."""

    async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
        return await forward(scope, encode(transform(scope, form_of(body))))

    return intercept(app, path_is(path, "POST"), handle)


TokenHandler = Callable[[Scope, Pairs, Callable[[Scope, Pairs], Awaitable[Answer]]], Awaitable[Answer]]


def on_token(app: ASGIApp, handle: TokenHandler) -> ASGIApp:
    """``handle(scope, pairs, forward)`` answers each token endpoint POST; ``forward(scope, pairs)``
    runs the reference on a form (the same, or another)."""

    async def handler(scope: Scope, body: bytes, forward: Forward) -> Answer:
        async def forward_pairs(scope: Scope, pairs: Pairs) -> Answer:
            return await forward(scope, encode(pairs))

        return await handle(scope, form_of(body), forward_pairs)

    return intercept(app, path_is(TOKEN, "POST"), handler)


# ------------------------------------------------------------------------------ credentials
@dataclass(frozen=True)
class Presented:
    """The client credentials a token endpoint request carries."""

    client_id: str | None
    secret: str | None
    method: str  # client_secret_basic, client_secret_post, private_key_jwt or none


def presented(scope: Scope, pairs: Pairs) -> Presented:
    authorization = header(scope, b"authorization") or ""
    if authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
        except ValueError:
            return Presented(None, None, "client_secret_basic")
        raw_id, _, raw_secret = decoded.partition(":")
        return Presented(unquote_plus(raw_id), unquote_plus(raw_secret), "client_secret_basic")
    if first(pairs, "client_assertion") is not None:
        return Presented(first(pairs, "client_id"), None, "private_key_jwt")
    if first(pairs, "client_secret") is not None:
        return Presented(first(pairs, "client_id"), first(pairs, "client_secret"), "client_secret_post")
    return Presented(first(pairs, "client_id"), None, "none")


def basic(client_id: str, secret: str) -> str:
    """An HTTP Basic header value, id and secret form-urlencoded first (OAuth 2.1 section 2.4.1)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@dataclass
class Registered:
    client_id: str
    secret: str | None
    method: str
    information: dict[str, Any]


@dataclass
class Clients:
    """The clients registered through the wire, learned from the registration endpoint's answers."""

    known: dict[str, Registered] = field(default_factory=dict)

    def observe(self, app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
            answer = await forward(scope, body)
            self.learn(answer)
            return answer

        return intercept(app, path_is(REGISTER, "POST"), handle)

    def learn(self, answer: Answer) -> None:
        info = json_of(answer)
        if answer[0] == 201 and info is not None and isinstance(info.get("client_id"), str):
            method = str(info.get("token_endpoint_auth_method", "client_secret_basic"))
            secret = info.get("client_secret")
            self.known[info["client_id"]] = Registered(
                info["client_id"], secret if isinstance(secret, str) else None, method, info
            )

    def is_public(self, client_id: str | None) -> bool:
        known = self.known.get(client_id or "")
        return known is not None and known.method == "none"

    def authenticates(self, scope: Scope, pairs: Pairs) -> bool:
        """Whether the request's credentials are its client's (a metadata document's client, which
        never registered, counts as public)."""
        given = presented(scope, pairs)
        known = self.known.get(given.client_id or "")
        if known is None:
            return given.method == "none" and (given.client_id or "").startswith("https://")
        if known.method == "none":
            return given.method == "none"
        return given.secret is not None and given.secret == known.secret

    def authenticate_as(self, scope: Scope, pairs: Pairs, client_id: str) -> tuple[Scope, Pairs]:
        """The request, its own client credentials replaced by ``client_id``'s registered ones (a
        client that never registered, such as a metadata document's, by its client_id alone)."""
        known = self.known.get(client_id)
        if (header(scope, b"authorization") or "")[:6].lower() == "basic ":
            scope = with_header(scope, b"authorization", None)
        pairs = without(pairs, "client_id", "client_secret", "client_assertion", "client_assertion_type")
        if known is None:
            return scope, [*pairs, ("client_id", client_id)]
        if known.method == "client_secret_basic" and known.secret is not None:
            return with_header(scope, b"authorization", basic(client_id, known.secret)), pairs
        if known.method == "client_secret_post" and known.secret is not None:
            return scope, [*pairs, ("client_id", client_id), ("client_secret", known.secret)]
        return scope, [*pairs, ("client_id", client_id)]


# ------------------------------------------------------------------------------------ flows
_REQUEST_FIELD = re.compile(r'<input type=hidden name=request value="([^"]*)">')


@dataclass(frozen=True)
class Flow:
    """An authorization request that ended with a code, and the clock offset it ended at."""

    request: Pairs
    offset: float


@dataclass
class Flows:
    """Which authorization request each code came from.

    The demo shows its consent page with the request in a hidden field and the user posts it back;
    the code comes in the answer to that post (or at once, in auto-approve mode).
    """

    pages: dict[str, Pairs] = field(default_factory=dict)  # hidden request field -> the query it showed
    codes: dict[str, Flow] = field(default_factory=dict)

    def observe(self, app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, body: bytes, forward: Forward) -> Answer:
            if scope["method"] == "GET":
                request = query_of(scope)
            else:
                request = self.pages.get(first(form_of(body), "request") or "", [])
            answer = await forward(scope, body)
            found = _REQUEST_FIELD.search(answer[2].decode("utf-8", "replace"))
            if found is not None:
                self.pages[html.unescape(found.group(1))] = request
            location = location_of(answer[1])
            code = first(url_query(location), "code") if location else None
            if code is not None:
                self.codes[code] = Flow(request, offset_of(scope))
            return answer

        return intercept(app, path_is(AUTHORIZE), handle)

    def of(self, code: str | None) -> Flow | None:
        return self.codes.get(code or "")

    def client_of(self, code: str | None) -> str | None:
        flow = self.of(code)
        return first(flow.request, "client_id") if flow else None


# ----------------------------------------------------------------------------------- tokens
@dataclass
class Issued:
    """The tokens the token endpoint issued, each with the client that asked for it and its kind."""

    clients: dict[str, str] = field(default_factory=dict)  # token -> client_id
    kinds: dict[str, str] = field(default_factory=dict)  # token -> "access_token" or "refresh_token"

    def observe(self, app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, pairs: Pairs, forward: Callable[[Scope, Pairs], Awaitable[Answer]]) -> Answer:
            answer = await forward(scope, pairs)
            data = json_of(answer)
            client_id = presented(scope, pairs).client_id
            if answer[0] == 200 and data is not None and client_id is not None:
                for kind in ("access_token", "refresh_token"):
                    token = data.get(kind)
                    if isinstance(token, str):
                        self.clients[token], self.kinds[token] = client_id, kind
            return answer

        return on_token(app, handle)

    def of_kind(self, token: str | None, kind: str) -> bool:
        return self.kinds.get(token or "") == kind
