"""``nox -s harness_speed``: how long ``oauth-conformance run`` takes against the bundled reference.

Three harnesses, each run serially and with ``-n auto``, taking turns in one sitting so their
ratios are measured minutes apart on the same machine:

- ``before``: the harness of a base revision (``aa33d88``, main before the harness-speed work, unless ``--base``
  says otherwise),
  exported with ``git archive`` into a temporary folder and run with the same interpreter, its
  packages first on ``PYTHONPATH``;
- ``thorough``: this harness with ``--thorough`` (the long fuzzing and hostile-request budgets);
- ``after``: this harness with its default budgets.

Every run writes its report.json; every requirement's and every test's verdict must be the same
in all of them (:mod:`reference.bench.verdicts`), or the bench says so and exits 1. The wall time
of each run is the whole command: interpreter start, the bundled reference's start and stop,
collection, the tests and the reports. The machine is shared, so each run also records the CPU
seconds of the command and its children (the served reference included), which another
process's load hardly changes, and the one-minute load average when it started. Writes
``OUT/harness.json`` and ``OUT/harness.md``.

    python -m reference.bench.harnessbench [--out reports/bench] [--base aa33d88] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from reference.bench import verdicts

ROOT = Path(__file__).resolve().parents[2]  # the repository root
TIMEOUT = 600.0  # seconds: one run that takes longer is a broken run, not a slow one


@dataclass(frozen=True)
class Harness:
    key: str
    label: str
    pythonpath: tuple[Path, ...]  # first on PYTHONPATH (empty: the installed harness)
    options: tuple[str, ...]


@dataclass
class Timing:
    harness: str
    mode: str  # serial | auto
    seconds: list[float]
    report: Path
    summary: str = ""
    cpu: list[float] = field(default_factory=list)  # user + system seconds, the command and its children
    load: list[float] = field(default_factory=list)  # one-minute load average as the run started

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def export(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (the base harness and reference) in ``into``, without a checkout."""
    archive = into / "base.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision], stdout=out, check=True)
    tree = into / "base"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    return tree


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_facts() -> dict[str, Any]:
    """What a reader needs to compare a report's figures with another machine's."""
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "environment": {"PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", "")},
    }


def one_run(
    harness: Harness, mode: str, report_dir: Path, target: Sequence[str] = (), ok: Sequence[int] = (0,)
) -> tuple[float, float, str]:
    """Run the harness once against the bundled reference (or ``target``: a URL and its options);
    its wall time, CPU time and last line. An exit status outside ``ok`` ends the bench."""
    env = dict(os.environ)
    if harness.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, harness.pythonpath), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    workers = ["-n", "auto"] if mode == "auto" else []
    command = [sys.executable, "-m", "oauth_conformance.cli", "run", *target, "-q", "--report-dir", str(report_dir)]
    command += [*workers, *harness.options]
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    elapsed = time.monotonic() - started
    cpu = _children_cpu() - cpu_before
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode not in ok:
        tail = done.stdout[-3000:] + done.stderr[-3000:]
        raise SystemExit(f"{harness.key} ({mode}) exited {done.returncode}:\n{tail}")
    return elapsed, cpu, lines[-1] if lines else ""


def bench(base: str, repeat: int, workdir: Path) -> tuple[list[Timing], list[str]]:
    tree = export(base, workdir)
    harnesses = [
        Harness("before", f"{base} (default budgets of the time)", (tree / "suites", tree / "reference"), ()),
        Harness("thorough", "this branch, --thorough", (), ("--thorough",)),
        Harness("after", "this branch, default budgets", (), ()),
    ]
    modes = ("serial", "auto")
    timings = {(h.key, m): Timing(h.key, m, [], workdir / f"{h.key}-{m}") for h in harnesses for m in modes}
    for round_ in range(repeat):
        for mode in modes:
            # Taking turns, the order rotated each round, so no harness always runs on a cold machine.
            shift = round_ % len(harnesses)
            for harness in harnesses[shift:] + harnesses[:shift]:
                timing = timings[(harness.key, mode)]
                report = timing.report / f"round-{round_}"
                load = os.getloadavg()[0]
                seconds, cpu, summary = one_run(harness, mode, report)
                timing.seconds.append(seconds)
                timing.cpu.append(cpu)
                timing.load.append(load)
                timing.summary = summary
                print(
                    f"{harness.key:>8} {mode:>6} round {round_}: {seconds:6.1f}s wall {cpu:6.1f}s CPU"
                    f" (load {load:.1f})  {summary}",
                    flush=True,
                )
    first = timings[("before", "serial")].report / "round-0" / "report.json"
    problems: list[str] = []
    for timing in timings.values():
        for round_ in range(repeat):
            path = timing.report / f"round-{round_}" / "report.json"
            for line in verdicts.differences(verdicts.load(first), verdicts.load(path)):
                problems.append(f"{timing.harness} {timing.mode} round {round_}: {line}")
    return list(timings.values()), problems


