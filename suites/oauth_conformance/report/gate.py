"""CI gating: which failures are unexpected, which baseline entries are stale, the exit status.

A baseline file lists expected failures (requirement id and reason) in TOML::

    [[expected]]
    id = "RFC7591-3.2.2-ERROR"
    reason = "answers invalid_client_metadata where RFC 7591 asks for invalid_redirect_uri"

A run fails (exit 1) on a failure that is not expected, and on an expected failure that is no
longer flagged (it passes, or was not tested or not applicable this time): the entry is stale, and the baseline must
be updated to keep gating meaningful.

An entry with ``intermittent = true`` records a real deviation that shows only in some runs (a
race the target loses now and then): when it fails it is expected, and when it passes the entry
is not stale.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import Level
from ..verdicts import Verdict
from .model import Report


class BaselineError(ValueError):
    pass


def load_baseline(path: str | Path) -> dict[str, str]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"{path}: {exc}") from None
    entries = data.get("expected", [])
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: expected must be an array of tables")
    out: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("reason"), str)
        ):
            raise BaselineError(f"{path}: expected[{i}] needs id and reason strings")
        if not entry["reason"].strip():
            raise BaselineError(f"{path}: expected[{i}] ({entry['id']}) needs a reason")
        if not isinstance(entry.get("intermittent", False), bool):
            raise BaselineError(f"{path}: expected[{i}] ({entry['id']}): intermittent must be true or false")
        out[entry["id"]] = entry["reason"]
    return out


def load_intermittent(path: str | Path) -> frozenset[str]:
    """The ids of the entries marked ``intermittent = true`` (the file is checked by load_baseline)."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    entries = data.get("expected", [])
    return frozenset(e["id"] for e in entries if isinstance(e, dict) and e.get("intermittent") is True)


def write_baseline(path: str | Path, report: Report, previous: dict[str, str]) -> int:
    """Write every current MUST/SHOULD failure as expected, keeping earlier reasons."""
    lines = [
        "# oauth-conformance baseline: failures that are expected, each with its reason.",
        "# A failure not listed here fails the run; a listed failure that now passes does too.",
        "",
    ]
    count = 0
    for r in report.requirements:
        if r.verdict in (Verdict.FAIL, Verdict.WARN, Verdict.ERROR):
            reason = previous.get(r.id) or (r.reason.splitlines()[0] if r.reason else "TODO: explain why")
            lines += ["[[expected]]", f'id = "{r.id}"', f"reason = {json.dumps(reason)}", ""]
            count += 1
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return count


@dataclass
class GateResult:
    status: int
    unexpected: list[str]
    stale: list[str]
    expected: list[str]


def evaluate(
    report: Report, baseline: dict[str, str], fail_on: str = "must", intermittent: frozenset[str] = frozenset()
) -> GateResult:
    gated = {Verdict.FAIL, Verdict.ERROR} | ({Verdict.WARN} if fail_on == "should" else set())
    unexpected, expected, stale = [], [], []
    for r in report.requirements:
        failing = r.verdict in gated and (r.requirement.level == Level.MUST or fail_on == "should")
        if r.id in baseline:
            if r.verdict in (Verdict.FAIL, Verdict.WARN, Verdict.ERROR):
                r.expected = baseline[r.id]
                expected.append(r.id)
            elif r.id not in intermittent or r.verdict != Verdict.PASS:
                # It passes now, or is no longer tested (not_tested, not_applicable): either way the
                # run no longer flags the deviation the baseline records (an intermittent one may pass).
                stale.append(r.id)
        elif failing:
            unexpected.append(r.id)
    report.gate = {
        "fail_on": fail_on,
        "status": 1 if unexpected or stale else 0,
        "unexpected_failures": unexpected,
        "expected_failures": expected,
        "stale_baseline_entries": stale,
    }
    report.baseline = dict(baseline)
    return GateResult(1 if unexpected or stale else 0, unexpected, stale, expected)
