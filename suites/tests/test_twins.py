"""Every known-bad twin fails exactly the MUST requirements it breaks, and no others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance import fixture_host
from oauth_conformance.embedded import embedded_profile
from oauth_conformance.fixture_host import FixtureHost

from .twins import FIXTURE_HOST_ENV
from .twins import load_all
from .twins import start

TWINS = load_all()


@pytest.fixture(scope="session")
def twin_fixture_host() -> Iterator[FixtureHost]:
    """One fixture host for the session's twins with every feature on: they trust its IdP and CA."""
    with FixtureHost() as host:
        yield host


class _SharedHost:
    """Stands in for the FixtureHost the harness starts in the inner run: it hands over the
    session's host (already trusted by the twin) and leaves stopping it to the session."""

    def __init__(self, host: FixtureHost) -> None:
        self._host = host

    def start(self, port: int = 0) -> FixtureHost:
        return self._host

    def stop(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._host, name)


def feature_twin_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What a twin with every feature on needs: the shared host for the twin and for the inner run."""
    host: FixtureHost = request.getfixturevalue("twin_fixture_host")
    monkeypatch.setattr(fixture_host, "FixtureHost", lambda *args, **kwargs: _SharedHost(host))
    monkeypatch.delenv(fixture_host.FIXTURE_HOST_ENV, raising=False)  # the inner run sets it; restore it after
    return {FIXTURE_HOST_ENV: orjson.dumps(fixture_host.describe(host)).decode()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_fails_exactly_its_requirements(
    name: str,
    pytester: pytest.Pytester,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twin = TWINS[name]
    served = start(name, env=feature_twin_env(request, monkeypatch) if twin.features else None)
    try:
        profile = tmp_path / "profile.toml"
        profile.write_text(embedded_profile(served.url), encoding="utf-8")
        args = ["-p", "no:xdist", "-p", "no:cacheprovider", "--oauth-target", served.url]
        args += ["--oauth-profile", str(profile), "--oauth-report-dir", str(tmp_path / "report")]
        for spec in twin.specs:
            args += ["--pyargs", f"oauth_conformance.specs.{spec}"]
        result = pytester.runpytest_inprocess(*args)
    finally:
        served.stop()
    report = orjson.loads((tmp_path / "report" / "report.json").read_bytes())
    failed = {r["id"] for r in report["requirements"] if r["verdict"] in ("fail", "error") and r["level"] == "MUST"}
    assert failed == set(twin.fails), f"{name}: failed {sorted(failed)}, expected {sorted(twin.fails)}"
    warned = {r["id"] for r in report["requirements"] if r["verdict"] == "warn"}
    assert twin.warns <= warned, f"{name}: expected warnings {sorted(twin.warns - warned)} did not come"
    assert result.ret == (1 if twin.fails else 0)
