"""Twins that break the RFC 8414 metadata document, one behaviour each."""

from __future__ import annotations

from typing import Any

import orjson

from oauth_reference.machinery.asgi import ASGIApp
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from suites.tests.twins import twin
from suites.tests.twins.rewrite import edit_json
from suites.tests.twins.rewrite import path_is
from suites.tests.twins.rewrite import rewrite
from suites.tests.twins.rewrite import set_header
from suites.tests.twins.wire import send_answer

AS = "/.well-known/oauth-authorization-server"
SPECS = ("rfc8414", "mcp")


def metadata(app: ASGIApp, edit: Any) -> ASGIApp:
    return rewrite(app, path_is(AS), edit_json(edit))


def _with(key: str, value: Any) -> Any:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc[key] = value(doc) if callable(value) else value
        return doc

    return edit


def _without(key: str) -> Any:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc.pop(key, None)
        return doc

    return edit


@twin("metadata-issuer-trailing-slash", SPECS, {"RFC8414-3.3-ISSUER-EXACT"})
def issuer_trailing_slash(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("issuer", lambda d: d["issuer"] + "/"))


@twin("metadata-issuer-query", SPECS, {"RFC8414-2-ISSUER-FORM", "RFC8414-3.3-ISSUER-EXACT"})
def issuer_query(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("issuer", lambda d: d["issuer"] + "?tenant=1"))


@twin("metadata-no-s256", SPECS, {"RFC8414-2-PKCE", "MCP-DISC-PKCE-ADVERT"})
def no_s256(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("code_challenge_methods_supported", ["plain"]))


@twin("metadata-no-pkce-member", SPECS, {"RFC8414-2-PKCE", "MCP-DISC-PKCE-ADVERT"})
def no_pkce_member(app: ASGIApp) -> ASGIApp:
    return metadata(app, _without("code_challenge_methods_supported"))


@twin("metadata-empty-array", SPECS, {"RFC8414-3.2-NO-EMPTY"})
def empty_array(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("response_modes_supported", []))


@twin("metadata-string-not-array", SPECS, {"RFC8414-3.2-NO-EMPTY"})
def string_not_array(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("response_modes_supported", "query"))


@twin("metadata-text-plain", SPECS, {"RFC8414-3.2-200-JSON"})
def text_plain(app: ASGIApp) -> ASGIApp:
    return rewrite(app, path_is(AS), set_header("content-type", "text/plain"))


@twin("metadata-no-token-endpoint", SPECS, {"RFC8414-2-REQUIRED"})
def no_token_endpoint(app: ASGIApp) -> ASGIApp:
    return metadata(app, _without("token_endpoint"))


@twin("metadata-implicit-response-type", SPECS, set(), warns={"RFC8414-2-RESPTYPES-21"})
def implicit_response_type(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("response_types_supported", ["code", "token"]))


@twin("metadata-advertises-client-credentials", SPECS, set(), warns={"RFC8414-2-GRANTS-TRUTHFUL"})
def advertises_client_credentials(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("grant_types_supported", lambda d: [*d["grant_types_supported"], "client_credentials"]))


@twin("metadata-relative-endpoint", SPECS, {"RFC8414-2-URLS-FORM"})
def relative_endpoint(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("revocation_endpoint", "/oauth/token"))


@twin("metadata-jwt-method-without-algs", SPECS, {"RFC8414-2-SIGNALG"})
def jwt_method_without_algs(app: ASGIApp) -> ASGIApp:
    return metadata(
        app,
        _with(
            "token_endpoint_auth_methods_supported",
            lambda d: [*d["token_endpoint_auth_methods_supported"], "private_key_jwt"],
        ),
    )


@twin("metadata-registration-broken", SPECS, {"RFC8414-2-REGISTRATION", "RFC7591-3-POST-JSON"})
def registration_broken(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Any, body: bytes) -> Any:
        return 500, [(b"content-type", b"application/json")], b'{"error":"server_error"}'

    return rewrite(app, path_is("/oauth/register", "POST"), change)


