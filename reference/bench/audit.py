"""An audit of a reference store after load: nothing lost, nothing extra, nothing half-written.

:func:`audit_store` reads the whole store through the :class:`~oauth_reference.machinery.storage.Storage`
interface (so it works on every backend) and checks its structure:

- every grant has its ``client-grant`` index key and every index key its grant, of that client;
- every access token belongs to a grant that exists: no live token of a revoked grant;
- nothing that should expire lacks an expiry: only clients made by ``create_client`` and grants
  issued with ``refresh_token_ttl=None`` (and their index keys) may live forever.

Given the ledger the load generator wrote (``python -m reference.bench.load --ledger``), it
also checks the accounting: each grant the clients hold is there with exactly the access tokens
they were given and their newest refresh token; each grant they saw revoked or replaced is gone
with its tokens; no grant is there that nobody was issued. Grants whose last request had an
unknown outcome (a 503, a timeout, a dropped connection) are ``uncertain``: only their structure
is checked.

:func:`audit_redis` adds what only Redis can show: every key of the namespace has an expiry
unless its record is meant to live, and the listing index matches the entries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import quote

from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import ListedKey
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage.redis import RedisStorage

FAMILIES = ("client:", "grant:", "token:", "client-grant:")
MAX_PROBLEMS = 50  # listed in full; the rest are counted


@dataclass
class AuditReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def merge(self, other: AuditReport) -> None:
        self.counts.update(other.counts)
        self.problems += other.problems[: max(0, MAX_PROBLEMS - len(self.problems))]
        self.problem_count += other.problem_count

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": dict(sorted(self.counts.items())), "problems": self.problems}


async def all_keys(storage: Storage, prefix: str) -> list[ListedKey]:
    """Every live key under ``prefix``, page by page (an audit may read the whole store)."""
    out: list[ListedKey] = []
    cursor: str | None = None
    while True:
        page = await storage.list(prefix, limit=1000, cursor=cursor)
        out += page.keys
        if page.cursor is None:
            return out
        cursor = page.cursor


@dataclass
class _Snapshot:
    clients: dict[str, tuple[ClientInfo, float | None]] = field(default_factory=dict)
    grants: dict[str, tuple[Grant, float | None]] = field(default_factory=dict)  # by grant id
    tokens: dict[str, set[str]] = field(default_factory=dict)  # grant id -> token ids
    index: dict[str, tuple[str, str, float | None]] = field(default_factory=dict)  # grant id -> client, user
    forever: set[str] = field(default_factory=set)  # keys whose record is meant to live without expiry


async def _read(storage: Storage, report: AuditReport) -> _Snapshot:
    snap = _Snapshot()
    for key in await all_keys(storage, ""):
        if not key.name.startswith(FAMILIES):
            report.problem(f"a key of no known family: {key.name[:80]!r}")
    for key in await all_keys(storage, "client:"):
        entry = await storage.get(key.name)
        if entry is not None:
            client = records.load(ClientInfo, entry.value)
            snap.clients[client.client_id] = (client, entry.expires_at)
            if client.registration_expires_at is None:
                snap.forever.add(key.name)
    for key in await all_keys(storage, "grant:"):
        entry = await storage.get(key.name)
        if entry is None:
            continue
        grant = records.load(Grant, entry.value)
        if key.name != records.grant_key(grant.user_id, grant.id):
            report.problem(f"grant stored under the wrong key: {key.name}")
        snap.grants[grant.id] = (grant, entry.expires_at)
        if grant.expires_at is None:
            snap.forever.add(key.name)
            snap.forever.add(records.client_grant_key(grant.client_id, grant.user_id, grant.id))
    for key in await all_keys(storage, "token:"):
        parts = key.name.split(":")
        if len(parts) != 4:
            report.problem(f"malformed token key {key.name[:80]!r}")
            continue
        snap.tokens.setdefault(parts[2], set()).add(parts[3])
        if key.expires_at is None:
            report.problem(f"access token without expiry: {key.name[:60]}")
        entry = await storage.get(key.name)
        if entry is not None:
            record = records.load(AccessToken, entry.value)
            if (record.user_id, record.grant_id, record.id) != (parts[1], parts[2], parts[3]):
                report.problem(f"token record does not match its key: {key.name[:60]}")
    for key in await all_keys(storage, "client-grant:"):
        parts = key.name.split(":")
        if len(parts) != 4:
            report.problem(f"malformed index key {key.name[:80]!r}")
            continue
        snap.index[parts[3]] = (parts[1], parts[2], key.expires_at)
    return snap


def _structure(snap: _Snapshot, report: AuditReport) -> None:
    report.counts.update(
        clients=len(snap.clients),
        grants=len(snap.grants),
        index_keys=len(snap.index),
        access_tokens=sum(len(t) for t in snap.tokens.values()),
    )
    for grant_id, (grant, expires) in snap.grants.items():
        indexed = snap.index.get(grant_id)
        if indexed is None or indexed[:2] != (quote(grant.client_id, safe=""), grant.user_id):
            report.problem(f"grant {grant_id} has no index key of its client (half-made)")
        if expires is None and grant.expires_at is not None:
            report.problem(f"grant {grant_id} expires at {grant.expires_at} but its key never expires")
    for grant_id, (_, _, expires) in snap.index.items():
        if grant_id not in snap.grants:
            report.problem(f"index key of grant {grant_id}, which does not exist (half-revoked)")
        elif expires is None and snap.grants[grant_id][0].expires_at is not None:
            report.problem(f"index key of grant {grant_id} never expires")
    for grant_id, tokens in snap.tokens.items():
        if grant_id not in snap.grants:
            report.problem(f"{len(tokens)} live access token(s) of grant {grant_id}, which is revoked or gone")
    for client_id, (client, expires) in snap.clients.items():
        if expires is None and client.registration_expires_at is not None:
            report.problem(f"client {client_id} should expire but its key never does")


def _accounting(snap: _Snapshot, ledger: dict[str, Any], report: AuditReport) -> None:
    clients: dict[str, Any] = ledger.get("clients", {})
    grants: dict[str, Any] = ledger.get("grants", {})
    uncertain_clients = {c for c, info in clients.items() if info.get("uncertain")}
    report.counts.update(
        ledger_clients=len(clients),
        ledger_grants=len(grants),
        ledger_uncertain_grants=sum(1 for g in grants.values() if g.get("uncertain")),
        ledger_uncertain_clients=len(uncertain_clients),
    )
    for client_id in clients:
        if client_id not in snap.clients:
            report.problem(f"client {client_id} is lost")
    for grant_id, expected in grants.items():
        found = snap.grants.get(grant_id)
        tokens = snap.tokens.get(grant_id, set())
        if expected.get("uncertain"):
            continue
        if not expected["live"]:
            if found is not None:
                report.problem(f"grant {grant_id} was revoked or replaced but is still stored")
            if tokens:
                report.problem(f"grant {grant_id} was revoked but {len(tokens)} access token(s) live")
            if grant_id in snap.index:
                report.problem(f"grant {grant_id} was revoked but its index key is still stored")
            report.counts["revoked_grants_verified"] += 1
            continue
        if found is None:
            report.problem(f"grant {grant_id} is lost")
            continue
        want = set(expected.get("access", []))
        if tokens != want:
            report.problem(f"grant {grant_id}: {len(want - tokens)} access token(s) lost, {len(tokens - want)} extra")
        if expected.get("refresh") is not None and found[0].refresh_token_id != expected["refresh"]:
            report.problem(f"grant {grant_id}: the newest refresh token is not the one the client holds")
        report.counts["live_grants_verified"] += 1
    for grant_id, (grant, _) in snap.grants.items():
        if grant_id in grants or grant.client_id not in clients:
            continue
        if grant.client_id in uncertain_clients:
            report.counts["unknown_grants_of_uncertain_clients"] += 1
        else:
            report.problem(f"grant {grant_id} of client {grant.client_id} was never issued to it (extra)")


async def audit_store(storage: Storage, ledger: dict[str, Any] | None = None) -> AuditReport:
    """Check the store's structure and, with a ledger, its accounting."""
    report = AuditReport()
    snap = await _read(storage, report)
    _structure(snap, report)
    if ledger is not None:
        _accounting(snap, ledger, report)
    if isinstance(storage, RedisStorage):
        report.merge(await audit_redis(storage, snap.forever))
    return report


