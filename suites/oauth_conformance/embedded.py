"""The harness's one door into the bundled reference.

With no target at all, ``oauth-conformance run`` serves the reference on a free loopback port
with every feature on (token exchange, ID-JAG trusting the harness's test IdP, client ID metadata
documents from the fixture host), in test mode, tests it, and stops it. Everything the harness
needs from :mod:`oauth_reference` comes through this module (an import-linter contract keeps it so).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from oauth_conformance.trust.host import FixtureHost
from oauth_conformance.trust.host import RemoteFixtureHost
from oauth_reference.machinery.fetch import TEST_CA_ENV
from oauth_reference.serving.all_features import FIXTURE_HOST_ENV
from oauth_reference.serving.all_features import all_features
from oauth_reference.serving.all_features import as_toml
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start

__all__ = ["BUNDLED_IN_PROCESS", "FIXTURE_HOST_ENV", "Served", "embedded_profile", "reference_config", "start_embedded"]

# The reference as an in-process target (``asgi:``), what ``oauth-conformance fuzz`` tests by default.
BUNDLED_IN_PROCESS = "asgi:oauth_reference.serving.demo.testing:build_app"


# Seconds the embedded reference gives a server-side fetch (its default is 5): a document on the
# harness's fixture host answers in milliseconds, and the trickling-document test waits this long.
EMBEDDED_FETCH_TIMEOUT = 1.5


def reference_config(
    idp_issuer: str | None = None, idp_jwks_uri: str | None = None, *, fetch_timeout: float | None = None
) -> str:
    """The reference's options with every feature on (TOML, as ``--config`` reads it)."""
    options = all_features(idp_issuer, idp_jwks_uri)
    if fetch_timeout is not None:
        options["fetch_timeout"] = fetch_timeout
    return as_toml(options)


def embedded_profile(
    url: str, clock: str = "header", *, fixture_host: bool = True, fetch_timeout: float | None = None
) -> str:
    """The profile of the reference served at ``url``; ``fetch_timeout`` is declared when it was set."""
    policy = "" if fetch_timeout is None else f"\n[policy]\nfetch_timeout = {fetch_timeout}\n"
    return f"""\
[target]
name = "oauth-reference (embedded)"
allow_http_loopback = true

[consent]
driver = "form"

[consent.form]
fields = {{ username = "alice", password = "wonderland" }}
approve = {{ name = "action", value = "approve" }}
deny = {{ name = "action", value = "deny" }}

[resource]
url = "{url}/api/whoami"
insufficient_scope_url = "{url}/api/documents/write"

[clock]
mode = "{clock}"

[idjag]
trusted = {"true" if fixture_host else "false"}

[fixture_host]
reachable = true
{policy}"""


def start_embedded(host: FixtureHost | RemoteFixtureHost | None = None) -> tuple[Served, str]:
    """Start the reference; returns it and the profile that describes it (TOML)."""
    workdir = Path(tempfile.mkdtemp(prefix="oauth-conformance-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    config = workdir / "reference.toml"
    idp = (host.idp_issuer, host.idp_jwks_uri) if host is not None else (None, None)
    config.write_text(reference_config(*idp, fetch_timeout=EMBEDDED_FETCH_TIMEOUT), encoding="utf-8")
    env = {TEST_CA_ENV: str(host.ca_file)} if host is not None and host.ca_file else {}
    args = ["--config", str(config), "--store", f"sqlite:{workdir / 'store.sqlite3'}", "--test-mode"]
    served = start(args, env=env)
    profile = embedded_profile(served.url, fixture_host=host is not None, fetch_timeout=EMBEDDED_FETCH_TIMEOUT)
    return served, profile
