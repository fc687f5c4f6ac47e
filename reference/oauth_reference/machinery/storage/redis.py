"""Redis storage: the store several reference processes share (``--store redis://HOST:PORT/DB``).

Layout, every name under the store's namespace (default ``oauth:``)::

    {ns}e:{key}   HASH    v=value  n=version  x=expires_at (seconds, when it expires)  m=metadata (JSON)
    {ns}index     ZSET    every stored key at score 0; ZRANGEBYLEX lists a prefix in key order
    {ns}expiry    ZSET    the keys that expire, scored by expires_at; commits sweep the due ones
    {ns}version   STRING  the version counter (INCR), so a version is never handed out twice
    {ns}commit:{id}  STRING  a recent commit's id (10 s), so that retrying that commit is harmless

Reads are plain ``HMGET``s (a token check is one round trip whatever the store's size). Listing
and committing are Lua scripts, loaded once and run with ``EVALSHA``:

- ``list`` walks the index from the prefix (or the cursor) with ``ZRANGEBYLEX``, so its cost grows
  with the page, never with the keyspace (no ``SCAN``, no ``KEYS``). Index members whose entry
  expired, in Redis or by the provider's clock, are skipped and dropped from the index on the way.
- ``commit`` checks the expected versions and applies every Put, Delete and DeletePrefix inside
  one script, which Redis runs atomically: a grant, its index key and its first tokens appear
  together, and a revoked grant's tokens vanish in the same step. ``DeletePrefix`` walks the
  index, so it too costs what it deletes.

Expiry is twofold. Each expiring entry gets a real Redis expiry (``PEXPIREAT``), so nothing the
reference writes outlives its record. The entry also keeps its ``expires_at``, and every read
compares it with the provider's clock, which test mode may move ahead of the wall clock. Each
commit sweeps a bounded batch of entries that are due by that clock, so the index does not keep
names of long-expired tokens. Only ``{ns}version`` has no expiry, and ``{ns}index`` and
``{ns}expiry`` are gone whenever they are empty.

Connection failures and timeouts raise :class:`StorageUnavailableError` (the endpoints answer
503); every call is bounded in time. A call that meets a dropped connection (one that predates a
Redis restart) is tried once more on a fresh one; a commit carries an id that the script records
with its writes, so a retry of a commit whose reply was lost does not apply it twice. The pool
reconnects by itself when Redis is back, and a script cache emptied by a restart is refilled on
the next ``NOSCRIPT``.

The scripts touch keys they do not declare, so this backend needs a single Redis server (or a
primary with replicas), not Redis Cluster. Run it with ``maxmemory-policy noeviction`` (Redis's
default): an eviction policy would drop the index or the version counter under memory pressure.
For durability across a Redis restart, enable its append-only file (``appendonly yes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TypeVar

import orjson
import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.clock import base_now
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import ListedKey
from oauth_reference.machinery.storage import Page
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage import check_limit

T = TypeVar("T")

DEFAULT_NAMESPACE = "oauth:"
SWEEP_BATCH = 64  # due entries each commit removes; enough to keep up with any token rate we see
COMMIT_MEMORY_MS = 10_000  # how long a commit's id is remembered; a retry comes within the call's deadline

# Shared by both scripts: the namespace is ARGV[1] and the provider's clock ARGV[2], in seconds.
_PRELUDE = """
local ns = ARGV[1]
-- ARGV[2] is "now base": entries are hidden by the request's time (now) and purged only by the
-- base time, so a request that travels in time never deletes what other requests still see.
local now_text, base_text = string.match(ARGV[2], '^(%S+) (%S+)$')
local now, base = tonumber(now_text), tonumber(base_text)
local index, expiry = ns .. 'index', ns .. 'expiry'

