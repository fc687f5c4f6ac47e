"""The pytest plugin (entry point ``pytest11``): the hooks, and nothing else.

It does nothing unless asked: it becomes active when ``--oauth-target`` or ``--oauth-profile``
is given or when the suites in this package are collected (``pytest --pyargs oauth_conformance``).
Then each hook hands its part to the run's state (:class:`oauth_conformance.run.Run`):

- session start: discover the target once, on the controller (exit 3 with a one-line reason when
  it is down or not an OAuth server), or start the bundled reference when no target is given;
- collection: check each test's ``@requirement`` ids against the catalogue (an unknown id is a
  usage error naming the nearest known id);
- each test's report: turn its outcome into a :class:`~oauth_conformance.verdicts.TestResult`,
  with redacted evidence, carried in the report's ``user_properties`` (which survive pytest-xdist);
- session finish: join the verdicts per requirement, gate the exit status, write the reports.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from oauth_conformance import plugin_options as options
from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import registry
from oauth_conformance.catalogue import unknown_id_message
from oauth_conformance.evidence import Recorder
from oauth_conformance.evidence import scrub_text
from oauth_conformance.findings import findings_of
from oauth_conformance.profile import ProfileError
from oauth_conformance.report.baseline import BaselineError
from oauth_conformance.run import Run
from oauth_conformance.run import RunSettings
from oauth_conformance.run import RunUsageError
from oauth_conformance.run import TargetDown
from oauth_conformance.verdicts import Outcome
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict

REQUIREMENTS_KEY = pytest.StashKey[list[str]]()
RECORDER_KEY = pytest.StashKey[Recorder]()
RUN_KEY = pytest.StashKey[Run]()
RESULT_PROPERTY = "oauth_result"
WARNING_PROPERTY = "oauth_warning"
EXIT_UNREACHABLE = 3  # contract C2: the target is down or is not an OAuth server
_PACKAGE_DIR = Path(__file__).resolve().parent
SUITES_MARKER = "oauth_conformance/specs/"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oauth-conformance", "OAuth conformance harness")
    group.addoption(options.TARGET, dest="oauth_target", metavar="URL", help="the authorization server to test")
    group.addoption(options.PROFILE, dest="oauth_profile", metavar="FILE", help="target profile (TOML)")
    group.addoption(
        options.REPORT_DIR,
        dest="oauth_report_dir",
        metavar="DIR",
        help="where to write report.json/.xml/.md/.html (default reports/<target>/<UTC time>/)",
    )
    group.addoption(
        options.SPEC, dest="oauth_specs", action="append", default=[], metavar="TOKEN", help="only these specs"
    )
    group.addoption(
        options.SPEC_VERSION,
        dest="oauth_spec_versions",
        action="append",
        default=[],
        metavar="TOKEN=VERSION",
        help="test this version of a text (OAUTH21=13); default: the newest the catalogue knows",
    )
    group.addoption(options.BASELINE, dest="oauth_baseline", metavar="FILE", help="expected failures (TOML)")
    group.addoption(
        options.UPDATE_BASELINE, dest="oauth_update_baseline", action="store_true", help="write the baseline file"
    )
    group.addoption(
        options.FAIL_ON,
        dest="oauth_fail_on",
        choices=["must", "should"],
        default="must",
        help="gate on failed MUSTs (default) or on failed SHOULDs too",
    )
    group.addoption(options.NO_REPORT, dest="oauth_no_report", action="store_true", help="write no report files")
    group.addoption(
        options.SHARED_FIXTURE_HOST,
        dest="oauth_shared_fixture_host",
        metavar="JSON",
        help="use a fixture host that already runs (its description as JSON) instead of starting one",
    )
    group.addoption(
        options.THOROUGH,
        dest="oauth_thorough",
        action="store_true",
        help="the long budgets: 50 fuzzed examples per operation and mode, 0.25 s for an early refusal",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalogue requirement ids this test verifies (oauth-conformance)"
    )
    if not _active(config):
        return
    settings = RunSettings(
        target_url=config.getoption("oauth_target"),
        profile_path=config.getoption("oauth_profile"),
        report_dir=config.getoption("oauth_report_dir"),
        specs=tuple(s.upper() for s in config.getoption("oauth_specs")),
        spec_versions=tuple(config.getoption("oauth_spec_versions")),
        baseline_path=config.getoption("oauth_baseline"),
        update_baseline=config.getoption("oauth_update_baseline"),
        fail_on=config.getoption("oauth_fail_on"),
        write_reports=not config.getoption("oauth_no_report"),
        shared_fixture_host=config.getoption("oauth_shared_fixture_host"),
        thorough=config.getoption("oauth_thorough"),
    )
    try:
        run = Run(settings, getattr(config, "workerinput", None))
    except ProfileError as exc:
        raise pytest.UsageError(f"profile error: {exc}") from None
    except (BaselineError, RunUsageError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(Hooks(run), "oauth-conformance-run")


def _active(config: pytest.Config) -> bool:
    if config.getoption("oauth_target") or config.getoption("oauth_profile"):
        return True
    if "oauth_target" in getattr(config, "workerinput", {}):
        return True
    for arg in config.args:
        base = arg.split("::")[0]
        if base.startswith("oauth_conformance") and config.getoption("pyargs"):
            return True
        try:
            if Path(base).resolve().is_relative_to(_PACKAGE_DIR / "specs"):
                return True
        except (OSError, ValueError):
            continue
    return False


def requirement_ids(item: pytest.Item) -> list[str] | None:
    ids = [rid for marker in item.iter_markers("requirement") for rid in marker.args]
    return ids or None


def classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Verdict, str, str | None] | None:
    """The verdict a test phase gives (``None``: a passing setup or teardown says nothing)."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, PrerequisiteFailed) and exc.requirement:
        # The target broke a valid request: a failure of the happy path (see broken_prerequisite).
        return Verdict.NOT_TESTED, f"{exc.requirement} failed: {exc.reason}", exc.unlock
    if isinstance(exc, Outcome):
        return exc.verdict, exc.reason, exc.unlock
    if report.when == "call":
        if report.passed:
            return Verdict.PASS, "", None
        if report.skipped:
            return Verdict.NOT_TESTED, _skip_reason(report), None
        if isinstance(exc, AssertionError):
            return Verdict.FAIL, _message(exc), None
        return Verdict.ERROR, f"{type(exc).__name__}: {_message(exc)}", None
    if report.passed:
        return None
    if report.skipped:
        return Verdict.NOT_TESTED, _skip_reason(report), None
    return Verdict.ERROR, f"{report.when} error: {type(exc).__name__}: {_message(exc)}", None


