"""The OAuth-aware checks applied to every fuzzed response, one function per requirement.

Each check looks at one :class:`Sent` exchange (and what the run learned from earlier ones,
:class:`Knowledge`) and returns a one-line problem, or ``None``. They are deliberately narrow,
so that a finding is a defect of the target and not of the fuzzer:

- an error shape is judged only where RFC 6749-style errors are owed (token, revocation,
  registration), and not for the 413/414/429/431 a front server may answer on its own;
- reflection counts only raw markup in a body a browser would render (HTML, XML, or untyped);
- a redirect is foreign only if it leaves the server's own origins and matches no redirect URI
  registered for the request's client (loopback ports aside, OAuth 2.1 section 8.4.2);
- a stack trace or file path counts only if the request did not carry that text itself;
- a secret counts only if another exchange issued it and this request did not carry it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import unquote_plus
from urllib.parse import urljoin
from urllib.parse import urlsplit

import httpx
import orjson

from oauth_conformance.robust.openapi import GRANT_PARAMETERS
from oauth_conformance.robust.openapi import Endpoint
from oauth_conformance.support.checks import assert_error_shape

NO_5XX = "ROBUST-FUZZ-NO-5XX"
NO_HANG = "ROBUST-FUZZ-NO-HANG"
ERROR_SHAPE = "ROBUST-FUZZ-ERROR-SHAPE"
ERROR_NO_STORE = "ROBUST-FUZZ-ERROR-NO-STORE"
MISSING_REQUIRED = "ROBUST-FUZZ-MISSING-REQUIRED"
NO_REFLECTION = "ROBUST-FUZZ-NO-REFLECTION"
NO_OPEN_REDIRECT = "ROBUST-FUZZ-NO-OPEN-REDIRECT"
NO_STACK_TRACE = "ROBUST-FUZZ-NO-STACK-TRACE"
NO_SECRET_LEAK = "ROBUST-FUZZ-NO-SECRET-LEAK"

REDIRECTS = (301, 302, 303, 307, 308)
# Statuses a front server or framework answers before OAuth code runs: not owed an OAuth error.
TRANSPORT_STATUSES = (405, 413, 414, 429, 431)
OAUTH_KINDS = ("token", "revocation", "registration")
RENDERED = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml")
LOOPBACK = ("127.0.0.1", "::1", "[::1]", "localhost")
SECRET_MEMBERS = ("access_token", "refresh_token", "id_token", "client_secret", "registration_access_token")
BODY_SCAN = 1 << 16
_TAG = re.compile(r"<[A-Za-z!/?][^<>]{4,}>?")
TRACE_PATTERNS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"\n]+", line \d+'),
    re.compile(r"\n\s+at [\w.$<>\[\] ]+ \(?(?:/|[A-Za-z]:\\|file:|node:)[^)\n]*:\d+(?::\d+)?\)?"),
    re.compile(r"\bat [\w.$]+\([\w$]+\.(?:java|kt|scala):\d+\)"),
    # Perl's "at FILE line N" and PHP's "in FILE on line N"; a parser's "at line 1 column 1" is a
    # position in the request, not a trace (found fuzzing mcp-python's registration endpoint).
    re.compile(r"\bat (?:/|[\w.-]+\.(?:pl|pm|rb|php|py|js)\b)\S* line \d+"),
    re.compile(r"\bin \S+\.php on line \d+"),
    re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Exception|Error)(?::| in )\s"),
    re.compile(
        r"(?<![\w.:/-])(?:/home/|/root/|/usr/(?:local/)?lib/|/var/www/|/opt/|/srv/|/app/)[\w./-]*"
        r"\.(?:py|js|mjs|cjs|ts|java|rb|go|php|rs|cs)\b"
    ),
    re.compile(r"[\w./-]*(?:site-packages|node_modules|dist-packages)/[\w./-]+"),
    re.compile(r"[A-Za-z]:\\(?:Users|Program Files|inetpub|Windows)\\"),
)


@dataclass
class Sent:
    """One request and what came of it: a response, or a ``failure`` (``timeout``, ``dropped: ...``)."""

    endpoint: Endpoint
    request: httpx.Request
    response: httpx.Response | None
    failure: str | None = None
    elapsed: float = 0.0
    source: str = ""
    _view: RequestView | None = None

    @property
    def view(self) -> RequestView:
        if self._view is None:
            self._view = RequestView(self.request)
        return self._view

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def body_text(self) -> str:
        if self.response is None:
            return ""
        return self.response.content[:BODY_SCAN].decode("utf-8", "replace")

    def media_type(self) -> str:
        if self.response is None:
            return ""
        return str(self.response.headers.get("content-type", "")).split(";")[0].strip().lower()


class RequestView:
    """The parameters of a request as a server would read them (query, form body, JSON body)."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        self.body = body
        self.body_text = body.decode("utf-8", "replace")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        self.query = parse_qsl(request.url.query.decode("latin-1"), keep_blank_values=True)
        self.form: list[tuple[str, str]] = []
        self.json: Any = None
        self.is_json = False
        if media == "application/json" or media.endswith("+json"):
            try:
                self.json = orjson.loads(body)
                self.is_json = True
            except orjson.JSONDecodeError:
                pass
        elif body:
            self.form = parse_qsl(self.body_text, keep_blank_values=True)
        url = str(request.url)
        headers = [f"{k}: {v}" for k, v in request.headers.items()]
        self.text = "\n".join((url, unquote_plus(url), self.body_text, unquote_plus(self.body_text), *headers))

    def has(self, name: str) -> bool:
        """Whether the parameter is sent at all (even empty)."""
        return any(key == name for key, _ in (*self.form, *self.query))

    def first(self, name: str) -> str | None:
        """The first non-empty value (OAuth 2.1 section 3.1: an empty value counts as absent)."""
        for key, value in (*self.form, *self.query):
            if key == name and value != "":
                return value
        return None

    def strings(self) -> list[str]:
        found = [v for pair in (*self.query, *self.form) for v in pair]
        found += _json_strings(self.json)
        return found


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def markup_in(value: str) -> list[str]:
    """The tag-like fragments of ``value`` whose raw reflection would be markup in a page."""
    return [m.group(0) for m in _TAG.finditer(value)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_redirect(actual: str, registered: str) -> bool:
    """Scheme, host and path agree; the port too, except on loopback hosts (OAuth 2.1 section 8.4.2)."""
    a, b = urlsplit(actual), urlsplit(registered)
    try:
        a_port, b_port = a.port, b.port
    except ValueError:
        return False
    loopback = (a.hostname or "") in LOOPBACK
    return (
        a.scheme.lower() == b.scheme.lower()
        and (a.hostname or "").lower() == (b.hostname or "").lower()
        and a.path == b.path
        and (loopback or a_port == b_port)
    )


@dataclass
class Knowledge:
    """What the run has learned: its own origins, registered redirect URIs, issued secrets, markup sent."""

    own_origins: set[str] = field(default_factory=set)
    redirect_uris: dict[str, tuple[str, ...]] = field(default_factory=dict)
    issued: dict[str, str] = field(default_factory=dict)  # secret value -> where it was issued
    markup: dict[str, str] = field(default_factory=dict)  # markup fragment -> where it was sent
    keep_markup: int = 400

    def learn(self, sent: Sent, index: int) -> None:
        where = f"exchange {index} ({sent.endpoint.label})"
        for value in sent.view.strings():
            for fragment in markup_in(value):
                if len(self.markup) < self.keep_markup:
                    self.markup.setdefault(fragment, where)
        response = sent.response
        if response is None:
            return
        location = response.headers.get("location")
        if location:
            for key, value in parse_qsl(urlsplit(location).query):
                if key == "code" and len(value) >= 12:
                    self.issued.setdefault(value, where)
        if not sent.media_type().endswith("json"):
            return
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict):
            return
        for name in SECRET_MEMBERS:
            member = body.get(name)
            if isinstance(member, str) and len(member) >= 12:
                self.issued.setdefault(member, where)
        if sent.endpoint.serves("registration") and 200 <= response.status_code < 300:
            client_id, uris = body.get("client_id"), body.get("redirect_uris")
            if isinstance(client_id, str) and isinstance(uris, list):
                self.redirect_uris[client_id] = tuple(u for u in uris if isinstance(u, str))


