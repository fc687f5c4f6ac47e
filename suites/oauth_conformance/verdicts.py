"""Verdicts: what the harness concludes about a requirement, and how a test says so.

- ``pass`` / ``fail``: the target did or did not do what the requirement demands (a failed
  SHOULD is ``warn``).
- ``not_applicable``: the target does not offer the feature (its metadata or profile says so).
- ``not_tested``: the run lacked what the test needs (a driver, a client kind, a clock).
- ``error``: the harness or the connection broke; never counted as a pass.

A test signals the last three by raising :class:`NotApplicable` or :class:`NotTested` (through
:func:`not_applicable` and :func:`not_tested`); a plain ``assert`` decides pass and fail.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import NoReturn

from oauth_conformance.findings import Finding


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"
    NOT_TESTED = "not_tested"
    ERROR = "error"


# When several tests (or test phases) speak of one requirement, the most serious one wins.
SEVERITY = {
    Verdict.FAIL: 6,
    Verdict.WARN: 5,
    Verdict.ERROR: 4,
    Verdict.NOT_TESTED: 3,
    Verdict.PASS: 2,
    Verdict.NOT_APPLICABLE: 1,
}


class Outcome(Exception):
    """Base of the non-pass/fail outcomes a test can raise."""

    verdict: Verdict

    def __init__(self, reason: str, *, unlock: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unlock = unlock


class NotApplicable(Outcome):
    """The target does not offer what the requirement is about."""

    verdict = Verdict.NOT_APPLICABLE


class NotTested(Outcome):
    """The run lacks something the test needs; ``unlock`` names the profile setting that helps."""

    verdict = Verdict.NOT_TESTED


def not_applicable(reason: str) -> NoReturn:
    __tracebackhide__ = True
    raise NotApplicable(reason)


def not_tested(reason: str, *, unlock: str | None = None) -> NoReturn:
    __tracebackhide__ = True
    raise NotTested(reason, unlock=unlock)


class PrerequisiteFailed(NotTested):
    """A step the test builds on (a token, a registration) did not succeed; see its own tests.

    With ``requirement``, the step was a valid request the target itself broke (a 5xx, a hang, an
    error for a request that is right): the test's own requirements are not tested, and the run
    counts a failure of ``requirement``, the happy path that covers the step. Without it, the
    harness could not get through (a refused variant, a client it cannot get): not tested only.
    """

    def __init__(self, reason: str, *, unlock: str | None = None, requirement: str | None = None) -> None:
        super().__init__(reason, unlock=unlock)
        self.requirement = requirement


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=SEVERITY.__getitem__)


@dataclass
class TestResult:
    """One test's verdict, the record that travels from the test to report.json.

    Built once in the pytest hook that sees the outcome; it crosses pytest-xdist as
    :meth:`as_dict` (JSON) and comes back with :meth:`from_dict`; the report lists it as it is.
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    requirements: list[str]
    verdict: Verdict
    reason: str = ""
    unlock: str | None = None
    duration: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what a failure showed (findings.py)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a verdict
    # The happy-path requirement a step of this test found broken (see PrerequisiteFailed): the
    # report counts this test as a failed test of that requirement.
    failed_prerequisite: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "nodeid": self.nodeid,
            "name": self.name,
            "requirements": self.requirements,
            "verdict": self.verdict.value,
            "duration": round(self.duration, 4),
        }
        if self.reason:
            out["reason"] = self.reason
        if self.unlock:
            out["unlock"] = self.unlock
        if self.evidence:
            out["evidence"] = self.evidence
        if self.findings:
            out["findings"] = [f.as_dict() for f in self.findings]
        if self.notes:
            out["notes"] = self.notes
        if self.failed_prerequisite:
            out["failed_prerequisite"] = self.failed_prerequisite
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        return cls(
            nodeid=data["nodeid"],
            name=data["name"],
            requirements=list(data["requirements"]),
            verdict=Verdict(data["verdict"]),
            reason=data.get("reason", ""),
            unlock=data.get("unlock"),
            duration=float(data.get("duration", 0.0)),
            evidence=list(data.get("evidence", [])),
            findings=[Finding.from_dict(f) for f in data.get("findings", []) if isinstance(f, dict)],
            notes=list(data.get("notes", [])),
            failed_prerequisite=data.get("failed_prerequisite"),
        )
