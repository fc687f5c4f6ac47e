"""Twins for the holes of issue 13 (items 7 to 10): each breaks a behaviour an earlier check could
not see, from outside the reference: wire rewrites, options, or the fault seam.

Item 9 (the host a page shows) has its twins in ``controls.py``. The SSRF twin that fetched from
every loopback address but its own is covered by ``cimd-special-use-addresses-fetched`` (the
``fetch-any-address`` fault connects to the canary on another loopback address too).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.core import AUTHORIZE
from suites.tests.twins.core import grant_type
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.revocation import revoking_unless
from suites.tests.twins.wire import REGISTER
from suites.tests.twins.wire import Answer
from suites.tests.twins.wire import Clients
from suites.tests.twins.wire import Issued
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import first
from suites.tests.twins.wire import intercept
from suites.tests.twins.wire import json_of
from suites.tests.twins.wire import on_token
from suites.tests.twins.wire import path_is
from suites.tests.twins.wire import query_of
from suites.tests.twins.wire import with_json
from suites.tests.twins.wire import without

RFC7636 = ("rfc7636",)
Forward = Callable[[Scope, Pairs], Awaitable[Answer]]


# ------------------------------------------------------------------- item 7: PKCE without a method
@twin(
    "pkce-no-method-any-verifier",
    RFC7636,
    {"RFC7636-4.3-DEFAULT-PLAIN"},
    options={"allow_plain_pkce": True},
    note="lists only S256 and refuses an explicit plain, but a challenge sent without a method is taken as"
    " plain and then any verifier redeems its code",
)
def no_method_any_verifier(app: ASGIApp) -> ASGIApp:
    plain_challenges: list[str] = []

    def only_s256(doc: dict[str, Any]) -> dict[str, Any]:
        doc["code_challenge_methods_supported"] = ["S256"]
        return doc

    async def authorize(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AUTHORIZE:
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            names = {name for name, _ in pairs}
            if "code_challenge" in names and "code_challenge_method" not in names:
                plain_challenges.extend(value for name, value in pairs if name == "code_challenge")
            # An explicit plain is refused as an unknown method would be (invalid_request).
            bent = [(n, "plain-refused" if n == "code_challenge_method" and v == "plain" else v) for n, v in pairs]
            scope = {**scope, "query_string": urlencode(bent).encode("latin-1")}
        await app(scope, receive, send)

    async def token(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        status, headers, body = await forward(scope, pairs)
        if status != 400 or dict(pairs).get("grant_type") != "authorization_code":
            return status, headers, body
        if "does not match" not in str(orjson.loads(body).get("error_description", "")):
            return status, headers, body
        # The verifier did not fit: if the code came from a challenge without a method, let it pass.
        for challenge in reversed(plain_challenges[-32:]):
            retried = [(n, challenge if n == "code_verifier" else v) for n, v in pairs]
            again = await forward(scope, retried)
            if again[0] == 200:
                return again
        return status, headers, body

    return metadata_edit(on_token(authorize, token), only_s256)


# ------------------------------------------------------------ item 8: SSRF that a check can see
@twin(
    "cimd-special-use-addresses-fetched",
    ("cimd.test_client_ids",),
    {"CIMD-6.5-SSRF-CLIENT-ID"},
    features=True,
    faults={"fetch-any-address"},
    note="fetches a client ID metadata document from any address: 10.0.0.1, 169.254.169.254, fd00::1 and"
    " loopback addresses other than its own (the canary on 127.0.0.2 sees the connection)",
)
def cimd_special_use_fetched(app: ASGIApp) -> ASGIApp:
    return app


# ------------------------------------------------- item 10: bindings against other valid values
@twin(
    "code-redeemed-with-any-registered-redirect-uri",
    ("oauth21.test_code_grant",),
    {"OAUTH21-10.2-REDIRECT-URI"},
    note="the token endpoint takes any redirect URI the client registered, not the one the code was issued"
    " for; an unregistered one is still refused",
)
def any_registered_redirect_uri(app: ASGIApp) -> ASGIApp:
    registered: dict[str, list[str]] = {}

    async def watch(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        answer = await forward(scope, body)
        made = json_of(answer)
        if answer[0] == 201 and made is not None:
            registered[str(made["client_id"])] = [str(u) for u in made.get("redirect_uris", [])]
        return answer

    async def token(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        answer = await forward(scope, pairs)
        known = registered.get(first(pairs, "client_id") or "", [])
        if answer[0] == 400 and b"redirect_uri differs" in answer[2] and first(pairs, "redirect_uri") in known:
            return await forward(scope, without(pairs, "redirect_uri"))  # the code's own is used
        return answer

    return on_token(intercept(app, path_is(REGISTER, "POST"), watch), token)


@twin(
    "registration-checks-the-first-redirect-uri-only",
    ("rfc7591",),
    {"RFC7591-5-REDIRECT-CLASS"},
    note="a registration is checked on its first redirect URI only, and answered as if every one it"
    " listed were registered",
)
def first_redirect_uri_only(app: ASGIApp) -> ASGIApp:
    async def register(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        try:
            meta = orjson.loads(body)
        except orjson.JSONDecodeError:
            return await forward(scope, body)
        uris = meta.get("redirect_uris") if isinstance(meta, dict) else None
        if not isinstance(uris, list) or len(uris) < 2:
            return await forward(scope, body)
        answer = await forward(scope, orjson.dumps({**meta, "redirect_uris": uris[:1]}))
        made = json_of(answer)
        if answer[0] == 201 and made is not None:
            return with_json(answer, {**made, "redirect_uris": list(dict.fromkeys(uris))})
        return answer

    return intercept(app, path_is(REGISTER, "POST"), register)


@twin(
    "revocation-without-a-hint-revokes-nothing",
    ("rfc7009",),
    {"RFC7009-2.1-IMMEDIATE"},
    warns={"RFC7009-2-ACCESS"},
    note="a revocation request without token_type_hint is answered 200 and revokes nothing",
)
def revocation_without_hint(app: ASGIApp) -> ASGIApp:
    def keep(pairs: Pairs, issued: Issued) -> bool:
        return first(pairs, "token_type_hint") is None

    return revoking_unless(app, keep)


@twin(
    "revocation-refresh-hint-is-authoritative",
    ("rfc7009",),
    {"RFC7009-2.1-HINT-FALLBACK"},
    note="an access token revoked with token_type_hint=refresh_token is looked for among refresh tokens only",
)
def refresh_hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    def keep(pairs: Pairs, issued: Issued) -> bool:
        hinted = first(pairs, "token_type_hint") == "refresh_token"
        return hinted and issued.of_kind(first(pairs, "token"), "access_token")

    return revoking_unless(app, keep)


@twin(
    "resource-rebound-within-served",
    ("oauth21.test_token_endpoint", "rfc8707"),
    {"OAUTH21-3.2.3-RT-BOUND"},
    note="a refresh may name any resource the server serves, not only the one the grant was consented for"
    " (the response says the token is for it); a resource it does not serve is still refused",
)
def resource_rebound_within_served(app: ASGIApp) -> ASGIApp:
    async def token(scope: Scope, pairs: Pairs, forward: Forward) -> Answer:
        asked = first(pairs, "resource") if grant_type(pairs) == "refresh_token" else None
        if asked is None or not _served(scope, asked):
            return await forward(scope, pairs)
        answer = await forward(scope, without(pairs, "resource"))
        body = json_of(answer)
        return with_json(answer, {**body, "resource": asked}) if answer[0] == 200 and body else answer

    return on_token(app, token)


@twin(
    "resource-rebound-within-served-first-requests-failed",
    ("oauth21.test_token_endpoint", "rfc8707"),
    {"OAUTH21-3.2.3-RT-BOUND"},
    note="the test read one 500 page for each pair of resources as the server serving no two resources",
)
def resource_rebound_within_served_first_requests_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, where the rebinding test's client gets a 500 page for the first authorization
    request naming each resource below the served one (the only pair the embedded run has)."""
    clients = Clients()
    failed: set[str] = set()

    async def authorize(scope: Scope, body: bytes, forward: Callable[[Scope, bytes], Awaitable[Answer]]) -> Answer:
        query = query_of(scope)
        known = clients.known.get(first(query, "client_id") or "")
        name = str(known.information.get("client_name", "")) if known is not None else ""
        resource = first(query, "resource") or ""
        if "another_served_resource" in name and "/oauth-conformance-" in resource and resource not in failed:
            failed.add(resource)
            return 500, [(b"content-type", b"text/html; charset=utf-8")], b"<!doctype html><p>internal error</p>"
        return await forward(scope, body)

    return clients.observe(intercept(resource_rebound_within_served(app), path_is(AUTHORIZE, "GET"), authorize))


def _served(scope: Scope, resource: str) -> bool:
    """A resource on the server's own origin (the host the request came to)."""
    host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
    return bool(host) and resource.split("/")[2:3] == [host]
