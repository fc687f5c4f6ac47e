"""Serve one known-bad twin of the reference: ``python serve.py NAME`` (loopback, test mode)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for suites.tests

from oauth_reference import testmode
from oauth_reference.clock import OffsetClock
from oauth_reference.demo import build_reference
from oauth_reference.server import bind
from oauth_reference.server import serve
from oauth_reference.storage.sqlite import SQLiteStorage
from suites.tests.twins import load_all


def main(name: str) -> None:
    twin = load_all()[name]
    clock = OffsetClock()
    workdir = Path(tempfile.mkdtemp(prefix=f"twin-{name}-"))
    provider = build_reference(
        dict(twin.options), storage=SQLiteStorage(str(workdir / "store.sqlite3"), clock), clock=clock
    )
    app = testmode.install(provider, clock)
    serve(twin.patch(app), bind("127.0.0.1", 0), log_requests=False)


if __name__ == "__main__":
    main(sys.argv[1])
