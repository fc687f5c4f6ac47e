"""The last redaction pass: a report with every string in it scrubbed, before anything shows it.

Evidence, reasons and findings were redacted where each test made them; this pass runs once more
over the whole report, with every secret the run has learnt by the end (a value learnt in a later
test, a profile secret, a raw-socket answer's), so that no writer and no console line can show one.
"""

from __future__ import annotations

import dataclasses

from oauth_conformance.redaction import deep_scrub
from oauth_conformance.redaction import scrub_text
from oauth_conformance.report.model import Report
from oauth_conformance.verdicts import TestResult


def _test(t: TestResult) -> TestResult:
    return dataclasses.replace(
        t,
        reason=scrub_text(t.reason),
        evidence=deep_scrub(t.evidence),
        findings=[dataclasses.replace(f, description=scrub_text(f.description)) for f in t.findings],
        notes=[scrub_text(n) for n in t.notes],
    )


def scrubbed(report: Report) -> Report:
    """A copy of ``report`` whose every string has been through :func:`~oauth_conformance.redaction.scrub_text`."""
    tests = {id(t): _test(t) for t in report.tests}
    requirements = [
        dataclasses.replace(
            r,
            reason=scrub_text(r.reason),
            expected=scrub_text(r.expected) if r.expected is not None else None,
            tests=[tests.get(id(t)) or _test(t) for t in r.tests],
        )
        for r in report.requirements
    ]
    return dataclasses.replace(
        report,
        requirements=requirements,
        tests=[tests[id(t)] for t in report.tests],
        target=deep_scrub(report.target),
        notes=[scrub_text(n) for n in report.notes],
    )
