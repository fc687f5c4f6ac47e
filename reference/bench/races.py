"""``nox -s races``: how often the harness's race checks catch a real race, and how often they
raise a false alarm.

The four race tests of the harness (two single-use races of a code, two of a refresh token; see
``oauth_conformance.support.races``) run ``--runs`` times (default 20) against each target, each
run a fresh ``pytest`` of exactly those tests, as ``oauth-conformance run`` would run them:

- ``cloudflare``: the real ``@cloudflare/workers-oauth-provider`` 1.2.3 in workerd, which redeems
  a code by reading it and then deleting it in Workers KV (no atomic take): a real race;
- ``twin``: the reference on SQLite reached through a worker thread, without conditional
  commits (twin ``race-store-without-conditional-writes``): a natural read-then-write, no sleep;
- ``reference``: the reference as ``oauth-conformance run`` serves it (SQLite): no race;
- ``oidc-provider``: panva's oidc-provider 9: no race known.

A failed test on a target with a race is a catch; on a target without one, a false alarm. For
comparison, the method the harness used before (the same number of redemptions from a thread pool,
each over a connection it opens itself, one round) runs as often against the code race, from
this process. Every server binds 127.0.0.1 and is stopped by its PID.

    python -m reference.bench.races [--out reports/bench] [--runs 20] [--targets cloudflare,twin,...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from oauth_conformance import http as http_module
from oauth_conformance.drivers import make_driver
from oauth_conformance.embedded import embedded_profile
from oauth_conformance.profile import parse_profile
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import discover
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start as start_reference
from oauth_reference.serving.process import wait_for_url
from reference.bench.deploy import machine
from reference.bench.deploy import write_json
from reference.bench.servedbench import targets_launcher

ROOT = Path(__file__).resolve().parents[2]  # the repository root
TWIN_SERVE = ROOT / "suites" / "tests" / "twins" / "serve.py"
TWIN = "race-store-without-conditional-writes"
CLOUDFLARE_VERSION = "1.2.3"
RUN_TIMEOUT = 300.0

# The race tests, by the requirement each verifies.
TESTS = {
    "OAUTH21-4.1.3-CODE-ONCE": "test_simultaneous_redemptions_of_one_code_yield_tokens_once",
    "ROBUST-HOSTILE-CONCURRENT-CODE": "test_simultaneous_redemptions_of_one_code_give_at_most_one_token",
    "OAUTH21-4.3.1-RT-SUPERSEDED": "test_simultaneous_refreshes_leave_at_most_one_live_successor",
    "ROBUST-HOSTILE-CONCURRENT-REFRESH": "test_simultaneous_refreshes_of_one_refresh_token_leave_one_live_successor",
}
CODE_TESTS = ("OAUTH21-4.1.3-CODE-ONCE", "ROBUST-HOSTILE-CONCURRENT-CODE")
REFRESH_TESTS = ("OAUTH21-4.3.1-RT-SUPERSEDED", "ROBUST-HOSTILE-CONCURRENT-REFRESH")
ROUND = re.compile(r"round (\d+) of \d+ \(\d+ racers, (fresh|warm) connections\)")


@dataclass(frozen=True)
class Subject:
    """A target of the benchmark and which of the race tests it must fail (its real races)."""

    key: str
    label: str
    races: tuple[str, ...]  # requirement ids whose race test must fail; the others must pass
    note: str


SUBJECTS = {
    s.key: s
    for s in (
        Subject(
            "cloudflare",
            f"@cloudflare/workers-oauth-provider {CLOUDFLARE_VERSION} (workerd)",
            CODE_TESTS,
            "redeems a code by a read, then a delete, in Workers KV; its documented refresh grace keeps"
            " the previous refresh token usable (declared in its profile), so the refresh races are clean",
        ),
        Subject(
            "twin",
            f"reference twin {TWIN} (SQLite)",
            (*CODE_TESTS, *REFRESH_TESTS),
            "SQLite through a worker thread, commits unconditional: a read-then-write, no sleep added",
        ),
        Subject("reference", "reference (SQLite, every feature on)", (), "one conditional commit per redemption"),
        Subject("oidc-provider", "oidc-provider 9.13.3", (), "no race known"),
    )
}


# --------------------------------------------------------------------------------- the targets
@dataclass
class Running:
    url: str
    profile: str  # TOML
    stop: Callable[[], object]


def _no_fixture_host(profile: str) -> str:
    """The race tests fetch nothing: the run starts no fixture host (a fixed port may be taken)."""
    kept = re.sub(r"(?ms)^\[fixture_host\].*?(?=^\[|\Z)", "", profile)
    return kept.rstrip() + "\n\n[fixture_host]\nenabled = false\n"


@contextlib.contextmanager
def running(key: str, tmp: Path) -> Iterator[Running]:
    """Start target ``key`` on a free loopback port; stop it by its PID afterwards."""
    if key in ("cloudflare", "oidc-provider"):
        launch = targets_launcher()
        version = CLOUDFLARE_VERSION if key == "cloudflare" else None
        url, process = launch.start(key, version=version, env={}, timeout=300)
        name = f"cloudflare-{CLOUDFLARE_VERSION}" if key == "cloudflare" else key
        profile = (ROOT / "fixtures" / "profiles" / f"{name}.toml").read_text(encoding="utf-8")
        try:
            yield Running(url, _no_fixture_host(profile), lambda: launch.stop(process))
        finally:
            launch.stop(process)
        return
    served: Served
    if key == "twin":
        command = [sys.executable, str(TWIN_SERVE), TWIN]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        served = wait_for_url(proc, 30.0)
    else:
        served = start_reference(["--store", f"sqlite:{tmp / 'store.sqlite3'}", "--test-mode"])
    try:
        yield Running(served.url, _no_fixture_host(embedded_profile(served.url, fixture_host=False)), served.stop)
    finally:
        served.stop()


# ------------------------------------------------------------------------ the harness's checks
def run_checks(url: str, profile: Path, report_dir: Path) -> dict[str, dict[str, Any]]:
    """One pytest run of the four race tests; each test's verdict, reason and duration by requirement."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:xdist",
        "-p",
        "no:cacheprovider",
        "-q",
        "--oauth-target",
        url,
        "--oauth-profile",
        str(profile),
        "--oauth-report-dir",
        str(report_dir),
        "--pyargs",
        "oauth_conformance.specs.oauth21.test_code_grant",
        "oauth_conformance.specs.oauth21.test_refresh_grant",
        "oauth_conformance.specs.robust.test_hostile",
        "-k",
        " or ".join(TESTS.values()),
    ]
    subprocess.run(command, cwd=tempfile.gettempdir(), capture_output=True, timeout=RUN_TIMEOUT, check=False)
    report = json.loads((report_dir / "report.json").read_text())
    by_name = {t["name"]: t for t in report.get("tests", [])}
    out: dict[str, dict[str, Any]] = {}
    for rid, name in TESTS.items():
        test = by_name.get(name, {"verdict": "missing", "reason": "the test did not run", "duration": 0.0})
        found = ROUND.search(test.get("reason", ""))
        out[rid] = {
            "verdict": test["verdict"],
            "duration": test.get("duration", 0.0),
            "reason": test.get("reason", "")[:300],
            "round": int(found.group(1)) if found else None,
            "connections": found.group(2) if found else None,
        }
    return out


