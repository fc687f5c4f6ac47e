"""Findings: fingerprints that stay put, baselines that accept them one by one, diffs that list them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance.catalogue import lookup
from oauth_conformance.findings import Flag
from oauth_conformance.findings import findings_of
from oauth_conformance.findings import fingerprint
from oauth_conformance.findings import key_of
from oauth_conformance.report import gate
from oauth_conformance.report.baseline import Baseline
from oauth_conformance.report.baseline import BaselineError
from oauth_conformance.report.baseline import load_baseline
from oauth_conformance.report.baseline import write_baseline
from oauth_conformance.report.compare import diff
from oauth_conformance.report.compare import format_diff
from oauth_conformance.report.compare import matrix
from oauth_conformance.report.compare import write_matrix
from oauth_conformance.report.model import Report
from oauth_conformance.report.model import build
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict

RID = "OAUTH21-2.3.1-EXACT-MATCH"
NODE = "specs/oauth21/test_redirect_uris.py::test_exact[https]"


@pytest.mark.parametrize(
    "nodeid",
    [
        "specs/oauth21/test_redirect_uris.py::test_exact[https]",  # oauth-conformance run (rooted in the package)
        "suites/oauth_conformance/specs/oauth21/test_redirect_uris.py::test_exact[https]",  # plain pytest
        "../../work/x/site-packages/oauth_conformance/specs/oauth21/test_redirect_uris.py::test_exact[https]",
        "C:\\venv\\Lib\\site-packages\\oauth_conformance\\specs\\oauth21\\test_redirect_uris.py::test_exact[https]",
    ],
)
def test_a_test_has_one_key_however_it_was_collected(nodeid: str) -> None:
    assert key_of(nodeid) == "oauth21/test_redirect_uris::test_exact[https]"
    assert fingerprint(nodeid, "Empty Query!") == "oauth21/test_redirect_uris::test_exact[https]#empty-query"


def test_a_failure_has_a_finding_per_flagged_variant_or_one_for_the_test() -> None:
    def of(**kw: Any) -> list[str]:
        args: dict[str, Any] = {"failed": True, "errored": False, "reason": "it broke", "flags": []}
        args.update(kw)
        return [f.fingerprint for f in findings_of(NODE, [RID], evidence_count=3, **args)]

    key = "oauth21/test_redirect_uris::test_exact[https]"
    assert of() == [key]
    assert of(failed=False) == []  # a pass has none, whatever it flagged
    assert of(failed=False, flags=[Flag("x", "y")]) == []
    assert of(failed=False, errored=True) == [f"{key}#error"]
    flags = [Flag("empty-query", "a ? 17"), Flag("path-suffix", "b", (1,)), Flag("empty-query", "again 18")]
    assert of(flags=flags) == [f"{key}#empty-query", f"{key}#path-suffix"]
    found = findings_of(NODE, [RID], failed=True, errored=False, reason="", flags=flags, evidence_count=3)
    assert found[0].evidence == (0, 1, 2) and found[1].evidence == (1,)  # no exchanges of its own: all of them
    assert found[0].description == "a ? 17"  # the first occurrence describes the variant


def report_with(prints: dict[str, list[str]], verdict: Verdict = Verdict.FAIL) -> Report:
    """A report in which ``RID`` is failed by one test per key of ``prints``, flagging those variants."""
    tests = []
    for node, variants in prints.items():
        t = TestResult(node, node.split("::")[-1], [RID], verdict, "it broke")
        t.findings = findings_of(
            node,
            [RID],
            failed=verdict == Verdict.FAIL,
            errored=False,
            reason="it broke",
            flags=[Flag(v, f"{v} got through") for v in variants],
            evidence_count=0,
        )
        tests.append(t)
    return build(tests, [lookup(RID)], target={"url": "https://as.example"}, started="", finished="", duration=0.0)


def test_the_gate_fails_on_a_finding_the_baseline_does_not_list(tmp_path: Path) -> None:
    was = report_with({NODE: ["empty-query"]})
    path = tmp_path / "baseline.toml"
    written = write_baseline(path, was, Baseline())
    assert load_baseline(path) == written
    assert written.findings[RID] == {f"{key_of(NODE)}#empty-query"}
    assert gate.evaluate(was, written).status == 0
    worse = report_with({NODE: ["empty-query", "path-suffix"]})
    result = gate.evaluate(worse, written)
    assert result.status == 1 and result.unexpected == [RID] and RID not in result.expected
    assert result.new_findings == {RID: [f"{key_of(NODE)}#path-suffix"]}
    better = report_with({NODE: ["path-suffix"]})
    result = gate.evaluate(better, written)
    assert result.resolved_findings == {RID: [f"{key_of(NODE)}#empty-query"]}
    assert result.status == 1  # path-suffix is new all the same
    # An entry that lists no findings expects none: its first run names every one (strict by default).
    strict = gate.evaluate(worse, Baseline({RID: "r"}))
    assert strict.status == 1
    assert strict.new_findings == {RID: sorted(f"{key_of(NODE)}#{v}" for v in ("empty-query", "path-suffix"))}


def test_an_entry_with_any_finding_accepts_the_requirement_whatever_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "baseline.toml"
    path.write_text(f'[[expected]]\nid = "{RID}"\nreason = "coarse"\nany_finding = true\n', encoding="utf-8")
    loose = load_baseline(path)
    assert gate.evaluate(report_with({NODE: ["a", "b", "c"]}), loose).status == 0
    rewritten = write_baseline(tmp_path / "again.toml", report_with({NODE: ["a"]}), loose)
    assert rewritten.any_finding == {RID} and "any_finding = true" in (tmp_path / "again.toml").read_text()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('findings = "all"\n', "findings must be a list of fingerprints"),
        ('findings = [""]\n', "findings must be a list of fingerprints"),
        ('any_finding = "yes"\n', "any_finding must be true or false"),
        ('any_finding = true\nfindings = ["x"]\n', "contradict"),
    ],
)
def test_malformed_finding_entries_are_refused(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(f'[[expected]]\nid = "{RID}"\nreason = "r"\n{entry}', encoding="utf-8")
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


def as_json(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(orjson.dumps(report.as_dict()))
    return data


def test_diff_lists_findings_that_appeared_or_went_away_under_a_requirement_failing_in_both() -> None:
    old = as_json(report_with({NODE: ["empty-query", "fragment"]}))
    new = as_json(report_with({NODE: ["empty-query", "path-suffix"]}))
    result = diff(old, new)
    assert result.regressions == [] and result.worse
    assert [(r, f) for r, f, _ in result.appeared] == [(RID, f"{key_of(NODE)}#path-suffix")]
    assert [(r, f) for r, f, _ in result.went_away] == [(RID, f"{key_of(NODE)}#fragment")]
    text = format_diff(result)
    assert "Findings that appeared: 1" in text and "path-suffix got through" in text
    assert not diff(new, new).worse
    # A report written before findings existed is not compared finding by finding.
    legacy = dict(old)
    legacy.pop("notes")
    assert not diff(legacy, new).findings_compared and "predates" in format_diff(diff(legacy, new))


def test_compare_shows_findings_not_every_failing_target_shows(tmp_path: Path) -> None:
    a = as_json(report_with({NODE: ["empty-query"]}))
    b = as_json(report_with({NODE: ["empty-query", "path-suffix"]}))
    a["target"]["name"], b["target"]["name"] = "one", "two"
    m = matrix([("a.json", a), ("b.json", b)])
    assert [info["id"] for info, _ in m.differing] == [RID]  # same verdict, different findings
    write_matrix(m, tmp_path)
    md = (tmp_path / "compare.md").read_text()
    # Each target is named as in the matrix's columns: with the text versions it was tested against.
    assert f"`{key_of(NODE)}#path-suffix`: two (OAUTH21 13)" in md
    assert f"`{key_of(NODE)}#empty-query`: one (OAUTH21 13), two (OAUTH21 13)" in md
    row = orjson.loads((tmp_path / "compare.json").read_bytes())["rows"][0]
    assert row["findings"][f"{key_of(NODE)}#path-suffix"] == ["two (OAUTH21 13)"]
    same = matrix([("a.json", a), ("c.json", a)])
    assert same.differing == []
