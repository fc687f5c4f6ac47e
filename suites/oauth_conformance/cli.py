"""``oauth-conformance``: run the suites against a target, inspect the catalogue, compare runs.

Exit status of ``run`` (contract C2): 0 no unexpected MUST failure; 1 at least one (or a stale
baseline entry); 2 usage or profile error; 3 target unreachable or not an OAuth server;
4 the harness itself broke (a suite that cannot be collected, an internal error: a bug to
report, never a verdict on the target); 5 inconclusive: nothing failed, but the run could not
exercise the code flow or the token endpoint, or verified fewer testable MUSTs than the profile's
``[gate] min_coverage``. ``fuzz`` (robust/command.py) exits 0 when nothing is
found and 1 with findings, else the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from oauth_conformance.version import VERSION

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_HARNESS_ERROR, EXIT_INCONCLUSIVE = 0, 1, 2, 3, 4, 5
_PACKAGE = Path(__file__).resolve().parent


# The only pytest plugins a run loads: the harness's own and, with workers, xdist. Autoloading is
# off (PYTEST_DISABLE_PLUGIN_AUTOLOAD, inherited by xdist's workers): with it on, pytest marks every
# module of every installed plugin's distribution for assertion rewriting, loaded or not, so the
# suites' imports of schemathesis and Hypothesis as libraries were parsed and rewritten on every run
# (about 940 modules, 2 to 4 s a run and a worker when no bytecode is written).
PLUGINS = ("oauth_conformance.plugin",)
WORKER_PLUGINS = ("xdist.plugin",)
_NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oauth-conformance", description="Conformance suites for OAuth 2.1 authorization servers."
    )
    parser.add_argument("--version", action="version", version=f"oauth-conformance {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="test a target (no target: the bundled reference)")
    run.add_argument("target", nargs="?", help="the authorization server's URL (issuer or any URL under it)")
    run.add_argument("--profile", help="target profile (TOML); see 'oauth-conformance profile init'")
    run.add_argument("--report-dir", help="where to write the reports (default reports/<target>/<UTC time>/)")
    run.add_argument("--spec", action="append", default=[], metavar="TOKEN", help="only this spec (repeatable)")
    run.add_argument(
        "--spec-version",
        action="append",
        default=[],
        metavar="TOKEN=VERSION",
        help="test this version of a text, not its newest: OAUTH21=13 (repeatable; see 'catalogue --versions')",
    )
    run.add_argument("--baseline", help="expected failures (TOML); a failure not in it fails the run")
    run.add_argument("--update-baseline", action="store_true", help="write the current failures to --baseline")
    run.add_argument("--fail-on", choices=["must", "should"], default="must", help="what fails the run")
    run.add_argument("-n", "--workers", default="0", help="parallel workers (pytest-xdist): a number or auto")
    run.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression")
    run.add_argument(
        "--thorough",
        action="store_true",
        help="the long budgets: 50 fuzzed examples per operation and mode (default 20), "
        "0.25 s for an early refusal of an oversized request (default 0.05 s)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="less output")

    cat = sub.add_parser("catalogue", help="list the requirements and how many tests cover each")
    cat.add_argument("--spec", action="append", default=[], metavar="TOKEN")
    cat.add_argument("--level", action="append", default=[], choices=["MUST", "SHOULD", "MAY"])
    cat.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    cat.add_argument("--uncovered", action="store_true", help="only requirements no test covers")
    cat.add_argument(
        "--spec-version",
        action="append",
        default=[],
        metavar="TOKEN=VERSION",
        help="list the rows as this version of a text states them (default: the newest)",
    )
    cat.add_argument("--versions", action="store_true", help="list the texts and the versions of each known")
    cat.add_argument(
        "--changes",
        metavar="TOKEN=OLD..NEW",
        help="the rows added, removed, moved, reworded or re-levelled between two versions: OAUTH21=13..16",
    )

    comp = sub.add_parser("compare", help="a matrix of requirements by targets from several report.json")
    comp.add_argument("reports", nargs="+", metavar="REPORT.json")
    comp.add_argument("--out", required=True, help="directory for compare.md, compare.html, compare.json")

    dif = sub.add_parser("diff", help="regressions, fixes, new requirements and findings between two runs")
    dif.add_argument("old", metavar="OLD.json")
    dif.add_argument("new", metavar="NEW.json")

    from oauth_conformance.robust.command import add_parser as add_fuzz_parser

    add_fuzz_parser(sub)  # oauth-conformance fuzz TARGET (robust/command.py)

    fix = sub.add_parser(
        "trust", aliases=["fixtures"], help="print what a target must trust for the ID-JAG and CIMD suites"
    )
    fix.add_argument("--profile", help="target profile (for the fixture host's port or public URL)")
    fix.add_argument("--format", choices=["text", "json"], default="text")

    prof = sub.add_parser("profile", help="target profiles")
    prof_sub = prof.add_subparsers(dest="profile_command", required=True)
    init = prof_sub.add_parser("init", help="write a commented starter profile")
    init.add_argument("path", nargs="?", default="oauth-profile.toml")
    init.add_argument("--force", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the output was piped into a reader that stopped (head): not an error of ours
        _quiet_stdout()
        return EXIT_OK


def _quiet_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # everything after -- goes to pytest as it is
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    args = _parser().parse_args(argv)
    args.pytest_args = extra
    if args.command == "run":
        return run(args)
    if args.command == "catalogue":
        return catalogue(args)
    if args.command == "compare":
        return compare(args)
    if args.command == "diff":
        return diff(args)
    if args.command == "profile":
        return profile_init(args)
    if args.command in ("trust", "fixtures"):
        return trust(args)
    if args.command == "fuzz":
        from oauth_conformance.robust.command import main as fuzz_main

        return fuzz_main(args)
    return EXIT_USAGE


def _error(message: str) -> None:
    print(f"oauth-conformance: {message}", file=sys.stderr)


class _RunObserver:
    """Hands the target discovered here to the in-process run, and keeps the run to read its status."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.config: Any = None

    @pytest.hookimpl(trylast=True)  # after the plugin's own pytest_configure has made the run
    def pytest_configure(self, config: Any) -> None:
        from oauth_conformance.plugin import RUN_KEY

        self.config = config
        run = config.stash.get(RUN_KEY, None)
        if run is not None and self.target is not None:
            run.preset_target(self.target)
        # Progress lines name the suites' own paths (specs/rfc8414/...), wherever the package is installed.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and hasattr(reporter, "startpath"):
            reporter.startpath = config.rootpath


