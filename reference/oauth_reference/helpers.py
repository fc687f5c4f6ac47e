"""``OAuthHelpers``: what the application's handlers call (the seed's ``env.OAUTH_PROVIDER``).

Handlers reach it with :func:`oauth_reference.provider_helpers` (``scope["oauth_provider"]``,
also ``request.state.oauth_provider`` under Starlette).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol
from urllib.parse import urlsplit

from oauth_reference import client_store as clients
from oauth_reference.core import Core
from oauth_reference.errors import InvalidRequestError
from oauth_reference.hosts import origin_of
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import AuthRequest
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.records import GrantSummary
from oauth_reference.machinery.records import ListResult
from oauth_reference.machinery.records import TokenSummary
from oauth_reference.machinery.storage import check_limit
from oauth_reference.purge import PurgeResult
from oauth_reference.purge import purge
from oauth_reference.specs.oauth21 import authorization_endpoint as authorization
from oauth_reference.specs.oauth21.forms import parse_pairs


class HasURL(Protocol):
    @property
    def url(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class CompletedAuthorization:
    redirect_to: str


def _split_url(request: str | HasURL) -> tuple[str, list[tuple[str, str]]]:
    url = request if isinstance(request, str) else str(request.url)
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError("parse_auth_request needs the request's absolute URL")
    try:
        query = parts.query.encode("ascii").decode("ascii")
    except UnicodeError:
        from oauth_reference.errors import AuthorizationError

        raise AuthorizationError(InvalidRequestError("the query string must be percent-encoded")) from None
    try:
        pairs = parse_pairs(query)
    except InvalidRequestError as exc:
        from oauth_reference.errors import AuthorizationError

        raise AuthorizationError(exc) from None
    return f"{parts.scheme}://{parts.netloc}", pairs


class OAuthHelpers:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def parse_auth_request(self, request: str | HasURL) -> AuthRequest:
        """Validate an authorization request; raises :class:`~oauth_reference.AuthorizationError`."""
        origin, pairs = _split_url(request)
        return await authorization.parse_auth_request(self._core, pairs, origin)

    async def lookup_client(self, client_id: str) -> ClientInfo | None:
        """The client, or ``None`` when there is no such client.

        With Client ID Metadata Documents on, a URL client id is fetched (or taken from the
        cache its ``Cache-Control`` allows); raises :class:`~oauth_reference.CimdError` when that
        document cannot be fetched or used now: an outage of the client's host is not an unknown
        client.
        """
        return await clients.lookup(self._core, client_id)

    async def complete_authorization(
        self,
        request: AuthRequest,
        *,
        user_id: str,
        scope: list[str],
        props: Any,
        metadata: Any = None,
        revoke_existing_grants: bool = True,
        revoke_existing_grants_batch_size: int = 50,
    ) -> CompletedAuthorization:
        """Store the grant and return where to redirect the user agent.

        By default the user's existing grants for the same client are revoked after the new one
        is stored, so stale props cannot outlive a re-authorization.

        The client and the redirect URI are checked again (the request object comes from the
        application, perhaps much later): raises :class:`~oauth_reference.CimdError` when the
        client's metadata document cannot be fetched or used now, and ``ValueError`` when the
        client no longer exists or no longer lists the redirect URI. Either way nothing is stored
        and the user agent must not be redirected to the client.
        """
        redirect_to = await authorization.complete_authorization(
            self._core,
            request,
            user_id=user_id,
            metadata=metadata,
            scope=scope,
            props=props,
            revoke_existing_grants=revoke_existing_grants,
            revoke_existing_grants_batch_size=revoke_existing_grants_batch_size,
        )
        return CompletedAuthorization(redirect_to)

    async def create_client(self, **metadata: Any) -> ClientInfo:
        """Register a client directly (always allowed; no registration TTL). Secret returned once."""
        fields = clients.validate_metadata(metadata, self._core.options, registration=False)
        return await clients.create(self._core, fields, registration=False)

    async def list_clients(self, *, limit: int = 1000, cursor: str | None = None) -> ListResult[ClientInfo]:
        page = await self._core.storage.list("client:", limit=check_limit(limit), cursor=cursor)
        items = []
        for key in page.keys:
            entry = await self._core.storage.get(key.name)
            if entry is not None:
                items.append(records.load(ClientInfo, entry.value))
        return ListResult(items, page.cursor)

    async def update_client(self, client_id: str, **updates: Any) -> ClientInfo | None:
        """Change a registered client's metadata; ``client_secret="..."`` sets a new secret (returned
        once). ``None`` when no such client is registered (a metadata-document client is the
        document's to change, never stored here)."""
        client = await clients.stored(self._core, client_id)
        if client is None:
            return None
        secret = updates.pop("client_secret", None)
        fields = clients.validate_metadata(updates, self._core.options, registration=False, partial=True)
        updated = dataclasses.replace(client, **fields)
        if updated.is_public:
            updated.client_secret_hash = None
            updated.client_secret_expires_at = None
        elif secret is not None:
            if not isinstance(secret, str) or len(secret) < 16:
                raise ValueError("client_secret must be a string of at least 16 characters")
            updated.client_secret, updated.client_secret_hash = secret, crypto.sha256_hex(secret)
        elif client.is_public:
            updated.client_secret, updated.client_secret_hash = clients.new_secret()
        await clients.store(self._core, updated)
        return updated

    async def delete_client(self, client_id: str) -> None:
        """Delete a client and revoke every grant and token it holds, for every user."""
        from oauth_reference.machinery.storage import Delete

        storage = self._core.storage
        # What an RFC 7592 delete needs: the client stops authenticating (RFC7592-2.3-DELETE-INVALIDATES)
        # and its grants and tokens end (RFC7592-2.3-DELETE-GRANTS).
        await storage.commit([Delete(records.client_key(client_id))])
        prefix = records.client_grants_prefix(client_id)
        while True:
            page = await storage.list(prefix, limit=1000)
            if not page.keys:
                return
            for key in page.keys:
                user_id, grant_id = key.name[len(prefix) :].split(":")
                if not await grants.revoke(storage, user_id, grant_id, cache=self._core.props_cache):
                    await storage.commit([Delete(key.name)])

    async def list_user_grants(
        self, user_id: str, *, limit: int = 1000, cursor: str | None = None
    ) -> ListResult[GrantSummary]:
        storage = self._core.storage
        page = await storage.list(records.user_grants_prefix(user_id), limit=check_limit(limit), cursor=cursor)
        items = []
        for key in page.keys:
            entry = await storage.get(key.name)
            if entry is not None:
                items.append(grants.summary(records.load(Grant, entry.value)))
        return ListResult(items, page.cursor)

    async def revoke_grant(self, grant_id: str, user_id: str) -> None:
        await grants.revoke(self._core.storage, user_id, grant_id, cache=self._core.props_cache)

    async def unwrap_token(self, token: str) -> TokenSummary | None:
        """Decode a live access token with its props (refresh tokens give ``None``)."""
        ids = grants.split_token(token)
        if ids is None:
            return None
        entry = await self._core.storage.get(records.token_key(*ids, crypto.sha256_hex(token)))
        if entry is None:
            return None
        record = records.load(AccessToken, entry.value)
        if record.expires_at <= self._core.now():
            return None
        props = crypto.decrypt_props(record.encrypted_props, crypto.unwrap_key(record.wrapped_key, token))
        return TokenSummary(
            id=record.id,
            grant_id=record.grant_id,
            user_id=record.user_id,
            client_id=record.client_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            audience=record.audience,
            scope=record.scope,
            props=props,
        )

    async def exchange_token(
        self,
        subject_token: str,
        *,
        scope: list[str] | None = None,
        resource: str | Sequence[str] | None = None,
        expires_in: int | None = None,
    ) -> Mapping[str, Any]:
        """RFC 8693 token exchange on the application's behalf, as the subject token's own client.

        ``resource`` (the seed's ``aud``: one resource or several) narrows the new token's audience.
        """
        from oauth_reference.specs import rfc8693

        summary = await self.unwrap_token(subject_token)
        if summary is None:
            raise ValueError("the subject token is not a live access token")
        # Outside a request the issuer is the fixed one, else the origin of the token's audience.
        audience = summary.audience or []
        issuer = self._core.fixed_issuer or (origin_of(audience[0]) if audience else "")
        return await rfc8693.issue(
            self._core,
            subject_token,
            client_id=summary.client_id,
            issuer=issuer,
            scope=scope or [],
            resources=[resource] if isinstance(resource, str) else list(resource or []),
            expires_in=expires_in,
        )

    async def purge_expired_data(
        self,
        *,
        batch_size: int = 50,
        purge_orphaned_grants: bool = True,
        purge_expired_grants: bool = True,
        purge_orphaned_tokens: bool = True,
    ) -> PurgeResult:
        """Sweep expired and orphaned grants and orphaned tokens, ``batch_size`` of each per call
        (the seed's ``purgeExpiredData``); call again until ``done``. See :mod:`oauth_reference.purge`."""
        return await purge(
            self._core,
            batch_size=batch_size,
            purge_orphaned_grants=purge_orphaned_grants,
            purge_expired_grants=purge_expired_grants,
            purge_orphaned_tokens=purge_orphaned_tokens,
        )
