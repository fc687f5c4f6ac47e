"""Twins that break the protected resource metadata (RFC 9728) and resource indicators (RFC 8707,
MCP), one behaviour each."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import Headers
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.rewrite import set_header
from suites.tests.twins.wire import Pairs
from suites.tests.twins.wire import first
from suites.tests.twins.wire import on_form
from suites.tests.twins.wire import on_query
from suites.tests.twins.wire import replaced
from suites.tests.twins.wire import without

PRM = "/.well-known/oauth-protected-resource"
SPECS = ("rfc9728",)
METADATA_AND_MCP = ("rfc9728", "mcp")
INDICATORS = ("rfc8707", "mcp")


def on_prm(scope: Scope) -> bool:
    return str(scope["path"]).startswith(PRM)


def on_api(scope: Scope) -> bool:
    return str(scope["path"]).startswith("/api/")


def prm(app: ASGIApp, edit: Any) -> ASGIApp:
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return edit_json(edit)(status, headers, body) if status == 200 else (status, headers, body)

    return rewrite(app, on_prm, change)


def challenge(app: ASGIApp, edit: Any) -> ASGIApp:
    """Rewrite the WWW-Authenticate header of API responses."""

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        out = [
            (k, edit(v.decode("latin-1")).encode("latin-1")) if k.lower() == b"www-authenticate" else (k, v)
            for k, v in headers
        ]
        return status, out, body

    return rewrite(app, on_api, change)


def not_found(paths: tuple[str, ...]) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] in paths:
                await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await app(scope, receive, send)

        return wrapped

    return wrap


# ----------------------------------------------------------------------------------- RFC 9728
@twin(
    "resource-metadata-missing",
    SPECS,
    {"RFC9728-3-WELLKNOWN"},
    note="the challenge still names the (now missing) metadata URL",
    warns={"RFC9728-5.1-METADATA-URL"},
)
def metadata_missing(app: ASGIApp) -> ASGIApp:
    return not_found((f"{PRM}/api", f"{PRM}/api/whoami"))(app)


@twin("resource-metadata-text-plain", SPECS, {"RFC9728-3.2-200-JSON"})
def metadata_text_plain(app: ASGIApp) -> ASGIApp:
    return rewrite(app, on_prm, set_header("content-type", "text/plain"))


@twin("resource-metadata-empty-array", SPECS, {"RFC9728-3.2-NO-EMPTY"})
def metadata_empty_array(app: ASGIApp) -> ASGIApp:
    return prm(app, lambda doc: {**doc, "scopes_supported": []})


@twin("resource-metadata-no-resource", SPECS, {"RFC9728-2-RESOURCE"})
def metadata_no_resource(app: ASGIApp) -> ASGIApp:
    return prm(app, lambda doc: {k: v for k, v in doc.items() if k != "resource"})


@twin("resource-metadata-other-resource", SPECS, {"RFC9728-3.3-RESOURCE-MATCH"})
def metadata_other_resource(app: ASGIApp) -> ASGIApp:
    # Only the configured resource's document (at .../api) names something else.
    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return edit_json(lambda doc: {**doc, "resource": doc["resource"] + "/"})(status, headers, body)

    return rewrite(app, lambda scope: scope["path"] == f"{PRM}/api", change)


@twin(
    "resource-challenge-names-the-parent-resource",
    SPECS,
    set(),
    note="a control: a resource protecting a path prefix is not wrong by that alone (section 3.3 is checked"
    " on a request to the resource itself, which the reference does not serve)",
)
def challenge_names_the_parent_resource(app: ASGIApp) -> ASGIApp:
    # What the seed library does: every path under the resource points to the resource's metadata.
    return challenge(app, lambda value: re.sub(r"(oauth-protected-resource/api)[^\"]*", r"\1", value))


@twin("resource-challenge-names-another-resource", SPECS, {"RFC9728-3.3-CHALLENGE-MATCH"})
def challenge_names_another_resource(app: ASGIApp) -> ASGIApp:
    # The metadata the challenge points to is for a sibling resource, which does not contain the URL.
    return challenge(app, lambda value: re.sub(r"(oauth-protected-resource/api)[^\"]*", r"\1/other", value))


@twin(
    "resource-challenge-names-another-resource-first-request-failed",
    SPECS,
    {"RFC9728-3.3-CHALLENGE-MATCH"},
    note="the challenge tests read one 503 as a resource whose challenge names no metadata",
)
def challenge_names_another_resource_first_request_failed(app: ASGIApp) -> ASGIApp:
    """The twin above, whose first request without a token to the resource gets a 503."""
    broken = challenge_names_another_resource(app)
    failed: list[bool] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        anonymous = scope["type"] == "http" and on_api(scope) and b"authorization" not in dict(scope["headers"])
        if anonymous and not failed:
            failed.append(True)
            await send({"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"try again later"})
            return
        await broken(scope, receive, send)

    return wrapped


@twin("resource-challenge-names-a-missing-document", SPECS, set(), warns={"RFC9728-5.1-METADATA-URL"})
def challenge_names_a_missing_document(app: ASGIApp) -> ASGIApp:
    return challenge(app, lambda value: value.replace("oauth-protected-resource/", "oauth-protected-resource-gone/"))


@twin("resource-metadata-foreign-issuer", SPECS, {"RFC9728-2-AS-ISSUERS"})
def metadata_foreign_issuer(app: ASGIApp) -> ASGIApp:
    return prm(app, lambda doc: {**doc, "authorization_servers": [s + "/" for s in doc["authorization_servers"]]})


@twin("resource-metadata-signing-alg-none", SPECS, {"RFC9728-2-SIGNING-ALGS"})
def metadata_signing_alg_none(app: ASGIApp) -> ASGIApp:
    return prm(app, lambda doc: {**doc, "resource_signing_alg_values_supported": ["RS256", "none"]})


@twin("resource-metadata-unsigned-signed-metadata", SPECS, {"RFC9728-2.2-SIGNED"})
def metadata_unsigned_signed_metadata(app: ASGIApp) -> ASGIApp:
    # {"alg":"none"} . {"resource":...} . (no signature): not signed, and no iss either
    unsigned = "eyJhbGciOiJub25lIn0.eyJyZXNvdXJjZSI6Imh0dHBzOi8vZXhhbXBsZS5jb20ifQ."
    return prm(app, lambda doc: {**doc, "signed_metadata": unsigned})


@twin(
    "resource-identifier-with-query",
    SPECS,
    set(),
    options={"resource_metadata": {"resource": "/api?tenant=1", "resource_name": "twin"}},
    warns={"RFC9728-1.2-NO-QUERY"},
)
def identifier_with_query(app: ASGIApp) -> ASGIApp:
    return app


# -------------------------------------------------------------------------------------- MCP
@twin("resource-metadata-without-authorization-servers", METADATA_AND_MCP, {"MCP-PRM-AS-LIST"})
def metadata_without_authorization_servers(app: ASGIApp) -> ASGIApp:
    return prm(app, lambda doc: {k: v for k, v in doc.items() if k != "authorization_servers"})


@twin("resource-metadata-undiscoverable", METADATA_AND_MCP, {"MCP-PRM-DISCOVERY"})
def metadata_undiscoverable(app: ASGIApp) -> ASGIApp:
    # No resource_metadata in the challenge, nothing at the MCP server URL's well-known locations;
    # only the configured resource (.../api) still has its document.
    app = not_found((f"{PRM}/api/whoami", PRM))(app)
    return challenge(app, lambda value: re.sub(r', resource_metadata="[^"]*"', "", value))


# ----------------------------------------------------------------------------------- RFC 8707
# A resource the reference refuses with invalid_target: it does not serve it.
FOREIGN_RESOURCE = "https://foreign-resource.oauth-conformance.invalid/"


@twin("resource-refused-on-refresh", INDICATORS, set(), warns={"MCP-RES-PARAM"})
def refused_on_refresh(app: ASGIApp) -> ASGIApp:
    """Resource indicators are not supported when refreshing: any is refused with invalid_target."""

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        if first(pairs, "grant_type") == "refresh_token" and first(pairs, "resource") is not None:
            return replaced(pairs, "resource", FOREIGN_RESOURCE)
        return pairs

    return on_form(app, transform)


@twin(
    "resource-any-resource-accepted",
    INDICATORS,
    set(),
    warns={"RFC8707-2.1-INVALID-TARGET", "RFC8707-2.1-SYNTAX", "RFC8707-2.2-INVALID-TARGET"},
)
def any_resource_accepted(app: ASGIApp) -> ASGIApp:
    """Resource indicators are ignored, at the authorization endpoint and at the code exchange and
    refresh: every token is for the server's one resource."""

    def form(scope: Scope, pairs: Pairs) -> Pairs:
        grant = first(pairs, "grant_type")
        return without(pairs, "resource") if grant in ("authorization_code", "refresh_token") else pairs

    return on_query(on_form(app, form), lambda scope, pairs: without(pairs, "resource"))


