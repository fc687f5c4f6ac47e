"""The pytest plugin (entry point ``pytest11``). It does nothing unless asked: it becomes active
when ``--oauth-target`` or ``--oauth-profile`` is given or when the suites in this package are
collected (``pytest --pyargs oauth_conformance``), and then:

- discovers the target once, on the controller (exit 3 with a one-line reason when it is down or
  not an OAuth server), or starts the bundled reference when no target is given;
- checks each test's ``@requirement`` ids against the catalogue (an unknown id is a usage
  error naming the nearest known id);
- turns each test's outcome into a verdict and carries it, with redacted evidence, in the test
  report's ``user_properties`` (which survive pytest-xdist);
- joins the verdicts per requirement, gates the exit status on unexpected MUST failures and
  stale baseline entries, and writes report.json, report.xml, report.md and report.html.
"""

from __future__ import annotations

import os
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from . import options
from .catalogue import Requirement
from .catalogue import lookup
from .catalogue import registry
from .catalogue import select
from .catalogue import unknown_id_message
from .evidence import Recorder
from .evidence import scrub_text
from .fixture_host import FIXTURE_HOST_ENV
from .fixture_host import describe as describe_host
from .profile import Profile
from .profile import ProfileError
from .profile import load_profile
from .profile import parse_profile
from .report.model import TestResult
from .verdicts import SEVERITY
from .verdicts import Outcome
from .verdicts import Verdict

REQUIREMENTS_KEY = pytest.StashKey[list[str]]()
RECORDER_KEY = pytest.StashKey[Recorder]()
HARNESS_KEY = pytest.StashKey["Harness"]()
RESULT_PROPERTY = "oauth_result"
_PACKAGE_DIR = Path(__file__).resolve().parent


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the catalogue requirement ids this test verifies (oauth-conformance)"
    )
    if _active(config):
        harness = Harness(config)
        config.stash[HARNESS_KEY] = harness
        config.pluginmanager.register(harness, "oauth-conformance-harness")


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(text: str) -> str:
    keep = "".join(ch if ch.isalnum() else "-" for ch in text.split("://", 1)[-1].lower())
    return "-".join(filter(None, keep.split("-")))[:60] or "target"


def requirement_ids(item: pytest.Item) -> list[str] | None:
    ids = [rid for marker in item.iter_markers("requirement") for rid in marker.args]
    return ids or None


def classify(report: pytest.TestReport, call: pytest.CallInfo[None]) -> tuple[Verdict, str, str | None] | None:
    exc = call.excinfo.value if call.excinfo is not None else None
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


