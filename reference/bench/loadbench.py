"""``nox -s load``: throughput and latency per backend, then an audit of each shared store.

Three deployments run side by side in one run: memory (one process; its store cannot be
shared), SQLite (two processes on one file) and Redis (two processes on one server). For each
scenario the backends take turns, and the whole sequence runs ``--rounds`` times with the order
rotated, so that noise from the machine spreads over all of them; the tables give medians, and
the ratios between backends are taken within each round before their median.
Everything is on loopback and bounded: each run by ``--duration`` seconds.

After the runs, the SQLite and Redis stores are audited against the ledgers of every run (see
:mod:`.audit`): every issued grant accounted for, no live token of a revoked grant, no orphan
key without an expiry. The load generator's own ceiling is measured against a trivial server.

    python -m reference.bench.loadbench [--out reports/bench] [--duration 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage.opener import open_store
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from reference.bench import audit
from reference.bench import redis_server
from reference.bench.deploy import deployed
from reference.bench.deploy import machine
from reference.bench.deploy import merge_ledgers
from reference.bench.deploy import run_load
from reference.bench.deploy import write_json

BACKENDS = {"memory": "memory (1 process)", "sqlite": "SQLite (2 processes)", "redis": "Redis (2 processes)"}
SCENARIOS = ("mixed", "flow", "refresh", "api", "revoke")


async def audit_backend(store_url: str, ledger: dict[str, Any]) -> dict[str, Any]:
    storage = open_store(store_url, SystemClock())
    try:
        report = await audit.audit_store(storage, ledger)
        document = report.as_json()
        document["markdown"] = audit.markdown(report)
        if isinstance(storage, SQLiteStorage):
            document["integrity_check"] = storage.integrity_check()
        return document
    finally:
        await storage.close()


def null_ceiling(concurrency: int, duration: float) -> dict[str, Any]:
    """The generator against a server that does nothing: the most it can measure here."""
    from reference.bench.load import null_server

    with null_server() as url:
        result, _ = run_load(url, [], "null", concurrency=concurrency, duration=duration)
    return result


def median_of(runs: Sequence[dict[str, Any]], base: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds for one backend and scenario; ``base`` is memory's runs, and the
    ratio is taken within each round (the runs of a round are seconds apart) before the median."""
    return {
        "requests_per_s": round(statistics.median(r["requests_per_s"] for r in runs), 1),
        "ratio_to_memory": round(
            statistics.median(
                r["requests_per_s"] / max(b["requests_per_s"], 1e-9) for r, b in zip(runs, base, strict=True)
            ),
            2,
        ),
        "p50_ms": round(statistics.median(r["latency_ms"]["p50"] for r in runs), 1),
        "p99_ms": round(statistics.median(r["latency_ms"]["p99"] for r in runs), 1),
        "generator_cpu_cores": round(statistics.median(r.get("generator_cpu_cores", 0.0) for r in runs), 2),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": len(runs),
    }


def run(out: Path, *, duration: float, rounds: int, concurrency: int, scenarios: Sequence[str]) -> dict[str, Any]:
    started = time.time()
    document: dict[str, Any] = {"machine": machine(), "concurrency": concurrency, "duration_s": duration}
    ceilings: list[dict[str, Any]] = []
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {b: {s: [] for s in scenarios} for b in BACKENDS}
    ledgers: dict[str, list[dict[str, Any]]] = {b: [] for b in BACKENDS}
    with (
        redis_server.running() as redis,
        tempfile.TemporaryDirectory(prefix="oauth-load-sqlite-") as tmp,
    ):
        stores = {"memory": "memory", "sqlite": f"sqlite:{Path(tmp) / 'store.sqlite3'}", "redis": redis.url}
        processes = {"memory": 1, "sqlite": 2, "redis": 2}
        with (
            deployed(stores["memory"], processes["memory"]) as memory,
            deployed(stores["sqlite"], processes["sqlite"]) as sqlite,
            deployed(stores["redis"], processes["redis"]) as redis_deployment,
        ):
            deployments = {"memory": memory, "sqlite": sqlite, "redis": redis_deployment}
            order = list(BACKENDS)
            for round_ in range(rounds):
                # The generator's ceiling, once a round: the machine's load changes as the session goes.
                ceilings.append(null_ceiling(concurrency, duration))
                print(
                    f"load: round {round_ + 1} generator ceiling {ceilings[-1]['requests_per_s']:.0f} req/s", flush=True
                )
                for scenario in scenarios:
                    for backend in order:
                        d = deployments[backend]
                        result, ledger = run_load(d.target, d.via, scenario, concurrency=concurrency, duration=duration)
                        raw[backend][scenario].append(result)
                        ledgers[backend].append(ledger)
                        print(
                            f"load: round {round_ + 1} {scenario:8} {backend:7} {result['requests_per_s']:7.0f} req/s"
                            f"  p50 {result['latency_ms']['p50']:6.1f} ms  p99 {result['latency_ms']['p99']:6.1f} ms"
                            f"  errors {result['errors']}",
                            flush=True,
                        )
                    order = order[1:] + order[:1]  # rotate who goes first
        audits = {b: asyncio.run(audit_backend(stores[b], merge_ledgers(ledgers[b]))) for b in ("sqlite", "redis")}
    document["null_ceilings"] = ceilings
    document["null_ceiling"] = {
        "requests_per_s": round(statistics.median(c["requests_per_s"] for c in ceilings), 1),
        "max_requests_per_s": max(c["requests_per_s"] for c in ceilings),
        "p50_ms": round(statistics.median(c["latency_ms"]["p50"] for c in ceilings), 1),
        "p99_ms": round(statistics.median(c["latency_ms"]["p99"] for c in ceilings), 1),
        "generator_cpu_cores": round(statistics.median(c.get("generator_cpu_cores", 0.0) for c in ceilings), 2),
    }
    document["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document["results"] = {
        b: {s: median_of(runs, raw["memory"][s]) for s, runs in per.items()} for b, per in raw.items()
    }
    document["runs"] = raw
    document["audits"] = audits
    document["elapsed_s"] = round(time.time() - started, 1)
    write_json(out / "load.json", document)
    (out / "load.md").write_text(markdown(document, scenarios))
    return document


