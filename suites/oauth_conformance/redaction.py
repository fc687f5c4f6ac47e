"""Redaction: no secret the run knows, and nothing shaped like a secret, reaches an output.

Three layers, each applied wherever text leaves the harness (evidence, reasons, assertion
messages, findings, notes, reprs, the console, every report format):

- fields: secret-bearing headers, form fields, query parameters and JSON members are masked where
  they are parsed (:func:`redact_url`, :func:`redact_body`, :func:`redact_header`);
- shapes: the same members are masked in text that cannot be parsed (a body cut at a size limit,
  malformed JSON, a URL inside an assertion message, a JSON body quoted in a reason):
  :func:`scrub_shapes`;
- values: every secret value the run has seen or been given (tokens, codes, client secrets from
  registrations and from the profile, the TEST-ONLY keys' private parts) is kept in
  :data:`KNOWN` and scrubbed from any text, also percent-encoded (:func:`scrub_text`).

A masked value shows a short hash, so a reader can still see that two places held the same one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import re
import threading
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import quote
from urllib.parse import quote_plus
from urllib.parse import unquote_plus
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
        "device_code",
    }
)
# Attribute names of the harness's own objects that hold secrets (their reprs mask them).
SECRET_ATTRIBUTES = SECRET_FIELDS | {"verifier", "secret", "raw", "registration"}
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "dpop", "proxy-authorization"})
BODY_LIMIT = 4096
MIN_SECRET = 8  # shorter values are not scrubbed by value (they would mask ordinary words)
_MASKED = "<redacted "


def mask(value: str) -> str:
    return f"{_MASKED}{hashlib.sha256(value.encode()).hexdigest()[:8]}>"


# ----------------------------------------------------------------------------------- shapes
_NAMES = "|".join(sorted(SECRET_FIELDS, key=len, reverse=True))
# "name": "value  (the closing quote may be missing: a body cut short)
_JSON_MEMBER = re.compile(r'("(?:' + _NAMES + r')"\s*:\s*")(?!<redacted )((?:[^"\\]|\\.)+)')
# the same inside a JSON string (a body quoted in a JSON document): \"name\": \"value
_ESCAPED_MEMBER = re.compile(r'(\\"(?:' + _NAMES + r')\\"\s*:\s*\\")(?!<redacted )((?:[^"\\]|\\[^"])+)')
# name=value in a query, a fragment, a form body, or a URL quoted in a message
_PARAMETER = re.compile(r"(?<![A-Za-z0-9_])((?:" + _NAMES + r")=)(?!<redacted|%3Credacted)([^&\s\"'<>#)`]+)")
# A credential after its scheme: long, with a digit or a token character (not a word of prose such
# as "the Bearer challenge", nor an auth-param such as realm="...").
_CREDENTIAL = re.compile(
    r"(?i)\b(bearer|basic|dpop)\s+(?!<redacted)(?=[A-Za-z0-9\-._~+/:%]*[0-9\-_~+/:%])"
    r"([A-Za-z0-9\-._~+/:%]{12,}=*)(?![A-Za-z0-9\-._~+/:%=\"])"
)
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
# A JWK's private parts (RFC 7518 section 6): base64url, long; "d" alone is too common a name to
# mask when short.
_JWK_PRIVATE = re.compile(r'("(?:d|p|q|dp|dq|qi)"\s*:\s*")(?!<redacted )([A-Za-z0-9_-]{32,})')


def scrub_shapes(text: str) -> str:
    """Mask secret-shaped members, parameters, credentials and private keys in any text."""
    if not text:
        return text
    text = _JSON_MEMBER.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _ESCAPED_MEMBER.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _PARAMETER.sub(lambda m: m.group(1) + mask(unquote_plus(m.group(2))), text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {mask(m.group(2))}", text)
    text = _JWK_PRIVATE.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    return _PEM.sub("<redacted private key>", text)


def leaks(text: str, book: SecretBook | None = None) -> list[str]:
    """Where ``text`` (a report in any format: JSON strings and HTML entities are read through)
    shows a secret: a value ``book`` (default :data:`KNOWN`) holds, or an unmasked secret-shaped
    member, parameter, credential or private key. Each is described by its mask and position,
    never by the value itself."""
    plain = html.unescape(text).replace('\\"', '"').replace("\\/", "/")
    found = [f"{mask(v)} (a value the run knows) at {i}" for v, i in (book or KNOWN).occurrences(plain)]
    for pattern, what in (
        (_JSON_MEMBER, "member"),
        (_PARAMETER, "parameter"),
        (_CREDENTIAL, "credential"),
        (_JWK_PRIVATE, "private JWK member"),
    ):
        found += [f"{what} {m.group(1).strip()}{mask(m.group(2))} at {m.start()}" for m in pattern.finditer(plain)]
    found += [f"a private key at {m.start()}" for m in _PEM.finditer(plain) if "<redacted" not in m.group(0)]
    return found


def secret_members(text: str) -> list[str]:
    """The values of secret-shaped JSON members in ``text``, even when it is cut short or malformed."""
    return [m.group(2) for m in _JSON_MEMBER.finditer(text)]


# ----------------------------------------------------------------------------------- values
class SecretBook:
    """Every secret value the run knows, each with its percent-encoded forms; thread-safe.

    A run learns thousands (every code, token and registered secret), and whole reports are
    scrubbed with them, so :meth:`scrub` does not look for each one in turn: it indexes them by
    their first :data:`MIN_SECRET` characters and reads the text once. The index grows with each
    value learnt (it was rebuilt from every value after each one, which made a run's scrubbing
    quadratic in what it had learnt); a bucket is replaced, never changed in place, so a scan in
    another thread always reads a whole one.
    """

    def __init__(self) -> None:
        self._forms: dict[str, str] = {}  # a form the text may hold -> the secret it stands for
        self._index: dict[str, list[tuple[str, str]]] = {}  # prefix -> (form, mask), longest first
        self._chars: frozenset[str] = frozenset()  # every character of every prefix
        self._runs: re.Pattern[str] | None = None  # runs of those characters (None: to compile)
        self._lock = threading.Lock()

    def add(self, value: object) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET or value.startswith(_MASKED):
            return
        with self._lock:
            if value in self._forms:
                return
            masked = mask(value)
            for form in (value, quote(value, safe=""), quote_plus(value), quote(value)):
                if form in self._forms:
                    continue
                self._forms[form] = value
                prefix = form[:MIN_SECRET]
                bucket = [*self._index.get(prefix, ()), (form, masked)]
                bucket.sort(key=lambda entry: len(entry[0]), reverse=True)  # stable: first learnt first
                self._index[prefix] = bucket
                if not self._chars.issuperset(prefix):
                    self._chars = self._chars.union(prefix)
                    self._runs = None

    def update(self, values: Iterable[object]) -> None:
        for value in values:
            self.add(value)

    def __contains__(self, value: object) -> bool:
        return value in self._forms

    def __len__(self) -> int:
        return len(self._forms)

    def values(self) -> list[str]:
        """The secrets themselves (not their encoded forms)."""
        with self._lock:
            return sorted(set(self._forms.values()))

    def _indexed(self) -> tuple[dict[str, list[tuple[str, str]]], re.Pattern[str]]:
        with self._lock:
            if self._runs is None:
                # A value can begin only inside a run of at least MIN_SECRET characters that its
                # prefix is made of: the scan looks up positions inside such runs and skips the rest
                # of the text (prose, JSON punctuation, markup) at the speed of the regex engine.
                chars = "".join(re.escape(c) for c in sorted(self._chars))
                self._runs = re.compile(f"[{chars}]{{{MIN_SECRET},}}")
            return self._index, self._runs

    def occurrences(self, text: str) -> list[tuple[str, int]]:
        """(secret, position) of every value of the book that ``text`` holds, in any of its forms."""
        if not self._forms:
            return []
        index, runs = self._indexed()
        found = []
        for run in runs.finditer(text):
            for i in range(run.start(), run.end() - MIN_SECRET + 1):
                for form, _ in index.get(text[i : i + MIN_SECRET], ()):
                    if text.startswith(form, i):
                        found.append((self._forms[form], i))
                        break
        return found

    def scrub(self, text: str) -> str:
        if len(text) < MIN_SECRET or not self._forms:
            return text
        index, runs = self._indexed()
        out: list[str] = []
        done = 0
        run = runs.search(text)
        while run is not None:
            i, end = run.start(), run.end() - MIN_SECRET + 1
            while i < end:
                candidates = index.get(text[i : i + MIN_SECRET])
                if candidates is not None:
                    form = next((f for f in candidates if text.startswith(f[0], i)), None)
                    if form is not None:
                        out += [text[done:i], form[1]]
                        i = done = i + len(form[0])
                        continue
                i += 1
            # A value may end past its run (its later characters need not be prefix characters).
            run = runs.search(text, max(i, run.end()))
        return "".join(out) + text[done:] if out else text


KNOWN = SecretBook()  # the process's book: recorders, the profile, the test keys and raw answers feed it


def scrub_text(text: str, *books: SecretBook | set[str]) -> str:
    """Hide secrets in free text (an assertion message, a reason, a repr): shapes, then every value
    :data:`KNOWN` or one of ``books`` holds."""
    text = scrub_shapes(text)
    text = KNOWN.scrub(text)
    for book in books:
        if isinstance(book, SecretBook):
            text = book.scrub(text)
        else:
            for secret in sorted(book, key=len, reverse=True):
                if len(secret) >= MIN_SECRET and secret in text:
                    text = text.replace(secret, mask(secret))
    return text


def deep_scrub(value: Any, scrub: Callable[[str], str] = scrub_text) -> Any:
    """``value`` (JSON-like data) with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: deep_scrub(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep_scrub(v, scrub) for v in value]
    return value


