"""A server without dynamic registration is tested as hard as one with it (issue 13, item 11).

The reference with every feature on runs twice, with the same pre-registered clients named in the
profile (several per kind, see registration_off.py): once with its registration endpoint, once
without. Every MUST the first run verifies (pass or fail), apart from the requirements about
registration itself, the second run verifies too: its tests find fitting clients in the profile
instead of registering them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from oauth_conformance.catalogue import registry
from oauth_conformance.features import Feature
from oauth_conformance.trust import host as fixture_host
from oauth_conformance.trust.host import FixtureHost
from oauth_reference.serving.process import wait_for_url
from suites.tests.twins import FIXTURE_HOST_ENV

SERVE = Path(__file__).with_name("registration_off.py")
RUN_TIMEOUT = 1200.0
# The registration suites, and rows about registering, need the endpoint itself.
REGISTRATION_SPECS = frozenset({"RFC7591", "RFC7592"})
VERIFIED = ("pass", "fail")


@pytest.fixture(scope="module")
def described_host() -> Iterator[str]:
    with FixtureHost() as host:
        yield orjson.dumps(fixture_host.describe(host)).decode()


def run(tmp: Path, described: str, *, registration: bool) -> dict[str, str]:
    """Serve the reference (registration on or off) and run every suite against it; MUST verdicts by id."""
    profile = tmp / "profile.toml"
    env = {**os.environ, FIXTURE_HOST_ENV: described}
    command = [sys.executable, str(SERVE), str(profile), *(["--registration"] if registration else [])]
    served = wait_for_url(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env), 60)
    try:
        with profile.open("a", encoding="utf-8") as out:
            out.write("\n[robust]\ntime_budget = 5\nstateful_examples = 4\n")
        secrets = orjson.loads(Path(f"{profile}.env.json").read_bytes())
        report = tmp / "report"
        pytest_args = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q"]
        pytest_args += ["--oauth-target", served.url, "--oauth-profile", str(profile)]
        pytest_args += ["--oauth-report-dir", str(report), "--oauth-shared-fixture-host", described]
        pytest_args += ["--pyargs", "oauth_conformance.specs"]
        env_with_secrets = {**os.environ, **secrets}
        subprocess.run(pytest_args, env=env_with_secrets, capture_output=True, timeout=RUN_TIMEOUT, check=False)
    finally:
        served.stop()
    data = orjson.loads((report / "report.json").read_bytes())
    return {r["id"]: r["verdict"] for r in data["requirements"] if r["level"] == "MUST"}


# Rows a test of which needs what only registration gives, and why.
NEED_REGISTRATION = {
    # Its client-secret test judges a secret the server issued; a [[clients]] secret may have been
    # chosen by whoever provisioned the client, so a profile client cannot show it.
    "OAUTH21-7.7-ENTROPY": "the client secret must be one the server issued at registration",
    # A client registered with the dpop_bound_access_tokens metadata (RFC 9449 section 5.2): a
    # [[clients]] entry cannot promise what a client was registered with beyond its grants and URIs.
    "RFC9449-5.2-BOUND-CLIENT": "the client must be registered with dpop_bound_access_tokens",
}


def needs_registration(rid: str) -> bool:
    row = registry()[rid]
    return row.spec in REGISTRATION_SPECS or row.applies_if is Feature.REGISTRATION or rid in NEED_REGISTRATION


@pytest.mark.slow
def test_without_registration_every_must_is_verified_that_is_verified_with_it(
    tmp_path: Path, described_host: str
) -> None:
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_registration = run(tmp_path / "with", described_host, registration=True)
    without = run(tmp_path / "without", described_host, registration=False)
    compared = [r for r, v in with_registration.items() if v in VERIFIED and not needs_registration(r)]
    lost = sorted(r for r in compared if without.get(r) not in VERIFIED)
    assert compared, "the run with registration verified nothing"
    print(f"{len(compared)} MUSTs verified with registration (registration rows aside); lost without: {len(lost)}")
    shown = ", ".join(f"{r} ({without.get(r)})" for r in lost)
    assert not lost, f"{len(lost)} of {len(compared)} MUSTs verified with registration are not without it: {shown}"
    # The same verdicts, too: a profile client must not turn a pass into a fail or the other way.
    changed = sorted(r for r in compared if without[r] != with_registration[r])
    assert not changed, "verdicts differ without registration: " + ", ".join(
        f"{r} ({with_registration[r]} -> {without[r]})" for r in changed
    )
