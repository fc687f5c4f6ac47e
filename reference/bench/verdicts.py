"""Two harness reports give the same verdicts: every requirement's, and every test's.

A faster run is only a faster run of the same checks if nothing it reports moved: the same
requirements with the same verdicts, and the same tests (by node id) with the same outcomes.
Reasons, evidence and durations may differ; verdicts and the set of tests may not.

    python -m reference.bench.verdicts OLD/report.json NEW/report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _by(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, str]:
    return {str(row[key]): str(row["verdict"]) for row in rows}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two report.json documents, one line each; empty when the verdicts agree."""
    found: list[str] = []
    for what, rows_key, key in (("requirement", "requirements", "id"), ("test", "tests", "nodeid")):
        before, after = _by(old[rows_key], key), _by(new[rows_key], key)
        for name in sorted(before.keys() | after.keys()):
            was, now = before.get(name, "absent"), after.get(name, "absent")
            if was != now:
                found.append(f"{what} {name}: {was} -> {now}")
    return found


def load(path: str | Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.verdicts", description=__doc__)
    parser.add_argument("old", metavar="OLD.json")
    parser.add_argument("new", metavar="NEW.json")
    args = parser.parse_args(argv)
    old, new = load(args.old), load(args.new)
    found = differences(old, new)
    for line in found:
        print(line)
    print(
        f"{len(old['requirements'])} requirements, {len(old['tests'])} tests before; "
        f"{len(new['requirements'])} and {len(new['tests'])} after; {len(found)} difference(s)"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
