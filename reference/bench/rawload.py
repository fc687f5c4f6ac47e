"""A fast load generator on :mod:`.rawhttp`, for benchmarks that compare providers side by side.

:mod:`.load` (httpx) tops out near 2,000 requests/s on one core, below what a fast provider
serves; this generator drives the same kinds of work over raw keep-alive connections (tens of
thousands of requests/s on one core with uvloop) and reports *units* per second:

``metadata``  one GET of the RFC 8414 document.
``api``       one GET of the API URL with a bearer access token.
``refresh``   one refresh with rotation; each client always presents its newest refresh token.
``flow``      a whole authorization: authorize with PKCE S256, following redirects that stay on the
              provider's origin with a cookie jar (a provider's own interaction pages) until the
              redirect to the client's redirect URI with a code, then the code exchange.
``null``      one GET of the target URL, any answer: the generator's own ceiling against a
              trivial server.

Clients are registered with RFC 7591 (public, ``none``) and given tokens before timing
(:func:`prepare`); :func:`measure` then runs one workload for a warm-up and a timed window, both
bounded, and counts the units that completed inside the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import TypeVar
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import orjson

from oauth_conformance.support.flows import pkce_pair
from reference.bench.cookies import REDIRECTS
from reference.bench.cookies import CookieJar
from reference.bench.cookies import same_origin_target
from reference.bench.load import latency_summary
from reference.bench.rawhttp import RawConnection
from reference.bench.rawhttp import RawHTTPError
from reference.bench.rawhttp import RawResponse

T = TypeVar("T")
WORKLOADS = ("metadata", "api", "refresh", "flow", "null")
REDIRECT_URI = "http://127.0.0.1:9/load-callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MAX_WINDOW = 120.0


class RawLoadError(Exception):
    """The target lacks what a workload needs, or setup failed."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The provider's endpoints as request targets on its origin (from its RFC 8414 metadata)."""

    origin: str
    metadata: str
    authorize: str
    token: str
    registration: str | None

    @classmethod
    async def discover(cls, url: str, *, timeout: float = 10.0) -> Endpoints:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        # RFC 8414 section 3.1: the well-known segment goes before the issuer's path, if any.
        metadata = f"/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"
        connection = RawConnection(origin, timeout=timeout)
        try:
            response = await connection.request("GET", metadata)
        finally:
            await connection.close()
        if response.status != 200:
            raise RawLoadError(f"no authorization server metadata at {origin}{metadata}")
        document = orjson.loads(response.body)

        def target(name: str) -> str | None:
            value = document.get(name)
            if not isinstance(value, str):
                return None
            found = same_origin_target(origin, "/", value)
            if found is None:
                raise RawLoadError(f"{name} is on another origin: {value}")
            return found

        authorize, token = target("authorization_endpoint"), target("token_endpoint")
        if authorize is None or token is None:
            raise RawLoadError("the metadata lacks authorization_endpoint or token_endpoint")
        return cls(origin, metadata, authorize, token, target("registration_endpoint"))


