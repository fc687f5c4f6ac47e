"""A load generator for any OAuth 2.1 provider whose ``/authorize`` approves by itself.

    python -m reference.bench.load URL --scenario flow --concurrency 16 --duration 10 --json out.json

Scenarios (each virtual client is one asyncio task; requests are timed one by one):

``metadata``  GET the authorization server metadata (RFC 8414).
``flow``      authorize with PKCE S256 (expects a 302 carrying a code) plus the code exchange;
              clients are registered with RFC 7591 before timing starts.
``refresh``   refresh with rotation: each client holds one token family, obtained before timing,
              and always presents the newest refresh token of it.
``api``       GET an API URL (``--api-url``, default ``<URL>/api/whoami``) with an access token
              obtained before timing.
``revoke``    RFC 7009 revocation of access tokens minted (by refreshes) before timing.
``mixed``     every client loops over flows, refreshes, API calls, revocations of access and of
              refresh tokens (which end the family: the next step is a new flow) and metadata.
``null``      GET ``URL`` and accept any answer: against the trivial server that
              ``--null-server`` starts, this measures the tool's own ceiling.

Runs are bounded: by ``--duration`` (at most 600 s) and optionally ``--max-requests``. Exit
status: 0 after a run (whatever its errors: they are in the result), 2 on bad options or a target
without the endpoints a scenario needs, 3 when nothing answers at the target. The
result (requests/s, p50/p90/p99 latency per operation, status and error counts) is printed and
written as JSON with ``--json``. ``--via URL`` sends the requests to other addresses of the same
deployment (several processes behind one origin) with the target's ``Host`` header, round robin.
``--ledger FILE`` writes what the run believes the provider now holds (grant ids and SHA-256
hashes of the live tokens, never a token), for tokens in the seed library's shape
``userId:grantId:secret``; a store audit compares it with the store. The JSON result also has a
timeline: the answers of each second of the run and its slowest request.

From Python: ``await run(LoadConfig(...))`` returns a :class:`LoadRun` (the result and the ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import math
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar
from typing import cast
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx

T = TypeVar("T")
SCENARIOS = ("metadata", "flow", "refresh", "api", "revoke", "mixed", "null")
MAX_DURATION = 600.0
REDIRECT_URI = "http://127.0.0.1:9/load-callback"
# Weights of the steps of the mixed scenario: mostly API calls, as real traffic is.
MIXED_WEIGHTS = {
    "api": 45,
    "refresh": 20,
    "flow": 15,
    "metadata": 10,
    "revoke_access": 5,
    "revoke_refresh": 5,
}


class LoadError(Exception):
    """The run cannot start: bad options or a missing endpoint (exit status 2)."""


class TargetUnreachable(LoadError):
    """Nothing answers at the target (exit status 3)."""


@dataclass(frozen=True, slots=True)
class LoadConfig:
    target: str
    scenario: str = "flow"
    concurrency: int = 16
    duration: float = 10.0
    max_requests: int | None = None
    api_url: str | None = None
    via: tuple[str, ...] = ()
    timeout: float = 10.0
    scope: str | None = None
    revoke_pool: int = 50  # access tokens minted per client before a revoke run
    seed: int | None = None

    def check(self) -> None:
        if self.scenario not in SCENARIOS:
            raise LoadError(f"unknown scenario {self.scenario!r}: one of {', '.join(SCENARIOS)}")
        if not 1 <= self.concurrency <= 4096:
            raise LoadError("concurrency must be between 1 and 4096")
        if not 0 < self.duration <= MAX_DURATION:
            raise LoadError(f"duration must be more than 0 and at most {MAX_DURATION:.0f} seconds")
        if self.max_requests is not None and self.max_requests < 1:
            raise LoadError("max-requests must be positive")
        if not 0 < self.timeout <= 120:
            raise LoadError("timeout must be more than 0 and at most 120 seconds")
        for url in (self.target, *self.via):
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise LoadError(f"not an http(s) URL: {url!r}")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(slots=True)
class OpStats:
    """Latencies (ms) and outcomes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0

    def summary(self, elapsed: float) -> dict[str, Any]:
        values = sorted(self.latencies)
        return {
            "requests": len(values),
            "ok": self.ok,
            "errors": self.errors,
            "requests_per_s": round(len(values) / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_ms": latency_summary(values),
        }


def latency_summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 2),
        "p90": round(percentile(values, 90), 2),
        "p99": round(percentile(values, 99), 2),
        "mean": round(sum(values) / len(values), 2) if values else 0.0,
        "max": round(values[-1], 2) if values else 0.0,
    }


