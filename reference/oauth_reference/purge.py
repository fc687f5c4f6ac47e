"""``purge_expired_data``: sweep records the store's own expiry would not remove in time.

The seed's defence in depth, for a scheduled job. Every store expires records by itself (a grant
when its refresh lifetime ends, a token with its grant at the latest), and revoking a grant
removes its tokens and index entry in the same commit, so little is ever left to sweep. What can
be: a grant whose client is gone (a client deleted by hand from the store, or whose registration
expired), a grant past its ``expires_at`` in a store that expires lazily, and a token whose grant
is gone.

Each call looks at up to ``batch_size`` grants, revoking the expired and the orphaned (with their
tokens), then, if the grants were all seen, at up to ``batch_size`` tokens, deleting those without a
grant. Each call starts from the beginning, so call it again until ``done``: deleted records are
gone, and a run that saw everything reports ``done``. Grants of metadata-document clients are never
treated as orphans (those clients are not stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from oauth_reference import client_store as clients
from oauth_reference.core import Core
from oauth_reference.machinery import grants
from oauth_reference.machinery import records
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Delete

DEFAULT_BATCH_SIZE = 50
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one call saw and removed; ``done`` when it saw every grant and every token."""

    grants_checked: int = 0
    grants_purged: int = 0
    tokens_checked: int = 0
    tokens_purged: int = 0
    done: bool = False


def _check_batch(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("batch_size must be a positive integer")
    return value


async def purge(
    core: Core,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    purge_orphaned_grants: bool = True,
    purge_expired_grants: bool = True,
    purge_orphaned_tokens: bool = True,
) -> PurgeResult:
    batch = _check_batch(batch_size)
    grants_checked = grants_purged = tokens_checked = tokens_purged = 0
    if purge_orphaned_grants or purge_expired_grants:
        clients_known: dict[str, bool] = {}
        cursor: str | None = None
        while grants_checked < batch:
            page = await core.storage.list("grant:", limit=min(MAX_PAGE, batch - grants_checked), cursor=cursor)
            for key in page.keys:
                grants_checked += 1
                entry = await core.storage.get(key.name)
                if entry is None:
                    continue
                grant = records.load(Grant, entry.value)
                expired = grant.expires_at is not None and grant.expires_at <= core.now()
                orphaned = (
                    not expired and purge_orphaned_grants and not await _client_exists(core, grant, clients_known)
                )
                if (purge_expired_grants and expired) or orphaned:
                    await grants.revoke(core.storage, grant.user_id, grant.id, cache=core.props_cache)
                    grants_purged += 1
            cursor = page.cursor
            if cursor is None:
                break
        if cursor is not None and not await _none_left(core, "grant:", cursor):
            return PurgeResult(grants_checked, grants_purged, tokens_checked, tokens_purged, done=False)
    if purge_orphaned_tokens:
        grants_known: dict[str, bool] = {}
        cursor = None
        while tokens_checked < batch:
            page = await core.storage.list("token:", limit=min(MAX_PAGE, batch - tokens_checked), cursor=cursor)
            for key in page.keys:
                tokens_checked += 1
                _, user_id, grant_id, _ = key.name.split(":", 3)
                grant_key = records.grant_key(user_id, grant_id)
                if grant_key not in grants_known:
                    grants_known[grant_key] = await core.storage.get(grant_key) is not None
                if not grants_known[grant_key]:
                    await core.storage.commit([Delete(key.name)])
                    tokens_purged += 1
            cursor = page.cursor
            if cursor is None:
                break
        if cursor is not None and not await _none_left(core, "token:", cursor):
            return PurgeResult(grants_checked, grants_purged, tokens_checked, tokens_purged, done=False)
    return PurgeResult(grants_checked, grants_purged, tokens_checked, tokens_purged, done=True)


async def _client_exists(core: Core, grant: Grant, known: dict[str, bool]) -> bool:
    client_id = grant.client_id
    if client_id not in known:
        if core.options.client_id_metadata_document_enabled and client_id.startswith("https://"):
            known[client_id] = True  # a metadata document: never stored, never an orphan
        else:
            known[client_id] = await clients.lookup(core, client_id) is not None
    return known[client_id]


async def _none_left(core: Core, prefix: str, cursor: str) -> bool:
    """Whether a listing that stopped at ``cursor`` had in fact seen everything."""
    page = await core.storage.list(prefix, limit=1, cursor=cursor)
    return not page.keys