def run(args: argparse.Namespace) -> int:
    from oauth_conformance import http
    from oauth_conformance.plugin import RUN_KEY
    from oauth_conformance.profile import Profile
    from oauth_conformance.profile import ProfileError
    from oauth_conformance.profile import load_profile
    from oauth_conformance.report.baseline import BaselineError
    from oauth_conformance.report.baseline import load_baseline
    from oauth_conformance.target import TargetUnavailable
    from oauth_conformance.target import discover
    from oauth_conformance.versions import UnknownVersion
    from oauth_conformance.versions import parse_pins

    try:  # checked here, so a mistake is one line and exit 2 before anything starts
        profile = load_profile(args.profile) if args.profile else Profile()
        if args.baseline:
            load_baseline(args.baseline)
        parse_pins(args.spec_version)
    except (ProfileError, BaselineError, UnknownVersion) as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.update_baseline and not args.baseline:
        _error("--update-baseline needs --baseline FILE")
        return EXIT_USAGE
    url = args.target or profile.target.url
    target = None
    if url is not None and not url.startswith("asgi:"):
        # Discovered here, so an unreachable target ends with one line and exit 3; the run uses it.
        try:
            with http.client() as client:
                target = discover(url, profile, client, spec=url)
        except TargetUnavailable as exc:
            _error(str(exc))
            return EXIT_UNREACHABLE
    pytest_args = ["-c", str(_PACKAGE / "run.ini"), "--rootdir", str(_PACKAGE), "--pyargs", "oauth_conformance.specs"]
    # no cache, no benchmark plugin: a run leaves nothing in the working directory but its reports
    pytest_args += ["--oauth-fail-on", args.fail_on, "-p", "no:cacheprovider", "-p", "no:benchmark"]
    for plugin in PLUGINS:
        pytest_args += ["-p", plugin]
    if args.target:
        pytest_args += ["--oauth-target", args.target]
    if args.profile:
        pytest_args += ["--oauth-profile", str(Path(args.profile).resolve())]
    if args.report_dir:
        pytest_args += ["--oauth-report-dir", str(Path(args.report_dir).resolve())]
    for spec in args.spec:
        pytest_args += ["--oauth-spec", spec]
    for pin in args.spec_version:
        pytest_args += ["--oauth-spec-version", pin]
    if args.baseline:
        pytest_args += ["--oauth-baseline", str(Path(args.baseline).resolve())]
    if args.update_baseline:
        pytest_args += ["--oauth-update-baseline"]
    if args.workers not in ("0", "1"):
        for plugin in WORKER_PLUGINS:
            pytest_args += ["-p", plugin]
        pytest_args += ["-n", args.workers]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.thorough:
        pytest_args += ["--oauth-thorough"]
    pytest_args += ["-q", "-rN"] if args.quiet else ["-rN"]
    observer = _RunObserver(target)
    autoload = os.environ.get(_NO_AUTOLOAD)
    os.environ[_NO_AUTOLOAD] = "1"  # in the environment, not an option: xdist's workers read it too
    try:
        code = pytest.main([*pytest_args, *args.pytest_args], plugins=[observer])
    finally:
        if autoload is None:
            os.environ.pop(_NO_AUTOLOAD, None)
        else:
            os.environ[_NO_AUTOLOAD] = autoload
    harness_run = observer.config.stash.get(RUN_KEY, None) if observer.config is not None else None
    if harness_run is not None and harness_run.status is not None:
        return int(harness_run.status)  # the run finished: its gate decided
    if code == EXIT_UNREACHABLE:  # the plugin's own exit: the target (or the bundled reference) is down
        return EXIT_UNREACHABLE
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        _error("no test matched the selection")
        return EXIT_USAGE
    _error(f"the harness itself failed (pytest exit status {int(code)}); the output above says where")
    return EXIT_HARNESS_ERROR


