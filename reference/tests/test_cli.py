"""``oauth-reference serve`` (contract C1): flags, config files, stores, test mode, stopping."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oauth_reference.errors import ConfigurationError
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.serving import cli
from oauth_reference.serving import testmode
from oauth_reference.serving.config import load_config
from oauth_reference.serving.demo import build_reference
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-authorization-server"


@pytest.fixture
def serve_many() -> Iterator[list[Served]]:
    """Servers started by a test; every one is stopped afterwards."""
    servers: list[Served] = []
    yield servers
    for server in servers:
        server.stop()


def _serve(servers: list[Served], *args: str) -> Served:
    server = start(list(args))
    servers.append(server)
    return server


def _tokens(http: httpx.Client, scope: str | None = None) -> tuple[str, dict[str, Any]]:
    client = http.post("/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
    assert client.status_code == 201, client.text
    client_id = client.json()["client_id"]
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if scope:
        params["scope"] = scope
    location = http.get("/authorize", params=params).headers["location"]
    code = query_of(location)["code"][0]
    response = http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id},
    )
    assert response.status_code == 200, response.text
    return client_id, response.json()


# --- serving ----------------------------------------------------------------------------------


def test_the_console_script_prints_one_serving_line_and_stops_on_sigterm() -> None:
    script = Path(sys.executable).with_name("oauth-reference")
    assert script.exists()
    process = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", "0", "--store", "memory", "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        line = _first_line(process)
        assert re.fullmatch(r"serving http://127\.0\.0\.1:\d+", line)
        url = line.removeprefix("serving ")
        with httpx.Client(base_url=url) as http:
            meta = http.get(WELL_KNOWN).json()
        # RFC8414-3.3-ISSUER-EXACT: byte-identical to the URL the client used.
        assert meta["issuer"] == url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        process.stdout.close()
    assert process.returncode in (0, -signal.SIGTERM)  # stopped by the signal, not killed


def _first_line(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 30  # a guard against a server that never starts
    buffer = b""
    while b"\n" not in buffer:
        assert process.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "no serving line"
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            buffer += os.read(process.stdout.fileno(), 4096)
    return buffer.split(b"\n", 1)[0].decode()


def test_sigterm_stops_a_served_reference(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory")
    server.stop()
    assert server.process.returncode in (0, -signal.SIGTERM)
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + WELL_KNOWN, timeout=5)


def test_the_metadata_issuer_is_the_url_the_client_used(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--no-access-log")
    port = server.url.rsplit(":", 1)[1]
    for base in (server.url, f"http://localhost:{port}"):
        with httpx.Client(base_url=base) as http:
            assert http.get(WELL_KNOWN).json()["issuer"] == base


def test_issuer_fixes_the_issuer_whatever_url_was_used(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--issuer", "https://as.example.com", "--auto-approve")
    with httpx.Client(base_url=server.url) as http:
        meta = http.get(WELL_KNOWN).json()
        assert meta["issuer"] == "https://as.example.com"
        assert meta["token_endpoint"] == "https://as.example.com/oauth/token"
        client = http.post("/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
        location = http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client.json()["client_id"],
                "redirect_uri": REDIRECT,
                "code_challenge": pkce_pair()[1],
                "code_challenge_method": "S256",
            },
        ).headers["location"]
        assert query_of(location)["iss"] == ["https://as.example.com"]


# --- --config ---------------------------------------------------------------------------------


def test_a_config_file_sets_options_in_snake_case(serve_many: list[Served], tmp_path: Path) -> None:
    config = tmp_path / "options.toml"
    config.write_text(
        'access_token_ttl = 120\nrefresh_token_ttl = "never"\nclient_registration_ttl = "never"\n'
        'scopes_supported = ["alpha", "beta"]\nallow_plain_pkce = true\n'
    )
    server = _serve(serve_many, "--store", "memory", "--auto-approve", "--config", str(config))
    with httpx.Client(base_url=server.url) as http:
        meta = http.get(WELL_KNOWN).json()
        assert meta["scopes_supported"] == ["alpha", "beta"]
        assert meta["code_challenge_methods_supported"] == ["S256", "plain"]
        confidential = http.post("/oauth/register", json={"redirect_uris": [REDIRECT]}).json()
        assert confidential["client_secret_expires_at"] == 0  # "never"
        _, tokens = _tokens(http, scope="alpha")
        assert tokens["expires_in"] == 120


def test_never_in_a_config_file_means_no_expiry(tmp_path: Path) -> None:
    config = tmp_path / "options.toml"
    config.write_text('refresh_token_ttl = "never"\nclient_registration_ttl = "never"\naccess_token_ttl = 60\n')
    assert load_config(config) == {"refresh_token_ttl": None, "client_registration_ttl": None, "access_token_ttl": 60}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allow_plain_pcke = true\n", "did you mean 'allow_plain_pkce'"),
        ("access_token_ttl = 0\n", "access_token_ttl must be a positive number"),
        ('access_token_ttl = "never"\n', "access_token_ttl must be an integer"),
        ('api_handler = "x"\n', "api_handler is code, not configuration"),
        ("this is not toml\n", "options.toml"),
    ],
)
def test_a_bad_config_file_exits_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "options.toml"
    config.write_text(text)
    assert cli.main(["serve", "--port", "0", "--store", "memory", "--config", str(config)]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_config_file_exits_2_from_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "options.toml"
    config.write_text("no_such_option = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "oauth_reference.serving.cli", "serve", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown option 'no_such_option'" in result.stderr
    assert "serving" not in result.stdout


def test_a_missing_config_file_exits_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "0", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml" in capsys.readouterr().err


def test_config_values_are_checked_like_constructor_arguments(tmp_path: Path) -> None:
    config = tmp_path / "options.toml"
    config.write_text("refresh_token_ttl = -5\n")
    with pytest.raises(ConfigurationError, match="refresh_token_ttl"):
        build_reference(load_config(config))


# --- --store ----------------------------------------------------------------------------------


def test_a_sqlite_store_keeps_clients_and_grants_across_restarts(serve_many: list[Served], tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite3"
    first = _serve(serve_many, "--store", f"sqlite:{db}", "--auto-approve", "--no-access-log")
    with httpx.Client(base_url=first.url) as http:
        client_id, tokens = _tokens(http)
    first.stop()
    assert db.exists()
    second = _serve(serve_many, "--store", f"sqlite:{db}", "--auto-approve", "--no-access-log")
    with httpx.Client(base_url=second.url) as http:
        # The restarted process knows the client and the grant: the refresh token works. (The old
        # access token does not: its audience names the first process's origin, another port.)
        refreshed = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
        )
        assert refreshed.status_code == 200
        api = http.get("/api/whoami", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
        assert api.status_code == 200
        assert api.json()["client_id"] == client_id


def test_a_memory_store_forgets_everything_on_restart(serve_many: list[Served]) -> None:
    first = _serve(serve_many, "--store", "memory", "--auto-approve", "--no-access-log")
    with httpx.Client(base_url=first.url) as http:
        client_id, tokens = _tokens(http)
    first.stop()
    second = _serve(serve_many, "--store", "memory", "--no-access-log")
    with httpx.Client(base_url=second.url) as http:
        refreshed = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
        )
        assert refreshed.status_code == 401  # the client itself is gone
        assert refreshed.json()["error"] == "invalid_client"


@pytest.mark.parametrize("store", ["bogus", "sqlite:", "postgres://x/y"])
def test_an_unknown_store_exits_with_status_2(capsys: pytest.CaptureFixture[str], store: str) -> None:
    assert cli.main(["serve", "--port", "0", "--store", store]) == 2
    assert "store" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # noqa: S104 (refused, never bound)
def test_serving_every_address_needs_the_servers_name(capsys: pytest.CaptureFixture[str], host: str) -> None:
    """Issue 15, item 4: on every address no Host can be trusted unless the operator names one."""
    assert cli.main(["serve", "--host", host, "--port", "0", "--store", "memory"]) == 2
    assert "--issuer" in capsys.readouterr().err


def test_a_served_reference_refuses_a_forged_host(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--no-access-log")
    with httpx.Client(base_url=server.url) as http:
        assert http.get(WELL_KNOWN).json()["issuer"] == server.url
        forged = http.get(WELL_KNOWN, headers={"Host": "evil.example"})
        assert forged.status_code == 400
        assert "evil.example" not in forged.text


# --- --test-mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])  # noqa: S104 (refused, never bound)
def test_test_mode_is_refused_on_a_non_loopback_host(capsys: pytest.CaptureFixture[str], host: str) -> None:
    assert cli.main(["serve", "--host", host, "--port", "0", "--store", "memory", "--test-mode"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_the_test_mode_clock_hook_moves_expiry(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--auto-approve", "--test-mode", "--no-access-log")
    with httpx.Client(base_url=server.url) as http:
        before = http.get(testmode.CLOCK_PATH)
        assert before.status_code == 200
        assert before.json()["offset"] == 0
        _, tokens = _tokens(http)
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get("/api/whoami", headers=bearer).status_code == 200
        # X-Test-Clock-Offset moves the clock for one request; out-of-bounds values are ignored.
        for ignored in ("-3600", "abc", str(11 * 365 * 86_400)):
            assert http.get("/api/whoami", headers={**bearer, "X-Test-Clock-Offset": ignored}).status_code == 200
        assert http.get("/api/whoami", headers={**bearer, "X-Test-Clock-Offset": "60"}).status_code == 200
        assert http.get("/api/whoami", headers={**bearer, "X-Test-Clock-Offset": "3600"}).status_code == 401
        moved = http.post(testmode.CLOCK_PATH, json={"advance": 3600})
        assert moved.status_code == 200
        assert moved.json()["offset"] == 3600
        assert moved.json()["now"] >= before.json()["now"] + 3600
        expired = http.get("/api/whoami", headers=bearer)
        assert expired.status_code == 401
        assert 'error="invalid_token"' in expired.headers["www-authenticate"]


def test_the_clock_hook_refuses_a_bad_request(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--test-mode", "--no-access-log")
    with httpx.Client(base_url=server.url) as http:
        for body in (b"{}", b"not json", b'{"advance": -1}', b'{"advance": "soon"}', b'{"advance": null}', b"[]"):
            response = http.post(testmode.CLOCK_PATH, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, body
            assert response.json()["error"] == "invalid_request"
        assert http.get(testmode.CLOCK_PATH).json()["offset"] == 0
        assert http.delete(testmode.CLOCK_PATH).status_code == 405


def test_without_test_mode_there_is_no_clock_hook(serve_many: list[Served]) -> None:
    server = _serve(serve_many, "--store", "memory", "--no-access-log")
    with httpx.Client(base_url=server.url) as http:
        assert http.get(testmode.CLOCK_PATH).status_code == 404
        assert http.post(testmode.CLOCK_PATH, json={"advance": 10}).status_code in (404, 405)


async def test_the_clock_hook_answers_only_loopback_clients() -> None:
    clock = OffsetClock()
    provider = build_reference(clock=clock, auto_approve=True)
    installed = testmode.install(provider, clock)
    app = installed if installed is not None else provider
    remote = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=remote, base_url="http://127.0.0.1:8000") as http:
        assert (await http.post(testmode.CLOCK_PATH, json={"advance": 100})).status_code == 404
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=local, base_url="http://127.0.0.1:8000") as http:
        assert (await http.get(testmode.CLOCK_PATH)).json()["offset"] == 0
    assert clock.offset == 0


def test_the_clock_hook_needs_the_providers_own_clock() -> None:
    provider = build_reference(clock=OffsetClock())
    with pytest.raises(ValueError, match="must read the clock"):
        testmode.install(provider, OffsetClock())


def test_the_offset_clock_only_moves_forward() -> None:
    clock = OffsetClock()
    assert clock.advance(10) == 10
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(float("nan"))
    assert clock.offset == 10


# --- check --------------------------------------------------------------------------------------


def test_check_walks_the_whole_flow_against_a_served_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    for step in ("metadata", "registration", "authorize", "token", "API call", "refresh", "revoke"):
        assert f"ok  {step}" in out
    assert "all steps passed" in out
