"""A bounded in-process cache of decrypted access-token props, keyed by the token's hash.

The store keeps props only encrypted (AES-256-GCM under a key wrapped with the token, see
:mod:`.crypto`); unwrapping and decrypting them is most of the provider's own work on an API
check. This cache keeps the decrypted props (their JSON bytes) of recently checked tokens in the
serving process, so a token's second check skips both steps. It changes nothing in the store
and nothing about which tokens are accepted:

- every check still reads the token's record from the store first and refuses a token whose
  record is gone (revoked, rotated away, purged) or expired before it looks here, so revocation
  by any process sharing the store (SQLite file, Redis) is refused on the very next request;
- an entry is used only for the very record it was filled from: the same token hash and the
  same stored bytes (a rewritten record is read and decrypted again); then the record is not
  parsed again either;
- entries are dropped when their token is refused (gone or expired), when this process revokes
  their grant or the token, when they pass their token's expiry, and least-recently-used first
  past ``limit`` entries;
- nothing here is shown: ``repr`` gives counts only, and no entry is ever logged.

The keys are SHA-256 hashes of tokens (what the store already holds), never tokens.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from oauth_reference.machinery.records import AccessToken

DEFAULT_LIMIT: Final = 4096


class _Entry:
    """One token's decrypted props and the record they came from (no ``repr`` of the contents)."""

    __slots__ = ("grant", "plaintext", "raw", "record")

    def __init__(self, grant: str, raw: bytes, record: AccessToken, plaintext: bytes) -> None:
        self.grant = grant
        self.raw = raw
        self.record = record
        self.plaintext = plaintext

    def __repr__(self) -> str:
        return "<props entry>"


class PropsCache:
    """Decrypted props by token hash; at most ``limit`` entries (0 turns the cache off)."""

    __slots__ = ("_by_grant", "_entries", "hits", "limit", "misses")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 0:
            raise ValueError("the props cache limit must be 0 or more")
        self.limit = limit
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._by_grant: dict[str, set[str]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"PropsCache(entries={len(self._entries)}, limit={self.limit}, hits={self.hits}, misses={self.misses})"

    def get(self, token_id: str, raw: bytes, now: float) -> tuple[AccessToken, bytes] | None:
        """The parsed record and the props' JSON bytes, if cached for exactly the stored bytes
        ``raw`` and the token is within its expiry. The record is shared: do not change it."""
        entry = self._entries.get(token_id)
        if entry is None:
            self.misses += 1
            return None
        if entry.record.expires_at <= now or entry.raw != raw:
            self.drop(token_id)
            self.misses += 1
            return None
        self._entries.move_to_end(token_id)
        self.hits += 1
        return entry.record, entry.plaintext

    def put(self, token_id: str, grant: str, raw: bytes, record: AccessToken, plaintext: bytes) -> None:
        """Remember a record (its stored bytes and parsed form) and its decrypted props; ``grant``
        is ``user_id:grant_id``, for :meth:`drop_grant`."""
        if self.limit == 0:
            return
        if token_id in self._entries:
            self.drop(token_id)
        self._entries[token_id] = _Entry(grant, raw, record, plaintext)
        self._by_grant.setdefault(grant, set()).add(token_id)
        while len(self._entries) > self.limit:
            self.drop(next(iter(self._entries)))

    def drop(self, token_id: str) -> None:
        """Forget one token's props (it was revoked, expired or refused)."""
        entry = self._entries.pop(token_id, None)
        if entry is None:
            return
        tokens = self._by_grant.get(entry.grant)
        if tokens is not None:
            tokens.discard(token_id)
            if not tokens:
                del self._by_grant[entry.grant]

    def drop_grant(self, user_id: str, grant_id: str) -> None:
        """Forget the props of every token of a grant (the grant was revoked)."""
        for token_id in self._by_grant.pop(f"{user_id}:{grant_id}", ()):
            self._entries.pop(token_id, None)

    def clear(self) -> None:
        self._entries.clear()
        self._by_grant.clear()