def markdown(doc: dict[str, Any], scenarios: Sequence[str]) -> str:
    m, ceiling = doc["machine"], doc["null_ceiling"]
    rounds = next(iter(next(iter(doc["results"].values())).values()))["rounds"]
    lines = [
        "# Load: throughput and latency per backend",
        "",
        "Generated by `nox -s load` (`python -m reference.bench.loadbench`). Loopback only; "
        f"{doc['concurrency']} concurrent clients per run, {doc['duration_s']:g} s per run; the three "
        f"deployments run side by side in one session, taking turns per scenario, in {rounds} rounds with the "
        "order rotated. Figures are medians over the rounds; the ratios are taken within each round (its "
        "three runs are seconds apart) and then their median. Memory is one process (its store cannot be "
        "shared); SQLite and Redis are two processes on one store, each request sent to either process "
        "(round robin) behind one origin.",
        "",
        f"Machine: {m['cpus']} CPUs shared by the generator, the server processes and Redis, and by other "
        f"jobs (load average {m['load_average_at_start'][0]} at the start, {doc['load_average_at_end'][0]} at the "
        f"end); Python {m['python']}; redis-server {m['redis_server']}. Absolute figures are for this machine "
        "and moment only; compare the ratios.",
        "",
        "Generator ceiling (`--scenario null` against a trivial server, same concurrency, once per round): "
        f"median **{ceiling['requests_per_s']:.0f} requests/s**, best {ceiling['max_requests_per_s']:.0f} "
        f"(p50 {ceiling['p50_ms']:.1f} ms, p99 {ceiling['p99_ms']:.1f} ms, {ceiling['generator_cpu_cores']:.2f} "
        "cores). On two CPUs the generator and the servers share the machine: where a backend comes near the "
        "ceiling, the generator's own CPU is part of the limit (the `gen. cores` column is its CPU use during "
        "each run, memory / SQLite / Redis).",
        "",
        "| scenario | memory (1 process) | SQLite (2 processes) | Redis (2 processes) "
        "| throughput memory : SQLite : Redis | gen. cores |",
        "|---|---|---|---|---|---|",
    ]
    results = doc["results"]
    for scenario in scenarios:
        cells = []
        for backend in BACKENDS:
            r = results[backend][scenario]
            errors = f", {r['errors']} errors" if r["errors"] else ""
            cells.append(f"{r['requests_per_s']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms{errors}")
        ratio = " : ".join(f"{results[b][scenario]['ratio_to_memory']:.2f}" for b in BACKENDS)
        cores = " / ".join(f"{results[b][scenario]['generator_cpu_cores']:.2f}" for b in BACKENDS)
        lines.append(f"| {scenario} | {' | '.join(cells)} | {ratio} | {cores} |")
    lines += [
        "",
        "Scenarios: `mixed` = clients looping over flows, refreshes, API calls, revocations of access and "
        "refresh tokens and metadata reads; `flow` = authorize (PKCE S256, auto-approved) plus code exchange, "
        "counted per request; `refresh` = rotation with the newest refresh token of each family; `api` = a "
        "bearer-checked API call; `revoke` = RFC 7009 revocation of access tokens minted before timing.",
        "",
        "## Audit of the shared stores after every run",
        "",
    ]
    for backend in ("sqlite", "redis"):
        report = doc["audits"][backend]
        lines.append(f"### {BACKENDS[backend]}")
        lines.append("")
        lines += report["markdown"]
        if "integrity_check" in report:
            lines.append(f"- PRAGMA integrity_check: {report['integrity_check']}")
        lines.append("")
    lines.append(f"Session time: {doc['elapsed_s']:.0f} s.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.loadbench")
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run (at most 60)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all scenarios (at most 5)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these (repeat)")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 60 or not 1 <= args.rounds <= 5 or not 1 <= args.concurrency <= 256:
        parser.error("duration must be in (0, 60], rounds in [1, 5], concurrency in [1, 256]")
    document = run(
        args.out,
        duration=args.duration,
        rounds=args.rounds,
        concurrency=args.concurrency,
        scenarios=tuple(args.scenario or SCENARIOS),
    )
    failed = [b for b, a in document["audits"].items() if not a["ok"] or a.get("integrity_check", "ok") != "ok"]
    print(f"load: wrote {args.out / 'load.md'}; audits {'FAILED for ' + ', '.join(failed) if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
