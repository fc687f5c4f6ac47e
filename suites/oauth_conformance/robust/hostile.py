"""Hostile requests, sent with a bounded wait, and what came of them.

A server may answer an oversized request before reading all of it (413, then close). An HTTP
client that insists on sending the whole body first sees a broken pipe instead of that answer,
so requests to network targets go out over a plain socket (h11 does the HTTP/1.1 framing): the
body is sent in chunks, and sending stops as soon as the server has answered. In-process targets
get the same requests through the harness's HTTP client, bounded by a worker thread.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import h11
import httpx

from oauth_conformance.evidence import Exchange
from oauth_conformance.evidence import record
from oauth_conformance.evidence import redact_body
from oauth_conformance.evidence import redact_header
from oauth_conformance.evidence import redact_url
from oauth_conformance.http import tls_context
from oauth_conformance.profile import QUICK_BUDGETS
from oauth_conformance.redaction import learn
from oauth_conformance.support import raw_http
from oauth_conformance.target import Target
from oauth_conformance.version import VERSION

CHUNK = 1 << 14
# An oversized request waits after its first chunk for an early refusal: the profile's
# ``[robust] early_answer_wait`` (0.05 s; 0.25 s with ``--thorough``), plus this many times the
# connection's own setup, so a distant target gets a few round trips more. Servers that refuse
# early answer within a millisecond of the head on loopback (the reference, measured).
EARLY_ANSWER_WAIT = QUICK_BUDGETS["early_answer_wait"]
ROUND_TRIPS_WAITED = 4
SHOWN_BODY = 2048  # request bytes kept in evidence

Headers = list[tuple[str, str]]


@dataclass
class Answer:
    """What a hostile request got: a response, or a ``failure`` (``timeout``, ``dropped: ...``)."""

    what: str
    method: str
    url: str
    headers: Headers
    body: bytes
    response: httpx.Response | None
    failure: str | None
    elapsed: float
    also_ok: tuple[int, ...] = ()  # statuses owed besides a 4xx (RFC 7009: 200 for an invalid token)
    error_redirect_ok: bool = False  # an authorization endpoint may refuse by redirecting with error=
    approved: str = ""  # set when following the login and consent pages led to a code
    # A registration: its 2xx is a question of limits (ROBUST-HOSTILE-REGISTRATION-LIMITS, a
    # SHOULD), not a failure to survive the request.
    registration: bool = False

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def problem(self, timeout: float) -> str | None:
        """Why this is not the clear 4xx a hostile request is owed (None when it is)."""
        if self.failure == "timeout":
            return f"{self.what}: no answer within {timeout:.0f}s"
        if self.failure is not None:
            return f"{self.what}: the connection was {self.failure} without an answer"
        assert self.status is not None
        if self.error_redirect_ok and self.response is not None and is_error_redirect(self.response):
            return None
        if self.approved:
            return f"{self.what}: approved, a code was issued ({self.approved})"
        if self.registration and 200 <= self.status < 300:
            return None
        if not 400 <= self.status < 500 and self.status not in self.also_ok:
            wanted = " or ".join(["a 4xx", *map(str, self.also_ok)])
            return f"{self.what}: HTTP {self.status}, not {wanted}"
        return None

    def evidence(self) -> dict[str, Any]:
        note = f"{self.what}; {len(self.body)} byte body" + (f"; {self.failure}" if self.failure else "")
        if self.response is not None:
            return record(self.response, note).as_dict()
        shown = self.body[:SHOWN_BODY]
        content_type = next((v for k, v in self.headers if k.lower() == "content-type"), None)
        return Exchange(
            method=self.method,
            url=redact_url(shown_url(self.url)),
            request_headers={k: redact_header(k, _short(v)) for k, v in self.headers},
            request_body=redact_body(shown, content_type),
            status=None,
            response_headers={},
            response_body="",
            note=f"{note} after {self.elapsed:.1f}s",
        ).as_dict()


def shown_url(url: str, limit: int = 4096) -> str:
    """The URL as evidence shows it: an absurdly long query is cut (and says so)."""
    return url if len(url) <= limit else f"{url[:limit]}...{len(url) - limit}-more-characters"


def is_error_redirect(response: httpx.Response) -> bool:
    """A redirect carrying an OAuth error (RFC 6749 section 4.1.2.1: how an authorization
    endpoint refuses a request once it knows the client and its redirect URI)."""
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        return False
    parts = urlsplit(location)
    names = {k for k, _ in parse_qsl(parts.query)} | {k for k, _ in parse_qsl(parts.fragment)}
    return "error" in names and "code" not in names


def _short(value: str) -> str:
    return value if len(value) <= 200 else f"{value[:200]}... ({len(value)} characters)"


class Sender:
    """Sends hostile requests to one target, each bounded by ``timeout`` seconds."""

    def __init__(
        self, target: Target, http: httpx.Client, timeout: float, early_answer_wait: float = EARLY_ANSWER_WAIT
    ) -> None:
        self.target = target
        self.http = http
        self.timeout = timeout
        self.early_answer_wait = early_answer_wait
        self.sent: list[Answer] = []
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def send(
        self,
        what: str,
        method: str,
        url: str,
        headers: Headers,
        body: bytes = b"",
        also_ok: tuple[int, ...] = (),
        *,
        error_redirect_ok: bool = False,
    ) -> Answer:
        started = time.monotonic()
        response: httpx.Response | None = None
        failure: str | None = None
        try:
            if self.target.in_process:
                response = self._in_process(method, url, headers, body)
            else:
                response = raw_exchange(method, url, headers, body, self.timeout, self.early_answer_wait)
        except (TimeoutError, FutureTimeout, httpx.TimeoutException):
            failure = "timeout"
        except (OSError, h11.ProtocolError, httpx.TransportError) as exc:
            failure = f"dropped ({type(exc).__name__})"
        elapsed = time.monotonic() - started
        if response is not None:
            # What a raw answer shows (a registration's client_secret, even in a body cut at
            # raw_http.READ_LIMIT) is a secret the run knows from now on, scrubbed from every output.
            learn(response)
        answer = Answer(what, method, url, headers, body, response, failure, elapsed, also_ok, error_redirect_ok)
        self.sent.append(answer)
        return answer

    def _in_process(self, method: str, url: str, headers: Headers, body: bytes) -> httpx.Response:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hostile")
        request = self.http.build_request(method, url, headers=headers, content=body)

        def call() -> httpx.Response:
            response = self.http.send(request)
            response.read()
            return response

        return self._pool.submit(call).result(timeout=self.timeout)

    def form(
        self, what: str, url: str, body: bytes | str, headers: Headers | None = None, also_ok: tuple[int, ...] = ()
    ) -> Answer:
        content = body.encode("utf-8") if isinstance(body, str) else body
        base = [("Content-Type", "application/x-www-form-urlencoded")]
        return self.send(what, "POST", url, [*base, *(headers or [])], content, also_ok)

    def json(self, what: str, url: str, body: bytes | str, headers: Headers | None = None) -> Answer:
        content = body.encode("utf-8") if isinstance(body, str) else body
        return self.send(what, "POST", url, [("Content-Type", "application/json"), *(headers or [])], content)

    def registration(self, what: str, url: str, body: bytes | str, headers: Headers) -> Answer:
        """A registration request with exactly ``headers`` (its Content-Type, or none)."""
        content = body.encode("utf-8") if isinstance(body, str) else body
        answer = self.send(what, "POST", url, headers, content)
        answer.registration = True
        return answer


def raw_exchange(
    method: str, url: str, headers: Headers, body: bytes, timeout: float, early_wait: float = EARLY_ANSWER_WAIT
) -> httpx.Response:
    """One HTTP/1.1 exchange over a fresh socket; stops sending once the server answers."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    started = time.monotonic()
    deadline = started + timeout
    sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
    try:
        if parts.scheme == "https":
            sock = tls_context().wrap_socket(sock, server_hostname=host)
        early_wait += ROUND_TRIPS_WAITED * (time.monotonic() - started)  # connecting took a round trip or three
        conn = raw_http.client()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent_headers = [("Host", parts.netloc), ("User-Agent", f"oauth-conformance/{VERSION}")]
        sent_headers += [("Content-Length", str(len(body))), ("Connection", "close"), *headers]
        head = conn.send(h11.Request(method=method, target=target, headers=sent_headers))
        # The body goes out as raw bytes (Content-Length framing adds nothing), so that sending can
        # stop at any point: h11 still reads the answer.
        early = _send(sock, head + body, deadline, early_wait)
        if early:  # b"" would tell h11 the connection closed
            conn.receive_data(early)
        return _read_response(sock, conn, method, url, headers, body, deadline)
    finally:
        sock.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _send(sock: socket.socket, data: bytes, deadline: float, early_wait: float) -> bytes:
    """Send in chunks until all is sent or the server answers (or stops reading); return what of
    its answer was read on the way (for h11, before the rest is read).

    After the first chunk of an oversized request the server gets a moment to refuse it: a server
    that answers 413 or 431 and closes while more is arriving may otherwise reset the connection
    and lose its own answer on the way.
    """
    offset = 0
    while offset < len(data):
        readable, writable, _ = select.select([sock], [sock], [], _remaining(deadline))
        if readable:
            early = _early_answer(sock)
            if early is not None:
                return early
        if not writable:
            continue
        chunk = data[offset : offset + CHUNK]
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return b""  # the server stopped reading: its answer, if any, is waiting
        offset += len(chunk)
        if offset == len(chunk) and offset < len(data):
            readable, _, _ = select.select([sock], [], [], min(early_wait, _remaining(deadline)))
            if readable:
                early = _early_answer(sock)
                if early is not None:
                    return early
    return b""