# ------------------------------------------------------------------- the method used before
def pool_method(url: str, profile_text: str, count: int) -> str:
    """One round of ``count`` redemptions of one code from a thread pool, each on its own new
    connection, no barrier (the harness's method before): ``caught``, ``clean`` or ``error``."""
    profile = parse_profile(tomllib.loads(profile_text))
    with http_module.client() as http:
        try:
            target = discover(url, profile, http)
            driver = make_driver(target.profile, {url.rstrip("/")}, {}, None)
            oauth = OAuth(target, http, driver)
            authorization = oauth.code(Clients(target, http, "race-bench").public())
        except Exception:  # a failed set-up is counted, not raised
            return "error"

        def redeem(_: int) -> httpx.Response:
            with http_module.client() as own:  # a connection of its own, as each worker had
                return own.send(oauth.build_exchange(authorization))

        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(redeem, range(count)))
    winners = [a for a in answers if a.status_code == 200 and "access_token" in a.text]
    return "caught" if len(winners) > 1 else "clean" if winners else "error"


# ------------------------------------------------------------------------------------ the run
def bench(keys: list[str], runs: int, out: Path) -> dict[str, Any]:
    started = time.time()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="race-bench-") as workdir:
        tmp = Path(workdir)
        for key in keys:
            subject = SUBJECTS[key]
            print(f"{subject.label}: {runs} runs", file=sys.stderr)
            with running(key, tmp / key) as target:
                profile = tmp / f"{key}.toml"
                profile.write_text(target.profile, encoding="utf-8")
                per_run = []
                for n in range(runs):
                    per_run.append(run_checks(target.url, profile, tmp / f"{key}-{n}"))
                before = [pool_method(target.url, target.profile, 8) for _ in range(runs)] if key != "reference" else []
            results[key] = summarise(subject, per_run, before)
    document = {
        "generated_by": "nox -s races (python -m reference.bench.races)",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "runs": runs,
        "racers_per_round": 8,
        "machine": machine(),
        "subjects": results,
    }
    write_json(out / "races.json", document)
    (out / "races.md").write_text(markdown(document), encoding="utf-8")
    return document