@twin("metadata-oidc-document-disagrees", SPECS, {"RFC8414-5-OIDC-CONSISTENT"})
def oidc_document_disagrees(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/.well-known/openid-configuration":
            body = orjson.dumps(
                {"issuer": "https://other.example", "authorization_endpoint": "https://other.example/a"}
            )
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


@twin("metadata-only-openid-location", SPECS, {"RFC8414-3-WELLKNOWN"})
def only_openid_location(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AS:
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["path"] == "/.well-known/openid-configuration":
            scope = dict(scope, path=AS, raw_path=AS.encode())
        await app(scope, receive, send)

    return wrapped


# ------------------------------------------------------------------------------- jwks_uri
JWKS = "/.well-known/jwks.json"


def _serve_json(app: ASGIApp, path: str, document: Any) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == path:
            body = orjson.dumps(document)
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def _public_jwk(kind: str) -> dict[str, Any]:
    from joserfc.jwk import ECKey
    from joserfc.jwk import RSAKey

    key = ECKey.generate_key("P-256") if kind == "EC" else RSAKey.generate_key(2048)
    return dict(key.as_dict(private=False))


@twin("metadata-jwks-uri-missing", SPECS, {"RFC8414-2-JWKS"}, note="jwks_uri is advertised but answers 404")
def jwks_uri_missing(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("jwks_uri", lambda d: d["issuer"] + JWKS))


@twin(
    "metadata-jwks-key-without-use",
    SPECS,
    {"RFC8414-2-JWKS"},
    note="the set holds a signing and an encryption key, and a third key with no use",
)
def jwks_key_without_use(app: ASGIApp) -> ASGIApp:
    keys = [{**_public_jwk("EC"), "use": "sig"}, {**_public_jwk("RSA"), "use": "enc"}, _public_jwk("EC")]
    return _serve_json(metadata(app, _with("jwks_uri", lambda d: d["issuer"] + JWKS)), JWKS, {"keys": keys})


# -------------------------------------------------------------------------- signed_metadata
def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    import hashlib
    import hmac

    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


def _claims(doc: dict[str, Any]) -> dict[str, Any]:
    return {"iss": doc["issuer"], **{k: v for k, v in doc.items() if k != "issuer"}}


@twin("metadata-signed-alg-none", SPECS, {"RFC8414-2.1-SIGNED"}, note="signed_metadata is an unsecured JWT")
def signed_alg_none(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("signed_metadata", lambda d: _signed({"alg": "none"}, _claims(d), None)))


@twin(
    "metadata-signed-disagrees",
    SPECS,
    {"RFC8414-2.1-SIGNED"},
    note="signed_metadata is signed (HS256) but names another token_endpoint than the plain member",
)
def signed_disagrees(app: ASGIApp) -> ASGIApp:
    import secrets

    key = secrets.token_bytes(32)

    def token(doc: dict[str, Any]) -> str:
        claims = {**_claims(doc), "token_endpoint": doc["issuer"] + "/elsewhere/token"}
        return _signed({"alg": "HS256", "typ": "JWT"}, claims, key)

    return metadata(app, _with("signed_metadata", token))


# ------------------------------------------------------------------------ SHOULDs (warnings only)
@twin(
    "metadata-offers-plain-pkce",
    SPECS,
    set(),
    options={"allow_plain_pkce": True},
    warns={"RFC8414-2-PKCE-NO-PLAIN"},
    note="plain PKCE is on, and truthfully advertised next to S256",
)
def offers_plain_pkce(app: ASGIApp) -> ASGIApp:
    return app


@twin(
    "metadata-grant-types-omitted",
    SPECS,
    set(),
    warns={"RFC8414-2-GRANTS-EXPLICIT"},
    note="grant_types_supported left to its default (authorization_code and implicit)",
)
def grant_types_omitted(app: ASGIApp) -> ASGIApp:
    return metadata(app, _without("grant_types_supported"))


@twin(
    "metadata-grant-types-list-implicit",
    SPECS,
    set(),
    warns={"RFC8414-2-GRANTS-EXPLICIT"},
    note="implicit is listed; GRANTS-TRUTHFUL does not try implicit at the token endpoint",
)
def grant_types_list_implicit(app: ASGIApp) -> ASGIApp:
    return metadata(app, _with("grant_types_supported", lambda d: [*d["grant_types_supported"], "implicit"]))


@twin(
    "metadata-auth-methods-omitted",
    SPECS,
    set(),
    warns={"RFC8414-2-AUTHMETHODS"},
    note="token_endpoint_auth_methods_supported left to its client_secret_basic default",
)
def auth_methods_omitted(app: ASGIApp) -> ASGIApp:
    return metadata(app, _without("token_endpoint_auth_methods_supported"))


@twin("metadata-no-cors", SPECS, set(), warns={"RFC8414-3-CORS"}, note="no Access-Control-Allow-Origin on metadata")
def no_cors(app: ASGIApp) -> ASGIApp:
    def change(status: int, headers: Any, body: bytes) -> Any:
        return status, [(k, v) for k, v in headers if not k.lower().startswith(b"access-control-")], body

    return rewrite(app, path_is(AS), change)


# The checks that fetch the metadata once, and see a 503 (as they should), fail beside the one the
# twin is for: a test's own fetch of the document is asked again, not ended not_tested (which hid
# the empty array).
REFETCH_FAILED = {"RFC8414-3.2-NO-EMPTY", "RFC8414-3-WELLKNOWN", "RFC8414-5-OIDC-CONSISTENT", "MCP-DISC-ORDER"}


@twin("metadata-empty-array-refetch-failed", SPECS, REFETCH_FAILED)
def empty_array_refetch_failed(app: ASGIApp) -> ASGIApp:
    """An empty array, and every other metadata request after discovery answered 503."""
    served = metadata(app, _with("response_modes_supported", []))
    count = [0]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == AS:
            count[0] += 1
            if count[0] > 1 and count[0] % 2 == 0:
                await send_answer(send, (503, [(b"content-type", b"text/plain")], b"try again"))
                return
        await served(scope, receive, send)

    return wrapped
