"""From per-test outcomes to per-requirement verdicts (contract C3).

A requirement's verdict joins its tests' verdicts: any failure fails it (``warn`` for SHOULD
and MAY), else any error makes it ``error``, else it passes when every test that applies ran and
passed; when some passed and others were not run it is ``not_tested`` with ``partial`` set (a
partly verified requirement is not verified), ``not_applicable`` when every test was, else
``not_tested``.

A test whose step found a happy path broken (``failed_prerequisite``: a valid request the target
refused or crashed on) counts as a failed test of that happy-path requirement as well.
"""

from __future__ import annotations

import platform
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from oauth_conformance.catalogue import SPECS
from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry
from oauth_conformance.findings import Finding
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict
from oauth_conformance.version import VERSION
from oauth_conformance.versions import describe as describe_versions

SCHEMA_VERSION = 1
VERDICT_ORDER = [
    v.value
    for v in (Verdict.FAIL, Verdict.ERROR, Verdict.WARN, Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE, Verdict.PASS)
]


@dataclass
class RequirementResult:
    requirement: Requirement
    verdict: Verdict
    reason: str
    tests: list[TestResult]
    partial: bool = False
    expected: str | None = None  # the baseline's reason, when this failure is expected

    @property
    def id(self) -> str:
        return self.requirement.id

    @property
    def findings(self) -> list[tuple[TestResult, Finding]]:
        """What its failing tests showed, each finding with the test that showed it."""
        return [(t, f) for t in self.tests if t.verdict in (Verdict.FAIL, Verdict.ERROR) for f in t.findings]

    def fingerprints(self) -> list[str]:
        return sorted({f.fingerprint for _, f in self.findings})

    def as_dict(self) -> dict[str, Any]:
        r = self.requirement
        evidence = [e for t in self.tests if t.verdict in (Verdict.FAIL, Verdict.ERROR) for e in t.evidence]
        out: dict[str, Any] = {
            "id": r.id,
            "spec": r.spec,
            "section": r.where,
            "spec_version": r.edition.document,
            "level": r.level.value,
            "summary": r.summary,
            "link": r.link,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "tests": [t.nodeid for t in self.tests],
            "evidence": evidence,
        }
        if self.findings:
            out["findings"] = [
                {"fingerprint": f.fingerprint, "description": f.description, "test": t.nodeid} for t, f in self.findings
            ]
        if self.partial:
            out["partial"] = True
        if self.expected is not None:
            out["expected_failure"] = self.expected
        if r.where != r.section:
            out["id_section"] = r.section  # the id keeps the section of the version that defined the row
        if r.untestable:
            out["untestable"] = r.untestable
        if r.quote:  # the pinned text's words that make the row binding, and where they stand
            out["quote"] = r.quote
            out["quote_source"] = r.quote_source
            out["quote_link"] = r.quote_link
        return out


def requirement_verdict(requirement: Requirement, tests: list[TestResult]) -> RequirementResult:
    if not tests:
        reason = f"untestable: {requirement.untestable}" if requirement.untestable else "no test of this run covers it"
        return RequirementResult(requirement, Verdict.NOT_TESTED, reason, [])
    verdicts = [t.verdict for t in tests]

    def first(v: Verdict) -> str:
        return next(t.reason for t in tests if t.verdict == v)

    if Verdict.FAIL in verdicts:
        verdict = Verdict.FAIL if requirement.level == Level.MUST else Verdict.WARN
        return RequirementResult(requirement, verdict, first(Verdict.FAIL), tests)
    if Verdict.ERROR in verdicts:
        return RequirementResult(requirement, Verdict.ERROR, first(Verdict.ERROR), tests)
    if Verdict.PASS in verdicts:
        reason = f"{verdicts.count(Verdict.PASS)} of {len(verdicts)} tests passed"
        if Verdict.NOT_TESTED in verdicts:  # only part of it was seen to hold: not verified
            reason += f"; not tested: {first(Verdict.NOT_TESTED)}"
            return RequirementResult(requirement, Verdict.NOT_TESTED, reason, tests, partial=True)
        return RequirementResult(requirement, Verdict.PASS, reason, tests)
    if all(v == Verdict.NOT_APPLICABLE for v in verdicts):
        return RequirementResult(requirement, Verdict.NOT_APPLICABLE, first(Verdict.NOT_APPLICABLE), tests)
    return RequirementResult(requirement, Verdict.NOT_TESTED, first(Verdict.NOT_TESTED), tests)


