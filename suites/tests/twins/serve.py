"""Serve one known-bad twin of the reference: ``python serve.py NAME`` (loopback, test mode)."""

from __future__ import annotations

import os
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

# What uvicorn imports only when a server starts (Config.load(): the event loop, the WebSocket
# protocol, lifespan): imported with this module, they are in the twins' fork server, which has
# imported it, and no forked twin imports them again (some 35 modules each time, websockets among
# them). The lean HTTP protocol (oauth_reference.serving.http1) is no public seam: each twin still
# imports that one.
import uvicorn.lifespan.on
import uvicorn.loops.auto
import uvicorn.loops.uvloop
import uvicorn.protocols.websockets.auto  # noqa: F401
import uvloop  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for suites.tests

from oauth_conformance.trust.host import RemoteFixtureHost
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.fetch import TEST_CA_ENV
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.serving import testmode
from oauth_reference.serving.all_features import all_features as every_feature
from oauth_reference.serving.demo import build_reference
from oauth_reference.serving.server import bind
from oauth_reference.serving.server import serve
from suites.tests.twins import FIXTURE_HOST_ENV
from suites.tests.twins import load_all
from suites.tests.twins import serving


def all_features() -> dict[str, Any]:
    """The embedded default's options (every feature on), trusting the fixture host in $TWIN_FIXTURE_HOST."""
    described = os.environ.get(FIXTURE_HOST_ENV)
    if not described:
        raise SystemExit(f"this twin runs with every feature on: set {FIXTURE_HOST_ENV} (see test_twins.py)")
    host = RemoteFixtureHost(**orjson.loads(described))
    if host.ca_file is not None:
        os.environ[TEST_CA_ENV] = str(host.ca_file)
    return every_feature(host.idp_issuer, host.idp_jwks_uri)


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra``'s options over it; tables (dicts) are merged, not replaced."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        out[key] = merged(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
    return out


def build(name: str) -> tuple[Any, str]:
    """The twin's app (a freshly built provider on its own SQLite store, in test mode) and its address."""
    twin = load_all()[name]
    clock = OffsetClock()
    workdir = Path(tempfile.mkdtemp(prefix=f"twin-{name}-"))
    base = all_features() if twin.features else {}
    extra = twin.options(base) if callable(twin.options) else twin.options
    options = merged(base, extra)
    path = str(workdir / "store.sqlite3")
    storage = twin.storage(path, clock) if twin.storage is not None else SQLiteStorage(path, clock)
    provider = build_reference(
        options, storage=storage, clock=clock, auto_approve=twin.auto_approve, faults=twin.faults
    )
    serving(provider.helpers)
    app = testmode.install(provider, clock)
    return twin.patch(app), twin.host


def main(name: str) -> None:
    app, host = build(name)
    serve(app, bind(host, 0), log_requests=False)


def forked(name: str, environment: dict[str, str], announce: Connection, log: str | None = None) -> None:
    """What a child of the twins' fork server runs (see ``start`` in ``__init__.py``): ``main`` in a
    process forked from one that has imported this module but built and served nothing, with the
    environment a fresh ``python serve.py NAME`` would have; its ``serving <URL>`` line goes to
    ``announce`` (a pipe the test reads) and what it logs to ``log`` (a file the test shows when it
    fails), or to /dev/null."""
    os.environ.clear()
    os.environ.update(environment)
    os.dup2(announce.fileno(), 1)
    announce.close()
    errors = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log else os.open(os.devnull, os.O_WRONLY)
    os.dup2(errors, 2)
    os.close(errors)
    main(name)


if __name__ == "__main__":
    main(sys.argv[1])
