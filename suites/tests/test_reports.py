"""Report writers against golden files, and the compare/diff logic."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from oauth_conformance.catalogue import lookup
from oauth_conformance.findings import findings_of
from oauth_conformance.report import coverage
from oauth_conformance.report import gate
from oauth_conformance.report.baseline import Baseline
from oauth_conformance.report.baseline import BaselineError
from oauth_conformance.report.baseline import load_baseline
from oauth_conformance.report.baseline import write_baseline
from oauth_conformance.report.compare import diff
from oauth_conformance.report.compare import matrix
from oauth_conformance.report.compare import write_matrix
from oauth_conformance.report.html import render
from oauth_conformance.report.model import Report
from oauth_conformance.report.model import build
from oauth_conformance.report.writers import write_json
from oauth_conformance.report.writers import write_junit
from oauth_conformance.report.writers import write_markdown
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EVIDENCE = [
    {
        "request": {
            "method": "GET",
            "url": "https://as.example/.well-known/oauth-authorization-server",
            "headers": {},
            "body": "",
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": '{"issuer":"https://as.example/"}',
        },
    }
]


def sample_report() -> Report:
    tests = [
        TestResult(
            "specs/rfc8414/test_metadata.py::test_issuer",
            "test_issuer",
            ["RFC8414-3.3-ISSUER-EXACT"],
            Verdict.FAIL,
            "issuer is 'https://as.example/' but the URL was built from 'https://as.example'",
            evidence=EVIDENCE,
        ),
        TestResult(
            "specs/rfc8414/test_metadata.py::test_json",
            "test_json",
            ["RFC8414-3.2-200-JSON"],
            Verdict.PASS,
            duration=0.01,
        ),
        TestResult(
            "specs/rfc8414/test_metadata.py::test_plain",
            "test_plain",
            ["RFC8414-2-PKCE-NO-PLAIN"],
            Verdict.FAIL,
            "plain offered",
        ),
        TestResult(
            "specs/rfc8414/test_metadata.py::test_jwks",
            "test_jwks",
            ["RFC8414-2-JWKS"],
            Verdict.NOT_APPLICABLE,
            "no jwks_uri",
        ),
        TestResult(
            "specs/rfc8414/test_metadata.py::test_tls",
            "test_tls",
            ["RFC8414-6.1-TLS"],
            Verdict.NOT_TESTED,
            "needs https",
            unlock="[target] url",
        ),
        TestResult(
            "specs/mcp/test_discovery.py::test_order",
            "test_order",
            ["MCP-DISC-ORDER"],
            Verdict.ERROR,
            "ConnectError: refused",
        ),
    ]
    for t in tests:  # as the plugin makes them (findings.py)
        t.findings = findings_of(
            t.nodeid,
            t.requirements,
            failed=t.verdict == Verdict.FAIL,
            errored=t.verdict == Verdict.ERROR,
            reason=t.reason,
            flags=[],
            evidence_count=len(t.evidence),
        )
    catalogue = [lookup(t.requirements[0]) for t in tests] + [lookup("RFC8414-2-REQUIRED")]
    report = build(
        tests,
        catalogue,
        target={
            "url": "https://as.example",
            "issuer": "https://as.example/",
            "metadata_url": "https://as.example/.well-known/oauth-authorization-server",
            "metadata": {"issuer": "https://as.example/"},
        },
        started="2026-01-01T00:00:00Z",
        finished="2026-01-01T00:00:05Z",
        duration=5.0,
    )
    baseline = Baseline(
        {"MCP-DISC-ORDER": "the target is behind a flaky proxy"},
        findings={"MCP-DISC-ORDER": frozenset({"mcp/test_discovery::test_order#error"})},
    )
    concluded, _ = coverage.conclude(gate.gated(report, gate.evaluate(report, baseline), baseline))
    return concluded


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)"
    )


def normalized_json(path: Path) -> str:
    data = orjson.loads(path.read_bytes())
    data["harness"].pop("python")
    data["harness"].pop("version")
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def test_json_report_matches_golden_and_contract(tmp_path: Path) -> None:
    report = sample_report()
    write_json(report, tmp_path / "report.json")
    check_golden("report.json", normalized_json(tmp_path / "report.json"))
    data = orjson.loads((tmp_path / "report.json").read_bytes())
    # Contract C3: these names never change.
    assert data["schema_version"] == 1
    assert set(data["harness"]) >= {"version", "started", "finished"}
    assert set(data["target"]) >= {"url", "issuer", "metadata"}
    for r in data["requirements"]:
        assert set(r) >= {"id", "spec", "section", "level", "verdict", "reason", "tests", "evidence"}
    assert data["summary"]["fail"] == 1 and data["summary"]["warn"] == 1 and data["summary"]["error"] == 1


def test_junit_report_matches_golden(tmp_path: Path) -> None:
    write_junit(sample_report(), tmp_path / "report.xml")
    check_golden("report.xml", (tmp_path / "report.xml").read_text(encoding="utf-8"))


def test_junit_is_red_exactly_for_unexpected_must_failures(tmp_path: Path) -> None:
    write_junit(sample_report(), tmp_path / "report.xml")
    xml = (tmp_path / "report.xml").read_text(encoding="utf-8")
    assert xml.count("<failure ") == 1 and "RFC8414-3.3-ISSUER-EXACT" in xml
    assert "expected failure (baseline)" not in xml or "<error" in xml
    assert 'name="requirement" value="RFC8414-3.3-ISSUER-EXACT"' in xml


def test_markdown_report_matches_golden(tmp_path: Path) -> None:
    write_markdown(sample_report(), tmp_path / "report.md")
    check_golden("report.md", (tmp_path / "report.md").read_text(encoding="utf-8"))


def test_html_report_is_self_contained_with_chart_filters_and_evidence() -> None:
    page = render(sample_report())
    assert page.startswith("<!doctype html>")
    assert "<svg" in page and "Verdicts per spec" in page
    assert 'type="checkbox" value="fail"' in page and 'id="q"' in page
    assert "https://as.example/.well-known/oauth-authorization-server" in page
    assert "<link " not in page and "src=" not in page  # nothing external
    check_golden("report.html", page)


def test_every_format_shows_the_binding_words_beside_a_failure(tmp_path: Path) -> None:
    report = sample_report()
    words = lookup("RFC8414-3.3-ISSUER-EXACT").quote
    assert words and "MUST be identical" in words
    write_json(report, tmp_path / "report.json")
    row = next(
        r for r in orjson.loads((tmp_path / "report.json").read_bytes())["requirements"] if r["verdict"] == "fail"
    )
    assert row["quote"] == words and row["quote_source"] == "RFC 8414, section 3.3"
    assert row["quote_link"].endswith("rfc8414#section-3.3")
    write_markdown(report, tmp_path / "report.md")
    lines = (tmp_path / "report.md").read_text(encoding="utf-8").splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith("- ❌ [`RFC8414-3.3-ISSUER-EXACT`]"))
    assert lines[failed + 1] == f'  > "{words}" ([RFC 8414, section 3.3]({row["quote_link"]}))'
    page = render(report)
    shown = page.split('data-verdict="fail"', 1)[1].split("</tr>", 1)[0]
    assert '<blockquote class="quote">' in shown and "<summary>the binding words</summary>" not in shown
    assert "MUST be identical" in shown  # its quote marks are escaped, the words are not


def test_html_escapes_everything_it_echoes() -> None:
    report = sample_report()
    report.tests[0].reason = "<script>alert(1)</script>"
    report.requirements[0].reason = "<script>alert(1)</script>"
    page = render(report)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_compare_puts_differences_first(tmp_path: Path) -> None:
    a = orjson.loads(orjson.dumps(sample_report().as_dict()))
    b = orjson.loads(orjson.dumps(sample_report().as_dict()))
    b["target"]["issuer"] = "https://other.example"
    for r in b["requirements"]:
        if r["id"] == "RFC8414-3.2-200-JSON":
            r["verdict"] = "fail"
    m = matrix([("a.json", a), ("b.json", b)])
    assert m.targets == ["https://as.example/", "https://other.example"]
    assert m.rows[0][0]["id"] == "RFC8414-3.2-200-JSON"
    assert len(m.differing) == 1
    write_matrix(m, tmp_path)
    assert (tmp_path / "compare.md").read_text().count("RFC8414-3.2-200-JSON") == 1
    assert "OAuth conformance comparison" in (tmp_path / "compare.html").read_text()


def test_diff_sorts_regressions_fixes_and_new_requirements() -> None:
    old = orjson.loads(orjson.dumps(sample_report().as_dict()))
    new = orjson.loads(orjson.dumps(sample_report().as_dict()))
    for r in new["requirements"]:
        if r["id"] == "RFC8414-3.2-200-JSON":
            r["verdict"] = "fail"
        if r["id"] == "RFC8414-3.3-ISSUER-EXACT":
            r["verdict"] = "pass"
    new["requirements"].append({"id": "RFC8414-2-PKCE", "verdict": "pass"})
    result = diff(old, new)
    assert result.regressions == [("RFC8414-3.2-200-JSON", "pass", "fail")]
    assert result.fixes == [("RFC8414-3.3-ISSUER-EXACT", "fail", "pass")]
    assert result.added == [("RFC8414-2-PKCE", "pass")]


def test_baseline_round_trip(tmp_path: Path) -> None:
    report = sample_report()
    path = tmp_path / "baseline.toml"
    written = write_baseline(path, report, Baseline({"MCP-DISC-ORDER": "the target is behind a flaky proxy"}))
    loaded = load_baseline(path)
    assert loaded == written
    assert loaded.reasons["MCP-DISC-ORDER"] == "the target is behind a flaky proxy"
    assert set(loaded.reasons) == {"RFC8414-3.3-ISSUER-EXACT", "RFC8414-2-PKCE-NO-PLAIN", "MCP-DISC-ORDER"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[expected]]\nid = "X"\n', "needs id and reason"),
        ('[[expected]]\nid = "X"\nreason = " "\n', "needs a reason"),
        ("expected = 3\n", "must be an array"),
    ],
)
def test_bad_baselines_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


def test_an_intermittent_baseline_entry_is_expected_when_it_fails_and_not_stale_when_it_passes(
    tmp_path: Path,
) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text(
        '[[expected]]\nid = "RFC8414-3.2-200-JSON"\nreason = "a race it loses now and then"\nintermittent = true\n'
        '[[expected]]\nid = "RFC8414-3.3-ISSUER-EXACT"\nreason = "trailing slash"\nany_finding = true\n',
        encoding="utf-8",
    )
    entries = load_baseline(baseline)
    assert entries.intermittent == {"RFC8414-3.2-200-JSON"}
    report = sample_report()  # RFC8414-3.2-200-JSON passes there, RFC8414-3.3-ISSUER-EXACT fails
    result = gate.evaluate(report, entries, "must")
    assert result.stale == [] and list(result.expected) == ["RFC8414-3.3-ISSUER-EXACT"]
    assert "RFC8414-3.2-200-JSON" not in result.unexpected
    not_marked = Baseline(entries.reasons, any_finding=entries.any_finding)
    assert gate.evaluate(sample_report(), not_marked).stale == ["RFC8414-3.2-200-JSON"]  # not marked: stale
    baseline.write_text(
        '[[expected]]\nid = "RFC8414-3.2-200-JSON"\nreason = "r"\nintermittent = "yes"\n', encoding="utf-8"
    )
    with pytest.raises(BaselineError, match="intermittent must be true or false"):
        load_baseline(baseline)


def test_gating_leaves_the_report_it_reads_unchanged() -> None:
    report = sample_report()
    before = report.as_dict()
    known = Baseline(
        {"RFC8414-3.3-ISSUER-EXACT": "known"},
        findings={"RFC8414-3.3-ISSUER-EXACT": frozenset({"rfc8414/test_metadata::test_issuer"})},
    )
    result = gate.evaluate(report, known, "must")
    assert report.as_dict() == before
    gated_report = gate.gated(report, result)
    assert gated_report.gate["status"] == result.status
    assert {r.id: r.expected for r in gated_report.requirements}["RFC8414-3.3-ISSUER-EXACT"] == "known"


def test_an_unknown_id_in_a_baseline_is_refused_naming_the_nearest(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[[expected]]\nid = "RFC8414-3.3-ISSUER-EXAKT"\nreason = "r"\n', encoding="utf-8")
    with pytest.raises(BaselineError, match=r"did you mean RFC8414-3\.3-ISSUER-EXACT"):
        load_baseline(path)


def test_an_entry_from_before_findings_accepts_any_finding_until_pinned(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text('[[expected]]\nid = "RFC8414-3.3-ISSUER-EXACT"\nreason = "trailing slash"\n', encoding="utf-8")
    old = load_baseline(path)
    assert old.unpinned == {"RFC8414-3.3-ISSUER-EXACT"}
    report = sample_report()  # RFC8414-3.3-ISSUER-EXACT fails there, with findings
    result = gate.evaluate(report, old, "must")
    assert "RFC8414-3.3-ISSUER-EXACT" in result.expected and not result.new_findings
    pinned = write_baseline(path, report, old)
    assert not pinned.unpinned and pinned.findings["RFC8414-3.3-ISSUER-EXACT"]
    assert load_baseline(path) == pinned