class RawVirtualClient:
    """One registered public client: a keep-alive connection, a cookie jar, its token family."""

    def __init__(
        self, endpoints: Endpoints, *, scope: str | None = None, api_path: str = "/api/whoami", timeout: float = 10.0
    ) -> None:
        self.endpoints = endpoints
        self.scope = scope
        self.api_path = api_path
        self.connection = RawConnection(endpoints.origin, timeout=timeout)
        self.jar = CookieJar()
        self.client_id = ""
        self.registered = False  # False again when the provider forgets the client (invalid_client)
        self.access: str | None = None
        self.refresh_token: str | None = None
        self.requests = 0  # HTTP requests sent, redirects followed included

    async def send(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RawResponse:
        cookie = self.jar.header(target)
        if cookie is not None:
            headers = {**(headers or {}), "Cookie": cookie}
        self.requests += 1
        response = await self.connection.request(method, target, headers, body)
        if response.cookies:
            self.jar.update(response.cookies, target)
        return response

    async def register(self) -> None:
        if self.endpoints.registration is None:
            raise RawLoadError("the provider offers no dynamic client registration (RFC 7591)")
        document = {
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "oauth-conformance rawload",
        }
        headers = {"Content-Type": "application/json"}
        response = await self.send("POST", self.endpoints.registration, headers, orjson.dumps(document))
        if response.status not in (200, 201):
            raise RawLoadError(f"client registration failed: HTTP {response.status} {response.body[:200]!r}")
        self.client_id = str(orjson.loads(response.body)["client_id"])
        self.registered = True

    def _failed(self, step: str, response: RawResponse) -> str:
        """A short, stable description of a failed step (the error code, never the body)."""
        code = ""
        if (response.header("content-type") or "").startswith("application/json"):
            with contextlib.suppress(ValueError, AttributeError):
                code = f" {orjson.loads(response.body).get('error')}"
        if code == " invalid_client":
            self.registered = False  # some stores evict clients (oidc-provider's in-memory LRU)
        return f"{step}: HTTP {response.status}{code}"

    async def authorize(self, challenge: str, state: str, max_hops: int = 8) -> str | None:
        """The code, after following same-origin redirects; None (or RawLoadError) otherwise."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
        }
        if self.scope:
            query["scope"] = self.scope
        target = f"{self.endpoints.authorize}?{urlencode(query)}"
        for _ in range(max_hops):
            response = await self.send("GET", target)
            location = response.header("location")
            if response.status not in REDIRECTS or location is None:
                raise RawLoadError(self._failed("authorize", response))
            following = same_origin_target(self.endpoints.origin, target, location)
            if following is None:
                params = parse_qs(urlsplit(location).query)
                if params.get("state") != [state]:
                    raise RawLoadError("the authorization response lost the state")
                return params["code"][0] if "code" in params else None
            target = following
        raise RawLoadError(f"more than {max_hops} redirects on the provider's origin")

    async def flow(self) -> str | None:
        verifier, challenge = pkce_pair()
        code = await self.authorize(challenge, secrets.token_urlsafe(8))
        if code is None:
            return "redirect without a code"
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
        }
        return await self._tokens(form)

    async def _tokens(self, form: dict[str, str]) -> str | None:
        response = await self.send("POST", self.endpoints.token, FORM, urlencode(form).encode())
        if response.status != 200:
            if form["grant_type"] == "refresh_token":
                self.refresh_token = None  # the family is gone: the next unit starts a new one
            return self._failed(form["grant_type"], response)
        body = orjson.loads(response.body)
        self.access = body.get("access_token")
        self.refresh_token = body.get("refresh_token")
        return None if self.access else "token: no access_token"

    async def refresh(self) -> str | None:
        if self.refresh_token is None:
            return "no refresh token"
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token, "client_id": self.client_id}
        return await self._tokens(form)

    async def api(self) -> str | None:
        response = await self.send("GET", self.api_path, {"Authorization": f"Bearer {self.access}"})
        if response.status != 200:
            self.access = None
            return f"api: HTTP {response.status}"
        return None

    async def metadata(self) -> str | None:
        response = await self.send("GET", self.endpoints.metadata)
        return None if response.status == 200 else f"metadata: HTTP {response.status}"

    async def null(self) -> str | None:
        await self.send("GET", "/")
        return None

    async def recover(self, workload: str) -> None:
        """Untimed: a client the provider forgot registers again, and one that lost its tokens
        gets a fresh family, before its next unit."""
        if workload in ("api", "refresh", "flow") and not self.registered:
            await self.register()
        if workload in ("api", "refresh") and (self.refresh_token is None or self.access is None):
            await self.flow()

    async def close(self) -> None:
        await self.connection.close()


Step = Callable[[RawVirtualClient], Awaitable[str | None]]
STEPS: dict[str, Step] = {
    "metadata": RawVirtualClient.metadata,
    "api": RawVirtualClient.api,
    "refresh": RawVirtualClient.refresh,
    "flow": RawVirtualClient.flow,
    "null": RawVirtualClient.null,
}


async def prepare(
    url: str, count: int, *, tokens: bool = True, scope: str | None = None, api_path: str = "/api/whoami"
) -> list[RawVirtualClient]:
    """``count`` registered clients, each with a token family when ``tokens``; sequential, untimed."""
    endpoints = await Endpoints.discover(url)
    clients = [RawVirtualClient(endpoints, scope=scope, api_path=api_path) for _ in range(count)]
    for client in clients:
        await client.register()
        if tokens:
            error = await client.flow()
            if error is not None:
                raise RawLoadError(f"could not obtain tokens before timing: {error}")
    return clients


async def measure(
    clients: Sequence[RawVirtualClient],
    workload: str,
    *,
    duration: float,
    warmup: float,
    on_window: Callable[[str], object] | None = None,
) -> dict[str, Any]:
    """Run ``workload`` on every client for ``warmup`` then ``duration`` seconds; units that
    complete inside the timed window are counted, with their latencies. ``on_window`` is called
    with ``"begin"`` and ``"end"`` at the window's edges (to read a server's CPU time, say)."""
    if workload not in STEPS:
        raise RawLoadError(f"unknown workload {workload!r}: one of {', '.join(WORKLOADS)}")
    if not 0 < duration <= MAX_WINDOW or not 0 <= warmup <= MAX_WINDOW:
        raise RawLoadError(f"duration and warm-up must be within {MAX_WINDOW:.0f} seconds")
    step = STEPS[workload]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    requests = 0
    begin = time.perf_counter() + warmup
    end = begin + duration

    async def worker(client: RawVirtualClient) -> None:
        nonlocal requests
        while time.perf_counter() < end:
            with contextlib.suppress(RawHTTPError, RawLoadError):
                await client.recover(workload)  # a failure shows in the unit that follows
            sent = client.requests
            started = time.perf_counter()
            try:
                error = await step(client)
            except (RawHTTPError, RawLoadError, ValueError, KeyError) as exc:
                error = f"{type(exc).__name__}: {str(exc)[:120]}"
            finished = time.perf_counter()
            if begin <= finished <= end:
                requests += client.requests - sent
                if error is None:
                    latencies.append((finished - started) * 1000)
                else:
                    errors[error] += 1
            if error is not None:
                await asyncio.sleep(0.01)  # a failing target must not turn the loop into a spin

    async def clock() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, begin - time.perf_counter()))
        cpu = time.process_time()
        if on_window is not None:
            on_window("begin")
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        cpu_end = time.process_time()
        if on_window is not None:
            on_window("end")
        return cpu, cpu_end

    timer = asyncio.ensure_future(clock())
    await asyncio.wait_for(asyncio.gather(*(worker(c) for c in clients)), warmup + duration + 60)
    cpu_start, cpu_end = await timer
    latencies.sort()
    units = len(latencies)
    return {
        "workload": workload,
        "concurrency": len(clients),
        "duration_s": duration,
        "units": units,
        "units_per_s": round(units / duration, 1),
        "requests": requests,
        "requests_per_s": round(requests / duration, 1),
        "requests_per_unit": round(requests / max(units + sum(errors.values()), 1), 2),
        "errors": sum(errors.values()),
        "error_counts": dict(errors.most_common(5)),
        "latency_ms": latency_summary(latencies),
        "generator_cpu_cores": round((cpu_end - cpu_start) / duration, 2),
    }


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (it lifts the generator's ceiling), else on asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
