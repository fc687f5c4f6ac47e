"""The state machine over a live target (oauth_conformance.robust.stateful): deterministic, its
audience invariant quiet on a target that keeps tokens apart, and its failures reported as a
replayable request sequence."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from oauth_conformance import http as http_module
from oauth_conformance.drivers import make_driver
from oauth_conformance.embedded import embedded_profile
from oauth_conformance.profile import parse_profile
from oauth_conformance.robust.stateful import CODE_ONCE
from oauth_conformance.robust.stateful import INVARIANTS
from oauth_conformance.robust.stateful import SUPERSEDED
from oauth_conformance.robust.stateful import MachineResult
from oauth_conformance.robust.stateful import run_machine
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import discover
from suites.tests.twins import start

SEPARATE_RESOURCES = """
[request]
resource = "{target}/api/whoami"

[robust]
other_resource = "{target}/api/elsewhere"
"""


def machine(url: str, profile_text: str, **bounds: int) -> MachineResult:
    profile = parse_profile(tomllib.loads(profile_text))
    with http_module.client() as http:
        target = discover(url, profile, http)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        driver = make_driver(target.profile, {origin}, {}, None)
        return run_machine(target, OAuth(target, http, driver), Clients(target, http, "state"), http, **bounds)


def run_suite(pytester: pytest.Pytester, url: str, profile_text: str, report: Path) -> dict[str, dict[str, Any]]:
    profile = report.parent / "profile.toml"
    profile.write_text(profile_text, encoding="utf-8")
    args = ["-p", "no:xdist", "-p", "no:cacheprovider", "--oauth-target", url, "--oauth-profile", str(profile)]
    args += ["--oauth-report-dir", str(report), "--pyargs", "oauth_conformance.specs.robust.test_state_machine"]
    pytester.runpytest_inprocess(*args)
    data = orjson.loads((report / "report.json").read_bytes())
    return {r["id"]: r for r in data["requirements"]}


@pytest.mark.slow
def test_the_same_target_gets_the_same_programs(reference_url: str) -> None:
    profile = embedded_profile(reference_url)
    first = machine(reference_url, profile, examples=4, steps=6, budget=60)
    second = machine(reference_url, profile, examples=4, steps=6, budget=60)
    assert first.programs == second.programs and first.steps == second.steps
    assert first.exercised == second.exercised
    assert not first.violations and not first.out_of_time
    assert first.exercised[CODE_ONCE] > 0 and first.exercised[SUPERSEDED] > 0


def test_a_machine_stuck_at_a_login_page_names_the_setting_that_gets_it_through(reference_url: str) -> None:
    # The embedded reference shows a login page, which the redirect driver cannot pass.
    result = machine(reference_url, '[consent]\ndriver = "redirect"\n', examples=2, steps=3, budget=20)
    assert not any(result.exercised.values()) and not result.out_of_time
    assert result.unlock() == 'consent.driver = "form" with [consent.form] fields'


@pytest.mark.slow
def test_the_audience_invariant_passes_where_the_target_keeps_resources_apart(
    reference_url: str, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    rows = run_suite(pytester, reference_url, embedded_profile(reference_url) + SEPARATE_RESOURCES, tmp_path / "r")
    assert rows["ROBUST-STATE-AUDIENCE"]["verdict"] == "pass", rows["ROBUST-STATE-AUDIENCE"]["reason"]
    assert {rows[rid]["verdict"] for rid in INVARIANTS} == {"pass"}


@pytest.mark.slow
def test_a_violation_is_reported_as_a_replayable_request_sequence(pytester: pytest.Pytester, tmp_path: Path) -> None:
    served = start("robust-code-reusable")
    try:
        rows = run_suite(pytester, served.url, embedded_profile(served.url), tmp_path / "r")
    finally:
        served.stop()
    row = rows["ROBUST-STATE-CODE-ONCE"]
    assert row["verdict"] == "fail"
    assert "shortest failing program" in row["reason"] and "replay the code" in row["reason"]
    evidence = row["evidence"]
    steps = [item["step"] for item in evidence]
    assert steps == sorted(steps) and steps[0] == 1
    assert all(item["note"].startswith(f"step {item['step']}") for item in evidence)
    redemptions = [e for e in evidence if "grant_type=authorization_code" in e["request"]["body"]]
    codes = [part for e in redemptions for part in e["request"]["body"].split("&") if part.startswith("code=")]
    assert len(codes) >= 2 and len(set(codes)) < len(codes), "the replayed code should show as the same redacted value"
    assert all("<redacted" in code for code in codes)
    assert redemptions[-1]["response"]["status"] == 200  # the replay that worked
