"""What the provider stores: clients, grants and access tokens, and the keys they live under.

Key layout (the storage schema is documented in ``reference/README.md``)::

    client:{client_id}                          ClientInfo (secret only as a hash)
    grant:{user_id}:{grant_id}                  Grant (code, refresh tokens only as hashes; props encrypted)
    token:{user_id}:{grant_id}:{sha256(token)}  AccessToken (denormalized: one read per API check)
    client-grant:{client_id%}:{user_id}:{grant_id}   index: a client's grants, per user
    idjag-jti:{sha256(iss, jti)}                ID-JAG replay marker (idjag.py)
    client-jti:{sha256(client_id, jti)}         client assertion replay marker (client_auth.py)

The index lets re-authorization revoke a user's grants for one client, and ``delete_client`` find
a client's grants, by listing a prefix that grows with those grants, never with the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Generic
from typing import TypeVar
from urllib.parse import quote

import orjson

T = TypeVar("T")


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


def load(cls: type[T], raw: bytes) -> T:
    """Decode a stored record, ignoring fields that a newer version added."""
    data = orjson.loads(raw)
    names = _field_names(cls)
    if names.issuperset(data):
        return cls(**data)
    return cls(**{k: v for k, v in data.items() if k in names})


def dump(record: Any) -> bytes:
    return orjson.dumps(record)


def resource_list(value: object) -> list[str] | None:
    """RFC 8707 resources as a list, ``None`` for none; records written before resources could
    repeat hold a single string."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list | tuple) and not value:
        return None
    raise TypeError("resources are a list of URIs")


def client_key(client_id: str) -> str:
    return f"client:{client_id}"


def grant_key(user_id: str, grant_id: str) -> str:
    return f"grant:{user_id}:{grant_id}"


def user_grants_prefix(user_id: str) -> str:
    return f"grant:{user_id}:"


def token_key(user_id: str, grant_id: str, token_id: str) -> str:
    return f"token:{user_id}:{grant_id}:{token_id}"


def grant_tokens_prefix(user_id: str, grant_id: str) -> str:
    return f"token:{user_id}:{grant_id}:"


def client_grants_prefix(client_id: str, user_id: str | None = None) -> str:
    base = f"client-grant:{quote(client_id, safe='')}:"
    return base if user_id is None else f"{base}{user_id}:"


def client_grant_key(client_id: str, user_id: str, grant_id: str) -> str:
    return f"{client_grants_prefix(client_id, user_id)}{grant_id}"


@dataclass(slots=True)
class ClientInfo:
    """A registered client (RFC 7591 section 2 metadata, snake_case)."""

    client_id: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    response_types: list[str] = field(default_factory=lambda: ["code"])
    client_name: str | None = None
    client_uri: str | None = None
    logo_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    contacts: list[str] | None = None
    # RFC 7591 section 2.2: human-readable members in other languages, by their full member name
    # ("client_name#ja", "tos_uri#fr"); the untagged values stay in their own fields.
    i18n: dict[str, str] | None = None
    scope: str | None = None
    software_id: str | None = None
    software_version: str | None = None
    application_type: str | None = None
    registration_date: int | None = None
    registration_expires_at: int | None = None
    client_secret_hash: str | None = None
    client_secret_expires_at: int | None = None
    auth_method_explicit: bool = False
    dynamically_registered: bool = False
    metadata_document: bool = False
    dpop_bound_access_tokens: bool | None = None  # RFC 9449 section 5.2
    require_pushed_authorization_requests: bool | None = None  # RFC 9126 section 6
    # The plaintext secret, present only in what create_client/update_client/registration return.
    client_secret: str | None = None

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    def stored(self) -> ClientInfo:
        return dataclasses.replace(self, client_secret=None)


@dataclass(slots=True)
class Grant:
    """One user's authorization of one client, from code issuance until revocation or expiry."""

    id: str
    client_id: str
    user_id: str
    scope: list[str]
    metadata: Any
    encrypted_props: str
    created_at: int
    expires_at: float | None
    # The RFC 8707 resources the authorization request named; None when it named none (the
    # grant's tokens are then bound to no resource unless a token request names one).
    resource: list[str] | None = None
    redirect_uri: str | None = None
    # The authorization code (OAuth 2.1 section 4.1.3): its hash stays after use to detect replay.
    auth_code_id: str | None = None
    auth_code_wrapped_key: str | None = None  # None once the code was exchanged
    code_expires_at: float | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # Refresh tokens (OAuth 2.1 section 4.3): the current one, the one it replaced (only used
    # with the opt-in grace period), and hashes of retired ones for reuse detection.
    refresh_token_id: str | None = None
    refresh_token_wrapped_key: str | None = None
    previous_refresh_token_id: str | None = None
    previous_refresh_token_wrapped_key: str | None = None
    retired_refresh_token_ids: list[str] = field(default_factory=list)
    # RFC 9449: the key the code is bound to (dpop_jkt, or a DPoP proof at the PAR endpoint), and
    # the key a public client's refresh tokens are bound to (thumbprints).
    dpop_jkt: str | None = None
    refresh_jkt: str | None = None

    def __post_init__(self) -> None:
        self.resource = resource_list(self.resource)

    @property
    def code_used(self) -> bool:
        return self.auth_code_id is not None and self.auth_code_wrapped_key is None


@dataclass(slots=True)
class AccessToken:
    """An access token record; it carries what an API check needs, so one read suffices."""

    id: str
    grant_id: str
    user_id: str
    client_id: str
    created_at: int
    expires_at: float
    audience: list[str] | None  # None: bound to no resource, good on every API route
    scope: list[str]
    wrapped_key: str
    encrypted_props: str
    jkt: str | None = None  # RFC 9449: the thumbprint of the key the token is bound to

    def __post_init__(self) -> None:
        self.audience = resource_list(self.audience)


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """A validated authorization request, as :meth:`OAuthHelpers.parse_auth_request` returns it."""

    response_type: str
    client_id: str
    redirect_uri: str
    scope: list[str]
    state: str
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # RFC 8707: every resource the request named (the parameter may repeat); empty for none.
    resource: list[str] = field(default_factory=list)
    issuer: str = ""
    dpop_jkt: str | None = None  # RFC 9449 section 10 (or the key of a DPoP proof at the PAR endpoint)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resource", resource_list(self.resource) or [])


@dataclass(frozen=True, slots=True)
class GrantSummary:
    """A grant as listed for audit and revocation UIs: no secrets, no props."""

    id: str
    client_id: str
    user_id: str
    scope: list[str]
    metadata: Any
    created_at: int
    expires_at: float | None
    resource: list[str] | None


@dataclass(frozen=True, slots=True)
class TokenSummary:
    """What :meth:`OAuthHelpers.unwrap_token` reveals about a live access token."""

    id: str
    grant_id: str
    user_id: str
    client_id: str
    created_at: int
    expires_at: float
    audience: list[str] | None
    scope: list[str]
    props: Any


@dataclass(frozen=True, slots=True)
class ListResult(Generic[T]):
    items: list[T]
    cursor: str | None = None
