"""Evidence: the HTTP exchanges that show what a test sent and what came back, with secrets hidden.

Each exchange is redacted when it is first shown (redaction.py: secret-bearing headers, form fields,
query parameters and JSON members, also in bodies that cannot be parsed), and the recorder scrubs
every secret value it has seen (a token, a code, a client secret) from everything it hands out,
as :func:`~oauth_conformance.redaction.scrub_text` does with every value the run knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from oauth_conformance.findings import Flag
from oauth_conformance.redaction import KNOWN
from oauth_conformance.redaction import SECRET_FIELDS
from oauth_conformance.redaction import deep_scrub
from oauth_conformance.redaction import learn
from oauth_conformance.redaction import mask
from oauth_conformance.redaction import redact_body
from oauth_conformance.redaction import redact_header
from oauth_conformance.redaction import redact_url
from oauth_conformance.redaction import scrub_text as _scrub_text

__all__ = [
    "KNOWN",
    "SECRET_FIELDS",
    "Exchange",
    "Recorder",
    "mask",
    "record",
    "redact_body",
    "redact_header",
    "redact_url",
    "scrub_text",
]


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


class _Kept:
    """A response the recorder keeps, redacted into an :class:`Exchange` when first asked for.

    Redaction depends on the exchange alone (never on the secrets learnt since), so a record made
    later is the record that would have been made at once. Most are never asked for (a passing
    test shows no evidence): redacting each of a run's 2,800 responses as it came cost about 0.1
    to 0.2 s of the harness's 9 s of CPU against the bundled reference.
    """

    __slots__ = ("_exchange", "_note", "_response")

    def __init__(self, response: httpx.Response, note: str) -> None:
        self._response: httpx.Response | None = response
        self._note = note
        self._exchange: Exchange | None = None

    def exchange(self) -> Exchange:
        if self._exchange is None:
            assert self._response is not None
            self._exchange = record(self._response, self._note)
            self._response = None  # the record is all that is kept from here on
        return self._exchange


class Recorder:
    """Collects a test's exchanges and the secret values seen in them."""

    def __init__(self, keep: int = 12) -> None:
        self._kept: list[_Kept] = []
        self.secrets: set[str] = set()
        self.notes: list[str] = []
        self.flags: list[Flag] = []
        self.keep = keep
        self.pinned: list[dict[str, Any]] = []
        self.count = 0  # exchanges added so far (kept or not): a mark for :meth:`since`

    @property
    def exchanges(self) -> list[Exchange]:
        """The last ``keep`` exchanges, oldest first, redacted."""
        return [kept.exchange() for kept in self._kept]

    def add(self, response: httpx.Response, note: str = "") -> None:
        self._learn(response)  # at once: every output is scrubbed of what the run has learnt
        self._kept.append(_Kept(response, note))
        self.count += 1
        if len(self._kept) > self.keep:
            del self._kept[0]

    def since(self, mark: int) -> list[dict[str, Any]]:
        """The exchanges added after ``mark`` (an earlier :attr:`count`) that are still kept."""
        kept_from = self.count - len(self._kept)
        return [k.exchange().as_dict() for k in self._kept[max(mark - kept_from, 0) :]]

    def flag(self, variant: str, description: str, exchanges: list[dict[str, Any]] | None = None) -> None:
        """Record one way the test fails (a finding, findings.py): ``variant`` names the kind of
        case (a class of input, an endpoint), never a random value or a count, so the finding's
        fingerprint stays the same from run to run. ``exchanges`` are its evidence (pinned)."""
        start = len(self.pinned)
        self.pinned.extend(exchanges or [])
        self.flags.append(Flag(variant, description, tuple(range(start, len(self.pinned)))))

    def _learn(self, response: httpx.Response) -> None:
        self.secrets.update(learn(response))  # learn() puts them in KNOWN too

    def know(self, values: Iterable[str]) -> None:
        """Secrets seen elsewhere (a fuzzer's knowledge): scrubbed from this recorder's output and the run's."""
        values = [v for v in values if v]
        self.secrets.update(values)
        KNOWN.update(values)

    def scrub(self, text: str) -> str:
        return _scrub_text(text)  # KNOWN holds every secret of this recorder

    def attach(self, exchange: dict[str, Any]) -> None:
        """Pin an exchange (as :meth:`Exchange.as_dict` makes it) as this test's evidence: a fuzzing
        finding, or one step of a replayable request sequence. A test that pins evidence shows
        exactly what it pinned, however many exchanges it made besides."""
        self.pinned.append(exchange)

    def evidence(self, last: int = 6) -> list[dict[str, Any]]:
        items = list(self.pinned) or [k.exchange().as_dict() for k in self._kept[-last:]]
        scrubbed: list[dict[str, Any]] = deep_scrub(items, self.scrub)
        return scrubbed


def scrub_text(text: str, recorder: Recorder | None = None) -> str:
    """Hide secrets in free text (an assertion message, say): shapes, every value the run knows,
    and the values ``recorder`` has seen."""
    return recorder.scrub(text) if recorder is not None else _scrub_text(text)