class LatencyRecorder:
    """Every timed request: its operation, latency, status, and the second it started in."""

    def __init__(self) -> None:
        self.ops: dict[str, OpStats] = defaultdict(OpStats)
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.timeline: dict[int, Counter[str]] = defaultdict(Counter)
        self.slowest: dict[int, float] = defaultdict(float)
        self.started = time.perf_counter()
        self.active = False  # requests made before timing starts (setup) are not recorded

    def add(self, op: str, began: float, status: str, error: str | None) -> None:
        if not self.active:
            return
        latency = (time.perf_counter() - began) * 1000
        stats = self.ops[op]
        stats.latencies.append(latency)
        self.statuses[status] += 1
        second = int(began - self.started)
        self.timeline[second][status] += 1
        self.slowest[second] = max(self.slowest[second], latency)
        if error is None:
            stats.ok += 1
        else:
            stats.errors += 1
            self.errors[f"{op}: {error}"] += 1

    def reclassify(self, op: str, error: str) -> None:
        """A request that was answered as expected turned out wrong (a redirect without a code)."""
        if self.active:
            self.ops[op].ok -= 1
            self.ops[op].errors += 1
            self.errors[f"{op}: {error}"] += 1


@dataclass
class GrantRecord:
    """What the run believes about one grant (hashes only)."""

    client_id: str
    user_id: str
    live: bool = True
    uncertain: bool = False
    access: set[str] = field(default_factory=set)
    refresh: str | None = None


class Ledger:
    """What the provider should hold after the run, for an audit of its store.

    A request whose outcome is unknown (a transport error, a timeout, a 5xx) makes its grant, or
    for an authorization its client, ``uncertain``: the audit then checks only the structure.
    """

    def __init__(self) -> None:
        self.grants: dict[str, GrantRecord] = {}
        self.clients: dict[str, dict[str, Any]] = {}

    def client(self, client_id: str) -> None:
        self.clients.setdefault(client_id, {"uncertain": False, "grants": []})

    def client_uncertain(self, client_id: str) -> None:
        self.clients[client_id]["uncertain"] = True
        for grant_id in self.clients[client_id]["grants"]:
            self.grants[grant_id].uncertain = True

    def new_grant(self, client_id: str, code: str) -> str | None:
        ids = split_token(code)
        if ids is None:
            return None
        user_id, grant_id = ids
        # Re-authorization revokes the user's other grants for this client (the seed's default).
        for other in self.clients[client_id]["grants"]:
            self.grants[other].live = False
        self.clients[client_id]["grants"].append(grant_id)
        self.grants[grant_id] = GrantRecord(client_id, user_id)
        return grant_id

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "clients": self.clients,
            "grants": {gid: {**asdict(g), "access": sorted(g.access)} for gid, g in sorted(self.grants.items())},
        }


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split(":")
    return (parts[0], parts[1]) if len(parts) == 3 and all(parts) else None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class Router:
    """Where a request goes: the target, or round robin over ``via`` with the target's Host."""

    def __init__(self, target: str, via: Sequence[str]) -> None:
        parts = urlsplit(target)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.via = [v.rstrip("/") for v in via]
        self._next = itertools.cycle(range(len(self.via))) if self.via else None

    def route(self, url: str) -> tuple[str, dict[str, str]]:
        if self._next is None or not url.startswith(self.origin):
            return url, {}
        backend = self.via[next(self._next)]
        return backend + url[len(self.origin) :], {"Host": self.host}


