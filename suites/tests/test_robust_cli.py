"""``oauth-conformance fuzz``: 0 against the reference, 1 against a broken twin, 2 and 3 as ``run``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance.cli import main
from oauth_conformance.robust.oracles import REQUIREMENTS
from suites.tests.twins import start

# The examples bound these runs (about 5 s on a quiet machine); the time budget is only a backstop. At
# 20 s a clean clone's run under a load of 11 ran out of time after 48 requests, before registration.
QUICK = ["--time-budget", "120", "--max-examples", "10"]


def fuzz(target: str | None, report: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    status = main(["fuzz", *([target] if target else []), "--report-dir", str(report), *QUICK, *extra])
    data = orjson.loads((report / "report.json").read_bytes()) if (report / "report.json").exists() else {}
    return status, data


@pytest.mark.slow
def test_fuzz_finds_nothing_in_the_reference_and_exits_0(reference_url: str, tmp_path: Path) -> None:
    status, report = fuzz(reference_url, tmp_path)
    assert status == 0, [r for r in report["requirements"] if r["verdict"] != "pass"]
    assert [r["id"] for r in report["requirements"]] == list(REQUIREMENTS)
    assert {r["verdict"] for r in report["requirements"]} == {"pass"}
    assert report["fuzz"]["requests"] > 50 and report["fuzz"]["findings"] == []
    assert report["fuzz"]["derandomized"] is True
    assert set(report["fuzz"]["per_endpoint"]) >= {"POST /oauth/token", "POST /oauth/register", "GET /authorize"}
    for name in ("report.md", "report.html", "report.xml", "openapi.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert "## Fuzzing" in (tmp_path / "report.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_fuzz_exits_1_against_a_twin_that_crashes_and_shows_the_request(tmp_path: Path) -> None:
    served = start("robust-500-on-unknown-parameter")
    try:
        status, report = fuzz(served.url, tmp_path)
    finally:
        served.stop()
    assert status == 1
    row = next(r for r in report["requirements"] if r["id"] == "ROBUST-FUZZ-NO-5XX")
    assert row["verdict"] == "fail"
    assert row["evidence"] and all(e["response"]["status"] == 500 for e in row["evidence"])
    assert all(e["request"]["url"].endswith("/oauth/token") for e in row["evidence"])
    finding = next(f for f in report["fuzz"]["findings"] if f["requirement"] == "ROBUST-FUZZ-NO-5XX")
    assert finding["count"] >= 1 and finding["endpoint"] == "POST /oauth/token"


@pytest.mark.slow
def test_a_leaked_secret_is_reported_without_showing_it(tmp_path: Path) -> None:
    served = start("robust-leaks-secret")
    try:
        status, report = fuzz(served.url, tmp_path)
    finally:
        served.stop()
    assert status == 1
    row = next(r for r in report["requirements"] if r["id"] == "ROBUST-FUZZ-NO-SECRET-LEAK")
    assert row["verdict"] == "fail" and row["evidence"]
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert "expected secret <redacted" in text
    assert not re.search(r"expected secret [A-Za-z0-9_-]{16}", text), "a client secret appears in the report"
    assert not re.search(r'"client_secret":\s*"[A-Za-z0-9_-]{16}', text)


@pytest.mark.slow
def test_fuzz_fail_on_must_ignores_findings_on_a_should(tmp_path: Path) -> None:
    served = start("robust-error-cacheable")
    try:
        status_any, report = fuzz(served.url, tmp_path / "any")
        status_must, _ = fuzz(served.url, tmp_path / "must", "--fail-on", "must")
    finally:
        served.stop()
    assert status_any == 1 and status_must == 0
    row = next(r for r in report["requirements"] if r["id"] == "ROBUST-FUZZ-ERROR-NO-STORE")
    assert row["verdict"] == "warn"


@pytest.mark.slow
def test_fuzz_without_a_target_fuzzes_the_bundled_reference_in_process(tmp_path: Path) -> None:
    status, report = fuzz(None, tmp_path, "--time-budget", "8")
    assert status == 0, [r for r in report["requirements"] if r["verdict"] != "pass"]
    assert report["target"]["spec"] == "asgi:oauth_reference.serving.demo.testing:build_app"


def test_fuzz_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[robust]\nmax_examples = -1\n", encoding="utf-8")
    assert main(["fuzz", "http://127.0.0.1:9", "--profile", str(bad)]) == 2
    assert main(["fuzz", "http://127.0.0.1:9", "--time-budget", "0"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["fuzz", "--fail-on", "never"])
    assert exc.value.code == 2


def test_fuzz_of_an_unreachable_target_exits_3(dead_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", dead_url]) == 3
    assert "target unreachable" in capsys.readouterr().err