@twin("resource-upper-case-refused", INDICATORS, set(), warns={"MCP-RES-CANONICAL"})
def upper_case_refused(app: ASGIApp) -> ASGIApp:
    """A resource written with an upper-case scheme or host is refused (invalid_target)."""

    def transform(scope: Scope, pairs: Pairs) -> Pairs:
        values = [v for k, v in pairs if k == "resource"]
        if any(re.match(r"^[a-z]+://[^/A-Z]*(/|$)", v) is None for v in values):
            return replaced(pairs, "resource", FOREIGN_RESOURCE)
        return pairs

    return on_query(app, transform)


@twin(
    "resource-tokens-for-another-audience",
    ("rfc8707",),
    set(),
    warns={"RFC8707-2-AUDIENCE", "RFC6750-5.3-AUDIENCE"},
    note="access tokens become JWTs (not usable anywhere) whose aud names another resource",
)
def tokens_for_another_audience(app: ASGIApp) -> ASGIApp:
    import base64

    import orjson

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        if "access_token" in doc:
            claims = {"aud": "https://elsewhere.oauth-conformance.invalid/api", "sub": "twin"}
            doc["access_token"] = f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"
        return doc

    def change(status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        return edit_json(edit)(status, headers, body) if status == 200 else (status, headers, body)

    return rewrite(app, lambda scope: scope["path"] == "/oauth/token", change)
