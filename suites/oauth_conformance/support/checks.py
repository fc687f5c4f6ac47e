"""Reusable assertions for the suites. Each raises ``AssertionError`` with a message a reader of
the report understands; the test names the requirement it verifies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import httpx

# The codes of RFC 6749 itself: section 5.2 (token endpoint) and section 4.1.2.1 (authorization
# endpoint); RFC 9126 section 2.3 limits a pushed request's errors to these.
RFC6749_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
    }
)
# Every code a response may carry: RFC 6749's and the registered ones of RFC 6750 section 3.1,
# RFC 7591 section 3.2.2, RFC 8707, RFC 7009 section 2.2.1, RFC 8693 section 2.2.2, OpenID Connect's
# interaction codes, RFC 9449 and RFC 8628.
REGISTERED_ERRORS = RFC6749_ERRORS | frozenset(
    {
        "invalid_token",
        "insufficient_scope",
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
        "unapproved_software_statement",
        "invalid_target",
        "unsupported_token_type",
        "interaction_required",
        "login_required",
        "consent_required",
        "invalid_dpop_proof",
        "use_dpop_nonce",
        "authorization_pending",
        "slow_down",
        "expired_token",
    }
)
_ERROR_CHARS = frozenset(chr(c) for c in (0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)))
# RFC 7591 section 3.2.2 only says "ASCII text" of a registration error's error_description.
_ASCII_TEXT = frozenset(chr(c) for c in (0x09, 0x0A, 0x0D, *range(0x20, 0x7F)))


def json_body(response: httpx.Response) -> dict[str, Any]:
    __tracebackhide__ = True
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media == "application/json" or media.endswith("+json"), (
        f"HTTP {response.status_code} with Content-Type {media or 'none'}, not application/json"
    )
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"HTTP {response.status_code}: the body is not valid JSON") from None
    assert isinstance(body, dict), f"HTTP {response.status_code}: the body is not a JSON object"
    return body


def error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("error") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def assert_oauth_error(
    response: httpx.Response, *errors: str, status: int | tuple[int, ...] | None = 400
) -> dict[str, Any]:
    """An RFC 6749 section 5.2 error response with one of ``errors`` (and the given status)."""
    __tracebackhide__ = True
    body = json_body(response)
    code = body.get("error")
    assert code in errors, (
        f"expected error {' or '.join(errors)}, got HTTP {response.status_code} with error {code!r}"
        + (f" ({body.get('error_description')})" if body.get("error_description") else "")
    )
    if status is not None:
        allowed = status if isinstance(status, tuple) else (status,)
        assert response.status_code in allowed, f"error {code} came with HTTP {response.status_code}, not {allowed}"
    return body


def assert_error_shape(response: httpx.Response, *, registration: bool = False) -> dict[str, Any]:
    """OAUTH21-3.2.4-ERROR: a JSON object whose error is a registered code in the allowed characters
    (RFC 6749 section 5.2; for a ``registration`` error, RFC 7591 section 3.2.2's ASCII text)."""
    __tracebackhide__ = True
    body = json_body(response)
    code = body.get("error")
    assert isinstance(code, str), f"HTTP {response.status_code} error response has no error member"
    assert code in REGISTERED_ERRORS, f"error {code!r} is not a registered OAuth error code"
    for name in ("error", "error_description", "error_uri"):
        value = body.get(name)
        if value is not None:
            assert isinstance(value, str), f"{name} is not a string"
            if registration and name == "error_description":
                bad = sorted({ch for ch in value if ch not in _ASCII_TEXT})
                assert not bad, f"{name} is not the ASCII text RFC 7591 asks for: {bad!r}"
            else:
                bad = sorted({ch for ch in value if ch not in _ERROR_CHARS})
                assert not bad, f"{name} contains characters RFC 6749 forbids: {bad!r}"
    return body


def assert_no_store(response: httpx.Response) -> None:
    """OAUTH21-3.2.3-NO-STORE: responses carrying tokens or credentials are not cached."""
    __tracebackhide__ = True
    cache = response.headers.get("cache-control", "").lower()
    assert "no-store" in [part.strip() for part in cache.split(",")], (
        f"Cache-Control is {cache!r}, which lacks no-store"
    )


def location(response: httpx.Response) -> str | None:
    value = response.headers.get("location")
    return urljoin(str(response.url), value) if value else None


def assert_not_redirected_to(response: httpx.Response, forbidden: str) -> None:
    """The response does not send the user agent to ``forbidden`` (any scheme, host and path match)."""
    __tracebackhide__ = True
    target = location(response)
    if response.status_code not in (301, 302, 303, 307, 308) or target is None:
        return
    a, b = urlsplit(target), urlsplit(forbidden)
    same = (a.scheme, a.netloc.lower(), a.path) == (b.scheme, b.netloc.lower(), b.path)
    assert not same, f"HTTP {response.status_code} redirects to {target}, which must never be redirected to"
    assert (a.netloc.lower() or "") != (b.netloc.lower() or "") or a.path != b.path, f"redirects to {target}"


def assert_no_redirect_to_client(response: httpx.Response, redirect_uri: str) -> None:
    """OAUTH21-4.1.2.1-NO-REDIRECT: no redirect to the client's (unvalidated) redirect URI."""
    __tracebackhide__ = True
    target = location(response)
    if target is None or response.status_code not in (301, 302, 303, 307, 308):
        return
    a, b = urlsplit(target), urlsplit(redirect_uri)
    assert a.netloc.lower() != b.netloc.lower() or a.path != b.path, (
        f"HTTP {response.status_code} redirects to {target}: an invalid request was sent to the client"
    )


def query_params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def www_authenticate(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """Parse a single-challenge WWW-Authenticate header into (scheme, params)."""
    header = response.headers.get("www-authenticate", "")
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in " ,":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        name = rest[i:eq].strip().lower()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = i + 1
            value = []
            while end < len(rest) and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < len(rest):
                    end += 1
                value.append(rest[end])
                end += 1
            params[name] = "".join(value)
            i = end + 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            params[name] = rest[i:end].strip()
            i = end
    return scheme, params


# ------------------------------------------------------------------ challenges and protected resources
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_challenges(values: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every challenge in the given WWW-Authenticate values, as (scheme, [(name, value), ...]).

    Parameters keep their order and repetitions (RFC 6750 section 3 forbids some repetitions,
    so a checker must see them); names are lower-cased, quoted values unescaped. A token68
    credential (``Basic abc==``) is returned as the parameter ``("", value)``.
    """
    challenges: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in values:
        text, i, n = raw, 0, len(raw)
        while i < n:
            while i < n and text[i] in " \t,":
                i += 1
            start = i
            while i < n and text[i] in _TOKEN_CHARS:
                i += 1
            word = text[start:i]
            if not word:
                i += 1  # a stray character: skip it rather than loop forever
                continue
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == "=" and challenges and not (j + 1 < n and text[j + 1] == "="):
                # name=value belongs to the current challenge
                value, i = _challenge_value(text, j + 1)
                challenges[-1][1].append((word.lower(), value))
                continue
            challenges.append((word, []))
            i = j
            # a token68 credential right after the scheme: token characters, then only "=" padding
            k = i
            while k < n and (text[k] in _TOKEN_CHARS or text[k] in "/+"):
                k += 1
            while k < n and text[k] == "=":
                k += 1
            chunk = text[i:k]
            if chunk and (k >= n or text[k] in " \t,") and "=" not in chunk.rstrip("="):
                challenges[-1][1].append(("", chunk))
                i = k
    return challenges


def _challenge_value(text: str, i: int) -> tuple[str, int]:
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i < n and text[i] == '"':
        i += 1
        out: list[str] = []
        while i < n and text[i] != '"':
            if text[i] == "\\" and i + 1 < n:
                i += 1
            out.append(text[i])
            i += 1
        return "".join(out), i + 1
    start = i
    while i < n and text[i] not in ", \t":
        i += 1
    return text[start:i], i


def bearer_challenges(response: httpx.Response) -> list[list[tuple[str, str]]]:
    """The parameters of each ``Bearer`` challenge (the scheme is case-insensitive)."""
    values = response.headers.get_list("www-authenticate")
    return [params for scheme, params in parse_challenges(values) if scheme.lower() == "bearer"]


def bearer_param(response: httpx.Response, name: str) -> str | None:
    """The first value of ``name`` in the response's Bearer challenges, if any."""
    for params in bearer_challenges(response):
        for key, value in params:
            if key == name:
                return value
    return None


def resource_refused(response: httpx.Response) -> bool:
    """Whether a protected resource refused the request's access token (401/403, or a Bearer error)."""
    return response.status_code in (401, 403) or bearer_param(response, "error") is not None


def assert_resource_accepts(response: httpx.Response) -> None:
    """The resource did not refuse the token. It may still refuse the request itself (an MCP
    endpoint answers an empty request with 400), which says nothing about the token."""
    __tracebackhide__ = True
    assert not resource_refused(response) and response.status_code < 500, (
        f"the resource answered HTTP {response.status_code}"
        + (f" with error {bearer_param(response, 'error')!r}" if bearer_param(response, "error") else "")
        + " to a valid access token"
    )
