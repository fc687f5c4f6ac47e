"""Every known-bad twin fails exactly the MUST requirements it breaks, and no others."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile

from .twins import load_all
from .twins import start

TWINS = load_all()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_fails_exactly_its_requirements(name: str, pytester: pytest.Pytester, tmp_path: Path) -> None:
    twin = TWINS[name]
    served = start(name)
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
    assert result.ret == 1
