"""The embedded default: with no target at all, the harness serves the bundled reference on a
free loopback port with every feature on, in test mode, tests it, and stops it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from oauth_reference.process import Served
from oauth_reference.process import start

ALL_FEATURES = """\
# The bundled reference with every feature on (the embedded default of oauth-conformance run).
allow_plain_pkce = false
refresh_token_ttl = 2592000
access_token_ttl = 3600
"""


def embedded_profile(url: str, clock: str = "header") -> str:
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
"""


def start_embedded() -> tuple[Served, str]:
    """Start the reference; returns it and the profile that describes it (TOML)."""
    workdir = Path(tempfile.mkdtemp(prefix="oauth-conformance-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    config = workdir / "reference.toml"
    config.write_text(ALL_FEATURES, encoding="utf-8")
    served = start(["--config", str(config), "--store", f"sqlite:{workdir / 'store.sqlite3'}", "--test-mode"])
    return served, embedded_profile(served.url)
