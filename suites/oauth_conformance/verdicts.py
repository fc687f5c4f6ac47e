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
from typing import NoReturn


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
    """A step the test builds on (a token, a registration) did not succeed; see its own tests."""


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=SEVERITY.__getitem__)
