"""Development tasks: ``nox -s tests lint typecheck bench``; ``nox -l`` lists them all."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

PYTHON = ["3.11", "3.12", "3.13"]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite, in the current environment (README's test command: four workers, since the
    tests mostly wait on the servers they start, stealing work from each other at the end)."""
    session.run("python", "-m", "pytest", "-n", "4", "--dist", "worksteal", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    session.run("ruff", "check", "reference", "suites", "fixtures", "noxfile.py")
    session.run("ruff", "format", "--check", "reference", "suites", "fixtures", "noxfile.py")
    session.run("lint-imports")  # the layers of docs/architecture.md (contracts in pyproject.toml)


@nox.session(python="3.11", venv_backend="venv")
def lowest(session: nox.Session) -> None:
    """The dependency floors resolve together and work: the lowest allowed versions, then the tests
    that exercise the installed package (uv's lowest-direct resolution)."""
    session.install("uv")
    session.run(
        "uv", "pip", "install", "--python", session.virtualenv.location, "--resolution", "lowest-direct", "-e", ".[dev]"
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:xdist",
        "suites/tests/test_cli.py",
        "suites/tests/test_plugin.py",
        "reference/tests/test_flow.py",
        "reference/tests/test_readme.py",
        *session.posargs,
    )


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    session.run("mypy")  # pyproject's [tool.mypy] packages: both packages, the bench, every test tree


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """The served reference against Cloudflare's library in workerd and oidc-provider, one core
    each for the generator and the servers: reports/bench/served.{json,md,svg}."""
    # Three rounds of shorter windows rather than one long one: a row's ratio then rests on each
    # server's median round, not on whatever else the machine ran during one window.
    rounds = ["--rounds", "3", "--duration", "2", "--warmup", "1"]
    session.run("python", "-m", "reference.bench.servedbench", "--out", "reports/bench", *rounds, *session.posargs)


@nox.session(python=False)
def harness_speed(session: nox.Session) -> None:
    """``oauth-conformance run`` against the bundled reference, serial and ``-n auto``: the aa33d88
    harness, this one with --thorough and this one by default, taking turns; the same verdicts in
    every run: reports/bench/harness.{json,md}."""
    session.run("python", "-m", "reference.bench.harnessbench", "--out", "reports/bench", *session.posargs)


@nox.session(python=False)
def bench_inprocess(session: nox.Session) -> None:
    """In-process benchmarks of the reference (pytest-benchmark): reports/bench/reference-inprocess.json."""
    Path("reports/bench").mkdir(parents=True, exist_ok=True)
    session.run(
        "python",
        "-m",
        "pytest",
        "reference/tests/bench",
        "-p",
        "no:xdist",
        "--benchmark-enable",
        "--benchmark-only",
        "--benchmark-json=reports/bench/reference-inprocess.json",
        *session.posargs,
    )


# Scale and reliability (issue 7). Each session is one command, bounded in time, loopback only;
# Redis is Debian's redis-server, started on a free port and stopped by PID.


@nox.session(python=False)
def redis(session: nox.Session) -> None:
    """The Redis-marked tests against one redis-server started for the session."""
    session.run(
        "python",
        "-m",
        "reference.bench.redis_server",
        "--",
        "python",
        "-m",
        "pytest",
        "-m",
        "redis",
        "-p",
        "no:xdist",
        *session.posargs,
    )


@nox.session(python=False)
def load(session: nox.Session) -> None:
    """Throughput and p50/p99 per backend, then an audit of the shared stores: reports/bench/load.*."""
    session.run("python", "-m", "reference.bench.loadbench", "--out", "reports/bench", *session.posargs)


@nox.session(python=False)
def fault(session: nox.Session) -> None:
    """Redis frozen, killed and restarted under load; SQLite processes killed: reports/bench/fault.*."""
    session.run("python", "-m", "reference.bench.faultbench", "--out", "reports/bench", *session.posargs)


@nox.session(python=False)
def growth(session: nox.Session) -> None:
    """Cost of the grant operations with 10, 1,000 and 100,000 grants: reports/bench/growth.*."""
    session.run("python", "-m", "reference.bench.growth", "--out", "reports/bench", *session.posargs)


@nox.session(python=False)
def targets(session: nox.Session) -> None:
    """Every suite against every real target and the reference; reports/targets/ and reports/compare/."""
    session.run("python", "fixtures/targets/matrix.py", *session.posargs)


@nox.session(python=False)
def consent(session: nox.Session) -> None:
    """The consent drivers side by side on oidc-provider's own login pages; reports/targets/consent-drivers/."""
    session.run("python", "fixtures/targets/consent_drivers.py", *session.posargs)


@nox.session(python=False)
def races(session: nox.Session) -> None:
    """The race checks 20 times each against Cloudflare 1.2.3, a racing reference twin, the reference
    and oidc-provider: how often a race is caught and how often one is reported falsely (issue 13):
    reports/bench/races.{json,md}."""
    session.run("python", "-m", "reference.bench.races", "--out", "reports/bench", *session.posargs)