def _message(exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else ""
    lines = [line for line in text.splitlines() if line.strip()]
    return " ".join(lines[:3])[:600] if lines else type(exc).__name__


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class Harness:
    """The plugin's state for one run (registered only when active)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        self.results: dict[str, TestResult] = {}
        self.started = _now()
        self.t0 = time.monotonic()
        self.embedded: Any = None
        self.target: Any = None
        self.report: Any = None
        self.report_dir: Path | None = None
        self.gate: Any = None
        self.profile_text: str | None = None
        self.fixture_host: Any = None
        try:
            self.profile = self._load_profile()
        except ProfileError as exc:
            raise pytest.UsageError(f"profile error: {exc}") from None
        self.specs = [s.upper() for s in config.getoption("oauth_specs")]
        unknown = [s for s in self.specs if s not in {r.spec for r in registry().values()}]
        if unknown:
            raise pytest.UsageError(f"unknown spec token {unknown[0]!r}")

    def _load_profile(self) -> Profile:
        if self.is_worker:
            text = self.config.workerinput.get("oauth_profile_text")  # type: ignore[attr-defined]
            if text:
                import tomllib

                return parse_profile(tomllib.loads(text), "controller")
        path = self.config.getoption("oauth_profile")
        return load_profile(path) if path else Profile()

    # ------------------------------------------------------------------ session and discovery
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from . import http
        from .target import TargetUnavailable
        from .target import discover
        from .target import target_from_dict

        if self.is_worker:
            data = orjson.loads(self.config.workerinput["oauth_target"])  # type: ignore[attr-defined]
            self.target = target_from_dict(data, self.profile)
            described = self.config.workerinput.get("oauth_fixture_host")  # type: ignore[attr-defined]
            if described:
                from .fixture_host import RemoteFixtureHost

                self.fixture_host = RemoteFixtureHost(**orjson.loads(described))
            return
        self._start_fixture_host()
        url = self.config.getoption("oauth_target") or self.profile.target.url
        if url is None:
            from .embedded import start_embedded

            try:
                self.embedded, self.profile_text = start_embedded(self.fixture_host)
            except Exception as exc:
                pytest.exit(f"oauth-conformance: could not start the bundled reference: {exc}", returncode=3)
            self.config.get_terminal_writer().line(
                f"serving the bundled reference at {self.embedded.url} (pid {self.embedded.pid})"
            )
            import tomllib

            self.profile = parse_profile(tomllib.loads(self.profile_text), "embedded reference")
            url = self.embedded.url
            self.config.add_cleanup(self.embedded.stop)
        elif self.config.getoption("oauth_profile"):
            self.profile_text = Path(self.config.getoption("oauth_profile")).read_text(encoding="utf-8")
        spec = url
        transport = None
        if url.startswith("asgi:"):
            from .inprocess import BASE_URL
            from .inprocess import shutdown_all
            from .inprocess import transport_for

            try:
                transport = transport_for(url)
            except Exception as exc:
                pytest.exit(f"oauth-conformance: cannot build the in-process target {url}: {exc}", returncode=3)
            self.config.add_cleanup(shutdown_all)
            url = BASE_URL
        with http.client(transport=transport) as client:
            try:
                self.target = discover(url, self.profile, client, embedded=self.embedded is not None, spec=spec)
            except TargetUnavailable as exc:
                pytest.exit(f"oauth-conformance: {exc}", returncode=3)

    def _start_fixture_host(self) -> None:
        settings = self.profile.fixture_host
        if not settings.enabled:
            return
        from .fixture_host import FixtureHost

        host = FixtureHost(https=settings.https, bind=settings.bind, public_base_url=settings.public_base_url)
        try:
            self.fixture_host = host.start(port=settings.port)
        except OSError as exc:
            raise pytest.UsageError(f"fixture_host: cannot listen on {settings.bind}:{settings.port}: {exc}") from None
        os.environ[FIXTURE_HOST_ENV] = orjson.dumps(describe_host(host)).decode()
        self.config.add_cleanup(host.stop)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # pytest-xdist hook
        from .target import dumps

        node.workerinput["oauth_target"] = dumps(self.target)
        if self.fixture_host is not None:
            node.workerinput["oauth_fixture_host"] = orjson.dumps(describe_host(self.fixture_host)).decode()
        if self.profile_text is not None:
            node.workerinput["oauth_profile_text"] = self.profile_text

    # -------------------------------------------------------------------------- collection
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        problems: list[str] = []
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            ids = requirement_ids(item)
            if ids is None:
                keep.append(item)
                continue
            for rid in ids:
                if rid not in registry():
                    problems.append(f"{item.nodeid}: {unknown_id_message(rid)}")
            item.stash[REQUIREMENTS_KEY] = ids
            if self.specs and not any(rid.split("-")[0] in self.specs for rid in ids):
                dropped.append(item)
            else:
                keep.append(item)
        if problems:
            raise pytest.UsageError("\n".join(problems))
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    # ----------------------------------------------------------------------------- verdicts
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        ids = item.stash.get(REQUIREMENTS_KEY, None)
        if ids is None:
            return report
        found = classify(report, call)
        if found is None:
            return report
        verdict, reason, unlock = found
        recorder = item.stash.get(RECORDER_KEY, None)
        reason = scrub_text(reason, recorder)
        if verdict in (Verdict.NOT_APPLICABLE, Verdict.NOT_TESTED):
            report.outcome = "skipped"
            location = report.location
            report.longrepr = (str(location[0]), (location[1] or 0) + 1, f"{verdict.value}: {reason}")
        elif report.failed and report.longrepr is not None:
            report.longrepr = scrub_text(str(report.longrepr), recorder)
        evidence = recorder.evidence() if recorder is not None and verdict in (Verdict.FAIL, Verdict.ERROR) else []
        result = {
            "name": item.name,
            "requirements": ids,
            "verdict": verdict.value,
            "reason": reason,
            "unlock": unlock,
            "duration": report.duration,
            "evidence": evidence,
            "findings": recorder.findings if recorder is not None else [],
        }
        report.user_properties.append((RESULT_PROPERTY, orjson.dumps(result).decode()))
        for rid in ids:
            report.user_properties.append(("requirement", rid))
        report.user_properties.append(("verdict", verdict.value))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        raw = next((v for k, v in report.user_properties if k == RESULT_PROPERTY), None)
        if raw is None:
            return
        data = orjson.loads(str(raw))
        verdict = Verdict(data["verdict"])
        previous = self.results.get(report.nodeid)
        # Keep the more serious phase (a teardown error after a pass is an error).
        if previous is not None and SEVERITY[verdict] <= SEVERITY[previous.verdict]:
            previous.findings.extend(data["findings"])
            return
        self.results[report.nodeid] = TestResult(
            nodeid=report.nodeid,
            name=data["name"],
            requirements=data["requirements"],
            verdict=verdict,
            reason=data["reason"],
            unlock=data["unlock"],
            duration=data["duration"] + (previous.duration if previous else 0.0),
            evidence=data["evidence"],
            findings=data["findings"],
        )

    # ------------------------------------------------------------------------------ finish
    def _catalogue(self) -> list[Requirement]:
        tested = {rid for t in self.results.values() for rid in t.requirements}
        if self.specs:
            return select(self.specs)
        specs = {rid.split("-")[0] for rid in tested} or {r.spec for r in registry().values()}
        return select(specs)

    def _target_record(self) -> dict[str, Any]:
        """The report's ``target``: what discovery found, the profile's name for it, the clock mode used."""
        from .clock import effective_mode

        record: dict[str, Any] = self.target.as_dict()
        if self.profile.target.name:
            record["name"] = self.profile.target.name
        record["clock"] = effective_mode(self.profile, in_process=self.target.in_process)
        return record

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker or self.target is None:
            return
        from .report import gate
        from .report.model import build

        if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
            return
        tests = sorted(self.results.values(), key=lambda t: t.nodeid)
        self.report = build(
            tests,
            self._catalogue(),
            target=self._target_record(),
            started=self.started,
            finished=_now(),
            duration=time.monotonic() - self.t0,
        )
        baseline_path = self.config.getoption("oauth_baseline")
        baseline: dict[str, str] = {}
        intermittent: frozenset[str] = frozenset()
        if baseline_path and Path(baseline_path).exists():
            try:
                baseline = gate.load_baseline(baseline_path)
            except gate.BaselineError as exc:
                raise pytest.UsageError(str(exc)) from None
            intermittent = gate.load_intermittent(baseline_path)
            unknown = [rid for rid in baseline if rid not in registry()]
            if unknown:
                raise pytest.UsageError(f"baseline: {unknown_id_message(unknown[0])}")
        self.gate = gate.evaluate(self.report, baseline, self.config.getoption("oauth_fail_on"), intermittent)
        if self.config.getoption("oauth_update_baseline"):
            if not baseline_path:
                raise pytest.UsageError(f"{options.UPDATE_BASELINE} needs {options.BASELINE} FILE")
            gate.write_baseline(baseline_path, self.report, baseline)
            self.gate.status = 0
        if not self.config.getoption("oauth_no_report"):
            self.report_dir = self._write_reports()
        session.exitstatus = self.gate.status

    def _write_reports(self) -> Path:
        from .report.html import write_html
        from .report.writers import write_json
        from .report.writers import write_junit
        from .report.writers import write_markdown

        chosen = self.config.getoption("oauth_report_dir")
        if chosen:
            directory = Path(chosen)
        else:
            name = self.profile.target.name or self.target.issuer or self.target.url
            stamp = self.started.replace(":", "").replace("-", "")
            directory = Path("reports") / _slug(name) / stamp
        directory.mkdir(parents=True, exist_ok=True)
        write_json(self.report, directory / "report.json")
        write_junit(self.report, directory / "report.xml")
        write_markdown(self.report, directory / "report.md")
        write_html(self.report, directory / "report.html")
        if not chosen:
            latest = directory.parent / "latest"
            try:
                if latest.is_symlink() or latest.exists():
                    latest.unlink()
                latest.symlink_to(directory.name)
            except OSError:
                (directory.parent / "LATEST").write_text(directory.name + "\n", encoding="utf-8")
        return directory

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.report is None:
            return
        tr = terminalreporter
        summary = self.report.summary()
        tr.section("oauth-conformance")
        tr.write_line(f"target {self.target.url} (issuer {self.target.issuer})")
        tr.write_line(
            "requirements: "
            + ", ".join(f"{n} {v}" for v, n in summary.items() if v != "total" and n)
            + f" (of {summary['total']})"
        )
        for r in self.report.failed_musts():
            label = "expected" if r.expected else "FAILED"
            tr.write_line(f"  {label} MUST {r.id}: {r.reason[:160]}", red=not r.expected)
        verdicts = {r.id: r.verdict for r in self.report.requirements}
        for rid in self.gate.stale:
            now = verdicts[rid].value if rid in verdicts else "not in this run"
            tr.write_line(f"  STALE baseline entry {rid}: it is {now} now; update the baseline", red=True)
        unlocks: dict[str, int] = {}
        for t in self.report.tests:
            if t.verdict == Verdict.NOT_TESTED and t.unlock:
                unlocks[t.unlock] = unlocks.get(t.unlock, 0) + 1
        for setting, count in sorted(unlocks.items(), key=lambda kv: -kv[1]):
            tr.write_line(f"  not tested: {count} test(s) need profile setting {setting}")
        if self.report_dir is not None:
            tr.write_line(f"reports: {self.report_dir}/report.{{json,xml,md,html}}")
        tr.write_line(
            f"verdict: {'FAILED' if self.gate.status else 'PASSED'} (exit {self.gate.status})",
            red=bool(self.gate.status),
            green=not self.gate.status,
        )


def requirement(*ids: str) -> pytest.MarkDecorator:
    """Mark a test with the catalogue requirements it verifies."""
    for rid in ids:
        lookup(rid)
    return pytest.mark.requirement(*ids)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