Check = Callable[[Sent, Knowledge], "str | None"]


def no_server_error(sent: Sent, knowledge: Knowledge) -> str | None:
    if sent.failure is not None and sent.failure.startswith("dropped"):
        return f"the connection was {sent.failure} without an answer"
    if sent.status is not None and sent.status >= 500:
        return f"HTTP {sent.status}"
    return None


def no_hang(sent: Sent, knowledge: Knowledge) -> str | None:
    if sent.failure == "timeout":
        return f"no answer within {sent.elapsed:.1f}s"
    return None


def _owes_oauth_error(sent: Sent) -> bool:
    status = sent.status
    return (
        status is not None
        and 400 <= status < 500
        and status not in TRANSPORT_STATUSES
        and any(sent.endpoint.serves(k) for k in OAUTH_KINDS)
    )


def error_shape(sent: Sent, knowledge: Knowledge) -> str | None:
    if not _owes_oauth_error(sent):
        return None
    assert sent.response is not None
    try:
        assert_error_shape(sent.response, registration=sent.endpoint.serves("registration"))
    except AssertionError as exc:
        return str(exc).splitlines()[0]
    return None


def error_no_store(sent: Sent, knowledge: Knowledge) -> str | None:
    # The token endpoint's errors stand in for its token responses (OAuth 2.1 section 3.2.4 shows
    # them with no-store); RFC 7009 and RFC 7591 say nothing of caching their errors.
    if not _owes_oauth_error(sent) or not sent.endpoint.serves("token"):
        return None
    assert sent.response is not None
    cache = sent.response.headers.get("cache-control", "")
    if "no-store" not in [part.strip().lower() for part in cache.split(",")]:
        return f"HTTP {sent.status} error with Cache-Control {cache!r}, which lacks no-store"
    return None