def learn(response: httpx.Response) -> set[str]:
    """The secrets a response shows (JSON members, even of a cut or malformed body; redirect
    parameters); each goes into :data:`KNOWN` too.

    What the harness itself sent is not learnt: a secret it sends came from a response or the
    profile first, and the rest of what it puts in secret-named fields is made up (the fuzzer's
    probes, bogus codes), masked where it is sent by its field name, and would only mask ordinary
    text elsewhere."""
    found: set[str] = set()
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    if media == "application/json" or media.endswith("+json") or content.lstrip()[:1] in (b"{", b"["):
        try:
            _collect(orjson.loads(content), found)
        except orjson.JSONDecodeError:
            found.update(secret_members(content.decode("utf-8", "replace")))
    location = response.headers.get("location")
    if location:
        parts = urlsplit(location)
        found.update(v for k, v in parse_qsl(parts.query + "&" + parts.fragment) if k in SECRET_FIELDS and v)
    KNOWN.update(found)
    return found


def _collect(data: Any, found: set[str]) -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if k in SECRET_FIELDS and isinstance(v, str) and v:
                found.add(v)
            else:
                _collect(v, found)
    elif isinstance(data, list):
        for v in data:
            _collect(v, found)


# ----------------------------------------------------------------------------------- fields
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