@dataclass
class Report:
    requirements: list[RequirementResult]
    tests: list[TestResult]
    target: dict[str, Any]
    started: str
    finished: str
    duration: float
    specs: list[str]
    baseline: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)  # report/coverage.py, once the run is gated
    outcome: dict[str, Any] = field(default_factory=dict)  # the verdict word, the exit status, the last line
    versions: dict[str, str] = field(default_factory=dict)  # token -> the version of its text tested

    @property
    def spec_info(self) -> dict[str, dict[str, Any]]:
        """Each tested text: title, the version tested, whether that is the newest (report.json harness.specs)."""
        return describe_versions(self.versions, self.specs)

    def texts_line(self) -> str:
        """The versions tested, drafts first: "draft-ietf-oauth-v2-1-13 (pinned), ..., RFC 6749"."""
        info = self.spec_info.values()
        drafts = [str(i["document"]) + (" (pinned)" if i["pinned"] else "") for i in info if i["version"] != "RFC"]
        return ", ".join([*drafts, *(str(i["document"]) for i in info if i["version"] == "RFC")])

    def summary(self) -> dict[str, int]:
        counts = Counter(r.verdict.value for r in self.requirements)
        return {v: counts.get(v, 0) for v in VERDICT_ORDER} | {"total": len(self.requirements)}

    def by_spec(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.requirements:
            row = out.setdefault(r.requirement.spec, dict.fromkeys(VERDICT_ORDER, 0))
            row[r.verdict.value] += 1
        return out

    @property
    def verdict_word(self) -> str:
        """PASSED, FAILED or INCONCLUSIVE: the outcome once decided, else what the gate alone says."""
        return str(self.outcome.get("verdict") or ("FAILED" if self.gate.get("status") else "PASSED"))

    def failed_musts(self) -> list[RequirementResult]:
        return [
            r
            for r in self.requirements
            if r.verdict in (Verdict.FAIL, Verdict.ERROR) and r.requirement.level == Level.MUST
        ]

    def findings(self) -> list[Finding]:
        """Every finding of the run, once each (a test naming two requirements shows it under both)."""
        seen: dict[str, Finding] = {}
        for t in self.tests:
            if t.verdict in (Verdict.FAIL, Verdict.ERROR) or t.failed_prerequisite:
                for f in t.findings:
                    seen.setdefault(f.fingerprint, f)
        return sorted(seen.values(), key=lambda f: f.fingerprint)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "harness": {
                "version": VERSION,
                "started": self.started,
                "finished": self.finished,
                "duration_seconds": round(self.duration, 3),
                "python": platform.python_version(),
                "specs": self.spec_info,
            },
            "target": self.target,
            "requirements": [r.as_dict() for r in self.requirements],
            "summary": self.summary(),
            "summary_by_spec": self.by_spec(),
            "gate": self.gate,
            "coverage": self.coverage,
            "outcome": self.outcome,
            "baseline": self.baseline,
            "findings": [
                {"fingerprint": f.fingerprint, "description": f.description, "requirements": list(f.requirements)}
                for f in self.findings()
            ],
            "notes": self.notes,
            "tests": [t.as_dict() for t in self.tests],
        }


def prerequisite_failure(test: TestResult) -> TestResult:
    """What a test whose step broke a happy path says about that happy-path requirement (its findings
    are that requirement's: the test itself was not run to its end, so it shows none of its own)."""
    assert test.failed_prerequisite is not None
    reason = test.reason.removeprefix(f"{test.failed_prerequisite} failed: ")
    return TestResult(
        nodeid=test.nodeid,
        name=test.name,
        requirements=[test.failed_prerequisite],
        verdict=Verdict.FAIL,
        reason=f"in a step of {test.name}: {reason}",
        duration=test.duration,
        evidence=test.evidence,
        findings=test.findings,  # the plugin made them for the broken happy path
    )


def build(
    tests: list[TestResult],
    catalogue: list[Requirement],
    *,
    target: dict[str, Any],
    started: str,
    finished: str,
    duration: float,
    versions: dict[str, str] | None = None,
) -> Report:
    by_id: dict[str, list[TestResult]] = {}
    for test in tests:
        for rid in test.requirements:
            by_id.setdefault(rid, []).append(test)
        if test.failed_prerequisite:
            by_id.setdefault(test.failed_prerequisite, []).append(prerequisite_failure(test))
    # A happy path broken in a step of a test of another spec is reported even when its own spec
    # was not selected: the run saw the target fail it.
    listed = {r.id for r in catalogue}
    broken = {t.failed_prerequisite for t in tests if t.failed_prerequisite} - listed
    catalogue = catalogue + [registry()[rid] for rid in sorted(broken) if rid in registry()]
    results = [requirement_verdict(r, by_id.get(r.id, [])) for r in catalogue]
    specs = sorted({r.spec for r in catalogue}, key=lambda s: list(SPECS).index(s))
    notes = sorted({n for t in tests for n in t.notes})
    chosen = {r.spec: r.edition.name for r in catalogue} | dict(versions or {})
    return Report(results, tests, target, started, finished, duration, specs, notes=notes, versions=chosen)