def write(out: Path, base: str, timings: list[Timing], problems: list[str], tests: dict[str, int]) -> None:
    by = {(t.harness, t.mode): t for t in timings}
    rows = []
    for mode in ("serial", "auto"):
        before, thorough, after = (by[(k, mode)].median for k in ("before", "thorough", "after"))
        rows.append(
            {
                "mode": mode,
                "before_s": round(before, 2),
                "thorough_s": round(thorough, 2),
                "after_s": round(after, 2),
                "before_over_after": round(before / after, 2),
                "thorough_over_after": round(thorough / after, 2),
                "before_cpu_s": round(by[("before", mode)].median_cpu, 2),
                "thorough_cpu_s": round(by[("thorough", mode)].median_cpu, 2),
                "after_cpu_s": round(by[("after", mode)].median_cpu, 2),
                "runs": {k: [round(s, 2) for s in by[(k, mode)].seconds] for k in ("before", "thorough", "after")},
                "cpu": {k: [round(s, 2) for s in by[(k, mode)].cpu] for k in ("before", "thorough", "after")},
                "load": {k: [round(s, 2) for s in by[(k, mode)].load] for k in ("before", "thorough", "after")},
            }
        )
    document: dict[str, Any] = {
        "what": "oauth-conformance run against the bundled reference: wall seconds, before and after",
        "base": base,
        **machine_facts(),
        "tests": tests,
        "rows": rows,
        "same_verdicts": not problems,
        "verdict_differences": problems,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "harness.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Harness speed: `oauth-conformance run` against the bundled reference",
        "",
        f"Wall seconds of the whole command (median of {len(timings[0].seconds)} run(s) each), measured in one"
        f" sitting on {os.cpu_count()} CPUs, the harnesses taking turns. `before` is `{base}`; `thorough` is this"
        " harness with `--thorough` (50 fuzzed examples per operation and mode, 0.25 s early-refusal wait);"
        " `after` is this harness with its default budgets (20 examples, 0.05 s plus four connection setups)."
        " CPU is the user and system seconds of the command and its children (the served reference, the"
        " workers); load is the one-minute load average as each run started (other work on the machine).",
        "",
        "| mode | before | thorough | after | before / after | thorough / after | CPU before | CPU after | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        workers = "serial" if row["mode"] == "serial" else "`-n auto`"
        loads = [x for t in timings if t.mode == row["mode"] for x in t.load]
        lines.append(
            f"| {workers} | {row['before_s']:.1f} s | {row['thorough_s']:.1f} s | {row['after_s']:.1f} s"
            f" | {row['before_over_after']:.2f}x | {row['thorough_over_after']:.2f}x"
            f" | {row['before_cpu_s']:.1f} s | {row['after_cpu_s']:.1f} s | {min(loads):.1f} to {max(loads):.1f} |"
        )
    lines += [
        "",
        f"Tests per run: {', '.join(f'{k} {v}' for k, v in tests.items())}.",
        "Verdicts: "
        + (
            "every requirement's and every test's verdict is the same in every run."
            if not problems
            else f"{len(problems)} difference(s), listed in harness.json."
        ),
        "",
        "Regenerate: `nox -s harness_speed` (or `python -m reference.bench.harnessbench --out reports/bench`).",
        "",
    ]
    (out / "harness.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.harnessbench", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--base", default="aa33d88", help="the revision whose harness is 'before'")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each harness and mode")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="harnessbench-"))
    try:
        timings, problems = bench(args.base, args.repeat, workdir)
        first = {t.harness: t for t in timings if t.mode == "serial"}
        tests = {k: len(verdicts.load(t.report / "round-0" / "report.json")["tests"]) for k, t in first.items()}
        write(args.out, args.base, timings, problems, tests)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for line in problems:
        print(line)
    print(f"wrote {args.out / 'harness.md'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
