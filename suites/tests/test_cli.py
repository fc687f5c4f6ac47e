"""The ``oauth-conformance`` command: exit statuses (contract C2), catalogue, compare, diff, profile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from oauth_conformance.cli import coverage
from oauth_conformance.cli import main
from oauth_conformance.profile import load_profile


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oauth_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


@pytest.mark.slow
def test_run_with_no_target_tests_the_bundled_reference_and_exits_0(tmp_path: Path) -> None:
    done = cli("run", "--report-dir", str(tmp_path / "r"), "--spec", "RFC8414", "--spec", "MCP")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "serving the bundled reference at http://127.0.0.1:" in done.stdout
    for name in ("report.json", "report.xml", "report.md", "report.html"):
        assert (tmp_path / "r" / name).stat().st_size > 0
    report = orjson.loads((tmp_path / "r" / "report.json").read_bytes())
    assert report["summary"]["fail"] == 0
    assert report["target"]["embedded"] is True


@pytest.mark.slow
def test_run_writes_the_default_report_directory_with_a_latest_pointer(tmp_path: Path) -> None:
    done = cli("run", "--spec", "MCP", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    base = tmp_path / "reports" / "oauth-reference-embedded"
    assert (base / "latest" / "report.json").exists()


def test_unreachable_target_exits_3_with_a_one_line_reason(dead_url: str) -> None:
    done = cli("run", dead_url)
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "target unreachable" in lines[0] and "connection refused" in lines[0]


def test_a_site_that_is_not_an_oauth_server_exits_3(reference_url: str) -> None:
    done = cli("run", reference_url + "/nothing-here/at-all")
    # A URL on the reference's host still finds its metadata through path-insertion fallbacks? No:
    # the path is part of the issuer, so nothing matches, and no protected resource lives there
    # (a URL under /api/ would be one, and would lead to its authorization server), so the run
    # ends with exit 3.
    assert done.returncode == 3
    assert "not an OAuth authorization server" in done.stderr


def test_profile_error_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[clients]\nkind = "public"\n', encoding="utf-8")
    done = cli("run", "http://127.0.0.1:9", "--profile", str(bad))
    assert done.returncode == 2
    assert "clients: must be list" in done.stderr


def test_secret_written_in_a_profile_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text(
        '[[clients]]\nkind = "confidential"\nclient_id = "c"\n'
        'client_secret = "hunter2"\nauth_method = "client_secret_post"\n'
    )
    done = cli("run", "http://127.0.0.1:9", "--profile", str(bad))
    assert done.returncode == 2
    assert 'clients[0].client_secret: secrets are not written in profiles; use { env = "VARIABLE" }' in done.stderr


def test_profile_init_writes_a_starter_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    assert main(["profile", "init", str(path)]) == 0
    profile = load_profile(path)
    assert profile.consent.driver == "redirect"
    assert main(["profile", "init", str(path)]) == 2  # refuses to overwrite


def test_catalogue_lists_requirements_with_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "--spec", "RFC8414", "--format", "json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert {r["spec"] for r in rows} == {"RFC8414"}
    issuer = next(r for r in rows if r["id"] == "RFC8414-3.3-ISSUER-EXACT")
    assert issuer["tests"] >= 1 and issuer["level"] == "MUST"
    assert main(["catalogue", "--level", "SHOULD", "--format", "markdown"]) == 0
    assert "RFC8414-2-PKCE-NO-PLAIN" in capsys.readouterr().out


def test_every_test_in_the_suites_names_a_known_requirement() -> None:
    from oauth_conformance.catalogue import registry

    found = coverage()
    assert found, "no suite test was found"
    assert set(found) <= set(registry())


def test_compare_and_diff_from_report_files(tmp_path: Path) -> None:
    from suites.tests.test_reports import sample_report

    a = tmp_path / "a.json"
    a.write_bytes(orjson.dumps(sample_report().as_dict()))
    b_data = sample_report().as_dict()
    b_data["target"]["issuer"] = "https://b.example"
    b_data["requirements"][1]["verdict"] = "fail"
    b = tmp_path / "b.json"
    b.write_bytes(orjson.dumps(b_data))
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 0
    assert (tmp_path / "cmp" / "compare.html").exists()
    assert main(["diff", str(a), str(b)]) == 1  # a regression
    assert main(["diff", str(a), str(a)]) == 0
    assert main(["diff", str(a), str(tmp_path / "missing.json")]) == 2


@pytest.mark.slow
def test_the_cli_and_plain_pytest_give_the_same_verdicts(reference_url: str, tmp_path: Path) -> None:
    """README: ``pytest --pyargs oauth_conformance --oauth-target URL`` gives ``run``'s verdicts."""
    specs = ("RFC8414", "RFC7009", "RFC9207")
    by_cli = cli("run", reference_url, *(f"--spec={s}" for s in specs), "--report-dir", str(tmp_path / "cli"), "-q")
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "oauth_conformance", "--oauth-target", reference_url]
        + [f"--oauth-spec={s}" for s in specs]
        + ["--oauth-report-dir", str(tmp_path / "plain"), "-p", "no:xdist", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # no project configuration: what a user's own checkout would see
        check=False,
    )
    assert by_cli.returncode == plain.returncode == 0, by_cli.stdout[-1500:] + plain.stdout[-1500:]

    def verdicts(folder: str) -> dict[str, str]:
        report = orjson.loads((tmp_path / folder / "report.json").read_bytes())
        return {r["id"]: r["verdict"] for r in report["requirements"]}

    from_cli, from_plain = verdicts("cli"), verdicts("plain")
    assert from_cli == from_plain
    assert sum(v == "pass" for v in from_cli.values()) >= 15
