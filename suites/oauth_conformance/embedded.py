"""The embedded default: with no target at all, the harness serves the bundled reference on a
free loopback port with every feature on (token exchange, ID-JAG trusting the harness's test
IdP, client ID metadata documents from the fixture host), in test mode, tests it, and stops it."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

from oauth_reference.fetch import TEST_CA_ENV
from oauth_reference.process import Served
from oauth_reference.process import start

from .fixture_host import FixtureHost


def reference_config(host: FixtureHost | None) -> str:
    """The reference's options with every feature on (TOML, as ``--config`` reads it)."""
    lines = [
        "# The bundled reference with every feature on (the embedded default of oauth-conformance run).",
        "allow_plain_pkce = false",
        "allow_token_exchange_grant = true",
    ]
    if host is not None:
        lines += [
            "client_id_metadata_document_enabled = true",
            "",
            "[enterprise_managed_authorization]",
            "trusted_issuers = [",
            f"  {{ issuer = {json.dumps(host.idp_issuer)}, jwks_uri = {json.dumps(host.idp_jwks_uri)} }},",
            "]",
        ]
    return "\n".join(lines) + "\n"


def embedded_profile(url: str, clock: str = "header", *, fixture_host: bool = True) -> str:
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

[clock]
mode = "{clock}"

[idjag]
trusted = {"true" if fixture_host else "false"}

[fixture_host]
reachable = true
"""


def start_embedded(host: FixtureHost | None = None) -> tuple[Served, str]:
    """Start the reference; returns it and the profile that describes it (TOML)."""
    workdir = Path(tempfile.mkdtemp(prefix="oauth-conformance-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    config = workdir / "reference.toml"
    config.write_text(reference_config(host), encoding="utf-8")
    env = {TEST_CA_ENV: str(host.ca_file)} if host is not None and host.ca_file else {}
    args = ["--config", str(config), "--store", f"sqlite:{workdir / 'store.sqlite3'}", "--test-mode"]
    served = start(args, env=env)
    return served, embedded_profile(served.url, fixture_host=host is not None)