class Budget:
    """The run's bounds: a deadline and an optional number of requests."""

    def __init__(self, duration: float, max_requests: int | None) -> None:
        self.deadline = time.perf_counter() + duration
        self.left = max_requests

    def take(self) -> bool:
        if time.perf_counter() >= self.deadline:
            return False
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class Session:
    """The shared state of a run: endpoints, recorder, ledger, budget."""

    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.router = Router(config.target, config.via)
        self.recorder = LatencyRecorder()
        self.ledger = Ledger()
        # RFC 8414 section 3.1: the well-known segment goes before the issuer's path, if any.
        issuer_path = urlsplit(config.target).path.rstrip("/")
        self.metadata_url = f"{self.router.origin}/.well-known/oauth-authorization-server{issuer_path}"
        self.meta: dict[str, Any] = {}
        self.api_url = config.api_url or config.target.rstrip("/") + "/api/whoami"
        self.budget = Budget(config.duration, None)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client for one virtual client: a pool of its own, one connection per backend.

        One pool shared by every task serializes them on its lock; separate pools do not.
        """
        backends = max(1, len(self.config.via))
        limits = httpx.Limits(max_connections=backends, max_keepalive_connections=backends)
        timeout = httpx.Timeout(self.config.timeout, connect=min(self.config.timeout, 5.0))
        return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)

    async def request(
        self, http: httpx.AsyncClient, op: str, method: str, url: str, *, expect: int | None, **kwargs: Any
    ) -> httpx.Response | None:
        """One timed request; ``None`` when it failed in transport (recorded as an error)."""
        target, headers = self.router.route(url)
        headers |= kwargs.pop("headers", {})
        began = time.perf_counter()
        try:
            response = await http.request(method, target, headers=headers, **kwargs)
        except httpx.TimeoutException:
            self.recorder.add(op, began, "timeout", "timeout")
            return None
        except httpx.TransportError as exc:
            self.recorder.add(op, began, "transport", f"transport {type(exc).__name__}")
            return None
        status = str(response.status_code)
        error = None
        if expect is not None and response.status_code != expect:
            error = f"status {status}{_error_code(response)}"
        self.recorder.add(op, began, status, error)
        return response

    async def discover(self) -> None:
        async with self.client() as http:
            response = await self.request(http, "metadata", "GET", self.metadata_url, expect=200)
        if response is None:
            raise TargetUnreachable(f"nothing answers at {self.metadata_url}")
        if response.status_code != 200:
            raise LoadError(f"no authorization server metadata at {self.metadata_url}")
        try:
            self.meta = dict(response.json())
        except ValueError:
            raise LoadError("the authorization server metadata is not JSON") from None
        for name in ("authorization_endpoint", "token_endpoint"):
            if not isinstance(self.meta.get(name), str):
                raise LoadError(f"the metadata has no {name}")

    @property
    def revocation_endpoint(self) -> str:
        return str(self.meta.get("revocation_endpoint") or self.meta["token_endpoint"])


def _error_code(response: httpx.Response) -> str:
    """`` error_code`` from a JSON error body, `` (not JSON)`` for a 5xx without one."""
    try:
        body = response.json()
    except ValueError:
        return " (not JSON)" if response.status_code >= 500 else ""
    code = body.get("error") if isinstance(body, dict) else None
    return f" {code}" if isinstance(code, str) else ""


class HttpxVirtualClient:
    """One registered public client and its current token family."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.http = session.client()
        self.client_id = ""
        self.access: str | None = None
        self.refresh_token: str | None = None
        self.grant_id: str | None = None
        self.pool: list[str] = []

    def _uncertain_grant(self) -> None:
        if self.grant_id is not None:
            self.s.ledger.grants[self.grant_id].uncertain = True

    async def register(self) -> None:
        endpoint = self.s.meta.get("registration_endpoint")
        if not isinstance(endpoint, str):
            raise LoadError("this scenario needs dynamic client registration (RFC 7591)")
        body = {
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "client_name": "oauth-conformance load",
        }
        response = await self.s.request(self.http, "register", "POST", endpoint, expect=201, json=body)
        if response is None or response.status_code != 201:
            raise LoadError(f"client registration failed: HTTP {response.status_code if response else 'error'}")
        self.client_id = str(response.json()["client_id"])
        self.s.ledger.client(self.client_id)

    async def flow(self) -> bool:
        """Authorize (auto-approved) and exchange the code; the old family is then gone."""
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(8),
        }
        if self.s.config.scope:
            params["scope"] = self.s.config.scope
        response = await self.s.request(
            self.http, "authorize", "GET", self.s.meta["authorization_endpoint"], expect=302, params=params
        )
        if response is None or response.status_code >= 500:
            self.s.ledger.client_uncertain(self.client_id)
            self.access = self.refresh_token = self.grant_id = None
            return False
        if response.status_code != 302:
            return False
        code = parse_qs(urlsplit(response.headers.get("location", "")).query).get("code", [None])[0]
        if code is None:
            self.s.recorder.reclassify("authorize", "redirect without a code")
            return False
        self.access = self.refresh_token = None
        self.grant_id = self.s.ledger.new_grant(self.client_id, code)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
        }
        return await self._tokens("token", data)

    async def _tokens(self, op: str, data: dict[str, str]) -> bool:
        response = await self.s.request(self.http, op, "POST", self.s.meta["token_endpoint"], expect=200, data=data)
        if response is None or response.status_code >= 500:
            self._uncertain_grant()
            self.access = self.refresh_token = None
            return False
        if response.status_code != 200:
            return False
        body = response.json()
        self.access = body.get("access_token")
        self.refresh_token = body.get("refresh_token") or self.refresh_token
        if self.grant_id is not None and self.access:
            record = self.s.ledger.grants[self.grant_id]
            record.access.add(sha256(self.access))
            record.refresh = sha256(self.refresh_token) if self.refresh_token else None
        return True

    async def refresh(self) -> bool:
        if self.refresh_token is None:
            return await self.flow()
        data = {"grant_type": "refresh_token", "refresh_token": self.refresh_token, "client_id": self.client_id}
        return await self._tokens("refresh", data)

    async def api(self) -> bool:
        if self.access is None:
            return await self.refresh()
        headers = {"Authorization": f"Bearer {self.access}"}
        response = await self.s.request(self.http, "api", "GET", self.s.api_url, expect=200, headers=headers)
        return response is not None and response.status_code == 200

    async def revoke(self, token: str, *, refresh: bool) -> bool:
        data = {"token": token, "token_type_hint": "refresh_token" if refresh else "access_token"}
        data["client_id"] = self.client_id
        response = await self.s.request(self.http, "revoke", "POST", self.s.revocation_endpoint, expect=200, data=data)
        if response is None or response.status_code >= 500:
            self._uncertain_grant()
            return False
        if response.status_code != 200 or self.grant_id is None:
            return response.status_code == 200
        record = self.s.ledger.grants[self.grant_id]
        if refresh:
            record.live = False
        else:
            record.access.discard(sha256(token))
        return True

    async def revoke_access(self) -> bool:
        if self.access is None:
            return await self.refresh()
        token, self.access = self.access, None
        return await self.revoke(token, refresh=False)

    async def revoke_refresh(self) -> bool:
        if self.refresh_token is None:
            return await self.flow()
        token = self.refresh_token
        self.access = self.refresh_token = None
        done = await self.revoke(token, refresh=True)
        self.grant_id = None
        return done

    async def metadata(self) -> bool:
        response = await self.s.request(self.http, "metadata", "GET", self.s.metadata_url, expect=200)
        return response is not None and response.status_code == 200

    async def revoke_from_pool(self) -> bool:
        if not self.pool:
            return False
        return await self.revoke(self.pool.pop(), refresh=False)

    async def null(self) -> bool:
        response = await self.s.request(self.http, "null", "GET", self.s.config.target, expect=None)
        return response is not None


