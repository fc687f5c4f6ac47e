"""The in-process stack bench runs every variant and writes its figures."""

from __future__ import annotations

import json
from pathlib import Path

from reference.bench import stackbench


def test_every_variant_answers_and_is_measured(tmp_path: Path) -> None:
    out = tmp_path / "stack.json"
    assert stackbench.main(["--requests", "20", "--rounds", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["us_per_request"]
    assert set(figures) == set(stackbench.VARIANTS)
    assert all(0 < figures[v][k] < 100_000 for v in figures for k in ("metadata", "api"))


def test_base_comparison_measures_both_revisions(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    assert stackbench.main(["--base", "HEAD", "--requests", "20", "--rounds", "2", "--json", str(out)]) == 0
    compared = json.loads(out.read_text())
    assert set(compared["us_per_request"]) == {"base", "head"}
    assert all(len(compared["samples"][side]["api"]) == 2 for side in ("base", "head"))
    assert all(0 < ratio < 100 for ratio in compared["base_over_head"].values())
