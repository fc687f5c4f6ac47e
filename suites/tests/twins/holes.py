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
from suites.tests.twins.core import call
from suites.tests.twins.core import metadata_edit
from suites.tests.twins.core import on_token_requests
from suites.tests.twins.core import read_body
from suites.tests.twins.core import respond
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite

RFC7636 = ("rfc7636",)
REGISTER = "/oauth/register"


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

    async def watch_registrations(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != REGISTER or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        status, headers, content = await call(app, scope, body)
        if status == 201:
            made = orjson.loads(content)
            registered[str(made["client_id"])] = [str(u) for u in made.get("redirect_uris", [])]
        await respond(send, status, headers, content)

    async def token(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        status, headers, body = await forward(pairs)
        fields = dict(pairs)
        known = registered.get(fields.get("client_id", ""), [])
        if status == 400 and b"redirect_uri differs" in body and fields.get("redirect_uri") in known:
            return await forward([(n, v) for n, v in pairs if n != "redirect_uri"])  # the code's own is used
        return status, headers, body

    return on_token_requests(watch_registrations, token)


@twin(
    "registration-checks-the-first-redirect-uri-only",
    ("rfc7591",),
    {"RFC7591-5-REDIRECT-CLASS"},
    note="every redirect URI of a registration is stored, but only the first is checked",
)
def first_redirect_uri_only(app: ASGIApp) -> ASGIApp:
    from oauth_reference import client_store

    original = client_store.validate_metadata

    def validate(meta: Any, options: Any, **kwargs: Any) -> dict[str, Any]:
        uris = meta.get("redirect_uris") if isinstance(meta, dict) else None
        if not isinstance(uris, list) or len(uris) < 2:
            return original(meta, options, **kwargs)
        checked = original({**meta, "redirect_uris": uris[:1]}, options, **kwargs)
        checked["redirect_uris"] = list(dict.fromkeys(uris))
        return checked

    client_store.validate_metadata = validate
    return app


@twin(
    "revocation-without-a-hint-revokes-nothing",
    ("rfc7009",),
    {"RFC7009-2.1-IMMEDIATE"},
    warns={"RFC7009-2-ACCESS"},
    note="a revocation request without token_type_hint is answered 200 and revokes nothing",
)
def revocation_without_hint(app: ASGIApp) -> ASGIApp:
    async def token(scope: Scope, pairs: Pairs, forward: Any) -> tuple[int, Headers, bytes]:
        names = {n for n, _ in pairs}
        if "token" in names and "grant_type" not in names and "token_type_hint" not in names:
            pairs = [(n, "oauth-conformance-twin-unknown" if n == "token" else v) for n, v in pairs]
        result: tuple[int, Headers, bytes] = await forward(pairs)
        return result

    return on_token_requests(app, token)


@twin(
    "revocation-refresh-hint-is-authoritative",
    ("rfc7009",),
    {"RFC7009-2.1-HINT-FALLBACK"},
    note="an access token revoked with token_type_hint=refresh_token is looked for among refresh tokens only",
)
def refresh_hint_is_authoritative(app: ASGIApp) -> ASGIApp:
    from oauth_reference.specs import rfc7009

    revoke = rfc7009.revoke
    access = rfc7009._revoke_access

    async def nothing(*args: Any) -> bool:
        return False

    async def only_hinted(core: Any, client: Any, form: Any) -> Any:
        if form.get("token_type_hint") == "refresh_token":
            rfc7009._revoke_access = nothing  # the refresh-token search only
            try:
                return await revoke(core, client, form)
            finally:
                rfc7009._revoke_access = access
        return await revoke(core, client, form)

    rfc7009.revoke = only_hinted
    return app


@twin(
    "resource-rebound-within-served",
    ("oauth21.test_token_endpoint", "rfc8707"),
    {"OAUTH21-3.2.3-RT-BOUND"},
    warns={"RFC8707-2.2-INVALID-TARGET"},
    note="a token request may name any resource the server serves, not only the one the grant was consented"
    " for; a resource it does not serve is still refused",
)
def resource_rebound_within_served(app: ASGIApp) -> ASGIApp:
    from oauth_reference.errors import InvalidTargetError
    from oauth_reference.specs import rfc8707
    from oauth_reference.specs.oauth21 import code_grant
    from oauth_reference.specs.oauth21 import refresh_grant

    def resolve(request: Any, grant: Any) -> Any:
        configured = request.core.resource(request.issuer)
        chosen = rfc8707.select_resource(request.form.get_all("resource"), configured)
        if chosen is not None and not rfc8707.within(chosen, configured):
            raise InvalidTargetError("the requested resource is not served here")
        return chosen or grant.resource or configured

    code_grant.resolve_resource = resolve
    refresh_grant.resolve_resource = resolve
    return app