def coverage() -> dict[str, list[str]]:
    """Requirement id -> the tests that name it, read from the suites without running them."""
    import importlib
    import inspect
    import pkgutil

    from oauth_conformance import specs

    found: dict[str, list[str]] = {}
    for module_info in pkgutil.walk_packages(specs.__path__, "oauth_conformance.specs."):
        if not module_info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            candidates = [(name, obj)]
            if inspect.isclass(obj) and name.startswith("Test"):
                candidates = [(f"{name}.{n}", o) for n, o in vars(obj).items() if n.startswith("test_")]
            for test_name, fn in candidates:
                if not test_name.split(".")[-1].startswith("test_") or not callable(fn):
                    continue
                for mark in getattr(fn, "pytestmark", []):
                    if mark.name == "requirement":
                        for rid in mark.args:
                            found.setdefault(rid, []).append(f"{module_info.name.split('.', 2)[2]}::{test_name}")
    return found


def catalogue(args: argparse.Namespace) -> int:
    import orjson

    from oauth_conformance.catalogue import select
    from oauth_conformance.versions import UnknownVersion
    from oauth_conformance.versions import chosen as chosen_versions
    from oauth_conformance.versions import parse_pins

    try:
        pins = chosen_versions(parse_pins(args.spec_version))
    except UnknownVersion as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.versions:
        return catalogue_versions(args, pins)
    if args.changes:
        return catalogue_changes(args)
    chosen = select(args.spec or None, args.level or None, versions=pins)
    covered = coverage()
    rows = [
        {
            "id": r.id,
            "spec": r.spec,
            "spec_version": r.edition.document,
            "section": r.where,
            "level": r.level.value,
            "tests": len(covered.get(r.id, [])),
            "untestable": r.untestable,
            "applies_if": r.applies_if.value if r.applies_if else None,
            "summary": r.summary,
            "link": r.link,
            "quote": r.quote,
            "quote_source": r.quote_source,
            "quote_link": r.quote_link,
            "test_names": covered.get(r.id, []),
        }
        for r in chosen
    ]
    if args.uncovered:
        rows = [row for row in rows if not row["tests"]]
    if args.format == "json":
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    if args.format == "markdown":
        print("| Requirement | Level | Tests | Summary | Binding words |\n|---|---|---:|---|---|")
        for row in rows:
            note = f" (untestable: {row['untestable']})" if row["untestable"] else ""
            words = f'"{row["quote"]}" ([{row["quote_source"]}]({row["quote_link"]}))' if row["quote"] else ""
            words = words.replace("|", "\\|")
            print(
                f"| [`{row['id']}`]({row['link']}) | {row['level']} | {row['tests']} | {row['summary']}{note}"
                f" | {words} |"
            )
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    tested = sorted({str(row["spec_version"]) for row in rows if str(row["spec_version"]).startswith("draft-")})
    table = Table(title=f"{len(rows)} requirements ({', '.join(tested) or 'RFCs'})", show_lines=False)
    for column in ("Requirement", "Level", "Tests", "Summary", "Binding words"):
        table.add_column(column, justify="right" if column == "Tests" else "left", overflow="fold")
    for row in rows:
        tests = str(row["tests"]) if row["tests"] or not row["untestable"] else "untestable"
        style = "red" if not row["tests"] and not row["untestable"] and row["level"] == "MUST" else None
        words = f'"{row["quote"]}" ({row["quote_source"]})' if row["quote"] else ""
        table.add_row(str(row["id"]), str(row["level"]), tests, str(row["summary"]), words, style=style)
    Console().print(table)
    uncovered = [r for r in rows if not r["tests"] and not r["untestable"]]
    print(
        f"{sum(1 for r in rows if r['tests'])} covered, {sum(1 for r in rows if r['untestable'])} untestable,"
        f" {len(uncovered)} not yet covered"
    )
    return EXIT_OK