def _early_answer(sock: socket.socket) -> bytes | None:
    """What a readable socket holds of the server's answer: ``b""`` on a plain socket (the answer,
    or the close, is read afterwards), the bytes read on a TLS one, or None when a TLS socket was
    readable for TLS's own records only (TLS 1.3 sends session tickets after the handshake, which
    make the socket readable before any answer: taking them for one would leave the request
    unsent and time out on a healthy server)."""
    if not isinstance(sock, ssl.SSLSocket):
        return b""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(CHUNK)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return None
    except ConnectionResetError:
        return b""
    finally:
        sock.settimeout(timeout)


def _read_response(
    sock: socket.socket,
    conn: h11.Connection,
    method: str,
    url: str,
    headers: Headers,
    body: bytes,
    deadline: float,
) -> httpx.Response:
    shown = body[:SHOWN_BODY]
    request = httpx.Request(method, shown_url(url), headers=[(k, _short(v)) for k, v in headers], content=shown)
    return raw_http.read_response(sock, conn, request, deadline)


def healthy(http: httpx.Client, target: Target, timeout: float) -> str | None:
    """Whether the target still answers a normal request (its metadata) with 200 in time."""
    try:
        response = http.get(target.metadata_url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"afterwards, the metadata request failed: {type(exc).__name__}"
    if response.status_code != 200:
        return f"afterwards, the metadata request answered HTTP {response.status_code}"
    return None
