"""Writers for report.json (C3), report.xml (JUnit), report.md; the HTML writer is html.py."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import orjson

from oauth_conformance.catalogue import SPECS
from oauth_conformance.catalogue import Level
from oauth_conformance.report.model import Report
from oauth_conformance.report.model import RequirementResult
from oauth_conformance.time_travel import CLOCK_NOTES
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict

ICON = {
    "pass": "✅",
    "fail": "❌",
    "warn": "⚠️",
    "error": "💥",
    "not_applicable": "➖",
    "not_tested": "⏸️",
}


def write_json(report: Report, path: Path) -> None:
    path.write_bytes(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")


def _junit_outcome(test: TestResult, report: Report) -> tuple[str, str] | None:
    """How a test shows in JUnit: red exactly when it makes the run fail."""
    results = {r.id: r for r in report.requirements}
    if test.verdict == Verdict.FAIL:
        gating = [
            rid
            for rid in test.requirements
            if rid in results and results[rid].requirement.level == Level.MUST and results[rid].expected is None
        ]
        if gating or report.gate.get("fail_on") == "should":
            return "failure", f"{' '.join(gating or test.requirements)}: {test.reason}"
        expected = [rid for rid in test.requirements if rid in results and results[rid].expected is not None]
        label = "expected failure (baseline)" if expected else "warning (SHOULD)"
        return "skipped", f"{label}: {' '.join(test.requirements)}: {test.reason}"
    if test.verdict == Verdict.ERROR:
        return "error", test.reason
    if test.verdict in (Verdict.NOT_APPLICABLE, Verdict.NOT_TESTED):
        return "skipped", f"{test.verdict.value}: {test.reason}"
    return None


def write_junit(report: Report, path: Path) -> None:
    suites: dict[str, list[TestResult]] = {}
    for test in report.tests:
        # The suite is the test file's folder; a "/" in a parameter id (a URI) is not a folder.
        file = test.nodeid.split("::")[0]
        suites.setdefault(file.rsplit("/", 2)[-2] if "/" in file else "suite", []).append(test)
    root = ET.Element("testsuites", name="oauth-conformance")
    results = {r.id: r for r in report.requirements}
    for name, tests in sorted(suites.items()):
        counts = {"failure": 0, "error": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", name=f"oauth_conformance.{name}", tests=str(len(tests)))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=str(report.target.get("url", "")))
        for test in tests:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"oauth_conformance.{name}",
                name=test.name,
                time=f"{test.duration:.3f}",
            )
            cprops = ET.SubElement(case, "properties")
            for rid in test.requirements:
                ET.SubElement(cprops, "property", name="requirement", value=rid)
                if rid in results:
                    ET.SubElement(cprops, "property", name="level", value=results[rid].requirement.level.value)
                    ET.SubElement(cprops, "property", name="link", value=results[rid].requirement.link)
                    if results[rid].requirement.quote:
                        ET.SubElement(cprops, "property", name="quote", value=results[rid].requirement.quote or "")
            ET.SubElement(cprops, "property", name="verdict", value=test.verdict.value)
            for finding in test.findings:
                ET.SubElement(cprops, "property", name="finding", value=finding.fingerprint)
            outcome = _junit_outcome(test, report)
            if outcome is not None:
                kind, message = outcome
                counts[kind] += 1
                element = ET.SubElement(case, kind, message=message.splitlines()[0][:500] if message else kind)
                element.text = message
        suite.set("failures", str(counts["failure"]))
        suite.set("errors", str(counts["error"]))
        suite.set("skipped", str(counts["skipped"]))
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quoted(r: RequirementResult) -> list[str]:
    """The binding words under a failed or warned row, as a Markdown quote in the list item."""
    q = r.requirement
    if not q.quote:
        return []
    return [f'  > "{q.quote}" ([{q.quote_source}]({q.quote_link}))']


def _findings(r: RequirementResult, report: Report) -> list[str]:
    """A failed or warned row's findings, one list item each (a new one, unknown to the baseline, says so)."""
    new = set(report.gate.get("new_findings", {}).get(r.id, []))
    seen: set[str] = set()
    lines = []
    for _, f in r.findings:
        if f.fingerprint in seen:
            continue
        seen.add(f.fingerprint)
        tag = " **(new: not in the baseline)**" if f.fingerprint in new else ""
        lines.append(f"  - `{f.fingerprint}`{tag}: {_cell(f.description)}")
    return lines


