"""The package as a user gets it: an sdist, a wheel built from it, installed (not editable, no
extras) into a fresh virtual environment, and used from a folder outside the checkout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    assert done.returncode == 0, f"{args[:3]} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, and nothing else of the checkout."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    (wheel,) = dist.glob("*.whl")
    _run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, cwd=env_dir)
    return env_dir / "bin"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working folder outside the checkout (its own files must not be importable from there)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = os.environ.get("PATH", "")
    return env


def test_the_sdist_holds_the_sources_and_no_generated_reports(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "LICENSE" in names and "pyproject.toml" in names and "README.md" in names
    assert any(n.startswith("reference/oauth_reference/") for n in names)
    assert any(n.startswith("suites/oauth_conformance/specs/") for n in names)
    assert not [n for n in names if n.startswith("reports/") or "/node_modules/" in n or "/.venv/" in n]


def test_the_wheel_holds_the_two_packages_and_the_test_keys_only(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"oauth_reference", "oauth_conformance"}
    assert not [n for n in names if re.search(r"(^|/)(tests|bench|reports)/", n)], "tests, bench or reports shipped"
    assert not [n for n in names if n.rsplit("/", 1)[-1].startswith("test_") and "/specs/" not in n]
    keys = [n for n in names if n.startswith("oauth_conformance/_test_keys/") and n.endswith(".TEST-ONLY.jwk.json")]
    assert len(keys) == 4
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for field in ("License-Expression: MIT", "Keywords:", "Project-URL: Source", "Classifier: Framework :: Pytest"):
        assert field in metadata, field
    assert "Requires-Dist: redis" in metadata and "extra == 'redis'" in metadata


def test_the_main_job_runs_from_the_installed_wheel(installed: Path, outside: Path) -> None:
    done = subprocess.run(
        [installed / "oauth-conformance", "run"],
        cwd=outside,
        capture_output=True,
        text=True,
        timeout=900,
        env=_clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    latest = outside / "reports" / "oauth-reference-embedded" / "latest"
    for name in ("report.json", "report.xml", "report.md", "report.html"):
        assert (latest / name).stat().st_size > 0
    assert sorted(p.name for p in outside.iterdir()) == ["reports"], "the run left files in the working folder"
    progress = [line for line in done.stdout.splitlines() if re.match(r"^\S+\.py [.sFEw]", line)]
    assert len(progress) > 20 and all(line.startswith("specs/") for line in progress), progress[:3]
    shown = [line for line in done.stdout.splitlines() if "site-packages" in line and not line.startswith("rootdir:")]
    assert not shown, f"a passing run (SHOULD warnings included) shows no install path: {shown[:3]}"
    assert "failed" not in done.stdout.splitlines()[-1], "a SHOULD warning is not a failed test"
    report = orjson.loads((latest / "report.json").read_bytes())
    assert report["summary"]["fail"] == 0 and report["summary"]["error"] == 0


def test_catalogue_and_profile_init_from_the_installed_wheel(installed: Path, outside: Path) -> None:
    listing = _run(installed / "oauth-conformance", "catalogue", "--format", "json", cwd=outside, env=_clean_env())
    rows = orjson.loads(listing)
    assert len(rows) > 250 and all(row["tests"] or row["untestable"] for row in rows if row["level"] == "MUST")
    _run(installed / "oauth-conformance", "profile", "init", "p.toml", cwd=outside, env=_clean_env())
    assert (outside / "p.toml").read_text().startswith("#")
    version = _run(installed / "oauth-reference", "--version", cwd=outside, env=_clean_env())
    assert re.fullmatch(r"oauth-reference \d+\.\d+\.\d+\S*\n", version)


@pytest.fixture
def served(installed: Path, outside: Path) -> Iterator[str]:
    """``oauth-reference serve`` from the wheel, in test mode on a free loopback port."""
    process = subprocess.Popen(
        [installed / "oauth-reference", "serve", "--port", "0", "--store", "memory", "--test-mode", "--no-access-log"],
        cwd=outside,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_clean_env(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[1]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_plain_pytest_from_the_wheel_gives_the_cli_verdicts(installed: Path, outside: Path, served: str) -> None:
    profile = outside / "profile.toml"
    profile.write_text(embedded_profile(served, fixture_host=False), encoding="utf-8")
    specs = ["RFC8414", "RFC7636", "RFC7591"]
    cli_args: list[str | Path] = [
        installed / "oauth-conformance",
        "run",
        served,
        "--profile",
        profile,
        "--report-dir",
        "cli",
        "-q",
    ]
    _run(*cli_args, *[arg for spec in specs for arg in ("--spec", spec)], cwd=outside, env=_clean_env())
    pytest_args: list[str | Path] = [
        installed / "python",
        "-m",
        "pytest",
        "--pyargs",
        "oauth_conformance",
        "-p",
        "no:cacheprovider",
    ]
    pytest_args += ["--oauth-target", served, "--oauth-profile", profile, "--oauth-report-dir", "plain", "-q"]
    _run(*pytest_args, *[arg for spec in specs for arg in ("--oauth-spec", spec)], cwd=outside, env=_clean_env())

    def verdicts(folder: str) -> dict[str, str]:
        report = orjson.loads((outside / folder / "report.json").read_bytes())
        return {r["id"]: r["verdict"] for r in report["requirements"]}

    from_cli, from_pytest = verdicts("cli"), verdicts("plain")
    assert from_cli == from_pytest
    assert len(from_cli) > 40 and "pass" in from_cli.values()
