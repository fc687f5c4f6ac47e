"""Grant lifecycle in the store: creation, token minting, atomic revocation, listing.

Every change that touches more than one key is one :meth:`Storage.commit`, so a grant and its
index entry appear and disappear together, and revoking a grant removes its tokens in the same
step (OAUTH21-4.3.1-GRANT-ACTIVE, RFC7009-2.1-CASCADE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_reference.machinery import crypto
from oauth_reference.machinery import records
from oauth_reference.machinery.props_cache import PropsCache
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import Write

GRANT_ID_LENGTH = 16
SECRET_LENGTH = 32


def new_grant_id() -> str:
    return crypto.random_string(GRANT_ID_LENGTH)


def new_token(user_id: str, grant_id: str) -> str:
    """A code or token in the seed's shape ``userId:grantId:secret`` (192 bits: OAUTH21-7.7-ENTROPY)."""
    return f"{user_id}:{grant_id}:{crypto.random_string(SECRET_LENGTH)}"


def split_token(token: str) -> tuple[str, str] | None:
    """``(user_id, grant_id)`` of a token in the seed's shape, or ``None``."""
    parts = token.split(":")
    if len(parts) != 3 or not all(parts) or len(parts[1]) != GRANT_ID_LENGTH:
        return None
    return parts[0], parts[1]


def check_user_id(user_id: object) -> str:
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user_id must be a non-empty string")
    if ":" in user_id or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in user_id):
        raise ValueError("user_id must not contain ':', spaces or control characters")
    return user_id


def storage_expiry(grant: Grant) -> float | None:
    """How long the store keeps the grant: until its code or its refresh lifetime ends."""
    if grant.auth_code_wrapped_key is not None and grant.code_expires_at is not None:
        if grant.expires_at is None:
            return None
        return max(grant.code_expires_at, grant.expires_at)
    return grant.expires_at


def grant_writes(grant: Grant) -> list[Write]:
    expires = storage_expiry(grant)
    return [
        Put(
            records.grant_key(grant.user_id, grant.id),
            records.dump(grant),
            expires,
            {"client_id": grant.client_id},
        ),
        Put(records.client_grant_key(grant.client_id, grant.user_id, grant.id), b"", expires),
    ]


def revoke_writes(grant: Grant) -> list[Write]:
    return [
        Delete(records.grant_key(grant.user_id, grant.id)),
        DeletePrefix(records.grant_tokens_prefix(grant.user_id, grant.id)),  # RFC7009-2.1-CASCADE
        Delete(records.client_grant_key(grant.client_id, grant.user_id, grant.id)),
    ]


async def load(storage: Storage, user_id: str, grant_id: str) -> tuple[Grant, int] | None:
    entry = await storage.get(records.grant_key(user_id, grant_id))
    if entry is None:
        return None
    return records.load(Grant, entry.value), entry.version


async def revoke(storage: Storage, user_id: str, grant_id: str, *, cache: PropsCache | None) -> bool:
    """Delete a grant with every token minted from it; ``False`` if it was already gone.

    ``cache``: the process's props cache, which forgets the grant's tokens at once (other
    processes refuse them at their next check, which reads the store). Required, so that no caller
    forgets it; ``None`` only where there is no cache.
    """
    if cache is not None:
        cache.drop_grant(user_id, grant_id)
    for _ in range(8):
        found = await load(storage, user_id, grant_id)
        if found is None:
            await storage.commit([DeletePrefix(records.grant_tokens_prefix(user_id, grant_id))])
            return False
        grant, version = found
        key = records.grant_key(user_id, grant_id)
        if await storage.commit(revoke_writes(grant), expect={key: version}):
            return True
    raise RuntimeError("the grant kept changing while it was being revoked")


@dataclass(slots=True)
class MintedToken:
    token: str
    record: AccessToken
    write: Put


def mint_access_token(
    grant: Grant,
    *,
    client_id: str,
    props_key: bytes,
    encrypted_props: str,
    scope: list[str],
    audience: list[str] | None,
    now: float,
    ttl: int,
    jkt: str | None = None,
) -> MintedToken:
    token = new_token(grant.user_id, grant.id)
    token_id = crypto.sha256_hex(token)
    record = AccessToken(
        id=token_id,
        grant_id=grant.id,
        user_id=grant.user_id,
        client_id=client_id,
        created_at=int(now),
        expires_at=now + ttl,  # RFC6750-5.2-LIFETIME
        audience=list(audience) if audience else None,  # RFC8707-2-AUDIENCE, RFC6750-5.3-AUDIENCE
        scope=scope,
        wrapped_key=crypto.wrap_key(props_key, token),
        encrypted_props=encrypted_props,
        jkt=jkt,  # RFC 9449 section 6: the key the token is bound to
    )
    write = Put(records.token_key(grant.user_id, grant.id, token_id), records.dump(record), now + ttl)
    return MintedToken(token, record, write)


def token_lifetime(wanted: int, grant: Grant, now: float) -> int:
    """An access token never outlives its grant."""
    if grant.expires_at is None:
        return wanted
    return max(1, min(wanted, int(grant.expires_at - now)))


def summary(grant: Grant) -> records.GrantSummary:
    return records.GrantSummary(
        id=grant.id,
        client_id=grant.client_id,
        user_id=grant.user_id,
        scope=list(grant.scope),
        metadata=grant.metadata,
        created_at=grant.created_at,
        expires_at=grant.expires_at,
        resource=list(grant.resource) if grant.resource else None,
    )


def encrypt_new_props(props: Any) -> tuple[bytes, str]:
    key = crypto.new_props_key()
    return key, crypto.encrypt_props(props, key)
