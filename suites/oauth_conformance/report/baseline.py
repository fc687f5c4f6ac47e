"""Baseline files: the failures a target is expected to have, each with its reason (TOML).

::

    [[expected]]
    id = "OAUTH21-2.3.1-EXACT-MATCH"
    reason = "accepts the registered redirect URI with a trailing '?'"
    findings = [
      "oauth21/test_redirect_uris::test_no_variant_of_the_registered_redirect_uri_is_ever_redirected_to[https]#empty-query",
    ]

An entry accepts its requirement's failure with exactly the findings it lists (findings.py): a
finding it does not list is new, and fails the gate like a new failure would, even though the
requirement was already failing. ``--update-baseline`` writes every entry's findings. An entry
may say ``any_finding = true`` instead, to accept the requirement whatever it shows. An entry
that says neither was written before findings existed: it still accepts whatever the requirement
shows, and the run names it as unpinned until ``--update-baseline`` records its findings.

An entry with ``intermittent = true`` records a real deviation that shows only in some runs (a
race the target loses now and then). A file is read and checked once, by :func:`load_baseline`;
every id must be in the catalogue.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from oauth_conformance.catalogue import registry
from oauth_conformance.catalogue import unknown_id_message
from oauth_conformance.report.model import Report
from oauth_conformance.verdicts import Verdict


class BaselineError(ValueError):
    """The baseline file cannot be read or says something malformed (a usage error)."""


@dataclass(frozen=True)
class Baseline:
    """Expected failures by requirement id (reason), the findings each accepts, which are intermittent."""

    reasons: dict[str, str] = field(default_factory=dict)
    intermittent: frozenset[str] = frozenset()
    findings: dict[str, frozenset[str]] = field(default_factory=dict)  # id -> accepted fingerprints
    any_finding: frozenset[str] = frozenset()  # ids accepted whatever findings they show
    unpinned: frozenset[str] = frozenset()  # entries from before findings: accepted, to be pinned

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.reasons

    def new_findings(self, requirement_id: str, fingerprints: list[str]) -> list[str]:
        """The fingerprints the entry for ``requirement_id`` does not accept."""
        if requirement_id in self.any_finding or requirement_id in self.unpinned:
            return []
        accepted = self.findings.get(requirement_id, frozenset())
        return [f for f in fingerprints if f not in accepted]


def load_baseline(path: str | Path) -> Baseline:
    """Read and check a baseline file; a missing file is an empty baseline (``--update-baseline`` writes it)."""
    path = Path(path)
    if not path.exists():
        return Baseline()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"{path}: {exc}") from None
    entries = data.get("expected", [])
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: expected must be an array of tables")
    reasons: dict[str, str] = {}
    intermittent: set[str] = set()
    findings: dict[str, frozenset[str]] = {}
    any_finding: set[str] = set()
    unpinned: set[str] = set()
    for i, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("reason"), str)
        ):
            raise BaselineError(f"{path}: expected[{i}] needs id and reason strings")
        rid = entry["id"]
        if not entry["reason"].strip():
            raise BaselineError(f"{path}: expected[{i}] ({rid}) needs a reason")
        flag = entry.get("intermittent", False)
        if not isinstance(flag, bool):
            raise BaselineError(f"{path}: expected[{i}] ({rid}): intermittent must be true or false")
        if rid not in registry():
            raise BaselineError(f"{path}: {unknown_id_message(rid)}")
        listed = entry.get("findings", [])
        if not isinstance(listed, list) or not all(isinstance(f, str) and f.strip() for f in listed):
            raise BaselineError(f"{path}: expected[{i}] ({rid}): findings must be a list of fingerprints")
        anything = entry.get("any_finding", False)
        if not isinstance(anything, bool):
            raise BaselineError(f"{path}: expected[{i}] ({rid}): any_finding must be true or false")
        if anything and listed:
            raise BaselineError(f"{path}: expected[{i}] ({rid}): any_finding = true and findings contradict")
        reasons[rid] = entry["reason"]
        if flag:
            intermittent.add(rid)
        if anything:
            any_finding.add(rid)
        elif "findings" not in entry:
            unpinned.add(rid)
        findings[rid] = frozenset(listed)
    return Baseline(reasons, frozenset(intermittent), findings, frozenset(any_finding), frozenset(unpinned))


def write_baseline(path: str | Path, report: Report, previous: Baseline) -> Baseline:
    """Write every current failure (MUST, SHOULD, error) as expected, with the findings it shows now;
    earlier reasons, ``intermittent`` and ``any_finding`` flags are kept."""
    lines = [
        "# oauth-conformance baseline: failures that are expected, each with its reason and findings.",
        "# A failure not listed here fails the run, and so does a finding an entry does not list;",
        "# a listed failure that now passes does too.",
        "",
    ]
    reasons: dict[str, str] = {}
    intermittent: set[str] = set()
    findings: dict[str, frozenset[str]] = {}
    any_finding: set[str] = set()
    for r in report.requirements:
        # An intermittent entry stays when its race did not show this time.
        if r.verdict in (Verdict.FAIL, Verdict.WARN, Verdict.ERROR) or r.id in previous.intermittent:
            reason = previous.reasons.get(r.id) or (r.reason.splitlines()[0] if r.reason else "TODO: explain why")
            lines += ["[[expected]]", f'id = "{r.id}"', f"reason = {json.dumps(reason)}"]
            if r.id in previous.intermittent:
                lines.append("intermittent = true")
                intermittent.add(r.id)
            if r.id in previous.any_finding:
                lines.append("any_finding = true")
                any_finding.add(r.id)
                findings[r.id] = frozenset()
            else:
                # An intermittent entry keeps what earlier runs saw: its findings come and go.
                kept = previous.findings.get(r.id, frozenset()) if r.id in previous.intermittent else frozenset()
                shown = sorted(kept | set(r.fingerprints()))
                lines += ["findings = [", *(f"  {json.dumps(f)}," for f in shown), "]"]
                findings[r.id] = frozenset(shown)
            lines.append("")
            reasons[r.id] = reason
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return Baseline(reasons, frozenset(intermittent), findings, frozenset(any_finding))