Step = Callable[[HttpxVirtualClient], Awaitable[bool]]


def _mixed_step(rng: random.Random) -> Step:
    names = list(MIXED_WEIGHTS)
    weights = list(MIXED_WEIGHTS.values())

    async def step(client: HttpxVirtualClient) -> bool:
        if client.refresh_token is None and client.access is None:
            return await client.flow()
        action: Callable[[], Awaitable[bool]] = getattr(client, rng.choices(names, weights)[0])
        return await action()

    return step


async def _setup(session: Session, clients: list[HttpxVirtualClient]) -> None:
    scenario = session.config.scenario
    if scenario in ("null", "metadata"):
        return

    async def prepare(client: HttpxVirtualClient) -> None:
        await client.register()
        if scenario in ("refresh", "api", "revoke") and not await client.flow():
            raise LoadError("could not obtain tokens before the run: does /authorize approve by itself?")
        if scenario == "revoke":
            for _ in range(session.config.revoke_pool):
                if not await client.refresh() or client.access is None:
                    raise LoadError("could not mint access tokens for the revoke run")
                client.pool.append(client.access)

    # Setup runs at a bounded concurrency so that it does not itself overload the target.
    gate = asyncio.Semaphore(min(16, len(clients)))

    async def gated(client: HttpxVirtualClient) -> None:
        async with gate:
            await prepare(client)

    await asyncio.gather(*(gated(c) for c in clients))


