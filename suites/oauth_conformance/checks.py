"""Reusable assertions for the suites. Each raises ``AssertionError`` with a message a reader of
the report understands; the test names the requirement it verifies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import httpx

# RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1, RFC 7591 section 3.2.2, RFC 8707,
# RFC 7009 section 2.2.1, RFC 8693 section 2.2.2: the registered error codes.
REGISTERED_ERRORS = frozenset(
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


def assert_error_shape(response: httpx.Response) -> dict[str, Any]:
    """OAUTH21-3.2.4-ERROR: a JSON object whose error is a registered code in the allowed characters."""
    __tracebackhide__ = True
    body = json_body(response)
    code = body.get("error")
    assert isinstance(code, str), f"HTTP {response.status_code} error response has no error member"
    assert code in REGISTERED_ERRORS, f"error {code!r} is not a registered OAuth error code"
    for name in ("error", "error_description", "error_uri"):
        value = body.get(name)
        if value is not None:
            assert isinstance(value, str), f"{name} is not a string"
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