async def audit_redis(storage: RedisStorage, forever: set[str]) -> AuditReport:
    """Every key of the namespace: an expiry unless meant to live; index and entries agree.

    This one does SCAN the keyspace: an audit may, the provider never does.
    """
    report = AuditReport()
    redis, ns = storage.redis, storage.namespace
    entries: dict[str, int] = {}
    async for raw in redis.scan_iter(match=f"{ns}*", count=1000):
        key = raw.decode()
        name = key[len(ns) :]
        ttl = await redis.pttl(key)
        if ttl == -2:
            continue  # expired since the scan saw it
        if name.startswith("e:"):
            entries[name[2:]] = ttl
        elif name == "version":
            report.counts["redis_structural_keys"] += 1
        elif name in ("index", "expiry"):
            report.counts["redis_structural_keys"] += 1
            if ttl != -1:
                report.problem(f"{key} should not expire")
        elif name.startswith("commit:"):
            report.counts["redis_commit_markers"] += 1
            if ttl == -1:
                report.problem(f"{key} has no expiry")
        else:
            report.problem(f"unknown Redis key {key[:80]!r}")
    report.counts["redis_entries"] = len(entries)
    for name, ttl in entries.items():
        if ttl == -1 and name not in forever:
            report.problem(f"orphan without expiry: {ns}e:{name[:70]}")
        elif ttl == -1:
            report.counts["redis_entries_meant_to_live"] += 1
    members = {m.decode() if isinstance(m, bytes) else str(m) for m in await redis.zrange(f"{ns}index", 0, -1)}
    for name in entries:
        if name not in members:
            report.problem(f"entry missing from the index (listings and DeletePrefix would miss it): {name[:70]}")
    stale = members - set(entries)
    report.counts["redis_index_members_awaiting_lazy_removal"] = len(stale)
    return report


def markdown(report: AuditReport) -> list[str]:
    """The report as Markdown lines."""
    lines = [f"- verdict: **{'nothing lost, nothing extra, nothing half-written' if report.ok else 'PROBLEMS'}**"]
    lines += [f"- {name.replace('_', ' ')}: {count}" for name, count in sorted(report.counts.items())]
    lines += [f"- problem: {text}" for text in report.problems]
    if report.problem_count > len(report.problems):
        lines.append(f"- ... and {report.problem_count - len(report.problems)} more problems")
    return lines
