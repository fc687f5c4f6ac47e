"""The plugin's behaviour inside pytest: activation, requirement ids, verdicts, exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance.embedded import embedded_profile

CONFTEST = "from oauth_conformance.specs.conftest import *  # noqa: F403\n"


@pytest.fixture
def harness(pytester: pytest.Pytester, reference_url: str) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    (pytester.path / "profile.toml").write_text(embedded_profile(reference_url), encoding="utf-8")
    return pytester


def run(pytester: pytest.Pytester, url: str, *extra: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    args = [
        "-p",
        "no:xdist",
        "--oauth-target",
        url,
        "--oauth-profile",
        "profile.toml",
        "--oauth-report-dir",
        "out",
        *extra,
    ]
    result = pytester.runpytest_inprocess(*args)
    report_file = pytester.path / "out" / "report.json"
    report = orjson.loads(report_file.read_bytes()) if report_file.exists() else {}
    return result, report


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in report["requirements"]}


def test_plugin_is_inactive_without_oauth_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:xdist")
    result.assert_outcomes(passed=1)
    assert "== oauth-conformance ==" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_unknown_requirement_id_is_a_usage_error_naming_the_nearest_id(
    harness: pytest.Pytester, reference_url: str
) -> None:
    harness.makepyfile("import pytest\n@pytest.mark.requirement('RFC8414-3.3-ISSUER-EXAKT')\ndef test_x():\n    pass\n")
    result, _ = run(harness, reference_url)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown requirement id 'RFC8414-3.3-ISSUER-EXAKT'; did you mean RFC8414-3.3-ISSUER-EXACT?*"]
    )


def test_requirement_decorator_rejects_unknown_ids_at_import() -> None:
    from oauth_conformance import requirement

    with pytest.raises(KeyError, match=r"did you mean RFC8414-3\.3-ISSUER-EXACT"):
        requirement("RFC8414-3.3-ISSUER-EXAKT")


def test_outcomes_become_verdicts_and_levels(harness: pytest.Pytester, reference_url: str) -> None:
    harness.makepyfile(
        """
        import pytest
        from oauth_conformance import not_applicable
        from oauth_conformance import not_tested

        @pytest.mark.requirement("RFC8414-3.2-200-JSON")
        def test_pass():
            assert True

        @pytest.mark.requirement("RFC8414-3.2-NO-EMPTY")
        def test_fail_must():
            assert 1 == 2, "it broke"

        @pytest.mark.requirement("RFC8414-2-PKCE-NO-PLAIN")
        def test_fail_should():
            assert False, "plain offered"

        @pytest.mark.requirement("RFC8414-2-REQUIRED")
        def test_not_applicable():
            not_applicable("no such feature")

        @pytest.mark.requirement("RFC8414-2-ISSUER-FORM")
        def test_not_tested():
            not_tested("needs a clock", unlock="[clock] mode")

        @pytest.mark.requirement("RFC8414-2-URLS-FORM")
        def test_error():
            raise ConnectionError("the target hung up")
        """
    )
    result, report = run(harness, reference_url)
    got = verdicts(report)
    assert got["RFC8414-3.2-200-JSON"] == "pass"
    assert got["RFC8414-3.2-NO-EMPTY"] == "fail"
    assert got["RFC8414-2-PKCE-NO-PLAIN"] == "warn"
    assert got["RFC8414-2-REQUIRED"] == "not_applicable"
    assert got["RFC8414-2-ISSUER-FORM"] == "not_tested"
    assert got["RFC8414-2-URLS-FORM"] == "error"
    assert got["RFC8414-3-WELLKNOWN"] == "not_tested"  # no test in this run covers it
    assert result.ret == 1
    assert report["gate"]["unexpected_failures"] == ["RFC8414-3.2-NO-EMPTY", "RFC8414-2-URLS-FORM"]
    result.stdout.fnmatch_lines(["*FAILED MUST RFC8414-3.2-NO-EMPTY*", "*need profile setting ?clock? mode*"])


def test_a_broken_step_fails_its_happy_path_and_leaves_the_test_not_tested(
    harness: pytest.Pytester, reference_url: str
) -> None:
    harness.makepyfile(
        """
        import pytest
        from oauth_conformance.verdicts import PrerequisiteFailed

        @pytest.mark.requirement("RFC7009-2.1-IMMEDIATE")
        def test_needs_a_live_token():
            raise PrerequisiteFailed("the resource refused a fresh token", requirement="RFC6750-2.1-HEADER")

        @pytest.mark.requirement("OAUTH21-4.1-CODE-FLOW")
        def test_the_happy_path_itself():
            raise PrerequisiteFailed("the plain request ended in HTTP 500", requirement="OAUTH21-4.1-CODE-FLOW")

        @pytest.mark.requirement("RFC7636-4.6-S256-VERIFY")
        def test_harness_could_not_get_through():
            raise PrerequisiteFailed("the consent driver stopped", unlock="consent.driver")
        """
    )
    result, report = run(harness, reference_url)
    got = verdicts(report)
    assert got["RFC7009-2.1-IMMEDIATE"] == "not_tested"
    assert got["RFC6750-2.1-HEADER"] == "fail"  # not selected, yet reported: the run saw it fail
    assert got["OAUTH21-4.1-CODE-FLOW"] == "fail"
    assert got["RFC7636-4.6-S256-VERIFY"] == "not_tested"
    tests = {t["name"]: t for t in report["tests"]}
    assert tests["test_needs_a_live_token"]["failed_prerequisite"] == "RFC6750-2.1-HEADER"
    assert "failed_prerequisite" not in tests["test_the_happy_path_itself"]
    assert result.ret == 1
    assert report["outcome"]["verdict"] == "FAILED"
    result.stdout.fnmatch_lines(["*FAILED MUST RFC6750-2.1-HEADER: in a step of test_needs_a_live_token*"])


def test_should_failures_alone_exit_zero_unless_fail_on_should(harness: pytest.Pytester, reference_url: str) -> None:
    harness.makepyfile(
        "import pytest\n@pytest.mark.requirement('RFC8414-2-PKCE-NO-PLAIN')\ndef test_x():\n    assert False\n"
    )
    result, _ = run(harness, reference_url)
    assert result.ret == 0
    result, _ = run(harness, reference_url, "--oauth-fail-on", "should")
    assert result.ret == 1


def test_baseline_expected_failure_passes_and_stale_entry_fails(harness: pytest.Pytester, reference_url: str) -> None:
    harness.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("RFC8414-3.2-NO-EMPTY")
        def test_fails():
            assert False

        @pytest.mark.requirement("RFC8414-3.2-200-JSON")
        def test_passes():
            pass
        """
    )
    baseline = harness.path / "baseline.toml"
    fingerprint = "test_baseline_expected_failure_passes_and_stale_entry_fails::test_fails"
    baseline.write_text(
        f'[[expected]]\nid = "RFC8414-3.2-NO-EMPTY"\nreason = "known"\nfindings = ["{fingerprint}"]\n',
        encoding="utf-8",
    )
    result, report = run(harness, reference_url, "--oauth-baseline", str(baseline))
    assert result.ret == 0, result.stdout.str()
    assert report["gate"]["expected_failures"] == ["RFC8414-3.2-NO-EMPTY"]
    baseline.write_text(
        baseline.read_text() + '[[expected]]\nid = "RFC8414-3.2-200-JSON"\nreason = "used to fail"\n', encoding="utf-8"
    )
    result, report = run(harness, reference_url, "--oauth-baseline", str(baseline))
    assert result.ret == 1
    assert report["gate"]["stale_baseline_entries"] == ["RFC8414-3.2-200-JSON"]
    result.stdout.fnmatch_lines(["*STALE baseline entry RFC8414-3.2-200-JSON*"])