def _coverage_lines(report: Report) -> list[str]:
    c = report.coverage
    if not c:
        return []
    lines = [
        f"- Coverage: {c['verified_musts']} of {c['testable_musts']} testable MUSTs verified ({c['percent']}%);"
        f" {c['not_applicable_musts']} not applicable to this target, {c['untestable_musts']} untestable"
        + (f"; minimum {c['minimum_percent']:g}%" if c.get("minimum_percent") is not None else "")
    ]
    lines += [f"- Not exercised: `{rid}`: {_cell(why)}" for rid, why in c.get("core_unexercised", {}).items()]
    tls = c.get("tls_unexercised_musts", [])
    if tls:
        lines.append(
            f"- TLS MUSTs a plain-http target cannot show (not counted): {', '.join(f'`{rid}`' for rid in tls)}"
        )
    return lines


def write_markdown(report: Report, path: Path) -> None:
    t = report.target
    summary = report.summary()
    lines = [
        f"# OAuth conformance report: {t.get('name') or t.get('issuer') or t.get('url')}",
        "",
        f"- Target: `{t.get('url')}` (issuer `{t.get('issuer')}`)",
        *([f"- Clock: `{t['clock']}`: {CLOCK_NOTES.get(t['clock'], '')}"] if t.get("clock") else []),
        f"- Run: {report.started} to {report.finished} ({report.duration:.1f} s), oauth-conformance",
        f"- Texts: {report.texts_line()}",
        f"- Verdict: **{report.verdict_word}** "
        f"({len(report.gate.get('unexpected_failures', []))} unexpected MUST failures,"
        f" {len(report.gate.get('stale_baseline_entries', []))} stale baseline entries)",
        *_coverage_lines(report),
        "",
        "| | " + " | ".join(f"{ICON[v]} {v}" for v in summary if v != "total") + " | total |",
        "|---|" + "---:|" * (len(summary)),
        "| **all** | " + " | ".join(str(summary[v]) for v in summary) + " |",
    ]
    for spec, row in report.by_spec().items():
        lines.append(f"| {spec} | " + " | ".join(str(row[v]) for v in row) + f" | {sum(row.values())} |")
    failed = report.failed_musts()
    if failed:
        lines += ["", "## Failed MUSTs", ""]
        for r in failed:
            tag = f" (expected: {r.expected})" if r.expected else ""
            lines.append(f"- {ICON[r.verdict.value]} [`{r.id}`]({r.requirement.link}): {_cell(r.reason)}{tag}")
            lines += _quoted(r)
            lines += _findings(r, report)
    warnings = [r for r in report.requirements if r.verdict == Verdict.WARN]
    if warnings:
        lines += ["", "## Warnings (SHOULD)", ""]
        for r in warnings:
            lines += [f"- [`{r.id}`]({r.requirement.link}): {_cell(r.reason)}", *_quoted(r), *_findings(r, report)]
    unlocks: dict[str, int] = {}
    for test in report.tests:
        if test.verdict == Verdict.NOT_TESTED and test.unlock:
            unlocks[test.unlock] = unlocks.get(test.unlock, 0) + 1
    if unlocks:
        lines += ["", "## What would test more", ""]
        lines += [
            f"- `{k}` in the profile would unlock {n} test(s)"
            for k, n in sorted(unlocks.items(), key=lambda kv: -kv[1])
        ]
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {_cell(n)}" for n in report.notes]
    for spec in report.specs:
        rows = [r for r in report.requirements if r.requirement.spec == spec]
        if not rows:
            continue
        info = SPECS[spec]
        tested = report.spec_info[spec]
        newer = f"; the newest is {tested['newest']}" if tested["pinned"] else ""
        lines += [
            "",
            f"## {spec}: {info.title} ({tested['document']}{newer})",
            "",
            "| Requirement | Level | Verdict | Reason |",
            "|---|---|---|---|",
        ]
        notes = report.target.get("requirement_notes", {})
        for r in rows:
            partial = " (partial)" if r.partial else ""
            note = notes.get(r.id)
            by = f" (provided by the {note['provided_by']}: {_cell(note['why'])})" if note else ""
            lines.append(
                f"| [`{r.id}`]({r.requirement.link}) | {r.requirement.level.value} |"
                f" {ICON[r.verdict.value]} {r.verdict.value}{partial} | {_cell(r.reason)[:300]}{by} |"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_all(report: Report, directory: Path) -> None:
    """report.json, report.xml (JUnit), report.md and report.html in ``directory`` (created)."""
    from oauth_conformance.report.html import write_html
    from oauth_conformance.report.scrubbed import scrubbed

    report = scrubbed(report)  # whoever built it, no writer shows a secret the run knows
    directory.mkdir(parents=True, exist_ok=True)
    write_json(report, directory / "report.json")
    write_junit(report, directory / "report.xml")
    write_markdown(report, directory / "report.md")
    write_html(report, directory / "report.html")
