"""The verdict comparison that says a faster harness run reports the same thing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from reference.bench.verdicts import differences
from reference.bench.verdicts import main

REPORT: dict[str, Any] = {
    "requirements": [
        {"id": "RFC7636-4.6-S256-VERIFY", "verdict": "pass", "reason": "", "evidence": []},
        {"id": "RFC8414-2-ISSUER-HTTPS", "verdict": "not_tested", "reason": "plain http", "evidence": []},
    ],
    "tests": [
        {"nodeid": "specs/rfc7636/test_pkce.py::test_s256", "verdict": "pass", "duration": 0.1},
        {"nodeid": "specs/rfc8414/test_metadata.py::test_https", "verdict": "not_tested", "duration": 0.0},
    ],
}


def test_the_same_verdicts_with_other_reasons_and_durations_agree() -> None:
    other = copy.deepcopy(REPORT)
    other["requirements"][1]["reason"] = "another wording"
    other["tests"][0]["duration"] = 0.01
    assert differences(REPORT, other) == []


def test_a_changed_requirement_verdict_is_named() -> None:
    other = copy.deepcopy(REPORT)
    other["requirements"][0]["verdict"] = "fail"
    assert differences(REPORT, other) == ["requirement RFC7636-4.6-S256-VERIFY: pass -> fail"]


def test_a_test_that_no_longer_runs_is_named() -> None:
    other = copy.deepcopy(REPORT)
    del other["tests"][1]
    assert differences(REPORT, other) == ["test specs/rfc8414/test_metadata.py::test_https: not_tested -> absent"]


def test_the_command_fails_on_a_difference(tmp_path: Path) -> None:
    other = copy.deepcopy(REPORT)
    other["requirements"].append({"id": "CIMD-3-NEW", "verdict": "pass"})
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(REPORT), encoding="utf-8")
    new.write_text(json.dumps(other), encoding="utf-8")
    assert main([str(old), str(old)]) == 0
    assert main([str(old), str(new)]) == 1