def summarise(subject: Subject, per_run: list[dict[str, dict[str, Any]]], before: list[str]) -> dict[str, Any]:
    tests: dict[str, Any] = {}
    for rid in TESTS:
        rows = [run[rid] for run in per_run]
        verdicts = [r["verdict"] for r in rows]
        durations = [float(r["duration"]) for r in rows]
        expected = "fail" if rid in subject.races else "pass"
        rounds = [r["round"] for r in rows if r["round"] is not None]
        tests[rid] = {
            "race": rid in subject.races,
            "as_expected": sum(v == expected for v in verdicts),
            "verdicts": {v: verdicts.count(v) for v in sorted(set(verdicts))},
            "caught_in_round": {str(k): rounds.count(k) for k in sorted(set(rounds))},
            "seconds_mean": round(sum(durations) / len(durations), 3) if durations else None,
            "seconds_max": round(max(durations), 3) if durations else None,
            "unexpected_reasons": sorted({r["reason"] for r in rows if r["verdict"] != expected})[:5],
        }
    return {
        "label": subject.label,
        "note": subject.note,
        "tests": tests,
        "before_pool_method": {v: before.count(v) for v in sorted(set(before))} if before else None,
    }


def markdown(document: dict[str, Any]) -> str:
    runs = document["runs"]
    m = document["machine"]
    lines = [
        "# Race checks: caught races and false alarms",
        "",
        f"Generated by `nox -s races` (`python -m reference.bench.races`), {document['started']}, in"
        f" {document['seconds']} s. Each target ran the harness's four race tests {runs} times (a fresh"
        " pytest run each time, 8 racers per round, up to 4 rounds of fresh and warm connections, released"
        f" together). Machine: {m['cpus']} CPUs, load average {m['load_average_at_start']} at the start"
        f" (other work shared the machine), Python {m['python']}.",
        "",
        "A race test that fails on a target with that race is a catch; one that fails on a target without"
        " it is a false alarm.",
        "",
        "| target | requirement | race? | as expected | verdicts | caught in round | mean s | max s |",
        "|---|---|---|---:|---|---|---:|---:|",
    ]
    for subject in document["subjects"].values():
        for rid, test in subject["tests"].items():
            verdicts = ", ".join(f"{k} {v}" for k, v in test["verdicts"].items())
            caught = ", ".join(f"{k}: {v}" for k, v in test["caught_in_round"].items()) or "-"
            lines.append(
                f"| {subject['label']} | {rid} | {'yes' if test['race'] else 'no'} |"
                f" {test['as_expected']} of {runs} | {verdicts} | {caught} | {test['seconds_mean']} |"
                f" {test['seconds_max']} |"
            )
    lines += ["", "## The method used before", ""]
    lines.append(
        "One round of 8 redemptions of one code from a thread pool, each over its own new connection, no"
        f" barrier ({runs} runs per target): how often more than one got tokens."
    )
    lines.append("")
    for subject in document["subjects"].values():
        if subject["before_pool_method"] is not None:
            shown = ", ".join(f"{k} {v}" for k, v in subject["before_pool_method"].items())
            lines.append(f"- {subject['label']}: {shown}")
    lines += ["", "## Targets", ""]
    for subject in document["subjects"].values():
        lines.append(f"- {subject['label']}: {subject['note']}.")
        for rid, test in subject["tests"].items():
            for reason in test["unexpected_reasons"]:
                lines.append(f"  - unexpected {rid}: {reason}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--targets", default=",".join(SUBJECTS), help="comma-separated: " + ", ".join(SUBJECTS))
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.targets.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SUBJECTS]
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)}")
    os.environ.setdefault("OAUTH_REFERENCE_QUIET", "1")
    document = bench(keys, args.runs, args.out)
    missed = [
        (key, rid)
        for key, subject in document["subjects"].items()
        for rid, test in subject["tests"].items()
        if test["as_expected"] < args.runs
    ]
    for key, rid in missed:
        print(f"{key} {rid}: {document['subjects'][key]['tests'][rid]['as_expected']} of {args.runs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
