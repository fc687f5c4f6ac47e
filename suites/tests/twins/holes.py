"""Twins for the holes of issue 13 (items 7 to 10): each breaks a behaviour an earlier check could
not see, from outside the reference (wire rewrites, options, the public API) wherever it can."""

from __future__ import annotations

import re
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
from suites.tests.twins.core import Pairs
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.core import on_token_requests
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

RFC7636 = ("rfc7636",)


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

    async def token(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        status, headers, body = await forward(pairs)
        if status != 400 or dict(pairs).get("grant_type") != "authorization_code":
            return status, headers, body
        if "does not match" not in str(orjson.loads(body).get("error_description", "")):
            return status, headers, body
        # The verifier did not fit: if the code came from a challenge without a method, let it pass.
        for challenge in reversed(plain_challenges[-32:]):
            retried = [(n, challenge if n == "code_verifier" else v) for n, v in pairs]
            again = await forward(retried)
            if again[0] == 200:
                return again
        return status, headers, body

    return metadata_edit(on_token_requests(authorize, token), only_s256)


# ------------------------------------------------------------ item 8: SSRF that a check can see
@twin(
    "cimd-special-use-addresses-fetched",
    ("cimd.test_client_ids",),
    {"CIMD-6.5-SSRF-CLIENT-ID"},
    features=True,
    note="fetches a client ID metadata document from any address: 10.0.0.1, 169.254.169.254, fd00::1 and"
    " loopback addresses other than its own are all connected to",
)
def cimd_special_use_fetched(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import fetch

    fetch.special_use = lambda address: False
    return app


@twin(
    "cimd-any-loopback-fetched",
    ("cimd.test_client_ids",),
    {"CIMD-6.5-SSRF-CLIENT-ID"},
    features=True,
    note="in test mode, fetches from every loopback address, not only its own (the reference before issue 13):"
    " only the canary on another loopback address sees it",
)
def cimd_any_loopback_fetched(app: ASGIApp) -> ASGIApp:
    from oauth_reference.machinery import fetch

    fetch._own_loopback = lambda ip: True  # the one rule this twin breaks
    return app


# ------------------------------------------------------------ item 9: the host the page shows
_HOST_SENTENCE = re.compile(rb"<p>After your decision you are sent to <strong>([^<]*)</strong>\.</p>")
MCP_CIMD = ("mcp.test_client_id_metadata_documents",)


@twin(
    "mcp-redirect-host-only-in-hidden-input",
    MCP_CIMD,
    {"MCP-CIMD-REDIRECT-HOST"},
    features=True,
    note="the consent page carries the redirect host only in a hidden input: the markup has it, the user never sees it",
)
def redirect_host_only_hidden(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, headers, _HOST_SENTENCE.sub(rb'<input type=hidden name=redirect_host value="\1">', body)

    return rewrite(app, path_is(AUTHORIZE), change)


@twin(
    "mcp-redirect-host-after-4kb",
    MCP_CIMD,
    set(),
    features=True,
    note="control: the host is shown, but after 5 KB of visible text, beyond what evidence keeps of a page",
)
def redirect_host_after_4kb(app: ASGIApp) -> ASGIApp:
    filler = b"<p>" + b"Please read this notice carefully. " * 150 + b"</p>"

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return status, headers, _HOST_SENTENCE.sub(lambda m: filler + m.group(0), body)

    return rewrite(app, path_is(AUTHORIZE), change)
