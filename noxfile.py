"""Development tasks: ``nox -s tests lint typecheck bench``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

PYTHON = ["3.11", "3.12", "3.13"]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite, in the current environment."""
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", "reference", "suites", "noxfile.py")
    session.run("ruff", "format", "--check", "reference", "suites", "noxfile.py")


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    session.run("mypy")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """In-process benchmarks of the reference (pytest-benchmark); results in reports/bench/."""
    Path("reports/bench").mkdir(parents=True, exist_ok=True)
    session.run(
        "python",
        "-m",
        "pytest",
        "reference/tests/bench",
        "-p",
        "no:xdist",
        "--benchmark-only",
        "--benchmark-json=reports/bench/reference-inprocess.json",
        *session.posargs,
    )
