"""A regression under a requirement that was failing already fails the gate (issue 14, findings).

Cloudflare 1.2.3 accepts a loopback redirect URI with a trailing '?' (its baseline records the
findings of OAUTH21-2.3.1-EXACT-MATCH). Two twins of the reference: one whose loopback matching
is Cloudflare's, and the same degraded to accepting any URI that merely starts with the
registered one (the class of bug behind CVE-2025-4143). Under the Cloudflare baseline's entry the
first passes the gate and the second fails it, though the requirement fails in both.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile
from suites.tests.twins import load_all
from suites.tests.twins import start

ROOT = Path(__file__).resolve().parents[2]
CLOUDFLARE_BASELINE = ROOT / "fixtures" / "targets" / "cloudflare" / "baseline-1.2.3.toml"
RID = "OAUTH21-2.3.1-EXACT-MATCH"
TEST = "test_no_variant_of_the_registered_redirect_uri_is_ever_redirected_to"


def cloudflare_entry() -> dict[str, Any]:
    entries = tomllib.loads(CLOUDFLARE_BASELINE.read_text(encoding="utf-8"))["expected"]
    entry: dict[str, Any] = next(e for e in entries if e["id"] == RID)
    return entry


def baseline_with_the_cloudflare_entry(path: Path) -> Path:
    entry = cloudflare_entry()
    findings = "".join(f"  {orjson.dumps(f).decode()},\n" for f in entry["findings"])
    text = f'[[expected]]\nid = "{RID}"\nreason = {orjson.dumps(entry["reason"]).decode()}\nfindings = [\n{findings}]\n'
    path.write_text(text, encoding="utf-8")
    return path


def run_twin(name: str, pytester: pytest.Pytester, tmp_path: Path, baseline: Path) -> tuple[int, dict[str, Any]]:
    load_all()
    served = start(name)
    try:
        profile = tmp_path / f"{name}.toml"
        profile.write_text(embedded_profile(served.url), encoding="utf-8")
        out = tmp_path / name
        result = pytester.runpytest_inprocess(
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "--oauth-target",
            served.url,
            "--oauth-profile",
            str(profile),
            "--oauth-report-dir",
            str(out),
            "--oauth-baseline",
            str(baseline),
            "--pyargs",
            "oauth_conformance.specs.oauth21.test_redirect_uris",
            "-k",
            TEST,
        )
    finally:
        served.stop()
    return int(result.ret), orjson.loads((out / "report.json").read_bytes())


def test_the_cloudflare_baseline_records_the_findings_of_its_redirect_matching() -> None:
    entry = cloudflare_entry()
    assert f"oauth21/test_redirect_uris::{TEST}[loopback]#empty-query" in entry["findings"]
    assert not any("path-suffix" in f for f in entry["findings"])


@pytest.mark.slow
def test_prefix_matching_fails_the_cloudflare_baseline_that_trailing_query_matching_passes(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    baseline = baseline_with_the_cloudflare_entry(tmp_path / "baseline.toml")

    status, report = run_twin("redirect-loopback-parsed-match", pytester, tmp_path, baseline)
    gate = report["gate"]
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    assert verdicts[RID] == "fail" and gate["expected_failures"] == [RID], gate
    assert status == 0 and gate["new_findings"] == {}, gate

    status, report = run_twin("redirect-loopback-parsed-then-prefix-match", pytester, tmp_path, baseline)
    gate = report["gate"]
    assert status == 1 and gate["unexpected_failures"] == [RID], gate
    new = gate["new_findings"][RID]
    assert f"oauth21/test_redirect_uris::{TEST}[https]#path-suffix" in new
    assert f"oauth21/test_redirect_uris::{TEST}[loopback]#path-suffix" in new
    assert all("empty-query" not in f or "[https]" in f for f in new)  # the loopback one was known