def catalogue_versions(args: argparse.Namespace, pins: dict[str, str]) -> int:
    """``catalogue --versions``: every text, its versions (newest last) and how many rows each has."""
    import orjson

    from oauth_conformance.catalogue import registry
    from oauth_conformance.texts import SPECS

    wanted = {s.upper() for s in args.spec} or set(SPECS)
    out: list[dict[str, Any]] = []
    for token, spec in SPECS.items():
        if token not in wanted:
            continue
        rows = [r for r in registry().values() if r.spec == token]
        versions = [
            {
                "version": v.name,
                "document": v.document,
                "published": v.published,
                "note": v.note,
                "rows": sum(1 for r in rows if r.exists_in(v.name)),
                "default": v == spec.newest,
                "selected": v.name == pins[token],
            }
            for v in spec.versions
        ]
        out.append({"spec": token, "title": spec.title, "versions": versions})
    if args.format == "json":
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    for entry in out:
        print(f"{entry['spec']}: {entry['title']}")
        for v in entry["versions"]:
            marks = " (default)" if v["default"] else ""
            marks += " (selected)" if v["selected"] and not v["default"] else ""
            when = f", {v['published']}" if v["published"] else ""
            note = f"; {v['note']}" if v["note"] else ""
            name = v["document"] if v["document"] != v["version"] else ""
            print(f"  {v['version']:>18}  {name}{when}: {v['rows']} rows{marks}{note}".replace("  :", ":"))
    return EXIT_OK


def catalogue_changes(args: argparse.Namespace) -> int:
    """``catalogue --changes OAUTH21=13..16``: what a move from one version to another changes."""
    import orjson

    from oauth_conformance.texts import SPECS
    from oauth_conformance.versions import UnknownVersion
    from oauth_conformance.versions import changes

    token, _, span = str(args.changes).partition("=")
    old, _, new = span.partition("..")
    token = token.upper()
    if token not in SPECS or not old:
        _error("--changes wants TOKEN=OLD..NEW, e.g. OAUTH21=13..16 (NEW defaults to the newest)")
        return EXIT_USAGE
    try:
        found = changes(token, old, new or SPECS[token].newest.name)
    except UnknownVersion as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.format == "json":
        rows = [{"id": c.id, "kinds": list(c.kinds), "change": c.describe()} for c in found]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    for change in found:
        print(change.describe())
    print(f"{len(found)} rows differ")
    return EXIT_OK


def compare(args: argparse.Namespace) -> int:
    from oauth_conformance.report.compare import ReportFileError
    from oauth_conformance.report.compare import load_report
    from oauth_conformance.report.compare import matrix
    from oauth_conformance.report.compare import write_matrix

    try:
        reports = [(path, load_report(path)) for path in args.reports]
    except ReportFileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    m = matrix(reports)
    write_matrix(m, Path(args.out))
    print(f"{len(m.rows)} requirements × {len(m.targets)} targets, {len(m.differing)} differ")
    print(f"wrote {args.out}/compare.{{md,html,json}}")
    return EXIT_OK


def diff(args: argparse.Namespace) -> int:
    from oauth_conformance.report.compare import ReportFileError
    from oauth_conformance.report.compare import diff as compute
    from oauth_conformance.report.compare import format_diff
    from oauth_conformance.report.compare import load_report

    try:
        result = compute(load_report(args.old), load_report(args.new))
    except ReportFileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    print(format_diff(result))
    return EXIT_FAILED if result.worse else EXIT_OK


def trust(args: argparse.Namespace) -> int:
    from oauth_conformance.profile import Profile
    from oauth_conformance.profile import ProfileError
    from oauth_conformance.profile import load_profile
    from oauth_conformance.trust.kit import kit
    from oauth_conformance.trust.kit import render

    try:
        profile = load_profile(args.profile) if args.profile else Profile()
    except ProfileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.format == "json":
        import orjson

        sys.stdout.write(orjson.dumps(kit(profile), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render(profile))
    return EXIT_OK


def profile_init(args: argparse.Namespace) -> int:
    from oauth_conformance.profile import STARTER

    path = Path(args.path)
    if path.exists() and not args.force:
        _error(f"{path} exists (use --force to overwrite)")
        return EXIT_USAGE
    path.write_text(STARTER, encoding="utf-8")
    print(f"wrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
