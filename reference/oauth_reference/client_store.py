"""Client records: metadata validation (RFC 7591 section 2), creation and lookup."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from oauth_reference.core import Core
from oauth_reference.errors import InvalidClientMetadataError
from oauth_reference.errors import InvalidRedirectUriError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import records
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.storage import Put
from oauth_reference.options import ProviderOptions
from oauth_reference.specs.oauth21.redirect_uris import http_url_problem
from oauth_reference.specs.oauth21.redirect_uris import redirect_uri_problem
from oauth_reference.specs.oauth21.scopes import is_scope_token

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Random ids over [A-Za-z0-9_-]: unique in practice (RFC7591-3.2.1-CLIENT-ID-UNIQUE), and never a URL
# that could pose as a metadata document (CIMD-6.9-NO-HTTPS-IDS).
CLIENT_ID_LENGTH = 16
CLIENT_SECRET_LENGTH = 32  # 192 random bits: OAUTH21-7.7-ENTROPY, RFC7591-3.2.1-SECRET-UNIQUE
_URI_FIELDS = ("client_uri", "logo_uri", "policy_uri", "tos_uri", "jwks_uri")
_STRING_FIELDS = ("client_name", "software_id", "software_version", "application_type")
_LIST_FIELDS = ("redirect_uris", "grant_types", "response_types", "contacts")
# The longest metadata string stored (ROBUST-HOSTILE-LONG-VALUES): far beyond any real name or URI,
# small enough that a registration cannot park megabytes in the store per client.
MAX_METADATA_STRING = 4096
# RFC 7591 section 2.2: the human-readable members that may carry a language tag ("client_name#ja").
LOCALIZABLE = ("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri")
# A BCP 47 tag in its general shape (RFC 5646 section 2.1): alphanumeric subtags joined by hyphens.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
MAX_LOCALIZED_MEMBERS = 64  # more would be a way to park data in the store, not a translation


def supported_grant_types(options: ProviderOptions) -> list[str]:
    grants = ["authorization_code"]
    if options.refresh_tokens_enabled:
        grants.append("refresh_token")
    if options.allow_implicit_flow:
        grants.append("implicit")
    if options.allow_token_exchange_grant:
        grants.append(TOKEN_EXCHANGE)
    if options.enterprise_managed_authorization is not None:
        grants.append(JWT_BEARER)
    return grants


def supported_response_types(options: ProviderOptions) -> list[str]:
    return ["code", "token"] if options.allow_implicit_flow else ["code"]


def _string_list(meta: Mapping[str, Any], name: str) -> list[str] | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadataError(f"{name} must be an array of strings")
    return list(value)


def _refuse_absurd_lengths(meta: Mapping[str, Any]) -> None:
    """Refuse a known member holding a string longer than :data:`MAX_METADATA_STRING`."""
    for name in (*_STRING_FIELDS, *_URI_FIELDS, *_LIST_FIELDS, "token_endpoint_auth_method", "scope"):
        value = meta.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) > MAX_METADATA_STRING:
                error = InvalidRedirectUriError if name == "redirect_uris" else InvalidClientMetadataError
                raise error(f"{name} holds a value longer than {MAX_METADATA_STRING} characters")


def validate_metadata(
    meta: Mapping[str, Any], options: ProviderOptions, *, registration: bool, partial: bool = False
) -> dict[str, Any]:
    """Check client metadata and return it normalized; unknown members are ignored (RFC 7591 section 2).

    ``partial`` validates only the members present (for ``update_client``).
    """
    _refuse_absurd_lengths(meta)
    # RFC7591-2-IGNORE-UNKNOWN: only the members read below are looked at.
    out: dict[str, Any] = {}
    method = meta.get("token_endpoint_auth_method")
    if method is not None or not partial:
        method = "client_secret_basic" if method is None else method  # RFC7591-2-DEFAULTS
        # RFC7591-2-UNSUPPORTED-METHOD: only advertised methods, and none only when public clients may register.
        if method not in AUTH_METHODS:
            raise InvalidClientMetadataError(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}")
        if registration and method == "none" and options.disallow_public_client_registration:
            raise InvalidClientMetadataError("public client registration is not allowed")
        out["token_endpoint_auth_method"] = method
        out["auth_method_explicit"] = "token_endpoint_auth_method" in meta

    grant_types = _string_list(meta, "grant_types")
    response_types = _string_list(meta, "response_types")
    if grant_types is not None or not partial:
        allowed = supported_grant_types(options)
        # RFC7591-2-DEFAULTS: authorization_code (and response type code) when omitted.
        default = (
            ["authorization_code"]
            if registration
            else [g for g in allowed if g in ("authorization_code", "refresh_token")]
        )
        grant_types = list(dict.fromkeys(grant_types if grant_types is not None else default))
        for g in grant_types:
            if g not in allowed:
                raise InvalidClientMetadataError(f"unsupported grant_type: {g}")
        if not registration and options.allow_token_exchange_grant and "grant_types" not in meta:
            grant_types.append(TOKEN_EXCHANGE)
        out["grant_types"] = grant_types
    if response_types is not None or not partial:
        response_types = list(dict.fromkeys(response_types if response_types is not None else ["code"]))
        for r in response_types:
            if r not in supported_response_types(options):
                raise InvalidClientMetadataError(f"unsupported response_type: {r}")
        out["response_types"] = response_types
    if "grant_types" in out and "response_types" in out:
        # RFC 7591 section 2.1: code goes with authorization_code, token with implicit (RFC7591-2.1-CONSISTENT).
        g, r = out["grant_types"], out["response_types"]
        if ("code" in r) != ("authorization_code" in g) or ("token" in r) != ("implicit" in g):
            raise InvalidClientMetadataError(
                "grant_types and response_types are inconsistent (code needs authorization_code, token needs implicit)"
            )

    redirect_uris = _string_list(meta, "redirect_uris")
    if redirect_uris is not None or not partial:
        grants = out.get("grant_types", ["authorization_code"])
        needs = "authorization_code" in grants or "implicit" in grants
        if not redirect_uris:  # RFC7591-5-REDIRECT-REQUIRED
            if needs:
                raise InvalidRedirectUriError("redirect_uris is required for the authorization code grant")
            redirect_uris = []
        for uri in redirect_uris:  # RFC7591-5-REDIRECT-CLASS
            problem = redirect_uri_problem(uri)
            if problem:
                raise InvalidRedirectUriError(f"{problem}: {uri[:200]}")
        out["redirect_uris"] = list(dict.fromkeys(redirect_uris))

    for name in _STRING_FIELDS:
        if name in meta and meta[name] is not None:
            if not isinstance(meta[name], str):
                raise InvalidClientMetadataError(f"{name} must be a string")
            out[name] = meta[name]
    for name in _URI_FIELDS:
        if name in meta and meta[name] is not None:
            value = meta[name]
            problem = "must be a string" if not isinstance(value, str) else http_url_problem(value)
            if problem:
                raise InvalidClientMetadataError(f"{name} {problem}")
            out[name] = value
    contacts = _string_list(meta, "contacts")
    if contacts is not None:
        out["contacts"] = contacts
    if meta.get("scope") is not None:
        scope = meta["scope"]
        if not isinstance(scope, str) or not all(is_scope_token(t) for t in scope.split(" ") if t):
            raise InvalidClientMetadataError("scope must be a space-separated string of scope tokens")
        out["scope"] = scope
    if meta.get("jwks") is not None:
        jwks = meta["jwks"]
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise InvalidClientMetadataError("jwks must be a JSON Web Key Set object")
        out["jwks"] = jwks
    # RFC9449-5.2-BOUND-CLIENT, RFC9126-6-CLIENT-REQUIRED: kept where the feature is on, else ignored
    for name, on in (
        ("dpop_bound_access_tokens", options.dpop_enabled),
        ("require_pushed_authorization_requests", options.pushed_authorization_request_endpoint is not None),
    ):
        if on and meta.get(name) is not None:
            if not isinstance(meta[name], bool):
                raise InvalidClientMetadataError(f"{name} must be true or false")
            out[name] = meta[name]
    if meta.get("jwks") is not None and meta.get("jwks_uri") is not None:  # RFC7591-2-JWKS-XOR
        raise InvalidClientMetadataError("jwks and jwks_uri must not both be present")
    localized = localized_members(meta)
    if localized:
        out["i18n"] = localized
    return out


def localized_members(meta: Mapping[str, Any]) -> dict[str, str]:
    """RFC 7591 section 2.2: ``client_name#ja`` and the like, checked as their untagged member.

    A ``#`` member whose name or tag is not one of these is an unknown member, and ignored.
    """
    found: dict[str, str] = {}
    for key, value in meta.items():
        name, sep, tag = key.partition("#")
        if not sep or name not in LOCALIZABLE or not _LANGUAGE_TAG.match(tag) or value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_METADATA_STRING:
            raise InvalidClientMetadataError(
                f"{name}#{tag[:20]} must be a string of at most {MAX_METADATA_STRING} characters"
            )
        if name != "client_name":
            problem = http_url_problem(value)
            if problem:
                raise InvalidClientMetadataError(f"{name}#{tag[:20]} {problem}")
        found[key] = value
    if len(found) > MAX_LOCALIZED_MEMBERS:
        raise InvalidClientMetadataError(f"at most {MAX_LOCALIZED_MEMBERS} language-tagged members are accepted")
    return found


def new_secret() -> tuple[str, str]:
    secret = crypto.random_string(CLIENT_SECRET_LENGTH)
    return secret, crypto.sha256_hex(secret)


async def store(core: Core, client: ClientInfo) -> None:
    expires = float(client.registration_expires_at) if client.registration_expires_at else None
    await core.storage.commit([Put(records.client_key(client.client_id), records.dump(client.stored()), expires)])


async def create(core: Core, fields: Mapping[str, Any], *, registration: bool) -> ClientInfo:
    """Create and store a client; its plaintext secret is in the result only."""
    now = int(core.now())
    client_id = crypto.random_string(CLIENT_ID_LENGTH)
    client = ClientInfo(client_id=client_id, **{"redirect_uris": [], **fields})
    client.registration_date = now
    client.dynamically_registered = registration
    ttl = core.options.client_registration_ttl if registration else None
    if ttl is not None:
        client.registration_expires_at = now + ttl
    if not client.is_public:  # RFC7591-3.2.1-SECRET-CONFIDENTIAL, RFC7591-2-PUBLIC-NO-SECRET
        client.client_secret, client.client_secret_hash = new_secret()
        # RFC7591-3.2.1-SECRET-EXPIRES: the secret lives as long as the registration, 0 for never.
        client.client_secret_expires_at = client.registration_expires_at or 0
    await store(core, client)
    return client


async def lookup(core: Core, client_id: str) -> ClientInfo | None:
    """The client, or ``None``; a metadata-document client that cannot be used raises
    :class:`~oauth_reference.errors.CimdError`."""
    # URL client ids are fetched and work exactly when the feature is on (CIMD-4-FETCH, CIMD-5-METADATA).
    if core.options.client_id_metadata_document_enabled:
        from oauth_reference.specs import cimd

        if cimd.is_document_id(client_id):
            return await cimd.resolve(core, client_id)
    return await stored(core, client_id)


async def stored(core: Core, client_id: str) -> ClientInfo | None:
    """The registered (stored) client, or ``None``: never a metadata document, never fetched."""
    entry = await core.storage.get(records.client_key(client_id))
    if entry is None:
        return None
    client = records.load(ClientInfo, entry.value)
    # RFC7591-3.2.1-SECRET-EXPIRY: an expired registration (and its secret) no longer exists.
    if client.registration_expires_at is not None and client.registration_expires_at <= core.now():
        return None
    return client
