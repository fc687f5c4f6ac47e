"""CI gating: which failures are unexpected, which baseline entries are stale, the exit status.

A run fails (exit 1) on a failure that is not expected, on an expected failure that shows a
finding its baseline entry does not list (the requirement was failing already, but in a new
way: a regression all the same), and on an expected failure that is no longer flagged (it
passes, or was not tested or not applicable this time): the entry is stale, and the baseline
must be updated to keep gating meaningful. An intermittent entry is expected when it fails and
not stale when it passes. A listed finding that no longer shows while its requirement still
fails is reported (``resolved_findings``), not gated: the target got better, not worse.

:func:`evaluate` only reads the report; :func:`gated` returns the report with the gate's result
in it, so report.json always says what the exit status says.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from oauth_conformance.catalogue import Level
from oauth_conformance.report.baseline import Baseline
from oauth_conformance.report.model import Report
from oauth_conformance.verdicts import Verdict

FAILING = (Verdict.FAIL, Verdict.WARN, Verdict.ERROR)


@dataclass(frozen=True)
class GateResult:
    status: int
    fail_on: str
    unexpected: list[str]
    stale: list[str]
    expected: dict[str, str]  # requirement id -> the baseline's reason, for failures it expects
    # requirement id -> fingerprints its baseline entry does not list (the id is in ``unexpected``
    # when it gates), and fingerprints listed that no longer show
    new_findings: dict[str, list[str]] = field(default_factory=dict)
    resolved_findings: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fail_on": self.fail_on,
            "status": self.status,
            "unexpected_failures": self.unexpected,
            "expected_failures": list(self.expected),
            "stale_baseline_entries": self.stale,
            "new_findings": self.new_findings,
            "resolved_findings": self.resolved_findings,
        }


def evaluate(report: Report, baseline: Baseline | None = None, fail_on: str = "must") -> GateResult:
    baseline = baseline or Baseline()
    gated_verdicts = {Verdict.FAIL, Verdict.ERROR} | ({Verdict.WARN} if fail_on == "should" else set())
    unexpected: list[str] = []
    stale: list[str] = []
    expected: dict[str, str] = {}
    new_findings: dict[str, list[str]] = {}
    resolved: dict[str, list[str]] = {}
    for r in report.requirements:
        failing = r.verdict in gated_verdicts and (r.requirement.level == Level.MUST or fail_on == "should")
        if r.id in baseline:
            if r.verdict in FAILING:
                shown = r.fingerprints()
                new = baseline.new_findings(r.id, shown)
                gone = sorted(baseline.findings.get(r.id, frozenset()) - set(shown))
                if gone:
                    resolved[r.id] = gone
                if new:
                    new_findings[r.id] = new
                if new and failing:
                    unexpected.append(r.id)  # failing already, but in a way the baseline does not know
                else:
                    expected[r.id] = baseline.reasons[r.id]
            elif r.id not in baseline.intermittent or r.verdict != Verdict.PASS:
                # It passes now, or is no longer tested (not_tested, not_applicable): either way the
                # run no longer flags the deviation the baseline records (an intermittent one may pass).
                stale.append(r.id)
        elif failing:
            unexpected.append(r.id)
    status = 1 if unexpected or stale else 0
    return GateResult(status, fail_on, unexpected, stale, expected, new_findings, resolved)


def gated(report: Report, result: GateResult, baseline: Baseline | None = None) -> Report:
    """A copy of ``report`` that carries the gate's result and marks the failures it expects."""
    requirements = [dataclasses.replace(r, expected=result.expected.get(r.id)) for r in report.requirements]
    return dataclasses.replace(
        report,
        requirements=requirements,
        gate=result.as_dict(),
        baseline=dict(baseline.reasons) if baseline is not None else {},
    )
