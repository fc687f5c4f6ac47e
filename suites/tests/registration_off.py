"""Serve the reference with every feature on but no registration endpoint, with pre-registered clients.

``python registration_off.py PROFILE [--registration]`` creates clients through the provider's
public helpers (several per kind: public ones with one redirect URI and with every redirect URI
the suites ask for, confidential ones for each secret method and every grant), writes the target
profile that names them to PROFILE, then serves on a free loopback port in test mode, printing
``serving <URL>``. With ``--registration`` the registration endpoint stays on (the same server
for the comparison run). Like the twins with every feature on, it trusts the fixture host in
``$TWIN_FIXTURE_HOST``. Issue 13, item 11: a server without dynamic registration is tested as hard.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for suites.tests

from oauth_conformance.embedded import embedded_profile
from oauth_conformance.profile import DEFAULT_REDIRECT_URI
from oauth_conformance.trust.host import RemoteFixtureHost
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.fetch import TEST_CA_ENV
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.serving import testmode
from oauth_reference.serving.all_features import all_features
from oauth_reference.serving.demo import build_reference
from oauth_reference.serving.server import bind
from oauth_reference.serving.server import serve
from suites.tests.twins import FIXTURE_HOST_ENV

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
BASE = DEFAULT_REDIRECT_URI.rstrip("/")
# Every redirect URI a suite asks a client to be registered with.
EVERY_REDIRECT_URI = [
    DEFAULT_REDIRECT_URI,
    f"{BASE}-second",
    f"{BASE}/second",
    f"{BASE}?tenant=oauth-conformance&x=1",
    "http://127.0.0.1:8976/oauth-conformance/callback",
    "http://[::1]:8976/oauth-conformance/callback",
    "http://localhost:8976/oauth-conformance/callback",
    "https://app.oauth-conformance.example/oauth/callback",
]
CODE_GRANTS = ["authorization_code", "refresh_token"]
EVERY_GRANT = [*CODE_GRANTS, TOKEN_EXCHANGE, JWT_BEARER]

# (kind, token_endpoint_auth_method, redirect_uris, grant_types): several of each kind.
CLIENTS: list[tuple[str, str, list[str], list[str]]] = [
    ("public", "none", [DEFAULT_REDIRECT_URI], [*CODE_GRANTS, JWT_BEARER]),
    ("public", "none", EVERY_REDIRECT_URI, [*CODE_GRANTS, JWT_BEARER]),
    ("public", "none", EVERY_REDIRECT_URI, [*CODE_GRANTS, JWT_BEARER]),
    ("confidential", "client_secret_basic", [DEFAULT_REDIRECT_URI], EVERY_GRANT),
    ("confidential", "client_secret_basic", [DEFAULT_REDIRECT_URI], EVERY_GRANT),
    ("confidential", "client_secret_post", [DEFAULT_REDIRECT_URI], EVERY_GRANT),
    ("confidential", "client_secret_post", [DEFAULT_REDIRECT_URI], EVERY_GRANT),
    # registered for the code flow only: the unauthorized_client test needs one (OAUTH21-3.2.4)
    ("confidential", "client_secret_basic", [DEFAULT_REDIRECT_URI], CODE_GRANTS),
]


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(orjson.dumps(v).decode() for v in values) + "]"


async def _create(provider: Any) -> list[str]:
    """Create the clients; their [[clients]] entries (secrets inline: a throwaway test server)."""
    entries: list[str] = []
    for kind, method, uris, grants in CLIENTS:
        made = await provider.helpers.create_client(
            redirect_uris=uris,
            token_endpoint_auth_method=method,
            grant_types=grants,
            response_types=["code"],
            client_name=f"oauth-conformance pre-registered {kind}",
        )
        lines = [
            "[[clients]]",
            f'kind = "{kind}"',
            f'client_id = "{made.client_id}"',
            f'auth_method = "{method}"',
            f"redirect_uris = {_toml_list(uris)}",
            f"grant_types = {_toml_list(grants)}",
        ]
        if made.client_secret:
            os.environ[f"REGISTRATION_OFF_SECRET_{len(entries)}"] = made.client_secret
            lines.append(f'client_secret = {{ env = "REGISTRATION_OFF_SECRET_{len(entries)}" }}')
        entries.append("\n".join(lines))
    return entries


def main(profile_path: str, registration: bool) -> None:
    described = os.environ.get(FIXTURE_HOST_ENV)
    if not described:
        raise SystemExit(f"set {FIXTURE_HOST_ENV} (see test_no_registration.py)")
    host = RemoteFixtureHost(**orjson.loads(described))
    if host.ca_file is not None:
        os.environ[TEST_CA_ENV] = str(host.ca_file)
    options: dict[str, Any] = all_features(host.idp_issuer, host.idp_jwks_uri)
    if not registration:
        options["client_registration_endpoint"] = None
    clock = OffsetClock()
    workdir = Path(tempfile.mkdtemp(prefix="registration-off-"))
    provider = build_reference(options, storage=SQLiteStorage(str(workdir / "store.sqlite3"), clock), clock=clock)
    entries = asyncio.run(_create(provider))
    secrets = {k: v for k, v in os.environ.items() if k.startswith("REGISTRATION_OFF_SECRET_")}
    profile = embedded_profile("{target}") + "\n" + "\n\n".join(entries) + "\n"
    Path(profile_path).write_text(profile, encoding="utf-8")
    Path(profile_path + ".env.json").write_bytes(orjson.dumps(secrets))  # the secrets the profile names
    serve(testmode.install(provider, clock), bind("127.0.0.1", 0), log_requests=False)


if __name__ == "__main__":
    main(sys.argv[1], "--registration" in sys.argv[2:])
