"""Coverage: how many of the run's testable MUSTs it verified, and whether it reached the core.

A MUST of the run's catalogue is *testable* when it has a black-box test (it is not marked
``untestable``) and applies to the target (its verdict is not ``not_applicable``: the target neither
advertises nor was seen to offer the feature). It is *verified* when its verdict is ``pass``: every
test of it that applies ran and passed. Failed, errored and not-tested MUSTs are testable but not
verified.

A run is *inconclusive* (exit status 5, contract C2) when it tried and could not exercise a core
capability (:data:`CORE`: the code flow, the token endpoint), or verified fewer testable MUSTs than the
profile's ``[gate] min_coverage`` asks: a PASSED verdict would then say more than the run saw. A
failure always wins: a run with an unexpected MUST failure is FAILED whatever its coverage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from oauth_conformance.catalogue import Level
from oauth_conformance.features import Feature
from oauth_conformance.report.model import Report
from oauth_conformance.verdicts import Verdict

EXIT_INCONCLUSIVE = 5  # contract C2

# The capabilities without which a run says nothing about an authorization server, by the
# requirement whose verdict shows whether the run got through them.
CORE = {
    "OAUTH21-4.1-CODE-FLOW": "the authorization code flow",
    "OAUTH21-3.2.3-RESPONSE": "the token endpoint",
}
UNEXERCISED = (Verdict.NOT_TESTED, Verdict.NOT_APPLICABLE)
UNVERIFIED_FAILURES = (Verdict.FAIL, Verdict.ERROR)


@dataclass(frozen=True)
class Coverage:
    testable: int
    verified: int
    failed: list[str]  # testable MUSTs that failed or errored (expected by the baseline or not)
    not_tested: list[str]
    not_applicable: int
    untestable: int
    minimum: float | None = None  # percent of the testable MUSTs, from the profile
    unexercised: dict[str, str] = field(default_factory=dict)  # core requirement id -> what the run saw
    tls_unexercised: list[str] = field(default_factory=list)  # TLS MUSTs a plain-http target cannot show

    @property
    def percent(self) -> float:
        return 100.0 * self.verified / self.testable if self.testable else 100.0

    @property
    def below_minimum(self) -> bool:
        return self.minimum is not None and self.percent < self.minimum

    @property
    def inconclusive(self) -> bool:
        return bool(self.unexercised) or self.below_minimum

    def reasons(self) -> list[str]:
        """Why the run is inconclusive, in words."""
        found = [f"{CORE[rid]} was not exercised ({rid}: {why})" for rid, why in self.unexercised.items()]
        if self.below_minimum:
            found.append(f"{self.percent:.1f}% of the testable MUSTs verified, below the profile's {self.minimum:g}%")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "testable_musts": self.testable,
            "verified_musts": self.verified,
            "percent": round(self.percent, 2),
            "failed_musts": self.failed,
            "not_tested_musts": self.not_tested,
            "not_applicable_musts": self.not_applicable,
            "untestable_musts": self.untestable,
            "minimum_percent": self.minimum,
            "core_unexercised": self.unexercised,
            "tls_unexercised_musts": self.tls_unexercised,
            "inconclusive": self.inconclusive,
        }


def measure(report: Report, minimum: float | None = None) -> Coverage:
    """The coverage of ``report`` (pure: reads the report only)."""
    musts = [r for r in report.requirements if r.requirement.level == Level.MUST]
    untestable = [r for r in musts if r.requirement.untestable]
    applicable = [r for r in musts if not r.requirement.untestable and r.verdict != Verdict.NOT_APPLICABLE]
    plain_http = str(report.target.get("url") or "").startswith("http://")
    tls = [
        r
        for r in applicable
        if plain_http and r.requirement.applies_if == Feature.TLS and r.verdict == Verdict.NOT_TESTED
    ]
    applicable = [r for r in applicable if r not in tls]
    # A core requirement counts when the run tried it (a test of it ran, or a step of another test
    # reached it); a run narrowed to other specs or tests is judged on what it selected.
    unexercised = {
        r.id: f"{r.verdict.value}: {r.reason}"[:240]
        for r in report.requirements
        if r.id in CORE and r.verdict in UNEXERCISED and r.tests
    }
    return Coverage(
        testable=len(applicable),
        verified=sum(1 for r in applicable if r.verdict == Verdict.PASS),
        failed=[r.id for r in applicable if r.verdict in UNVERIFIED_FAILURES],
        not_tested=[r.id for r in applicable if r.verdict == Verdict.NOT_TESTED],
        not_applicable=sum(1 for r in musts if not r.requirement.untestable and r.verdict == Verdict.NOT_APPLICABLE),
        untestable=len(untestable),
        minimum=minimum,
        unexercised=unexercised,
        tls_unexercised=[r.id for r in tls],
    )


def exit_status(gate_status: int, coverage: Coverage) -> int:
    """The run's exit status: the gate's failure first, then an inconclusive run, else 0."""
    if gate_status:
        return gate_status
    return EXIT_INCONCLUSIVE if coverage.inconclusive else 0


def verdict_word(status: int) -> str:
    return {0: "PASSED", EXIT_INCONCLUSIVE: "INCONCLUSIVE"}.get(status, "FAILED")


def last_line(report: Report, coverage: Coverage, status: int) -> str:
    """The terminal's last line: the verdict, the MUSTs verified, the failures, the SHOULD warnings."""
    failed = coverage.failed
    expected = [rid for rid in failed if any(r.id == rid and r.expected for r in report.requirements)]
    text = f"{verdict_word(status)}: {coverage.verified} of {coverage.testable} testable MUSTs verified"
    if failed and len(expected) == len(failed):
        text += f", {len(failed)} failed (all expected by the baseline)"
    elif failed:
        text += f", {len(failed)} failed: {', '.join(failed[:6])}{' ...' if len(failed) > 6 else ''}"
    else:
        text += ", 0 failed"
    warnings = [r.id for r in report.requirements if r.verdict == Verdict.WARN]
    if warnings:
        plural = "s" if len(warnings) > 1 else ""
        text += (
            f"; {len(warnings)} SHOULD warning{plural}: {', '.join(warnings[:6])}{' ...' if len(warnings) > 6 else ''}"
        )
    stale = report.gate.get("stale_baseline_entries", [])
    if stale:
        text += f"; {len(stale)} stale baseline entr{'ies' if len(stale) > 1 else 'y'}: {', '.join(stale[:6])}"
    if coverage.tls_unexercised:
        text += f"; {len(coverage.tls_unexercised)} TLS MUSTs need an https target"
    if status == EXIT_INCONCLUSIVE:
        text += "; " + "; ".join(coverage.reasons())
    return text


def conclude(report: Report, minimum: float | None = None) -> tuple[Report, Coverage]:
    """A copy of a gated ``report`` that carries its coverage and its outcome (verdict, exit status,
    the last line), and the coverage itself."""
    coverage = measure(report, minimum)
    status = exit_status(int(report.gate.get("status", 0)), coverage)
    outcome = {"verdict": verdict_word(status), "exit_status": status, "summary": last_line(report, coverage, status)}
    return dataclasses.replace(report, coverage=coverage.as_dict(), outcome=outcome), coverage