def broken_prerequisite(call: pytest.CallInfo[None], ids: list[str]) -> str | None:
    """The happy-path requirement a step of the test found broken by the target, if any."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, PrerequisiteFailed) and exc.requirement:
        return exc.requirement
    return None


def _only_recommended(ids: list[str]) -> bool:
    """Are all of a test's requirements SHOULD or MAY (so that its failure is a warning)?"""
    return all(registry()[rid].level != Level.MUST for rid in ids if rid in registry())


def _message(exc: BaseException | None) -> str:
    """The first lines of an exception's message, whole: it is cut only once scrubbed (a secret cut
    in half would no longer be recognised)."""
    text = str(exc) if exc is not None else ""
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


REASON_LIMIT = 600


def _scrub_output(report: pytest.TestReport, recorder: Recorder | None) -> None:
    """What pytest itself shows of a test (its traceback and captured output) goes through the
    same redaction as the reports: the console is an output too."""
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:  # a skip: (path, line, reason)
        path, line, why = report.longrepr
        report.longrepr = (path, line, scrub_text(str(why), recorder))
    elif report.longrepr is not None:
        report.longrepr = scrub_text(str(report.longrepr), recorder)
    report.sections = [(title, scrub_text(content, recorder)) for title, content in report.sections]


def _located(item: pytest.Item, nodeid: str) -> str:
    """The node id with the test file's full path in front: a finding's fingerprint takes the suite's
    own path from it (findings.py), however pytest chose to root the node id. A test outside the
    suites keeps its node id (rooted where the user runs pytest)."""
    _, sep, rest = nodeid.partition("::")
    path = item.path.as_posix()
    return f"{path}{sep}{rest}" if sep and SUITES_MARKER in path else nodeid


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class Hooks:
    """The hooks of an active run (registered only when the plugin is active)."""

    def __init__(self, run: Run) -> None:
        self.run = run

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        writer = session.config.get_terminal_writer()
        session.config.add_cleanup(self.run.stop)
        try:
            self.run.start(say=writer.line)
        except TargetDown as exc:
            pytest.exit(f"oauth-conformance: {exc}", returncode=EXIT_UNREACHABLE)
        except RunUsageError as exc:
            raise pytest.UsageError(str(exc)) from None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Leave what exists after collection out of the garbage collector's full passes.

        The modules, the catalogue, the collected items and Hypothesis's tables live until the run
        ends, yet each full collection walked all of them again: about a dozen in a run against the
        bundled reference, 0.7 s of CPU; frozen, 0.35 s. No collection first: in a process that runs
        many runs (the project's twin tests, through pytester) a full pass over its whole heap per
        run cost more than the freeze saved; what is already garbage stays until the unfreeze.
        """
        gc.freeze()
        session.config.add_cleanup(gc.unfreeze)  # a process that goes on after the run (pytester)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # pytest-xdist hook
        node.workerinput.update(self.run.describe_for_worker())

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:  # pytest-xdist hook
        """Tests sharing a session go to one worker (scheduling.py); an explicit other --dist stands."""
        if config.getoption("dist", None) != "load":
            return None
        from oauth_conformance.scheduling import SessionScheduling

        return SessionScheduling(config, log)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        problems: list[str] = []
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        specs = self.run.settings.specs
        for item in items:
            ids = requirement_ids(item)
            if ids is None:
                keep.append(item)
                continue
            problems += [f"{item.nodeid}: {unknown_id_message(rid)}" for rid in ids if rid not in registry()]
            item.stash[REQUIREMENTS_KEY] = ids
            if specs and not any(rid.split("-")[0] in specs for rid in ids):
                dropped.append(item)
            else:
                keep.append(item)
        if problems:
            raise pytest.UsageError("\n".join(problems))
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        recorder = item.stash.get(RECORDER_KEY, None)
        _scrub_output(report, recorder)
        ids = item.stash.get(REQUIREMENTS_KEY, None)
        if ids is None:
            return report
        found = classify(report, call)
        if found is None:
            return report
        verdict, reason, unlock = found
        broken = broken_prerequisite(call, ids)
        if broken in ids:  # the test is about the happy path its own step broke: a plain failure
            verdict, reason, broken = Verdict.FAIL, reason.removeprefix(f"{broken} failed: "), None
        reason = scrub_text(reason, recorder)[:REASON_LIMIT]
        if verdict in (Verdict.NOT_APPLICABLE, Verdict.NOT_TESTED):
            report.outcome = "skipped"
            location = report.location
            report.longrepr = (str(location[0]), (location[1] or 0) + 1, f"{verdict.value}: {reason}")
        elif verdict == Verdict.FAIL and _only_recommended(ids):
            # A SHOULD (or MAY) not met is a warning: reported as such, never as a failed test
            # with a traceback (the report and the gate still see it).
            report.outcome = "passed"
            report.longrepr = None
            report.user_properties.append((WARNING_PROPERTY, reason))
        shows = verdict in (Verdict.FAIL, Verdict.ERROR) or broken is not None
        evidence = recorder.evidence() if recorder is not None and shows else []
        flagged = recorder.flags if recorder is not None else []
        flags = [replace(f, description=scrub_text(f.description, recorder)) for f in flagged]
        result = TestResult(
            nodeid=report.nodeid,
            name=item.name,
            requirements=ids,
            verdict=verdict,
            reason=reason,
            unlock=unlock,
            duration=report.duration,
            evidence=evidence,
            findings=findings_of(
                _located(item, report.nodeid),
                [broken] if broken is not None else ids,
                failed=verdict == Verdict.FAIL or broken is not None,
                errored=verdict == Verdict.ERROR,
                reason=reason,
                flags=flags,
                evidence_count=len(evidence),
            ),
            notes=[scrub_text(n, recorder) for n in recorder.notes] if recorder is not None else [],
            failed_prerequisite=broken,
        )
        report.user_properties.append((RESULT_PROPERTY, orjson.dumps(result.as_dict()).decode()))
        report.user_properties += [("requirement", rid) for rid in ids]
        report.user_properties.append(("verdict", verdict.value))
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, tuple[str, Any]] | None:
        if report.when == "call" and any(k == WARNING_PROPERTY for k, _ in report.user_properties):
            return "warned (SHOULD)", "w", ("WARN", {"yellow": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.run.is_worker:
            return
        raw = next((v for k, v in report.user_properties if k == RESULT_PROPERTY), None)
        if raw is not None:
            self.run.record(TestResult.from_dict(orjson.loads(str(raw))))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run.is_worker or self.run.target is None:
            return
        if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
            return
        session.exitstatus = self.run.finish()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.run.is_worker or self.run.report is None:
            return
        terminalreporter.section("oauth-conformance")
        for line, alarming in self.run.summary_lines():
            terminalreporter.write_line(line, red=alarming, green=line.startswith("PASSED:") and not alarming)
