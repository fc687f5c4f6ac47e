"""One run of the suites: the target, the verdicts collected so far, and what happens at the end.

The pytest hooks in :mod:`oauth_conformance.plugin` drive it. On the controller a :class:`Run`
starts the fixture host (and the bundled reference when no target is given), discovers the
target once, collects every test's :class:`~oauth_conformance.verdicts.TestResult`, and at the
end builds the report, gates it against the baseline and writes it. On a pytest-xdist worker it
only rebuilds the target and the fixture host the controller described.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import orjson

from oauth_conformance import http
from oauth_conformance import versions
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry
from oauth_conformance.catalogue import select
from oauth_conformance.embedded import FIXTURE_HOST_ENV
from oauth_conformance.profile import Profile
from oauth_conformance.profile import load_profile
from oauth_conformance.profile import parse_profile
from oauth_conformance.redaction import KNOWN
from oauth_conformance.report import coverage as run_coverage
from oauth_conformance.report import directory as report_directory
from oauth_conformance.report import gate
from oauth_conformance.report.baseline import Baseline
from oauth_conformance.report.baseline import load_baseline
from oauth_conformance.report.baseline import write_baseline
from oauth_conformance.report.model import Report
from oauth_conformance.report.model import build
from oauth_conformance.report.scrubbed import scrubbed
from oauth_conformance.report.writers import write_all
from oauth_conformance.target import Target
from oauth_conformance.target import TargetUnavailable
from oauth_conformance.target import discover
from oauth_conformance.target import dumps
from oauth_conformance.target import target_from_dict
from oauth_conformance.trust.host import FixtureHost
from oauth_conformance.trust.host import RemoteFixtureHost
from oauth_conformance.trust.host import describe as describe_host
from oauth_conformance.verdicts import SEVERITY
from oauth_conformance.verdicts import TestResult
from oauth_conformance.verdicts import Verdict

if TYPE_CHECKING:
    from oauth_conformance.embedded import Served


class RunUsageError(Exception):
    """The run was asked for something it cannot do (a usage error, exit status 2)."""


class TargetDown(Exception):
    """The target (or the bundled reference) cannot be reached (exit status 3)."""


@dataclass(frozen=True)
class RunSettings:
    """The run's command-line choices (``--oauth-*``)."""

    target_url: str | None = None
    profile_path: str | None = None
    report_dir: str | None = None
    specs: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()  # TOKEN=VERSION pins (--oauth-spec-version)
    baseline_path: str | None = None
    update_baseline: bool = False
    fail_on: str = "must"
    write_reports: bool = True
    shared_fixture_host: str | None = None  # JSON: trust.host.describe() of a host that already runs
    thorough: bool = False  # the long fuzzing and hostile-request budgets (--oauth-thorough)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """The state of one run; see the module docstring."""

    def __init__(self, settings: RunSettings, worker_input: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.worker_input = worker_input
        self.results: dict[str, TestResult] = {}
        self.started = _now()
        self._t0 = time.monotonic()
        self.target: Target | None = None
        self.fixture_host: FixtureHost | RemoteFixtureHost | None = None
        self.embedded: Served | None = None
        self.profile_text: str | None = None
        self.report: Report | None = None
        self.gate: gate.GateResult | None = None
        self.coverage: run_coverage.Coverage | None = None
        self.report_dir: Path | None = None
        self.status: int | None = None  # the exit status, once decided
        self._cleanups: list[Any] = []
        self._preset: Target | None = None
        self.profile = self._load_profile()
        KNOWN.update(self.profile.secret_values())  # no output of the run shows them (redaction.py)
        known = {r.spec for r in registry().values()}
        unknown = [s for s in settings.specs if s not in known]
        if unknown:
            raise RunUsageError(f"unknown spec token {unknown[0]!r}")
        try:  # the newest version of every text, unless the profile or the command line pins one
            self.versions = versions.chosen(dict(self.profile.versions), versions.parse_pins(settings.spec_versions))
        except versions.UnknownVersion as exc:
            raise RunUsageError(str(exc)) from None
        self.baseline = self._load_baseline()

    @property
    def is_worker(self) -> bool:
        return self.worker_input is not None

    def _load_profile(self) -> Profile:
        if self.worker_input is not None:
            text = self.worker_input.get("oauth_profile_text")
            return self._budgeted(parse_profile(tomllib.loads(text), "controller") if text else Profile())
        path = self.settings.profile_path
        if path:
            self.profile_text = Path(path).read_text(encoding="utf-8")
            return self._budgeted(load_profile(path))
        return self._budgeted(Profile())

    def _budgeted(self, profile: Profile) -> Profile:
        """The profile with the long budgets when the run asks for them (``--oauth-thorough``)."""
        if not self.settings.thorough or profile.robust.thorough:
            return profile
        return replace(profile, robust=profile.robust.made_thorough())

    def _load_baseline(self) -> Baseline:
        if self.settings.update_baseline and not self.settings.baseline_path:
            raise RunUsageError("--oauth-update-baseline needs --oauth-baseline FILE")
        if self.is_worker or not self.settings.baseline_path:
            return Baseline()
        return load_baseline(self.settings.baseline_path)  # BaselineError: a usage error

    # ------------------------------------------------------------------------------- start
    def preset_target(self, target: Target) -> None:
        """Use a target discovered before the run (the command line discovers first, to fail fast)."""
        self._preset = target

    def start(self, say: Any = print) -> None:
        """Controller: fixture host, bundled reference if needed, discovery. Worker: rebuild both."""
        self._keep_hypothesis_out_of_the_working_directory()
        if self.worker_input is not None:
            self.target = target_from_dict(orjson.loads(self.worker_input["oauth_target"]), self.profile)
            described = self.worker_input.get("oauth_fixture_host")
            if described:
                self.fixture_host = RemoteFixtureHost(**orjson.loads(described))
            return
        self._start_fixture_host()
        url = self.settings.target_url or self.profile.target.url
        if url is None:
            from oauth_conformance.embedded import start_embedded

            try:
                self.embedded, self.profile_text = start_embedded(self.fixture_host)
            except Exception as exc:
                raise TargetDown(f"could not start the bundled reference: {exc}") from None
            self._cleanups.append(self.embedded.stop)
            say(f"serving the bundled reference at {self.embedded.url} (pid {self.embedded.pid})")
            self.profile = self._budgeted(parse_profile(tomllib.loads(self.profile_text), "embedded reference"))
            KNOWN.update(self.profile.secret_values())
            url = self.embedded.url
        spec = url
        transport = None
        if url.startswith("asgi:"):
            from oauth_conformance.inprocess import BASE_URL
            from oauth_conformance.inprocess import shutdown_all
            from oauth_conformance.inprocess import transport_for

            try:
                transport = transport_for(url)
            except Exception as exc:
                raise TargetDown(f"cannot build the in-process target {url}: {exc}") from None
            self._cleanups.append(shutdown_all)
            url = BASE_URL
        preset = self._preset
        if preset is not None and preset.spec == spec and preset.profile == self.profile:
            self.target = preset
        else:
            with http.client(transport=transport) as client:
                try:
                    self.target = discover(url, self.profile, client, embedded=self.embedded is not None, spec=spec)
                except TargetUnavailable as exc:
                    raise TargetDown(str(exc)) from None
        say(f"target {self.target.url}: issuer {self.target.issuer}, metadata at {self.target.metadata_url}")

    def _keep_hypothesis_out_of_the_working_directory(self) -> None:
        """Hypothesis keeps its caches in ./.hypothesis by default; a run leaves nothing there.

        The examples database is off anyway (every property test here runs derandomized against a
        live target), so what Hypothesis keeps is only its character tables: they go to the user's
        cache folder (``$XDG_CACHE_HOME/oauth-conformance/hypothesis``), where the next run finds
        them instead of building them again (about 2 s a run), or, if that folder cannot be made,
        to a temporary folder removed when the run stops.
        """
        import shutil
        import tempfile

        from hypothesis.configuration import set_hypothesis_home_dir

        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oauth-conformance" / "hypothesis"
        try:
            cache.mkdir(parents=True, exist_ok=True)
            home, temporary = str(cache), False
        except OSError:
            home, temporary = tempfile.mkdtemp(prefix="oauth-conformance-hypothesis-"), True
        set_hypothesis_home_dir(home)

        def forget() -> None:
            set_hypothesis_home_dir(None)
            if temporary:
                shutil.rmtree(home, ignore_errors=True)

        self._cleanups.append(forget)

    def _start_fixture_host(self) -> None:
        settings = self.profile.fixture_host
        if not settings.enabled:
            return
        if self.settings.shared_fixture_host:
            self.fixture_host = RemoteFixtureHost(**orjson.loads(self.settings.shared_fixture_host))
            return
        host = FixtureHost(https=settings.https, bind=settings.bind, public_base_url=settings.public_base_url)
        try:
            self.fixture_host = host.start(port=settings.port)
        except OSError as exc:
            raise RunUsageError(f"fixture_host: cannot listen on {settings.bind}:{settings.port}: {exc}") from None
        os.environ[FIXTURE_HOST_ENV] = orjson.dumps(describe_host(host)).decode()
        self._cleanups.append(host.stop)

    def stop(self) -> None:
        """Stop what the run started (the bundled reference, the fixture host), newest first."""
        while self._cleanups:
            self._cleanups.pop()()

    def describe_for_worker(self) -> dict[str, str]:
        """What a pytest-xdist worker needs to rebuild the run's target and fixture host."""
        assert self.target is not None
        described = {"oauth_target": dumps(self.target)}
        if self.fixture_host is not None:
            described["oauth_fixture_host"] = orjson.dumps(describe_host(self.fixture_host)).decode()
        if self.profile_text is not None:
            described["oauth_profile_text"] = self.profile_text
        return described

    # ----------------------------------------------------------------------------- verdicts
    def record(self, result: TestResult) -> None:
        """Keep a test's result; of several phases (setup, call, teardown) the most serious wins."""
        previous = self.results.get(result.nodeid)
        if previous is None:
            self.results[result.nodeid] = result
            return
        if SEVERITY[result.verdict] <= SEVERITY[previous.verdict]:
            previous.notes.extend(result.notes)
            return
        # The more serious phase's verdict stands, with its own findings (a teardown error after a
        # failure does not add one).
        result.duration += previous.duration
        result.notes[:0] = previous.notes
        self.results[result.nodeid] = result

    # ------------------------------------------------------------------------------- finish
    def _catalogue(self) -> list[Requirement]:
        if self.settings.specs:
            return select(self.settings.specs, versions=self.versions)
        tested = {rid.split("-")[0] for t in self.results.values() for rid in t.requirements}
        return select(tested or {r.spec for r in registry().values()}, versions=self.versions)

    def _target_record(self) -> dict[str, Any]:
        """The report's ``target``: what discovery found, the profile's name for it, the clock mode used."""
        from oauth_conformance.time_travel import effective_mode

        assert self.target is not None
        record: dict[str, Any] = self.target.as_dict()
        if self.profile.target.name:
            record["name"] = self.profile.target.name
        record["clock"] = effective_mode(self.profile, in_process=self.target.in_process)
        if self.profile.notes:  # which verdicts come from the target's fixture, not the implementation
            record["requirement_notes"] = {
                rid: {"provided_by": n.provided_by, "why": n.why} for n in self.profile.notes for rid in n.ids
            }
        return record

    def finish(self) -> int:
        """Build the report, gate it, write the baseline (if asked) and the reports; the exit status."""
        tests = sorted(self.results.values(), key=lambda t: t.nodeid)
        report = scrubbed(
            build(
                tests,
                self._catalogue(),
                target=self._target_record(),
                started=self.started,
                finished=_now(),
                duration=time.monotonic() - self._t0,
                versions=self.versions,
            )
        )
        baseline = self.baseline
        if self.settings.update_baseline:
            assert self.settings.baseline_path is not None
            baseline = write_baseline(self.settings.baseline_path, report, baseline)
        self.gate = gate.evaluate(report, baseline, self.settings.fail_on)
        gated = gate.gated(report, self.gate, baseline)
        self.report, self.coverage = run_coverage.conclude(gated, self.profile.gate.min_coverage)
        if self.settings.write_reports:
            self.report_dir = self._write_reports(self.report)
        self.status = int(self.report.outcome["exit_status"])
        return self.status

    def _write_reports(self, report: Report) -> Path:
        if self.settings.report_dir:
            directory = Path(self.settings.report_dir)
            write_all(report, directory)
            return directory
        assert self.target is not None
        name = self.profile.target.name or self.target.issuer or self.target.url
        directory = report_directory.default_directory(name)
        write_all(report, directory)
        report_directory.publish(directory)
        return directory

    def summary_lines(self) -> list[tuple[str, bool]]:
        """The terminal summary: (line, is_alarming)."""
        assert self.report is not None and self.gate is not None and self.target is not None
        summary = self.report.summary()
        lines = [
            (f"target {self.target.url} (issuer {self.target.issuer})", False),
            (
                "requirements: "
                + ", ".join(f"{n} {v}" for v, n in summary.items() if v != "total" and n)
                + f" (of {summary['total']})",
                False,
            ),
        ]
        for r in self.report.failed_musts():
            label = "expected" if r.expected else "FAILED"
            lines.append((f"  {label} MUST {r.id}: {r.reason[:160]}", not r.expected))
        described = {f.fingerprint: f.description for f in self.report.findings()}
        for rid, fingerprints in self.gate.new_findings.items():
            gating = rid in self.gate.unexpected
            for fp in fingerprints[:8]:
                lines.append((f"  NEW finding under {rid}: {fp}: {described.get(fp, '')[:120]}", gating))
            if len(fingerprints) > 8:
                lines.append((f"  ... and {len(fingerprints) - 8} more new findings under {rid}", gating))
        for rid, fingerprints in self.gate.resolved_findings.items():
            for fp in fingerprints[:8]:
                lines.append((f"  resolved finding under {rid} (no longer shows; update the baseline): {fp}", False))
        unpinned = sorted(rid for rid in self.baseline.unpinned if rid in self.gate.expected)
        if unpinned:
            lines.append(
                (
                    f"  {len(unpinned)} baseline entr{'y lists' if len(unpinned) == 1 else 'ies list'} no findings"
                    f" ({', '.join(unpinned[:3])}{' ...' if len(unpinned) > 3 else ''}): any finding is accepted"
                    " under them; run --update-baseline once to pin them",
                    False,
                )
            )
        verdicts = {r.id: r.verdict for r in self.report.requirements}
        for rid in self.gate.stale:
            now = verdicts[rid].value if rid in verdicts else "not in this run"
            lines.append((f"  STALE baseline entry {rid}: it is {now} now; update the baseline", True))
        unlocks: dict[str, int] = {}
        for t in self.report.tests:
            if t.verdict == Verdict.NOT_TESTED and t.unlock:
                unlocks[t.unlock] = unlocks.get(t.unlock, 0) + 1
        for setting, count in sorted(unlocks.items(), key=lambda kv: -kv[1]):
            lines.append((f"  not tested: {count} test(s) need profile setting {setting}", False))
        if self.report_dir is not None:
            lines.append((f"reports: {self.report_dir}/report.{{json,xml,md,html}}", False))
        assert self.coverage is not None and self.status is not None
        c = self.coverage
        lines.append(
            (
                f"coverage: {c.verified} of {c.testable} testable MUSTs verified ({c.percent:.1f}%);"
                f" {c.not_applicable} not applicable to this target, {c.untestable} untestable"
                + (f"; the profile asks for {c.minimum:g}%" if c.minimum is not None else ""),
                c.below_minimum,
            )
        )
        for reason in c.reasons():
            lines.append((f"  INCONCLUSIVE: {reason}", True))
        lines.append((f"{self.report.outcome['summary']} (exit {self.status})", bool(self.status)))
        return lines