def missing_required(sent: Sent, knowledge: Knowledge) -> str | None:
    status = sent.status
    if status is None or not 200 <= status < 300:
        return None
    endpoint, view = sent.endpoint, sent.view
    if endpoint.serves("registration"):
        return _registered_without(sent, status)
    if endpoint.serves("token") or endpoint.serves("revocation"):
        grant = view.first("grant_type")
        if grant is None:
            # RFC 7009 section 2.2: a revocation of an invalid (even empty) token is answered 200;
            # only a request that carries no token parameter at all lacks one.
            if endpoint.serves("revocation") and view.has("token"):
                return None
            wanted = "grant_type" if endpoint.serves("token") else "token"
            return f"HTTP {status} to a request without {wanted}"
        if not endpoint.serves("token"):
            return None
        required, _ = GRANT_PARAMETERS.get(grant, ((), ()))
        # OAuth 2.1 section 3.2: at the token endpoint an empty parameter counts as omitted.
        missing = [name for name in required if view.first(name) is None]
        if missing:
            return f"HTTP {status} to a {grant} request without {', '.join(missing)}"
    return None


def _registered_without(sent: Sent, status: int) -> str | None:
    """A client registered from a non-object, or for a redirect-based grant without redirect URIs.

    What was registered counts (RFC 7591 section 3.2.1: the server may replace values), so the
    response's grant_types, response_types and redirect_uris are read before the request's.
    """
    body = sent.view.json
    if not isinstance(body, dict):
        return f"HTTP {status}: registered a client from a body that is not a JSON object"
    registered: dict[str, Any] = {}
    if sent.response is not None and sent.media_type().endswith("json"):
        try:
            answer = orjson.loads(sent.response.content)
        except orjson.JSONDecodeError:
            answer = None
        registered = answer if isinstance(answer, dict) else {}

    def member(name: str, default: Any) -> Any:
        return registered.get(name, body.get(name, default))

    grants, types, uris = (
        member("grant_types", ["authorization_code"]),
        member("response_types", None),
        member("redirect_uris", None),
    )
    redirect_grant = isinstance(grants, list) and any(g in ("authorization_code", "implicit") for g in grants)
    front_channel = not (isinstance(types, list) and not types)
    if redirect_grant and front_channel and not (isinstance(uris, list) and uris):
        return f"HTTP {status}: registered a client for a redirect-based grant without redirect_uris"
    return None


