"""``python -m reference.bench.harnesstargets``: how long ``oauth-conformance run`` takes against
real targets (fixtures/targets/), the base revision's harness beside this one.

Each run gets a freshly started target (fixtures/targets/launch.py, the environment
fixtures/targets/matrix.py gives it) and its profile from fixtures/profiles/ (each harness its own
tree's), and is stopped by PID after it; only the ``oauth-conformance run`` command is timed. The
harnesses take turns, serially and with ``-n auto``. Every report's verdicts must equal the first
run's for the same target (:mod:`reference.bench.verdicts`). Writes ``OUT/harness-targets.json``
and ``OUT/harness-targets.md``.

    python -m reference.bench.harnesstargets [--out reports/bench] [--base aa33d88] [--repeat 2]
        [--only cloudflare-1.2.3 --only oidc-provider]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from reference.bench import verdicts
from reference.bench.harnessbench import ROOT
from reference.bench.harnessbench import Harness
from reference.bench.harnessbench import Timing
from reference.bench.harnessbench import export
from reference.bench.harnessbench import machine_facts
from reference.bench.harnessbench import one_run
from reference.bench.servedbench import targets_launcher

DEFAULT_TARGETS = ("cloudflare-1.2.3", "oidc-provider")
MODES = ("serial", "auto")


def matrix_entries() -> dict[str, Any]:
    """fixtures/targets/matrix.py's entries (name -> how to start it), loaded by path."""
    path = ROOT / "fixtures" / "targets" / "matrix.py"
    spec = importlib.util.spec_from_file_location("oauth_targets_matrix", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return {e.name: e for e in module.ENTRIES}


def bench(base: str, names: Sequence[str], repeat: int, workdir: Path) -> tuple[list[Timing], list[str]]:
    tree = export(base, workdir)
    launch = targets_launcher()
    entries = matrix_entries()
    harnesses = [
        (Harness("before", base, (tree / "suites", tree / "reference"), ()), tree),
        (Harness("after", "this branch", (), ()), ROOT),
    ]
    timings: dict[tuple[str, str, str], Timing] = {}
    for name in names:
        entry = entries[name]
        for round_ in range(repeat):
            for mode in MODES:
                order = harnesses if round_ % 2 == 0 else harnesses[::-1]
                for harness, source in order:
                    key = (name, harness.key, mode)
                    timing = timings.setdefault(key, Timing(f"{name}/{harness.key}", mode, [], workdir / "/".join(key)))
                    report = timing.report / f"round-{round_}"
                    url, proc = launch.start(entry.target, version=entry.version, env=entry.env, args=entry.args)
                    try:
                        profile = source / "fixtures" / "profiles" / f"{name}.toml"
                        workers = ["-n", "auto"] if mode == "auto" else []
                        load = os.getloadavg()[0]
                        serial = Harness(harness.key, harness.label, harness.pythonpath, tuple(workers))
                        seconds, cpu, summary = one_run(
                            serial, "serial", report, target=[url, "--profile", str(profile)], ok=(0, 1, 5)
                        )
                    finally:
                        launch.stop(proc)
                    timing.seconds.append(seconds)
                    timing.cpu.append(cpu)
                    timing.load.append(load)
                    timing.summary = summary
                    print(
                        f"{name:>18} {harness.key:>6} {mode:>6} round {round_}: {seconds:6.1f}s wall {cpu:6.1f}s CPU"
                        f" (load {load:.1f})  {summary}",
                        flush=True,
                    )
    problems: list[str] = []
    for name in names:
        first = timings[(name, "before", "serial")].report / "round-0" / "report.json"
        for (target, _, _), timing in timings.items():
            if target != name:
                continue
            for round_ in range(repeat):
                path = timing.report / f"round-{round_}" / "report.json"
                for line in verdicts.differences(verdicts.load(first), verdicts.load(path)):
                    problems.append(f"{timing.harness} {timing.mode} round {round_}: {line}")
    return list(timings.values()), problems


def write(out: Path, base: str, timings: list[Timing], problems: list[str]) -> None:
    by = {(t.harness, t.mode): t for t in timings}
    names = sorted({t.harness.split("/")[0] for t in timings}, key=lambda n: n)
    rows: list[dict[str, Any]] = []
    for name in names:
        for mode in MODES:
            before, after = by[(f"{name}/before", mode)], by[(f"{name}/after", mode)]
            rows.append(
                {
                    "target": name,
                    "mode": mode,
                    "before_s": round(before.median, 2),
                    "after_s": round(after.median, 2),
                    "before_over_after": round(before.median / after.median, 2),
                    "before_cpu_s": round(before.median_cpu, 2),
                    "after_cpu_s": round(after.median_cpu, 2),
                    "runs": {
                        "before": [round(s, 2) for s in before.seconds],
                        "after": [round(s, 2) for s in after.seconds],
                    },
                    "cpu": {"before": [round(s, 2) for s in before.cpu], "after": [round(s, 2) for s in after.cpu]},
                    "load": {"before": [round(s, 2) for s in before.load], "after": [round(s, 2) for s in after.load]},
                }
            )
    document: dict[str, Any] = {
        "what": "oauth-conformance run against real targets: wall seconds, before and after",
        "base": base,
        **machine_facts(),
        "rows": rows,
        "same_verdicts": not problems,
        "verdict_differences": problems,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "harness-targets.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Harness speed against real targets",
        "",
        f"Wall seconds of `oauth-conformance run TARGET --profile fixtures/profiles/TARGET.toml` (median of"
        f" {len(timings[0].seconds)} run(s) each, a freshly started target each run, its start not timed),"
        f" measured in one sitting on {os.cpu_count()} CPUs, the harnesses taking turns. `before` is `{base}`,"
        " `after` this branch. CPU: user and system seconds of the command and its children (not the target's);"
        " load: the one-minute load average as each run started.",
        "",
        "| target | mode | before | after | before / after | CPU before | CPU after | load |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        workers = "serial" if row["mode"] == "serial" else "`-n auto`"
        loads = row["load"]["before"] + row["load"]["after"]
        lines.append(
            f"| {row['target']} | {workers} | {row['before_s']:.1f} s | {row['after_s']:.1f} s"
            f" | {row['before_over_after']:.2f}x | {row['before_cpu_s']:.1f} s | {row['after_cpu_s']:.1f} s"
            f" | {min(loads):.1f} to {max(loads):.1f} |"
        )
    lines += [
        "",
        "Verdicts: "
        + (
            "every requirement's and every test's verdict is the same in every run of a target."
            if not problems
            else f"{len(problems)} difference(s), listed in harness-targets.json."
        ),
        "",
        "Regenerate: `python -m reference.bench.harnesstargets --out reports/bench`.",
        "",
    ]
    (out / "harness-targets.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.harnesstargets", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    parser.add_argument("--base", default="aa33d88", help="the revision whose harness is 'before'")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each harness and mode")
    parser.add_argument("--only", action="append", default=[], help="only these targets (repeatable)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="harnesstargets-"))
    try:
        timings, problems = bench(args.base, args.only or DEFAULT_TARGETS, args.repeat, workdir)
        write(args.out, args.base, timings, problems)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for line in problems:
        print(line)
    print(f"wrote {args.out / 'harness-targets.md'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
