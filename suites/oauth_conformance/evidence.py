"""Evidence: the HTTP exchanges that show what a test sent and what came back, with secrets hidden.

Two layers of redaction: known secret-bearing fields (headers, form and JSON members, redirect
parameters) are replaced wherever they appear, and any secret value the recorder has seen (a
token, a code, a client secret) is scrubbed from everything else. A redacted value shows a short
hash, so a reader can still see that two exchanges carried the same token.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import httpx
import orjson

SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "code_verifier",
        "client_secret",
        "registration_access_token",
        "token",
        "subject_token",
        "actor_token",
        "assertion",
        "client_assertion",
        "password",
        "csrf",
        "request",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "dpop", "proxy-authorization"})
BODY_LIMIT = 4096
PAGE_LIMIT = 1 << 20  # bytes of an HTML page kept for the page checks


def mask(value: str) -> str:
    return f"<redacted {hashlib.sha256(value.encode()).hexdigest()[:8]}>"


def _redact_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, mask(v) if k in SECRET_FIELDS and v else v) for k, v in pairs], safe="<> ")


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query and not parts.fragment:
        return url
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, _redact_query(parts.query), _redact_query(parts.fragment))
    )


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (mask(v) if k in SECRET_FIELDS and isinstance(v, str) else _redact_json(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def redact_body(body: bytes, content_type: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            text = orjson.dumps(_redact_json(orjson.loads(body))).decode()
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", "replace")
    elif media == "application/x-www-form-urlencoded":
        text = _redact_query(body.decode("utf-8", "replace"))
    else:
        text = body.decode("utf-8", "replace")
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f"... ({len(text) - BODY_LIMIT} more characters)"
    return text


def redact_header(name: str, value: str) -> str:
    lower = name.lower()
    if lower in SECRET_HEADERS:
        scheme, _, rest = value.partition(" ")
        if lower in ("authorization", "proxy-authorization") and rest:
            return f"{scheme} {mask(rest)}"
        return mask(value)
    if lower == "location":
        return redact_url(value)
    return value


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str]
    response_body: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": {"status": self.status, "headers": self.response_headers, "body": self.response_body},
            **({"note": self.note} if self.note else {}),
        }


_INTERESTING = (
    "content-type",
    "location",
    "www-authenticate",
    "cache-control",
    "pragma",
    "allow",
    "access-control-allow-origin",
)


def record(response: httpx.Response, note: str = "") -> Exchange:
    request = response.request
    try:
        request_body = request.content
    except httpx.RequestNotRead:
        request_body = b""
    return Exchange(
        method=request.method,
        url=redact_url(str(request.url)),
        request_headers={
            k: redact_header(k, v)
            for k, v in request.headers.items()
            if k.lower() not in ("host", "user-agent", "accept-encoding", "connection", "content-length", "accept")
        },
        request_body=redact_body(request_body, request.headers.get("content-type")),
        status=response.status_code,
        response_headers={k: redact_header(k, v) for k, v in response.headers.items() if k.lower() in _INTERESTING},
        response_body=redact_body(response.content, response.headers.get("content-type")),
        note=note,
    )


class Recorder:
    """Collects a test's exchanges and the secret values seen in them."""

    def __init__(self, keep: int = 12) -> None:
        self.exchanges: list[Exchange] = []
        self.secrets: set[str] = set()
        self.findings: list[str] = []
        self.keep = keep
        self.pinned: list[dict[str, Any]] = []
        # The HTML pages the test saw, whole and unredacted, for checks on what a page shows the
        # user (support/pages.py); kept in memory for the test only, never written to a report.
        self.pages: list[str] = []

    def add(self, response: httpx.Response, note: str = "") -> None:
        self._learn(response)
        self.exchanges.append(record(response, note))
        if len(self.exchanges) > self.keep:
            del self.exchanges[0]
        if "html" in response.headers.get("content-type", "").lower():
            self.pages.append(response.content[:PAGE_LIMIT].decode(response.encoding or "utf-8", "replace"))
            if len(self.pages) > self.keep:
                del self.pages[0]

    def _learn(self, response: httpx.Response) -> None:
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if media == "application/json":
            try:
                data = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                data = None
            self._collect(data)
        location = response.headers.get("location")
        if location:
            parts = urlsplit(location)
            for k, v in parse_qsl(parts.query + "&" + parts.fragment):
                if k in SECRET_FIELDS and v:
                    self.secrets.add(v)
        try:
            body = response.request.content
        except httpx.RequestNotRead:
            body = b""
        if body and response.request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            for k, v in parse_qsl(body.decode("utf-8", "replace")):
                if k in SECRET_FIELDS and v:
                    self.secrets.add(v)

    def _collect(self, data: Any) -> None:
        if isinstance(data, dict):
            for k, v in data.items():
                if k in SECRET_FIELDS and isinstance(v, str) and v:
                    self.secrets.add(v)
                else:
                    self._collect(v)
        elif isinstance(data, list):
            for v in data:
                self._collect(v)

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 8:
                text = text.replace(secret, mask(secret))
        return text

    def attach(self, exchange: dict[str, Any]) -> None:
        """Pin an exchange (as :meth:`Exchange.as_dict` makes it) as this test's evidence: a fuzzing
        finding, or one step of a replayable request sequence. A test that pins evidence shows
        exactly what it pinned, however many exchanges it made besides."""
        self.pinned.append(exchange)

    def evidence(self, last: int = 6) -> list[dict[str, Any]]:
        items = list(self.pinned) or [e.as_dict() for e in self.exchanges[-last:]]
        return orjson.loads(self.scrub(orjson.dumps(items).decode()))  # type: ignore[no-any-return]


_BEARER_LIKE = re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9\-._~+/=:%]+")


def scrub_text(text: str, recorder: Recorder | None = None) -> str:
    """Hide secrets in free text (an assertion message, say)."""
    text = _BEARER_LIKE.sub(lambda m: f"{m.group(1)} <redacted>", text)
    return recorder.scrub(text) if recorder else text
