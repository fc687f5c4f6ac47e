"""Every known-bad twin fails exactly the MUST requirements it breaks, and no others."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile
from oauth_conformance.trust import host as fixture_host
from oauth_conformance.trust.host import FixtureHost
from suites.tests.twins import FIXTURE_HOST_ENV
from suites.tests.twins import load_all
from suites.tests.twins import start

TWINS = load_all()


@pytest.fixture(scope="session")
def twin_fixture_host() -> Iterator[FixtureHost]:
    """One fixture host for the session's twins with every feature on: they trust its IdP and CA."""
    with FixtureHost() as host:
        yield host


@pytest.fixture(scope="session")
def suites_imported() -> None:
    """Every module of the suites (oauth_conformance.specs: test modules, conftests) imported once
    in this process. An in-process pytester run drops every module it imported when it ends, so
    without this each twin imported the suites again (and, with no bytecode cache, rewrote and
    compiled each one: about a second a twin). Modules already imported stay, and the inner run
    collects the same module objects: their code is the suites' code either way."""
    import oauth_conformance.report.html
    import oauth_conformance.specs

    for module in pkgutil.walk_packages(oauth_conformance.specs.__path__, "oauth_conformance.specs."):
        importlib.import_module(module.name)


def feature_twin_env(request: pytest.FixtureRequest) -> tuple[dict[str, str], list[str]]:
    """What a twin with every feature on needs: the shared host, trusted by the twin and used by the inner run."""
    host: FixtureHost = request.getfixturevalue("twin_fixture_host")
    described = orjson.dumps(fixture_host.describe(host)).decode()
    return {FIXTURE_HOST_ENV: described}, ["--oauth-shared-fixture-host", described]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_fails_exactly_its_requirements(
    name: str,
    suites_imported: None,
    pytester: pytest.Pytester,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    twin = TWINS[name]
    env, shared = feature_twin_env(request) if twin.features else (None, [])
    served = start(name, env=env, log=tmp_path / "twin.log")
    try:
        profile = tmp_path / "profile.toml"
        profile.write_text(embedded_profile(served.url), encoding="utf-8")
        # --tb=native: pytest's default traceback reads and parses the source of every frame of
        # every test that does not pass, not_tested and not_applicable ones included (the plugin
        # then replaces it); nothing here reads it, and a native traceback still shows where.
        args = ["-p", "no:xdist", "-p", "no:cacheprovider", "--tb=native", "--oauth-target", served.url]
        args += ["--oauth-profile", str(profile), "--oauth-report-dir", str(tmp_path / "report"), *shared]
        for spec in twin.specs:
            args += ["--pyargs", f"oauth_conformance.specs.{spec}"]
        result = pytester.runpytest_inprocess(*args)
    finally:
        served.stop()
    report = orjson.loads((tmp_path / "report" / "report.json").read_bytes())
    failed = {r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "error") and r["level"] == "MUST"}
    host_failures = request.getfixturevalue("twin_fixture_host").handshake_failures if twin.features else []
    assert failed == set(twin.fails), (
        f"{name}: failed {sorted(failed)}, expected {sorted(twin.fails)}\nthe twin logged:\n{served.log_tail()}"
        f"\nfailed handshakes at the fixture host this session: {host_failures[-5:]}"
    )
    warned = {r["id"] for r in report["requirements"] if r["verdict"] == "warn"}
    assert twin.warns <= warned, f"{name}: expected warnings {sorted(twin.warns - warned)} did not come"
    outcome = report["outcome"]
    assert result.ret == twin.exit_status, f"{name}: exit {result.ret} ({outcome['summary']})"
    assert outcome["exit_status"] == twin.exit_status, outcome
