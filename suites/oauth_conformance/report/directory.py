"""Where reports go: ``--report-dir``, or ``reports/<target>/<UTC time>/`` with ``latest`` beside it.

``latest`` (a symbolic link, or a ``LATEST`` file where links are not possible) moves only once a
run's reports are all written, so ``reports/<target>/latest/report.json`` always exists.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path

REPORTS = Path("reports")


def slug(text: str) -> str:
    """A folder name for a target: its name or URL, lower case, dashes for anything else."""
    keep = "".join(ch if ch.isalnum() else "-" for ch in text.split("://", 1)[-1].lower())
    return "-".join(filter(None, keep.split("-")))[:60] or "target"


def stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def default_directory(target_name: str, *, kind: str | None = None, moment: datetime | None = None) -> Path:
    """``reports/<slug>/[<kind>/]<UTC time>``, not yet created."""
    base = REPORTS / slug(target_name)
    if kind:
        base = base / kind
    return base / stamp(moment)


def publish(directory: Path) -> None:
    """Point ``latest`` beside ``directory`` at it; call once every report in it is written."""
    latest = directory.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(directory.name)
    except OSError:
        (directory.parent / "LATEST").write_text(directory.name + "\n", encoding="utf-8")