def test_update_baseline_writes_the_current_failures(harness: pytest.Pytester, reference_url: str) -> None:
    harness.makepyfile(
        "import pytest\n@pytest.mark.requirement('RFC8414-3.2-NO-EMPTY')\ndef test_x():\n    assert 0, 'why'\n"
    )
    baseline = harness.path / "new-baseline.toml"
    result, _ = run(harness, reference_url, "--oauth-baseline", str(baseline), "--oauth-update-baseline")
    assert result.ret == 0
    text = baseline.read_text()
    assert 'id = "RFC8414-3.2-NO-EMPTY"' in text and "reason = " in text
    assert '"test_update_baseline_writes_the_current_failures::test_x",' in text  # its finding
    result, report = run(harness, reference_url, "--oauth-baseline", str(baseline))  # and the next run passes
    assert result.ret == 0 and report["gate"]["expected_failures"] == ["RFC8414-3.2-NO-EMPTY"]


def test_a_new_finding_under_a_baselined_requirement_fails_the_gate(
    harness: pytest.Pytester, reference_url: str
) -> None:
    harness.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("RFC8414-3.2-NO-EMPTY")
        @pytest.mark.parametrize("case", ["old", "new"])
        def test_cases(case, recorder):
            if case == "new":
                recorder.flag("worse-" + case, "a second way to fail, with a random value 4711 in the line")
            assert case == "never", "it broke"
        """
    )
    prefix = "test_a_new_finding_under_a_baselined_requirement_fails_the_gate::test_cases"
    baseline = harness.path / "baseline.toml"
    entry = '[[expected]]\nid = "RFC8414-3.2-NO-EMPTY"\nreason = "known"\n'
    baseline.write_text(entry + f'findings = ["{prefix}[old]"]\n', encoding="utf-8")
    result, report = run(harness, reference_url, "--oauth-baseline", str(baseline))
    assert result.ret == 1
    gate = report["gate"]
    assert gate["unexpected_failures"] == ["RFC8414-3.2-NO-EMPTY"]
    assert gate["new_findings"] == {"RFC8414-3.2-NO-EMPTY": [f"{prefix}[new]#worse-new"]}
    result.stdout.fnmatch_lines([f"*NEW finding under RFC8414-3.2-NO-EMPTY: {prefix}?new?#worse-new*"])
    # Recorded, it is expected; a requirement-level entry (any_finding) accepts it as well.
    baseline.write_text(entry + f'findings = ["{prefix}[old]", "{prefix}[new]#worse-new"]\n', encoding="utf-8")
    assert run(harness, reference_url, "--oauth-baseline", str(baseline))[0].ret == 0
    baseline.write_text(entry + "any_finding = true\n", encoding="utf-8")
    assert run(harness, reference_url, "--oauth-baseline", str(baseline))[0].ret == 0
    # A listed finding that went away is reported, not gated: the target got better.
    baseline.write_text(
        entry + f'findings = ["{prefix}[old]", "{prefix}[new]#worse-new", "{prefix}[gone]"]\n', encoding="utf-8"
    )
    result, report = run(harness, reference_url, "--oauth-baseline", str(baseline))
    assert result.ret == 0
    assert report["gate"]["resolved_findings"] == {"RFC8414-3.2-NO-EMPTY": [f"{prefix}[gone]"]}


def test_unreachable_target_exits_3_with_one_line(pytester: pytest.Pytester, dead_url: str) -> None:
    pytester.makepyfile("import pytest\n@pytest.mark.requirement('RFC8414-3.2-200-JSON')\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:xdist", "--oauth-target", dead_url)
    assert result.ret == 3
    result.stdout.fnmatch_lines(["*oauth-conformance: target unreachable: *connection refused*"])


def test_profile_error_names_the_field(pytester: pytest.Pytester, reference_url: str) -> None:
    (pytester.path / "bad.toml").write_text('[consent]\ndriver = "teleport"\n', encoding="utf-8")
    result = pytester.runpytest_inprocess(
        "-p", "no:xdist", "--oauth-target", reference_url, "--oauth-profile", "bad.toml"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*consent.driver: must be one of redirect, form, browser, python*"])


def test_evidence_of_a_failure_is_recorded_and_redacted(harness: pytest.Pytester, reference_url: str) -> None:
    harness.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("RFC8414-2-REGISTRATION")
        def test_registration(http, target):
            response = http.post(target.metadata["registration_endpoint"], json={
                "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "client_secret_post"})
            secret = response.json()["client_secret"]
            assert secret == "wrong", "secret is " + secret
        """
    )
    result, report = run(harness, reference_url)
    text = (harness.path / "out" / "report.json").read_text() + (harness.path / "out" / "report.html").read_text()
    requirement = next(r for r in report["requirements"] if r["id"] == "RFC8414-2-REGISTRATION")
    assert requirement["verdict"] == "fail"
    assert requirement["evidence"][0]["response"]["status"] == 201
    body = requirement["evidence"][0]["response"]["body"]
    assert '"client_secret":"<redacted' in body
    # The secret appears nowhere in the reports, nor in pytest's own output.
    import re

    secrets = re.findall(r'"client_secret":"([A-Za-z0-9_-]{32})"', text)
    assert not secrets
    assert "secret is <redacted" in result.stdout.str()


