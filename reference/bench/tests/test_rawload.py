"""The raw load generator: its cookie jar, same-origin redirects, and a redirect dance against a
tiny local server that approves the way oidc-provider does (cookies scoped to interaction paths)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode

import pytest

from reference.bench.cookies import CookieJar
from reference.bench.cookies import default_path
from reference.bench.cookies import path_matches
from reference.bench.cookies import same_origin_target
from reference.bench.rawload import REDIRECT_URI
from reference.bench.rawload import Endpoints
from reference.bench.rawload import RawLoadError
from reference.bench.rawload import RawVirtualClient
from reference.bench.rawload import measure

ORIGIN = "http://127.0.0.1:8080"


def test_default_path_is_the_directory_of_the_request_path() -> None:
    assert default_path("/auth") == "/"
    assert default_path("/interaction/abc") == "/interaction"
    assert default_path("") == "/"


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "matches"),
    [
        ("/interaction/abc", "/interaction/abc", True),
        ("/interaction/abc/x", "/interaction/abc", True),
        ("/interaction/abcd", "/interaction/abc", False),
        ("/auth/abc", "/interaction/abc", False),
        ("/anything", "/", True),
    ],
)
def test_path_matching_follows_rfc6265(request_path: str, cookie_path: str, matches: bool) -> None:
    assert path_matches(request_path, cookie_path) is matches


def test_jar_sends_matching_cookies_longest_path_first() -> None:
    jar = CookieJar()
    jar.update(["_session=s1; path=/; httponly", "_interaction=i1; path=/interaction/abc; samesite=lax"], "/auth")
    assert jar.header("/interaction/abc?x=1") == "_interaction=i1; _session=s1"
    assert jar.header("/auth/abc") == "_session=s1"
    assert CookieJar().header("/") is None


def test_jar_deletes_by_max_age_or_past_expires_and_max_age_wins() -> None:
    jar = CookieJar()
    jar.update(["a=1; path=/", "b=2; path=/", "c=3; path=/"], "/")
    jar.update(
        [
            "a=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "b=; path=/; max-age=0",
            "c=4; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; max-age=60",
        ],
        "/",
    )
    assert jar.header("/") == "c=4"


def test_jar_keeps_cookies_with_the_same_name_on_different_paths() -> None:
    jar = CookieJar()
    jar.update(["n=root; path=/", "n=deep; path=/a"], "/")
    assert jar.header("/a/b") == "n=deep; n=root"
    assert len(jar) == 2


def test_jar_ignores_cookies_without_a_name_value_pair() -> None:
    jar = CookieJar()
    jar.update(["garbage", "=nameless"], "/")
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/interaction/abc", "/interaction/abc"),
        ("http://127.0.0.1:8080/auth/abc?x=1", "/auth/abc?x=1"),
        ("HTTP://127.0.0.1:8080/auth", "/auth"),
        ("next", "/auth/next"),
        ("http://127.0.0.1:9/load-callback?code=x", None),
        ("https://127.0.0.1:8080/auth", None),
    ],
)
def test_same_origin_targets(location: str, expected: str | None) -> None:
    assert same_origin_target(ORIGIN, "/auth/start?q=1", location) == expected


# --- a tiny provider that approves through an interaction page with cookies -----------------

Handler = Callable[[str, str, dict[str, str]], tuple[int, list[tuple[str, str]], bytes]]


def interaction_provider() -> Handler:
    """GET /auth -> 303 /interaction/<uid> (cookie on that path) -> 303 /auth/<uid> (cookie on that
    path) -> 303 to the redirect URI with a code; POST /token -> tokens. Without the cookies: 400."""

    def handle(method: str, target: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        path, _, query = target.partition("?")
        cookies = headers.get("cookie", "")
        refused = (400, [("Content-Type", "application/json")], b'{"error":"invalid_request"}')
        if method == "GET" and path == "/auth":
            uid = parse_qs(query)["state"][0]  # the interaction's id; here simply the state
            return 303, [("Location", f"/interaction/{uid}"), ("Set-Cookie", f"_i={uid}; path=/interaction/{uid}")], b""
        if method == "GET" and path.startswith("/interaction/"):
            uid = path.rsplit("/", 1)[1]
            if f"_i={uid}" not in cookies:
                return refused
            resume = [("Set-Cookie", f"_r={uid}; path=/auth/{uid}; expires=Fri, 01 Jan 2100 00:00:00 GMT")]
            return 303, [("Location", f"http://127.0.0.1:%PORT%/auth/{uid}"), *resume], b""
        if method == "GET" and path.startswith("/auth/"):
            uid = path.rsplit("/", 1)[1]
            if f"_r={uid}" not in cookies or "_i=" in cookies:
                return refused
            location = f"{REDIRECT_URI}?{urlencode({'code': 'the-code', 'state': uid})}"
            return 303, [("Location", location), ("Set-Cookie", "_session=s; path=/")], b""
        if method == "POST" and path == "/token":
            return 200, [("Content-Type", "application/json")], b'{"access_token":"at","refresh_token":"rt"}'
        if path == "/.well-known/oauth-authorization-server":
            doc = b'{"authorization_endpoint":"%ORIGIN%/auth","token_endpoint":"%ORIGIN%/token"}'
            return 200, [("Content-Type", "application/json")], doc
        return 404, [], b""

    return handle


@asynccontextmanager
async def tiny_server(handler: Handler) -> AsyncIterator[str]:
    """A keep-alive HTTP/1.1 server on loopback; bodies by Content-Length only."""
    port = 0
    writers: set[asyncio.StreamWriter] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
                await reader.readexactly(int(headers.get("content-length", "0")))
                status, out, body = handler(method, target, headers)
                origin = f"http://127.0.0.1:{port}"
                body = body.replace(b"%ORIGIN%", origin.encode())
                response = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
                response += [f"{k}: {v.replace('%PORT%', str(port))}" for k, v in out]
                writer.write(("\r\n".join(response) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with server:
            yield f"http://127.0.0.1:{port}"
    finally:
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.01)  # let the handlers see their connections end


def test_a_flow_follows_the_interaction_redirects_with_cookies() -> None:
    async def go() -> tuple[str | None, int, str | None, int]:
        async with tiny_server(interaction_provider()) as url:
            client = RawVirtualClient(await Endpoints.discover(url), scope="api:read")
            client.registered = True
            try:
                error = await client.flow()
                return error, client.requests, client.access, len(client.jar)
            finally:
                await client.close()

    error, requests, access, cookies = asyncio.run(go())
    assert error is None
    assert requests == 4  # /auth, /interaction/<uid>, /auth/<uid>, then the token request
    assert access == "at"
    assert cookies == 3


def test_a_flow_without_cookies_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> None:
        async with tiny_server(interaction_provider()) as url:
            client = RawVirtualClient(await Endpoints.discover(url))
            monkeypatch.setattr(client.jar, "update", lambda set_cookies, request_path: None)
            try:
                await client.flow()
            finally:
                await client.close()

    with pytest.raises(RawLoadError, match="authorize: HTTP 400 invalid_request"):
        asyncio.run(go())


def test_measure_counts_units_and_requests_in_its_window() -> None:
    async def go() -> dict[str, Any]:
        async with tiny_server(interaction_provider()) as url:
            clients = [RawVirtualClient(await Endpoints.discover(url)) for _ in range(2)]
            marks: list[str] = []
            try:
                result = await measure(clients, "flow", duration=0.3, warmup=0.05, on_window=marks.append)
            finally:
                for client in clients:
                    await client.close()
            result["marks"] = marks
            return result

    result = asyncio.run(go())
    assert result["errors"] == 0
    assert result["marks"] == ["begin", "end"]
    assert result["concurrency"] == 2
    assert result["units"] and result["requests"] == 4 * result["units"]


def test_unknown_workloads_and_unbounded_windows_are_refused() -> None:
    with pytest.raises(RawLoadError, match="unknown workload"):
        asyncio.run(measure([], "stampede", duration=1, warmup=0))
    with pytest.raises(RawLoadError, match="within"):
        asyncio.run(measure([], "metadata", duration=10_000, warmup=0))


def test_endpoints_on_another_origin_are_refused() -> None:
    def handler(method: str, target: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        doc = b'{"authorization_endpoint":"http://elsewhere.example/auth","token_endpoint":"%ORIGIN%/token"}'
        return 200, [("Content-Type", "application/json")], doc

    async def go() -> None:
        async with tiny_server(handler) as url:
            await Endpoints.discover(url)

    with pytest.raises(RawLoadError, match="another origin"):
        asyncio.run(go())
