"""The suites against the real Cloudflare library (workers-oauth-provider 1.2.3 in workerd), gated
by the committed baseline of its deviations (fixtures/targets/cloudflare/baseline-1.2.3.toml).

A change that makes the harness flag something new on this target, or stop flagging one of its
known deviations (the entry passes, or is no longer tested), fails this test. The target needs
Node and its pinned npm packages (its start script installs them); without Node the test is
skipped on a developer machine and fails under CI=true, where the project's own CI installs it.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / "fixtures" / "targets"
PROFILE = ROOT / "fixtures" / "profiles" / "cloudflare-1.2.3.toml"
BASELINE = TARGETS / "cloudflare" / "baseline-1.2.3.toml"
# The worker's outbound fetches go to the fixture host the profile pins (port 18480, named
# https://fixtures.conformance.test), and it trusts the harness's test IdP there.
WORKER_ENV = {
    "FIXTURE_HOST_URL": "http://127.0.0.1:18480",
    "IDJAG_ISSUER": "https://fixtures.conformance.test/idp",
    "IDJAG_JWKS_URI": "https://fixtures.conformance.test/idp/jwks.json",
}
RUN_TIMEOUT = 900.0

pytestmark = pytest.mark.slow


def _launch() -> ModuleType:
    sys.path.insert(0, str(TARGETS))
    try:
        return importlib.import_module("launch")
    finally:
        sys.path.remove(str(TARGETS))


@pytest.fixture(scope="module")
def cloudflare() -> Iterator[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node and npm are needed for the Cloudflare target; CI must install them")
        pytest.skip("Node and npm are needed for the Cloudflare target")
    launch = _launch()
    url, proc = launch.start("cloudflare", version="1.2.3", env=WORKER_ENV)
    try:
        yield url
    finally:
        launch.stop(proc)


def test_the_cloudflare_target_deviates_exactly_as_its_baseline_says(cloudflare: str, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "oauth_conformance.cli",
        "run",
        cloudflare,
        "--profile",
        str(PROFILE),
        "--baseline",
        str(BASELINE),
        "--fail-on",
        "should",
        "--report-dir",
        str(tmp_path),
        "-q",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    gate = report["gate"]
    verdicts = {r["id"]: (r["verdict"], r["reason"][:200]) for r in report["requirements"]}
    unexpected = [f"{rid}: {verdicts[rid]}" for rid in gate["unexpected_failures"]]
    stale = [f"{rid}: {verdicts.get(rid)}" for rid in gate["stale_baseline_entries"]]
    assert done.returncode == 0 and not unexpected and not stale, (
        f"exit {done.returncode}; newly flagged: {unexpected}; no longer flagged: {stale}\n{done.stdout[-3000:]}"
    )
    assert gate["expected_failures"], "the baseline matched nothing: is the target the real library?"