local function forget(names)
  for i = 1, #names, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #names) do
      chunk[#chunk + 1] = names[j]
      redis.call('DEL', ns .. 'e:' .. names[j])
    end
    redis.call('ZREM', index, unpack(chunk))
    redis.call('ZREM', expiry, unpack(chunk))
  end
end

-- A live entry's row {version, expires_at, metadata}, or nil when absent or due by our clock.
local function live(name)
  local row = redis.call('HMGET', ns .. 'e:' .. name, 'n', 'x', 'm')
  if not row[1] then return nil end
  if row[2] and tonumber(row[2]) <= now then return nil end
  return row
end
"""

_COMMIT = (
    _PRELUDE
    + """
-- Sweep a bounded batch of entries that are due by the provider's base clock (absent already).
local due = redis.call('ZRANGEBYSCORE', expiry, '-inf', base, 'LIMIT', 0, tonumber(ARGV[3]))
if #due > 0 then
  local gone = {}
  for _, name in ipairs(due) do
    local x = redis.call('HGET', ns .. 'e:' .. name, 'x')
    if x and tonumber(x) > base then
      redis.call('ZADD', expiry, tonumber(x), name)
    else
      gone[#gone + 1] = name
    end
  end
  forget(gone)
end

local marker = ns .. 'commit:' .. ARGV[4]
if redis.call('EXISTS', marker) == 1 then return 1 end  -- a retry of a commit that applied

local i = 6
local checks = tonumber(ARGV[i]); i = i + 1
for _ = 1, checks do
  local row = live(ARGV[i])
  local want = ARGV[i + 1]
  i = i + 2
  if want == '' then
    if row then return 0 end
  elseif not row or row[1] ~= want then
    return 0
  end
end

-- Redis expires keys by the wall clock; when the provider's clock lags behind it (frozen time in
-- tests), shift the Redis deadline so Redis never drops an entry the provider still sees as live.
local t = redis.call('TIME')
local lag = math.max(0, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - base * 1000)

local writes = tonumber(ARGV[i]); i = i + 1
for _ = 1, writes do
  local op = ARGV[i]
  if op == 'P' then
    local name, value, x, m = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    i = i + 5
    local key = ns .. 'e:' .. name
    local version = string.format('%d', redis.call('INCR', ns .. 'version'))
    redis.call('DEL', key)
    if x == '' then
      if m == '' then redis.call('HSET', key, 'v', value, 'n', version)
      else redis.call('HSET', key, 'v', value, 'n', version, 'm', m) end
      redis.call('ZREM', expiry, name)
    else
      if m == '' then redis.call('HSET', key, 'v', value, 'n', version, 'x', x)
      else redis.call('HSET', key, 'v', value, 'n', version, 'x', x, 'm', m) end
      redis.call('PEXPIREAT', key, math.ceil(tonumber(x) * 1000 + lag))
      redis.call('ZADD', expiry, tonumber(x), name)
    end
    redis.call('ZADD', index, 0, name)
  elseif op == 'D' then
    forget({ARGV[i + 1]})
    i = i + 2
  elseif op == 'X' then
    -- Byte 255 never occurs in UTF-8, so '(' .. prefix .. 255 bounds every key with this prefix.
    local lo, hi = '[' .. ARGV[i + 1], '(' .. ARGV[i + 1] .. '\\255'
    i = i + 2
    while true do
      local names = redis.call('ZRANGEBYLEX', index, lo, hi, 'LIMIT', 0, 500)
      if #names == 0 then break end
      forget(names)
    end
  else
    return redis.error_reply('unknown write ' .. tostring(op))
  end
end
redis.call('SET', marker, '1', 'PX', ARGV[5])
return 1
"""
)

_LIST = (
    _PRELUDE
    + """
local prefix, after, limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local lo = '[' .. prefix
if after ~= '' then lo = '(' .. after end
local hi = '(' .. prefix .. '\\255'
local out, found, more, dead = {0}, 0, false, {}
while not more do
  local names = redis.call('ZRANGEBYLEX', index, lo, hi, 'LIMIT', 0, math.min(limit + 1 - found + 16, 1024))
  if #names == 0 then break end
  for _, name in ipairs(names) do
    local row = live(name)
    if not row then
      local x = redis.call('HGET', ns .. 'e:' .. name, 'x')
      if (not x) or tonumber(x) <= base then
        dead[#dead + 1] = name  -- gone from Redis or due by the base clock: dropped now
      end
    elseif found == limit then
      more = true
      break
    else
      found = found + 1
      out[#out + 1] = name
      out[#out + 1] = row[2] or ''
      out[#out + 1] = row[3] or ''
    end
  end
  lo = '(' .. names[#names]
end
forget(dead)
if more then out[1] = 1 end
return out
"""
)

_UNAVAILABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError, asyncio.TimeoutError)


@contextlib.contextmanager
def _guarded() -> Iterator[None]:
    """Turn what a Redis outage looks like into :class:`StorageUnavailableError`."""
    try:
        yield
    except redis_errors.ReadOnlyError as exc:  # a replica promoted away from us: same as down
        raise StorageUnavailableError(f"redis is read-only: {exc}") from exc
    except _UNAVAILABLE as exc:
        raise StorageUnavailableError(f"redis is unavailable: {exc or type(exc).__name__}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisStorage:
    """The :class:`~oauth_reference.machinery.storage.Storage` interface on one Redis server."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        socket_timeout: float = 2.0,
        connect_timeout: float = 1.0,
        max_connections: int = 64,
    ) -> None:
        self._clock = clock
        self.namespace = namespace
        self.url = url
        # Every call is bounded: the socket timeouts, the wait for a pooled connection, and an
        # outer deadline, so a request never hangs on a stalled Redis.
        self._deadline = socket_timeout + connect_timeout + 1.0
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=socket_timeout,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=False,
        )
        self.redis = aioredis.Redis.from_pool(pool)
        self._commit_script = self.redis.register_script(_COMMIT)
        self._list_script = self.redis.register_script(_LIST)

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T:
        """One command or script, bounded in time, tried again once on a dropped connection.

        A pooled connection may predate a Redis restart and fail on first use; the second
        attempt takes a fresh one. Timeouts are not retried: a stalled Redis would double them.
        """
        with _guarded():
            async with asyncio.timeout(self._deadline):
                try:
                    return await call()
                except redis_errors.ConnectionError:
                    return await call()

    def key(self, name: str) -> str:
        """The Redis key that holds the entry ``name`` (for audits and tests)."""
        return f"{self.namespace}e:{name}"

    async def get(self, key: str) -> Entry | None:
        row = await self._run(lambda: self.redis.hmget(self.key(key), ["v", "n", "x", "m"]))
        value, version, expires, metadata = row
        if version is None:
            return None
        expires_at = float(expires) if expires is not None else None
        if expires_at is not None and expires_at <= self._clock.now():
            return None
        return Entry(
            value if isinstance(value, bytes) else b"",
            int(version),
            expires_at,
            orjson.loads(metadata) if metadata is not None else None,
        )

    def _times(self) -> str:
        """The script's clock argument: the request's time and the base time."""
        return f"{self._clock.now()!r} {base_now(self._clock)!r}"

    async def list(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> Page:
        limit = check_limit(limit)
        after = cursor if cursor and cursor >= prefix else ""
        args: list[str | int] = [self.namespace, self._times(), prefix, after, limit]
        reply = await self._run(lambda: self._list_script(args=args))
        more, rest = reply[0], reply[1:]
        keys = [
            ListedKey(
                _text(rest[i]),
                float(rest[i + 1]) if rest[i + 1] else None,
                orjson.loads(rest[i + 2]) if rest[i + 2] else None,
            )
            for i in range(0, len(rest), 3)
        ]
        return Page(keys, keys[-1].name if more and keys else None)

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        expect = expect or {}
        # The commit's id makes a retry safe: the script records it with the writes, and a retry
        # whose first attempt did apply (its reply lost) answers 1 without applying them again.
        commit_id = uuid.uuid4().hex
        args: list[bytes | str | int] = [
            self.namespace,
            self._times(),
            SWEEP_BATCH,
            commit_id,
            COMMIT_MEMORY_MS,
            len(expect),
        ]
        for key, version in expect.items():
            args += [key, "" if version is None else str(version)]
        args.append(len(writes))
        for write in writes:
            if isinstance(write, Put):
                args += [
                    "P",
                    write.key,
                    write.value,
                    "" if write.expires_at is None else repr(float(write.expires_at)),
                    b"" if write.metadata is None else orjson.dumps(write.metadata),
                ]
            elif isinstance(write, Delete):
                args += ["D", write.key]
            elif isinstance(write, DeletePrefix):
                args += ["X", write.prefix]
            else:  # pragma: no cover - the Write union is closed
                raise TypeError(f"unknown write {write!r}")
        # Checks and writes in one script, run atomically: ROBUST-HOSTILE-CONCURRENT-CODE
        done = await self._run(lambda: self._commit_script(args=args))
        return bool(done)

    async def ping(self) -> bool:
        """Whether Redis answers now (for health checks); never raises."""
        try:
            async with asyncio.timeout(self._deadline):
                return bool(await self.redis.ping())
        except (*_UNAVAILABLE, redis_errors.RedisError):
            return False

    async def close(self) -> None:
        await self.redis.aclose()