def _step_for(scenario: str, rng: random.Random) -> Step:
    table: dict[str, Step] = {
        "metadata": HttpxVirtualClient.metadata,
        "flow": HttpxVirtualClient.flow,
        "refresh": HttpxVirtualClient.refresh,
        "api": HttpxVirtualClient.api,
        "revoke": HttpxVirtualClient.revoke_from_pool,
        "null": HttpxVirtualClient.null,
    }
    return _mixed_step(rng) if scenario == "mixed" else table[scenario]


@dataclass(frozen=True, slots=True)
class LoadRun:
    result: dict[str, Any]  # the JSON document --json writes
    ledger: Ledger


async def run(config: LoadConfig, *, on_start: Callable[[], None] | None = None) -> LoadRun:
    """Run one bounded load; ``on_start`` is called when setup is done and timing begins."""
    config.check()
    rng = random.Random(config.seed)
    session = Session(config)
    if config.scenario != "null":
        await session.discover()
    async with contextlib.AsyncExitStack() as stack:
        clients: list[HttpxVirtualClient] = []
        for _ in range(config.concurrency):
            clients.append(HttpxVirtualClient(session))
            await stack.enter_async_context(clients[-1].http)
        await _setup(session, clients)
        step = _step_for(config.scenario, rng)
        iterations = Counter[str]()

        async def worker(client: HttpxVirtualClient) -> None:
            while session.budget.take():
                iterations["ok" if await step(client) else "failed"] += 1
                if config.scenario == "revoke" and not client.pool:
                    return

        session.budget = Budget(config.duration, config.max_requests)
        session.recorder.started = time.perf_counter()
        session.recorder.active = True
        started_at = time.time()
        cpu = time.process_time()
        if on_start is not None:
            on_start()
        await asyncio.gather(*(worker(c) for c in clients))
        elapsed = time.perf_counter() - session.recorder.started
        cpu = time.process_time() - cpu
        session.recorder.active = False
    result = _result(config, session, elapsed, iterations)
    result["started_at"] = round(started_at, 3)
    # The generator's own CPU use, in cores: near 1.0 it may be what limits the throughput.
    result["generator_cpu_cores"] = round(cpu / elapsed, 2) if elapsed > 0 else 0.0
    return LoadRun(result, session.ledger)


def _result(config: LoadConfig, session: Session, elapsed: float, iterations: Counter[str]) -> dict[str, Any]:
    recorder = session.recorder
    everything = sorted(v for s in recorder.ops.values() for v in s.latencies)
    errors = sum(s.errors for s in recorder.ops.values())
    return {
        "schema_version": 1,
        "tool": "reference.bench.load",
        "target": config.target,
        "via": list(config.via),
        "scenario": config.scenario,
        "concurrency": config.concurrency,
        "duration_s": round(elapsed, 3),
        "max_requests": config.max_requests,
        "requests": len(everything),
        "ok": len(everything) - errors,
        "errors": errors,
        "iterations": dict(iterations),
        "requests_per_s": round(len(everything) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": latency_summary(everything),
        "operations": {op: stats.summary(elapsed) for op, stats in sorted(recorder.ops.items())},
        "statuses": dict(sorted(recorder.statuses.items())),
        "error_counts": dict(recorder.errors.most_common()),
        "timeline": [
            {"second": sec, "statuses": dict(recorder.timeline[sec]), "slowest_ms": round(recorder.slowest[sec], 1)}
            for sec in sorted(recorder.timeline)
        ],
    }


# The trivial server for the tool's ceiling: raw asyncio, one fixed answer, keep-alive.
_NULL_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


class _NullProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)  # requests without bodies only
            self.transport.write(_NULL_RESPONSE)


