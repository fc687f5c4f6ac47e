"""``oauth-conformance fuzz [TARGET]``: fuzz a target's OAuth endpoints (default: the bundled
reference, in-process) and write a report.

The report has the shape of ``run``'s (contract C3: one row per ``ROBUST-FUZZ-*`` requirement, the
findings' exchanges as evidence), plus a ``fuzz`` member with the run's statistics and every
finding, and ``openapi.json``, the description the fuzzing was derived from.

Exit status: 0 nothing found; 1 findings (``--fail-on must``: only findings on a MUST);
2 usage or profile error; 3 target unreachable or not an OAuth server.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from oauth_conformance.embedded import BUNDLED_IN_PROCESS
from oauth_conformance.redaction import scrub_text
from oauth_conformance.report import directory as report_directory

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def add_parser(sub: Any) -> None:
    """The ``fuzz`` subcommand's arguments (``sub`` is the CLI's subparsers object)."""
    fuzz = sub.add_parser("fuzz", help="fuzz a target's OAuth endpoints (schemathesis, OAuth-aware checks)")
    fuzz.add_argument(
        "target",
        nargs="?",
        default=BUNDLED_IN_PROCESS,
        help="the authorization server's URL, or asgi:module:factory (default: the bundled reference, in-process)",
    )
    fuzz.add_argument("--profile", help="target profile (TOML); [robust] sets the defaults below")
    fuzz.add_argument("--time-budget", type=float, metavar="S", help="seconds for the whole fuzzing run")
    fuzz.add_argument("--max-examples", type=int, metavar="N", help="generated requests per operation and mode")
    fuzz.add_argument("--report-dir", help="where to write the reports (default reports/<target>/fuzz/<UTC time>/)")
    fuzz.add_argument(
        "--fail-on", choices=["any", "must"], default="any", help="exit 1 on any finding (default) or MUST ones only"
    )


def main(args: argparse.Namespace) -> int:
    from oauth_conformance import http
    from oauth_conformance.profile import Profile
    from oauth_conformance.profile import ProfileError
    from oauth_conformance.profile import load_profile
    from oauth_conformance.target import TargetUnavailable
    from oauth_conformance.target import discover

    if (args.time_budget is not None and args.time_budget <= 0) or (
        args.max_examples is not None and args.max_examples < 1
    ):
        _error("--time-budget and --max-examples must be positive")
        return EXIT_USAGE
    try:
        profile = load_profile(args.profile) if args.profile else Profile()
    except ProfileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    # The fuzzing command is the long run: the thorough budgets, except where the profile set its own.
    profile = replace(profile, robust=profile.robust.made_thorough())
    url: str = args.target
    transport = None
    discover_url = url
    if url.startswith("asgi:"):
        from oauth_conformance.inprocess import BASE_URL
        from oauth_conformance.inprocess import transport_for

        try:
            transport, discover_url = transport_for(url), BASE_URL
        except Exception as exc:
            _error(f"cannot build the in-process target {url}: {exc}")
            return EXIT_UNREACHABLE
    try:
        with http.client(transport=transport) as client:
            target = discover(discover_url, profile, client, spec=url)
    except TargetUnavailable as exc:
        _error(str(exc))
        return EXIT_UNREACHABLE
    print(f"target {target.url}: issuer {target.issuer}, metadata at {target.metadata_url}", flush=True)
    started, t0 = _now(), time.monotonic()
    try:
        result = _fuzz(target, args)
    finally:
        if url.startswith("asgi:"):
            from oauth_conformance.inprocess import shutdown_all

            shutdown_all()
    name = profile.target.name or target.issuer or url
    directory = Path(args.report_dir) if args.report_dir else report_directory.default_directory(name, kind="fuzz")
    status = write_reports(result, target, directory, started=started, duration=time.monotonic() - t0, args=args)
    if not args.report_dir:
        report_directory.publish(directory)
    print(result.summary())
    for note in result.notes:
        print(scrub_text(f"  note: {note}"))
    for finding in result.findings:
        print(scrub_text(f"  {finding.requirement} {finding.endpoint}: {finding.message} (x{finding.count})"))
    print(f"reports: {directory}/report.{{json,xml,md,html}} and openapi.json")
    print(f"verdict: {'FINDINGS' if status else 'nothing found'} (exit {status})")
    return status


def _fuzz(target: Any, args: argparse.Namespace) -> Any:
    from oauth_conformance import http
    from oauth_conformance.drivers import make_driver
    from oauth_conformance.robust.fuzz import fuzz
    from oauth_conformance.support.clients import Clients
    from oauth_conformance.support.flows import OAuth

    allowed = {_origin(target.url), _origin(target.issuer or target.url)}
    endpoint = target.endpoint("authorization_endpoint")
    if endpoint:
        allowed.add(_origin(endpoint))
    transport = target.transport()
    driver = make_driver(target.profile, allowed, {}, transport)
    timeout = target.profile.robust.request_timeout
    with http.client(transport=transport) as setup, http.client(transport=transport, timeout=timeout) as client:
        return fuzz(
            target,
            client,
            Clients(target, setup, "fuzz"),
            OAuth(target, setup, driver),
            budget=args.time_budget,
            max_examples=args.max_examples,
        )


def write_reports(
    result: Any, target: Any, directory: Path, *, started: str, duration: float, args: argparse.Namespace
) -> int:
    """Write report.json/.xml/.md/.html and openapi.json; return the exit status."""
    from oauth_conformance.catalogue import lookup
    from oauth_conformance.redaction import deep_scrub
    from oauth_conformance.report import gate
    from oauth_conformance.report.html import write_html
    from oauth_conformance.report.model import build
    from oauth_conformance.report.scrubbed import scrubbed
    from oauth_conformance.report.writers import write_junit
    from oauth_conformance.report.writers import write_markdown
    from oauth_conformance.robust.fuzz import fuzz_findings
    from oauth_conformance.robust.oracles import REQUIREMENTS
    from oauth_conformance.verdicts import TestResult
    from oauth_conformance.verdicts import Verdict

    tests = []
    for rid in REQUIREMENTS:
        found = result.for_requirement(rid)
        reason = "; ".join(f"{f.endpoint}: {f.message} (x{f.count})" for f in found[:4])
        tests.append(
            TestResult(
                nodeid=f"fuzz::{rid}",
                name=f"fuzz {rid}",
                requirements=[rid],
                verdict=Verdict.FAIL if found else Verdict.PASS,
                reason=reason or f"nothing found in {result.requests} requests",
                duration=result.elapsed,
                evidence=[e for f in found for e in f.examples],
                findings=fuzz_findings(f"fuzz::{rid}", rid, found),
                notes=[f"fuzzing: {result.summary()}", *(f"fuzzing: {n}" for n in result.notes)],
            )
        )
    report = build(
        tests,
        [lookup(rid) for rid in REQUIREMENTS],
        target=target.as_dict(),
        started=started,
        finished=_now(),
        duration=duration,
    )
    # run's gate: "any" is its fail-on-should (a finding on a SHOULD is a warn), "must" its default
    result_of_gate = gate.evaluate(report, None, "must" if args.fail_on == "must" else "should")
    report = scrubbed(gate.gated(report, result_of_gate))
    status = result_of_gate.status
    directory.mkdir(parents=True, exist_ok=True)
    data = report.as_dict()
    data["fuzz"] = deep_scrub(
        {
            **result.stats(),
            "command": "oauth-conformance fuzz",
            "findings": [f.as_dict() for f in result.findings],
            "openapi": "openapi.json",
        }
    )
    (directory / "report.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    (directory / "openapi.json").write_bytes(orjson.dumps(result.document, option=orjson.OPT_INDENT_2) + b"\n")
    write_junit(report, directory / "report.xml")
    write_markdown(report, directory / "report.md")
    with (directory / "report.md").open("a", encoding="utf-8") as md:
        md.write(scrub_text(markdown_appendix(result)))
    write_html(report, directory / "report.html")
    return status


def markdown_appendix(result: Any) -> str:
    lines = ["", "## Fuzzing", "", f"{result.summary()}.", ""]
    lines += ["| Endpoint | Requests |", "|---|---:|"]
    lines += [f"| `{label}` | {count} |" for label, count in sorted(result.per_endpoint.items())]
    lines += ["", "Statuses: " + ", ".join(f"{k} {v}" for k, v in result.statuses.items()), ""]
    lines += [f"- note: {note}" for note in result.notes]
    if result.findings:
        lines += ["", "| Requirement | Endpoint | Count | First finding |", "|---|---|---:|---|"]
        for f in result.findings:
            message = f.message.replace("|", "\\|")
            lines.append(f"| `{f.requirement}` | `{f.endpoint}` | {f.count} | {message} |")
    else:
        lines.append("No findings.")
    return "\n".join(lines) + "\n"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(message: str) -> None:
    import sys

    print(f"oauth-conformance: {message}", file=sys.stderr)