def redact_json(value: Any) -> Any:
    """JSON data with the values of secret members masked (strings, and strings in lists)."""
    if isinstance(value, dict):
        return {k: _masked(v) if k in SECRET_FIELDS else redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [mask(v) if isinstance(v, str) else redact_json(v) for v in value]
    return redact_json(value)


def redact_body(body: bytes, content_type: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            text = orjson.dumps(redact_json(orjson.loads(body))).decode()
        except orjson.JSONDecodeError:  # cut short or malformed: mask what has the shape of a secret
            text = body.decode("utf-8", "replace")
    elif media == "application/x-www-form-urlencoded":
        text = _redact_query(body.decode("utf-8", "replace"))
    else:
        text = body.decode("utf-8", "replace")
    # Shapes before the cut, so a secret straddling it is masked whole.
    text = scrub_shapes(text)
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
    return scrub_shapes(value)


# ------------------------------------------------------------------------------------ reprs
def redacted_repr(obj: Any) -> str:
    """The repr of a dataclass instance with the fields that hold secrets masked (a client's
    secret, a token, a code verifier, a registration response), and every other value scrubbed."""
    parts = []
    for f in dataclasses.fields(obj):
        if not f.repr:
            continue
        value = getattr(obj, f.name)
        if f.name in SECRET_ATTRIBUTES and isinstance(value, str):
            shown = mask(value)
        elif isinstance(value, dict):  # a registration or token response: its secret members masked
            shown = repr(redact_json(value))
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            shown = repr(redact_url(value))
        else:
            shown = repr(value)
        parts.append(f"{f.name}={shown}")
    return scrub_text(f"{type(obj).__name__}({', '.join(parts)})")
