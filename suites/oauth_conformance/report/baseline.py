"""Baseline files: the failures a target is expected to have, each with its reason (TOML).

::

    [[expected]]
    id = "RFC7591-3.2.2-ERROR"
    reason = "answers invalid_client_metadata where RFC 7591 asks for invalid_redirect_uri"

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
    """Expected failures by requirement id (reason), and which of them are intermittent."""

    reasons: dict[str, str] = field(default_factory=dict)
    intermittent: frozenset[str] = frozenset()

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.reasons


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
        reasons[rid] = entry["reason"]
        if flag:
            intermittent.add(rid)
    return Baseline(reasons, frozenset(intermittent))


def write_baseline(path: str | Path, report: Report, previous: Baseline) -> Baseline:
    """Write every current failure (MUST, SHOULD, error) as expected, keeping earlier reasons and flags."""
    lines = [
        "# oauth-conformance baseline: failures that are expected, each with its reason.",
        "# A failure not listed here fails the run; a listed failure that now passes does too.",
        "",
    ]
    reasons: dict[str, str] = {}
    intermittent: set[str] = set()
    for r in report.requirements:
        if r.verdict in (Verdict.FAIL, Verdict.WARN, Verdict.ERROR):
            reason = previous.reasons.get(r.id) or (r.reason.splitlines()[0] if r.reason else "TODO: explain why")
            lines += ["[[expected]]", f'id = "{r.id}"', f"reason = {json.dumps(reason)}"]
            if r.id in previous.intermittent:
                lines.append("intermittent = true")
                intermittent.add(r.id)
            lines.append("")
            reasons[r.id] = reason
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return Baseline(reasons, frozenset(intermittent))
