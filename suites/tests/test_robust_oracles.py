"""Each fuzzing check fails on what it names and stays quiet on its near misses
(oauth_conformance.robust.oracles)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from oauth_conformance.robust import oracles
from oauth_conformance.robust.openapi import Endpoint
from oauth_conformance.robust.oracles import Knowledge
from oauth_conformance.robust.oracles import Sent

AS = "http://127.0.0.1:9000"
TOKEN = Endpoint("token", "POST", f"{AS}/oauth/token", ("token", "revocation"))
REGISTER = Endpoint("registration", "POST", f"{AS}/oauth/register", ("registration",))
AUTHORIZE = Endpoint("authorization", "GET", f"{AS}/authorize", ("authorization",))
NO_STORE = {"cache-control": "no-store"}


def sent(
    endpoint: Endpoint,
    status: int | None,
    body: Any = b"",
    *,
    form: dict[str, str] | None = None,
    json: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    failure: str | None = None,
) -> Sent:
    if form is not None:
        request = httpx.Request(endpoint.method, endpoint.url, data=form)
    elif json is not None:
        request = httpx.Request(endpoint.method, endpoint.url, json=json)
    else:
        request = httpx.Request(endpoint.method, endpoint.url, params=query)
    response = None
    if status is not None:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        kind = {"content-type": "application/json"} if not isinstance(body, bytes) else {}
        response = httpx.Response(status, headers={**kind, **(headers or {})}, content=content, request=request)
    return Sent(endpoint, request, response, failure)


def knowledge(**kwargs: Any) -> Knowledge:
    return Knowledge(own_origins={AS}, **kwargs)


def error(code: str, description: str = "") -> dict[str, str]:
    return {"error": code, **({"error_description": description} if description else {})}


# ------------------------------------------------------------------------------- server errors
def test_a_5xx_or_a_dropped_connection_is_a_server_error_and_a_4xx_is_not() -> None:
    assert oracles.no_server_error(sent(TOKEN, 500, error("server_error")), knowledge())
    assert oracles.no_server_error(sent(TOKEN, None, failure="dropped: ReadError"), knowledge())
    assert oracles.no_server_error(sent(TOKEN, 400, error("invalid_request")), knowledge()) is None
    assert oracles.no_hang(sent(TOKEN, None, failure="timeout"), knowledge())
    assert oracles.no_hang(sent(TOKEN, 500, error("server_error")), knowledge()) is None


# -------------------------------------------------------------------------------- error shape
def test_an_unregistered_code_or_forbidden_characters_break_the_error_shape() -> None:
    assert oracles.error_shape(sent(TOKEN, 400, error("bad_request")), knowledge())
    assert oracles.error_shape(sent(TOKEN, 400, error("invalid_request", 'parameter "x" repeated')), knowledge())
    assert oracles.error_shape(
        sent(REGISTER, 400, b"<h1>Bad Request</h1>", headers={"content-type": "text/html"}), knowledge()
    )
    assert oracles.error_shape(sent(TOKEN, 401, error("invalid_client", "unknown client")), knowledge()) is None


def test_errors_not_owed_an_oauth_shape_are_not_judged() -> None:
    page = b"<h1>Payload too large</h1>"
    assert oracles.error_shape(sent(TOKEN, 413, page, headers={"content-type": "text/html"}), knowledge()) is None
    html = {"content-type": "text/html"}
    assert oracles.error_shape(sent(AUTHORIZE, 400, b"<p>unknown client</p>", headers=html), knowledge()) is None


def test_an_error_without_no_store_is_noted() -> None:
    assert oracles.error_no_store(sent(TOKEN, 400, error("invalid_request")), knowledge())
    assert oracles.error_no_store(sent(TOKEN, 400, error("invalid_request"), headers=NO_STORE), knowledge()) is None


# ------------------------------------------------------------------------- missing parameters
def test_success_without_a_required_parameter_is_caught() -> None:
    tokens = {"access_token": "a" * 20, "token_type": "Bearer"}
    assert oracles.missing_required(sent(TOKEN, 200, tokens, form={"code": "x"}), knowledge())
    no_code = sent(TOKEN, 200, tokens, form={"grant_type": "authorization_code", "code": ""})
    assert "code" in (oracles.missing_required(no_code, knowledge()) or "")
    refresh = sent(TOKEN, 200, tokens, form={"grant_type": "refresh_token", "refresh_token": "r" * 20})
    assert oracles.missing_required(refresh, knowledge()) is None


def test_a_revocation_with_a_token_may_succeed_and_one_without_may_not() -> None:
    assert oracles.missing_required(sent(TOKEN, 200, b"", form={"token": "t" * 20}), knowledge()) is None
    # RFC 7009 section 2.2: an empty token is an invalid token, answered 200 (found on authlib, mcp-python)
    assert oracles.missing_required(sent(TOKEN, 200, b"", form={"token": "", "client_id": "c"}), knowledge()) is None
    assert oracles.missing_required(sent(TOKEN, 200, b"", form={"token_type_hint": "refresh_token"}), knowledge())


def test_a_registration_needs_an_object_and_redirect_uris_for_redirect_grants() -> None:
    created = {"client_id": "c"}
    assert oracles.missing_required(sent(REGISTER, 201, created, json=["x"]), knowledge())
    assert oracles.missing_required(sent(REGISTER, 201, created, json={"client_name": "x"}), knowledge())
    machine = {"grant_types": ["client_credentials"]}
    assert oracles.missing_required(sent(REGISTER, 201, created, json=machine), knowledge()) is None
    web = {"redirect_uris": ["https://c.example/cb"]}
    assert oracles.missing_required(sent(REGISTER, 201, created, json=web), knowledge()) is None


def test_what_the_server_registered_decides_whether_redirect_uris_were_needed() -> None:
    # oidc-provider registers {"response_types": []} as a client with no grant at all: no redirect needed
    substituted = {"client_id": "c", "grant_types": [], "response_types": []}
    assert oracles.missing_required(sent(REGISTER, 201, substituted, json={"response_types": []}), knowledge()) is None
    defaulted = {"client_id": "c", "grant_types": ["authorization_code"], "response_types": ["code"]}
    assert oracles.missing_required(sent(REGISTER, 201, defaulted, json={"client_name": "x"}), knowledge())


# --------------------------------------------------------------------------------- reflection
MARKUP = '<script>alert("x1")</script>'
HTML = {"content-type": "text/html; charset=utf-8"}


def test_raw_markup_from_the_request_in_a_page_is_reflection() -> None:
    page = f"<p>unknown client {MARKUP}</p>".encode()
    assert oracles.no_reflection(sent(AUTHORIZE, 400, page, query={"client_id": MARKUP}, headers=HTML), knowledge())


def test_escaped_markup_or_markup_in_json_is_not_reflection() -> None:
    escaped = b"<p>unknown client &lt;script&gt;alert(&quot;x1&quot;)&lt;/script&gt;</p>"
    assert (
        oracles.no_reflection(sent(AUTHORIZE, 400, escaped, query={"client_id": MARKUP}, headers=HTML), knowledge())
        is None
    )
    in_json = sent(TOKEN, 400, error("invalid_request", MARKUP), form={"code": MARKUP})
    assert oracles.no_reflection(in_json, knowledge()) is None


def test_markup_stored_by_an_earlier_request_counts_too() -> None:
    known = knowledge()
    known.learn(sent(REGISTER, 201, {"client_id": "c"}, json={"client_name": MARKUP}), 1)
    page = f"<h1>Authorize {MARKUP}</h1>".encode()
    found = oracles.no_reflection(sent(AUTHORIZE, 200, page, query={"client_id": "c"}, headers=HTML), known)
    assert found and "exchange 1" in found


# ---------------------------------------------------------------------------------- redirects
def redirect(to: str, client_id: str = "c") -> Sent:
    request = httpx.Request("GET", f"{AS}/authorize", params={"client_id": client_id, "redirect_uri": to})
    response = httpx.Response(302, headers={"location": to}, request=request)
    return Sent(AUTHORIZE, request, response)


@pytest.mark.parametrize(
    "to",
    [
        "http://127.0.0.1:8976/callback?code=x",  # registered
        "http://127.0.0.1:5555/callback?error=access_denied",  # loopback: any port (OAuth 2.1 8.4.2)
        f"{AS}/login?next=1",  # the server's own page
    ],
)
def test_redirects_to_registered_uris_or_the_server_itself_are_fine(to: str) -> None:
    known = knowledge(redirect_uris={"c": ("http://127.0.0.1:8976/callback",)})
    assert oracles.no_open_redirect(redirect(to), known) is None


@pytest.mark.parametrize(
    ("to", "client_id"),
    [
        ("https://attacker.example/cb?error=invalid_request", "c"),
        ("http://127.0.0.1:8976/other", "c"),  # another path
        ("https://client.example:8443/cb", "c"),  # another port off loopback
        ("http://127.0.0.1:8976/callback", "unknown"),  # nobody registered it for this client
    ],
)
def test_redirects_anywhere_else_are_open_redirects(to: str, client_id: str) -> None:
    known = knowledge(redirect_uris={"c": ("http://127.0.0.1:8976/callback", "https://client.example/cb")})
    assert oracles.no_open_redirect(redirect(to, client_id), known)


# ------------------------------------------------------------------------------- stack traces
@pytest.mark.parametrize(
    "text",
    [
        'Traceback (most recent call last):\n  File "/srv/app/main.py", line 3, in f',
        "TypeError: Cannot read properties of null\n    at async Object.fetch (file:///w/entry.worker.js:46:22)",
        "KeyError: 'client_id'",
        "error in /var/www/html/token.php on line 12",
        "see /usr/lib/python3/dist-packages/flask/app.py",
    ],
)
def test_stack_traces_and_server_paths_are_caught(text: str) -> None:
    assert oracles.no_stack_trace(sent(TOKEN, 400, error("invalid_request", "x") | {"trace": text}), knowledge())


@pytest.mark.parametrize(
    "text",
    [
        "Invalid JSON: expected value at line 1 column 1",  # a parser's position, not a trace
        "redirect_uri https://client.example/home/app.py is not registered",  # a URL path
        "invalid_request: Error: bad",
    ],
)
def test_ordinary_error_text_is_not_a_stack_trace(text: str) -> None:
    assert oracles.no_stack_trace(sent(TOKEN, 400, error("invalid_request", text)), knowledge()) is None


def test_a_path_the_request_carried_is_not_a_leak() -> None:
    echoed = sent(
        REGISTER, 400, error("invalid_redirect_uri", "/home/me/app.py"), json={"redirect_uris": ["/home/me/app.py"]}
    )
    assert oracles.no_stack_trace(echoed, knowledge()) is None


# ------------------------------------------------------------------------------------ secrets
def test_a_secret_issued_elsewhere_in_a_body_is_a_leak() -> None:
    known = knowledge()
    known.learn(sent(REGISTER, 201, {"client_id": "c", "client_secret": "S" * 32}, json={}), 3)
    leak = sent(TOKEN, 401, error("invalid_client", f"expected {'S' * 32}"), form={"client_id": "c"})
    assert "exchange 3" in (oracles.no_secret_leak(leak, known) or "")
    echoed = sent(TOKEN, 401, error("invalid_client", f"bad {'S' * 32}"), form={"client_secret": "S" * 32})
    assert oracles.no_secret_leak(echoed, known) is None
    issued = sent(TOKEN, 200, {"access_token": "S" * 32, "token_type": "Bearer"}, form={"grant_type": "x"})
    assert oracles.no_secret_leak(issued, known) is None  # a token response issues tokens by design


def test_run_checks_names_each_problem_with_its_requirement() -> None:
    found = oracles.run_checks(sent(TOKEN, 500, b"Traceback (most recent call last)"), knowledge())
    assert {rid for rid, _ in found} == {oracles.NO_5XX, oracles.NO_STACK_TRACE}