async def _serve_null(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_NullProtocol, host, port)
    bound = server.sockets[0].getsockname()
    print(f"serving http://{bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


@contextlib.contextmanager
def null_server(timeout: float = 15.0) -> Iterator[str]:
    """Start the trivial server in a child process on a free loopback port; stop it by PID."""
    command = [sys.executable, "-m", "reference.bench.load", "--serve-null"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.startswith(b"serving "):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise LoadError("the null server did not start")
        if not line.startswith(b"serving "):
            raise LoadError("the null server did not start in time")
        yield line.decode().split(" ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        process.stdout.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference.bench.load",
        description="Load an OAuth 2.1 provider whose /authorize approves by itself; report throughput and latency.",
    )
    parser.add_argument("target", nargs="?", help="the provider's base URL (its issuer)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="flow")
    parser.add_argument("--concurrency", type=int, default=16, help="virtual clients (default 16)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help=f"seconds (default 10, at most {MAX_DURATION:.0f})"
    )
    parser.add_argument("--max-requests", type=int, help="stop after this many timed requests")
    parser.add_argument("--api-url", help="the API URL of the api and mixed scenarios (default <URL>/api/whoami)")
    parser.add_argument("--via", action="append", default=[], help="send requests to this address instead (repeat)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    parser.add_argument("--scope", help="scope to request in flows")
    parser.add_argument("--revoke-pool", type=int, default=50, help="access tokens per client for revoke (default 50)")
    parser.add_argument("--seed", type=int, help="seed of the mixed scenario's choices")
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    parser.add_argument("--ledger", metavar="FILE", help="write what the provider should now hold (hashes)")
    parser.add_argument("--null-server", action="store_true", help="run against a trivial local server (null)")
    parser.add_argument("--serve-null", action="store_true", help=argparse.SUPPRESS)
    return parser


def _announce() -> None:
    # A supervising process (the fault benchmark) waits for this line to time its faults.
    print("load: timing starts", file=sys.stderr, flush=True)


def _summary_line(result: dict[str, Any]) -> str:
    latency = result["latency_ms"]
    return (
        f"{result['scenario']}: {result['requests']} requests in {result['duration_s']:.1f}s = "
        f"{result['requests_per_s']:.0f}/s, p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, "
        f"{result['errors']} errors"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.serve_null:
        _run_fast(_serve_null("127.0.0.1", 0))
        return 0
    try:
        with contextlib.ExitStack() as stack:
            target = args.target
            if args.null_server:
                target = stack.enter_context(null_server())
                args.scenario = "null"
            if not target:
                raise LoadError("give the target URL (or --null-server)")
            config = LoadConfig(
                target=target,
                scenario=args.scenario,
                concurrency=args.concurrency,
                duration=args.duration,
                max_requests=args.max_requests,
                api_url=args.api_url,
                via=tuple(args.via),
                timeout=args.timeout,
                scope=args.scope,
                revoke_pool=args.revoke_pool,
                seed=args.seed,
            )
            outcome = _run_fast(run(config, on_start=_announce))
    except TargetUnreachable as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 3
    except LoadError as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"load: the target is unreachable: {exc}", file=sys.stderr)
        return 3
    if args.ledger:
        _write(args.ledger, outcome.ledger.as_json())
    if args.json:
        _write(args.json, outcome.result)
    print(_summary_line(outcome.result))
    return 0


def _run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (it lifts the tool's ceiling), else on asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _write(path: str, document: dict[str, Any]) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, sort_keys=False)
        out.write("\n")


if __name__ == "__main__":
    raise SystemExit(main())
