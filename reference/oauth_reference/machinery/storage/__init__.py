"""The storage seam: a small key-value interface in the Workers KV model, plus one atomic primitive.

Keys are strings, values are bytes, and each entry may carry an absolute expiry and a small JSON
``metadata`` mapping that listings return without reading values (KV's key metadata). Listing is
by prefix, in key order, in pages of at most 1,000 with an opaque cursor.

The atomic primitive is :meth:`Storage.commit`: a batch of writes applied all-or-nothing, on the
condition that chosen keys still have the versions the caller read (``None``: still absent). Code
redemption, refresh rotation and grant revocation are each one commit, so two concurrent
redemptions of one code cannot both succeed, and no crash between two writes can leave a
half-made grant or a live token of a revoked grant.

Expiry is read from the provider's clock, so time travel in tests expires entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

MAX_PAGE = 1000


class StorageUnavailableError(Exception):
    """The backing store cannot be reached; endpoints answer 503 ``temporarily_unavailable``."""


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    version: int
    expires_at: float | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Put:
    key: str
    value: bytes
    expires_at: float | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    key: str


@dataclass(frozen=True, slots=True)
class DeletePrefix:
    """Delete every key that starts with ``prefix`` (a grant's tokens, for instance)."""

    prefix: str


Write = Put | Delete | DeletePrefix


@dataclass(frozen=True, slots=True)
class ListedKey:
    name: str
    expires_at: float | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    keys: list[ListedKey] = field(default_factory=list)
    cursor: str | None = None  # None when the listing is complete

    @property
    def complete(self) -> bool:
        return self.cursor is None


class Storage(Protocol):
    async def get(self, key: str) -> Entry | None:
        """The live entry at ``key``, or ``None`` if absent or expired."""
        ...

    async def list(self, prefix: str, *, limit: int = MAX_PAGE, cursor: str | None = None) -> Page:
        """Live keys starting with ``prefix`` in key order, at most ``min(limit, 1000)``."""
        ...

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        """Apply ``writes`` atomically if every key in ``expect`` has the given version.

        Of concurrent redemptions of one code, this lets one win (ROBUST-HOSTILE-CONCURRENT-CODE).

        A version of ``None`` means the key must be absent (or expired). Returns ``False`` and
        writes nothing when a condition does not hold.
        """
        ...

    async def close(self) -> None: ...


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError("limit must be a positive integer")
    return min(limit, MAX_PAGE)


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix + "\U0010ffff"


__all__ = [
    "MAX_PAGE",
    "Delete",
    "DeletePrefix",
    "Entry",
    "ListedKey",
    "Page",
    "Put",
    "Storage",
    "StorageUnavailableError",
    "Write",
    "check_limit",
    "prefix_end",
]
