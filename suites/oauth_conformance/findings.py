"""Findings: what a failed test showed, each under a fingerprint that stays the same from run to run.

A requirement says what must hold; a finding says one way it did not. A test that fails carries
one finding per variant it flagged (``Recorder.flag``: a redirect URI variant class, a fuzzed
endpoint, one kind of hostile request), or else one finding for the test itself. Its fingerprint
is the test (suite, module, function and parameters) and the variant: never a random value, a
count, a port or a time, so an unchanged target gives the same fingerprints in every run, and a
baseline can accept a known finding while a new one under the same requirement still fails the
gate (report/gate.py).

::

    oauth21/test_redirect_uris::test_no_variant_..._redirected_to[loopback]#empty-query
    robust/test_fuzz::test_no_fuzzed_request_gets_a_server_error#post-token
    rfc7636/test_pkce::test_plain_is_refused        (a test that failed as a whole)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VARIANT_SEPARATOR = "#"
_SPEC_MARKERS = ("oauth_conformance/specs/", "specs/")
_NOT_SLUG = re.compile(r"[^a-z0-9._]+")
DESCRIPTION_LIMIT = 300


def key_of(nodeid: str) -> str:
    """The test part of a fingerprint: its node id without the folders in front of the suites.

    The same test has different node ids under ``oauth-conformance run`` (rooted in the
    package), plain pytest (rooted wherever the user stands) and pytester; the suites' own path
    (``oauth21/test_redirect_uris``) is what stays.
    """
    path, sep, rest = nodeid.replace("\\", "/").partition("::")
    for marker in _SPEC_MARKERS:
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    return f"{path.removesuffix('.py')}{sep}{rest}"


def slug(text: str) -> str:
    """A variant name from a label (``a token request with a 64 KiB code`` -> ``a-token-...-code``)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-") or "unnamed"


def fingerprint(nodeid: str, variant: str = "") -> str:
    key = key_of(nodeid)
    return f"{key}{VARIANT_SEPARATOR}{slug(variant)}" if variant else key


def one_line(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= DESCRIPTION_LIMIT else first[: DESCRIPTION_LIMIT - 3] + "..."


@dataclass(frozen=True, slots=True)
class Flag:
    """A variant a test flagged as failing: its name, a line, and its evidence (positions in the
    test's evidence list; empty: all of it)."""

    variant: str
    description: str
    evidence: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One way a test failed: a stable fingerprint, a line saying what, and where the proof is.

    ``evidence`` holds positions in the test's own evidence list (``TestResult.evidence``), so
    the exchanges are written once however many findings point at them.
    """

    fingerprint: str
    description: str
    requirements: tuple[str, ...]
    evidence: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "description": self.description,
            "requirements": list(self.requirements),
            "evidence": list(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            fingerprint=str(data["fingerprint"]),
            description=str(data.get("description", "")),
            requirements=tuple(data.get("requirements", ())),
            evidence=tuple(int(i) for i in data.get("evidence", ())),
        )


def findings_of(
    nodeid: str,
    requirements: list[str],
    *,
    failed: bool,
    errored: bool,
    reason: str,
    flags: list[Flag],
    evidence_count: int,
) -> list[Finding]:
    """The findings of one test's outcome: its flagged variants, else the test itself.

    A test that passed (or was not run) has none, whatever it flagged on the way. A harness
    error is a finding of its own (``#error``), so a baseline can expect it without hiding a
    real failure of the same test.
    """
    everything = tuple(range(evidence_count))
    rids = tuple(requirements)
    if errored:
        return [Finding(fingerprint(nodeid, "error"), one_line(reason), rids, everything)]
    if not failed:
        return []
    if not flags:
        return [Finding(fingerprint(nodeid), one_line(reason), rids, everything)]
    found: dict[str, Finding] = {}
    for flag in flags:
        mark = fingerprint(nodeid, flag.variant)
        if mark in found:  # one finding per variant: the first occurrence describes it
            continue
        shown = tuple(i for i in flag.evidence if i < evidence_count) or everything
        found[mark] = Finding(mark, one_line(flag.description), rids, shown)
    return list(found.values())