def no_reflection(sent: Sent, knowledge: Knowledge) -> str | None:
    if sent.response is None or not sent.response.content:
        return None
    media = sent.media_type()
    if media and media not in RENDERED:
        return None
    text = sent.body_text()
    own = {f for value in sent.view.strings() for f in markup_in(value)}
    for fragment in own:
        if fragment in text:
            return f"{media or 'an untyped body'} reflects the request's markup {fragment[:80]!r} unescaped"
    for fragment, where in knowledge.markup.items():
        if fragment not in own and fragment in text:
            return f"{media or 'an untyped body'} shows markup sent in {where} unescaped: {fragment[:80]!r}"
    return None


def no_open_redirect(sent: Sent, knowledge: Knowledge) -> str | None:
    response = sent.response
    if response is None or response.status_code not in REDIRECTS:
        return None
    location = response.headers.get("location")
    if not location:
        return None
    target = urljoin(str(sent.request.url), location)
    if origin_of(target) in knowledge.own_origins:
        return None
    client_id = sent.view.first("client_id")
    registered = knowledge.redirect_uris.get(client_id or "", ())
    if any(same_redirect(target, uri) for uri in registered):
        return None
    parts = urlsplit(target)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    whose = f"client {client_id!r}" if client_id else "a request without client_id"
    return f"HTTP {response.status_code} redirects to {shown}, which is not registered for {whose}"


def no_stack_trace(sent: Sent, knowledge: Knowledge) -> str | None:
    text = sent.body_text()
    if not text:
        return None
    request_text = sent.view.text
    for pattern in TRACE_PATTERNS:
        for match in pattern.finditer(text):
            found = match.group(0).strip()
            if found and found not in request_text:
                return f"HTTP {sent.status} body shows {found[:100]!r}"
    return None


def no_secret_leak(sent: Sent, knowledge: Knowledge) -> str | None:
    status = sent.status
    if status is None or (sent.endpoint.serves("token") and 200 <= status < 300):
        return None  # a token response carries tokens by design
    text = sent.body_text()
    if not text:
        return None
    request_text = sent.view.text
    for secret, where in knowledge.issued.items():
        if secret in text and secret not in request_text:
            return f"HTTP {status} body carries a secret issued in {where}"
    return None


CHECKS: tuple[tuple[str, Check], ...] = (
    (NO_5XX, no_server_error),
    (NO_HANG, no_hang),
    (ERROR_SHAPE, error_shape),
    (ERROR_NO_STORE, error_no_store),
    (MISSING_REQUIRED, missing_required),
    (NO_REFLECTION, no_reflection),
    (NO_OPEN_REDIRECT, no_open_redirect),
    (NO_STACK_TRACE, no_stack_trace),
    (NO_SECRET_LEAK, no_secret_leak),
)
REQUIREMENTS = tuple(rid for rid, _ in CHECKS)


def run_checks(sent: Sent, knowledge: Knowledge) -> list[tuple[str, str]]:
    """Every problem the checks find in ``sent``, as (requirement id, message)."""
    found = []
    for rid, check in CHECKS:
        problem = check(sent, knowledge)
        if problem:
            found.append((rid, problem))
    return found
