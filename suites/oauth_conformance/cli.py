"""``oauth-conformance``: run the suites against a target, inspect the catalogue, compare runs.

Exit status of ``run`` (contract C2): 0 no unexpected MUST failure; 1 at least one (or a stale
baseline entry); 2 usage or profile error; 3 target unreachable or not an OAuth server.
``fuzz`` (robust/command.py) exits 0 when nothing is found and 1 with findings, else the same.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
_PACKAGE = Path(__file__).resolve().parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oauth-conformance", description="Conformance suites for OAuth 2.1 authorization servers."
    )
    parser.add_argument("--version", action="version", version=f"oauth-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="test a target (no target: the bundled reference)")
    run.add_argument("target", nargs="?", help="the authorization server's URL (issuer or any URL under it)")
    run.add_argument("--profile", help="target profile (TOML); see 'oauth-conformance profile init'")
    run.add_argument("--report-dir", help="where to write the reports (default reports/<target>/<UTC time>/)")
    run.add_argument("--spec", action="append", default=[], metavar="TOKEN", help="only this spec (repeatable)")
    run.add_argument("--baseline", help="expected failures (TOML); a failure not in it fails the run")
    run.add_argument("--update-baseline", action="store_true", help="write the current failures to --baseline")
    run.add_argument("--fail-on", choices=["must", "should"], default="must", help="what fails the run")
    run.add_argument("-n", "--workers", default="0", help="parallel workers (pytest-xdist): a number or auto")
    run.add_argument("-k", dest="keyword", help="only tests matching this pytest -k expression")
    run.add_argument("-q", "--quiet", action="store_true", help="less output")

    cat = sub.add_parser("catalogue", help="list the requirements and how many tests cover each")
    cat.add_argument("--spec", action="append", default=[], metavar="TOKEN")
    cat.add_argument("--level", action="append", default=[], choices=["MUST", "SHOULD", "MAY"])
    cat.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    cat.add_argument("--uncovered", action="store_true", help="only requirements no test covers")

    comp = sub.add_parser("compare", help="a matrix of requirements by targets from several report.json")
    comp.add_argument("reports", nargs="+", metavar="REPORT.json")
    comp.add_argument("--out", required=True, help="directory for compare.md, compare.html, compare.json")

    dif = sub.add_parser("diff", help="regressions, fixes and new requirements between two runs")
    dif.add_argument("old", metavar="OLD.json")
    dif.add_argument("new", metavar="NEW.json")

    from .robust.command import add_parser as add_fuzz_parser

    add_fuzz_parser(sub)  # oauth-conformance fuzz TARGET (robust/command.py)

    fix = sub.add_parser("fixtures", help="print what a target must trust for the ID-JAG and CIMD suites")
    fix.add_argument("--profile", help="target profile (for the fixture host's port or public URL)")
    fix.add_argument("--format", choices=["text", "json"], default="text")

    prof = sub.add_parser("profile", help="target profiles")
    prof_sub = prof.add_subparsers(dest="profile_command", required=True)
    init = prof_sub.add_parser("init", help="write a commented starter profile")
    init.add_argument("path", nargs="?", default="oauth-profile.toml")
    init.add_argument("--force", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
    if args.command == "fixtures":
        return fixtures(args)
    if args.command == "fuzz":
        from .robust.command import main as fuzz_main

        return fuzz_main(args)
    return EXIT_USAGE


def _error(message: str) -> None:
    print(f"oauth-conformance: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import pytest

    from . import http
    from .profile import Profile
    from .profile import ProfileError
    from .profile import load_profile
    from .report.gate import BaselineError
    from .report.gate import load_baseline
    from .target import TargetUnavailable
    from .target import discover

    try:
        profile = load_profile(args.profile) if args.profile else Profile()
        if args.baseline and Path(args.baseline).exists():
            load_baseline(args.baseline)
    except (ProfileError, BaselineError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.update_baseline and not args.baseline:
        _error("--update-baseline needs --baseline FILE")
        return EXIT_USAGE
    url = args.target or profile.target.url
    name = profile.target.name or "oauth-reference (embedded)"
    if url is not None:
        # Discover once here, so an unreachable target ends with one line and exit 3.
        transport = None
        discover_url = url
        if url.startswith("asgi:"):
            from .inprocess import BASE_URL
            from .inprocess import transport_for

            transport, discover_url = transport_for(url), BASE_URL
        try:
            with http.client(transport=transport) as client:
                target = discover(discover_url, profile, client, spec=url)
        except TargetUnavailable as exc:
            _error(str(exc))
            return EXIT_UNREACHABLE
        print(f"target {target.url}: issuer {target.issuer}, metadata at {target.metadata_url}")
        name = profile.target.name or target.issuer or url
    pytest_args = ["-c", str(_PACKAGE / "run.ini"), "--rootdir", str(_PACKAGE), "--pyargs", "oauth_conformance.specs"]
    pytest_args += ["--oauth-fail-on", args.fail_on, "-p", "no:cacheprovider"]
    if url is not None:
        pytest_args += ["--oauth-target", url]
    if args.profile:
        pytest_args += ["--oauth-profile", str(Path(args.profile).resolve())]
    if args.report_dir:
        pytest_args += ["--oauth-report-dir", str(Path(args.report_dir).resolve())]
    else:
        from .plugin import _slug

        pytest_args += ["--oauth-report-dir", str(_default_dir(_slug(name)))]
    for spec in args.spec:
        pytest_args += ["--oauth-spec", spec]
    if args.baseline:
        pytest_args += ["--oauth-baseline", str(Path(args.baseline).resolve())]
    if args.update_baseline:
        pytest_args += ["--oauth-update-baseline"]
    pytest_args += ["-n", args.workers] if args.workers not in ("0", "1") else ["-p", "no:xdist"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    pytest_args += ["-q", "-rN"] if args.quiet else ["-rN"]
    code = pytest.main([*pytest_args, *args.pytest_args])
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return int(code)
    if code == 3:  # the harness's own exit for an unreachable target (a started reference that failed)
        return EXIT_UNREACHABLE
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        _error("no test matched the selection")
    return EXIT_USAGE


def _default_dir(slug: str) -> Path:
    from datetime import UTC
    from datetime import datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = Path("reports") / slug / stamp
    directory.mkdir(parents=True, exist_ok=True)
    latest = directory.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(directory.name)
    except OSError:
        (directory.parent / "LATEST").write_text(directory.name + "\n", encoding="utf-8")
    return directory.resolve()


def coverage() -> dict[str, list[str]]:
    """Requirement id -> the tests that name it, read from the suites without running them."""
    import importlib
    import inspect
    import pkgutil

    from . import specs

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

    from .catalogue import select

    chosen = select(args.spec or None, args.level or None)
    covered = coverage()
    rows = [
        {
            "id": r.id,
            "spec": r.spec,
            "section": r.section,
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

    table = Table(title=f"{len(rows)} requirements", show_lines=False)
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


def compare(args: argparse.Namespace) -> int:
    from .report.compare import ReportFileError
    from .report.compare import load_report
    from .report.compare import matrix
    from .report.compare import write_matrix

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
    from .report.compare import ReportFileError
    from .report.compare import diff as compute
    from .report.compare import format_diff
    from .report.compare import load_report

    try:
        result = compute(load_report(args.old), load_report(args.new))
    except ReportFileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    print(format_diff(result))
    return EXIT_FAILED if result.regressions else EXIT_OK


def fixtures(args: argparse.Namespace) -> int:
    from .profile import Profile
    from .profile import ProfileError
    from .profile import load_profile
    from .trustkit import kit
    from .trustkit import render

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
    from .profile import STARTER

    path = Path(args.path)
    if path.exists() and not args.force:
        _error(f"{path} exists (use --force to overwrite)")
        return EXIT_USAGE
    path.write_text(STARTER, encoding="utf-8")
    print(f"wrote {path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