def test_xdist_gives_the_same_report_as_a_serial_run(
    pytester: pytest.Pytester, reference_url: str, tmp_path: Path
) -> None:
    (pytester.path / "profile.toml").write_text(embedded_profile(reference_url), encoding="utf-8")
    base = [
        "--pyargs",
        "oauth_conformance.specs.rfc8414",
        "--oauth-target",
        reference_url,
        "--oauth-profile",
        "profile.toml",
    ]
    serial = pytester.runpytest_subprocess(*base, "-p", "no:xdist", "--oauth-report-dir", str(tmp_path / "serial"))
    parallel = pytester.runpytest_subprocess(*base, "-n", "2", "--oauth-report-dir", str(tmp_path / "parallel"))
    assert serial.ret == parallel.ret == 0
    one = orjson.loads((tmp_path / "serial" / "report.json").read_bytes())
    two = orjson.loads((tmp_path / "parallel" / "report.json").read_bytes())
    assert verdicts(one) == verdicts(two)
    assert one["summary"] == two["summary"]


def test_what_collection_left_is_frozen_during_the_run_and_unfrozen_after(
    harness: pytest.Pytester, reference_url: str
) -> None:
    # The plugin freezes the collector's heap once collection is done (a full pass then skips the
    # modules and items that live all run); a process that goes on after the run gets it back.
    import gc

    harness.makepyfile(
        """
        import gc
        import pytest

        @pytest.mark.requirement("RFC8414-3.2-200-JSON")
        def test_frozen():
            assert gc.get_freeze_count() > 0
        """
    )
    assert gc.get_freeze_count() == 0
    result, report = run(harness, reference_url)
    result.assert_outcomes(passed=1)
    assert verdicts(report)["RFC8414-3.2-200-JSON"] == "pass"
    assert gc.get_freeze_count() == 0
