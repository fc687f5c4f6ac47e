"""``nox -s bench``: the served reference against the real libraries, side by side in one run.

Servers: the reference (``oauth-reference serve --auto-approve --no-access-log``) on its
in-memory store, on its default embedded SQLite store and on Redis (Debian's ``redis-server``,
started on a free loopback port for the run, pinned and paused with the reference, its CPU and
RSS counted with it); ``@cloudflare/workers-oauth-provider``
1.2.3 in workerd (target ``cloudflare``); panva's oidc-provider (target ``oidc-provider``); each
with its default local store. One load generator (:mod:`reference.bench.rawload`, raw HTTP/1.1
on uvloop) drives the same work at each: metadata GETs, API checks, refreshes with rotation and
whole authorize-plus-token flows, at several concurrencies. For every row the servers take turns
(the order rotated from row to row), so ratios are measured seconds apart; while one server is
measured the others are paused (SIGSTOP, then SIGCONT), so their background work is not charged
to it.

With two or more CPUs, the generator runs on core 0 and every server process and thread on
core 1 (``sched_setaffinity``, as ``taskset`` would). The generator's ceiling is measured against
a trivial server on the same layout. Every server binds 127.0.0.1 and is stopped by its PID;
every window is bounded.

With ``--rounds N`` each row is measured N times (the servers take turns each round, the order
rotated again), and each server's round with the median rate is the one reported.

    python -m reference.bench.servedbench [--out reports/bench] [--duration 5] [--warmup 1.5] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from types import ModuleType
from typing import Any

from oauth_reference.serving.process import start as start_reference
from reference.bench import chart as benchchart
from reference.bench import proctree
from reference.bench import rawload
from reference.bench import redis_server
from reference.bench import served_report as benchreport

ROOT = Path(__file__).resolve().parents[2]  # the repository root
TARGETS_DIR = ROOT / "fixtures" / "targets"
WORKLOADS = ("metadata", "api", "refresh", "flow")
CLOUDFLARE_VERSION = "1.2.3"
GENERATOR_CPU, SERVER_CPU = 0, 1


@dataclass
class Server:
    """One running server: where it answers, how to stop it, which processes to watch."""

    key: str
    label: str
    url: str
    stop: Callable[[], object]
    pid: int
    scope: str | None
    processes: dict[str, int] = field(default_factory=dict)  # label -> pid, for the RSS columns
    clients: list[rawload.RawVirtualClient] = field(default_factory=list)
    companions: dict[str, int] = field(default_factory=dict)  # the server's own store process (Redis)

    def watch(self) -> None:
        """Name the processes whose peak RSS is reported (workerd is miniflare's child)."""
        self.processes = {"server": self.pid}
        for pid in proctree.descendants(self.pid):
            if proctree.command_name(pid) == "workerd":
                self.processes = {"workerd": pid, "node (miniflare)": self.pid}
        self.processes.update(self.companions)


def targets_launcher() -> ModuleType:
    """fixtures/targets/launch.py, loaded as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("oauth_targets_launch", TARGETS_DIR / "launch.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {TARGETS_DIR / 'launch.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _start_servers(
    stack: contextlib.ExitStack, keys: Sequence[str], tmp: Path, cpu: int | None, reference_path: Path | None
) -> list[Server]:
    """Start each server (pinned to ``cpu``); ``stack`` stops them by PID. ``reference_path``
    serves the reference from another source folder (a before/after comparison)."""
    launch = targets_launcher()
    env = {"PYTHONPATH": str(reference_path)} if reference_path else None
    servers: list[Server] = []
    reference_args = ["--auto-approve", "--no-access-log"]
    labels = {"reference-memory": "reference (memory)", "reference-sqlite": "reference (SQLite)"}
    labels["reference-redis"] = "reference (Redis)"
    for key in keys:
        companions: dict[str, int] = {}
        with proctree.pinned(cpu):
            if key in labels:
                store = "memory" if key == "reference-memory" else f"sqlite:{tmp / 'store.sqlite3'}"
                if key == "reference-redis":
                    redis = redis_server.start()
                    stack.callback(redis.stop)
                    assert redis.pid is not None
                    companions["redis-server"] = redis.pid
                    store = redis.url
                served = start_reference(["--store", store, *reference_args], env=env)
                server = Server(key, labels[key], served.url, served.stop, served.pid, "documents.read")
            else:
                version = CLOUDFLARE_VERSION if key == "cloudflare" else None
                url, process = launch.start(key, version=version, env={}, timeout=300)
                label = f"cloudflare {CLOUDFLARE_VERSION} (workerd)" if key == "cloudflare" else "oidc-provider 9"
                scope = "document.read" if key == "cloudflare" else "api:read"
                server = Server(key, label, url, functools.partial(launch.stop, process), process.pid, scope)
        server.companions = companions
        stack.callback(server.stop)
        servers.append(server)
        if cpu is not None:
            proctree.pin_tree(server.pid, {cpu})  # helpers a target started later, if any
        server.watch()
    return servers


def _median_result(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median rate (the lower of the two middle ones for an even count), with
    every round's rate beside it."""
    ordered = sorted(results, key=lambda r: r["units_per_s"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rounds_units_per_s"] = [round(r["units_per_s"], 1) for r in results]
    return chosen


async def _run_rows(
    servers: list[Server],
    concurrencies: Sequence[int],
    workloads: Sequence[str],
    duration: float,
    warmup: float,
    rounds: int = 1,
) -> list[dict[str, Any]]:
    for server in servers:
        server.clients = await rawload.prepare(server.url, max(concurrencies), scope=server.scope)
    rows: list[dict[str, Any]] = []
    turn = 0
    for workload in workloads:
        for concurrency in concurrencies:
            row: dict[str, Any] = {"workload": workload, "concurrency": concurrency, "results": {}}
            measured: dict[str, list[dict[str, Any]]] = {server.key: [] for server in servers}
            for _ in range(rounds):  # the servers take turns, the order rotated every round
                order = servers[turn % len(servers) :] + servers[: turn % len(servers)]
                turn += 1
                for server in order:
                    cpu = proctree.CpuMeter(list(server.processes.values()))
                    others = [pid for s in servers if s is not server for pid in s.processes.values()]
                    with proctree.paused(others):
                        result = await rawload.measure(
                            server.clients[:concurrency], workload, duration=duration, warmup=warmup, on_window=cpu.mark
                        )
                    result["server_cpu_cores"] = cpu.cores()
                    result["peak_rss_mib"] = {k: proctree.peak_rss_mib(p) for k, p in server.processes.items()}
                    measured[server.key].append(result)
                    print(
                        f"bench: {workload:8} x{concurrency:<3} {server.label:28} {result['units_per_s']:9.1f}/s"
                        f"  p50 {result['latency_ms']['p50']:7.2f} ms  p99 {result['latency_ms']['p99']:7.2f} ms"
                        f"  errors {result['errors']}  gen {result['generator_cpu_cores']:.2f}"
                        f"  server {result['server_cpu_cores']:.2f} cores",
                        flush=True,
                    )
            row["results"] = {key: _median_result(results) for key, results in measured.items()}
            row["ratios"] = benchreport.ratios(row["results"])
            rows.append(row)
    for server in servers:
        for client in server.clients:
            await client.close()
    return rows


async def _ceiling(url: str, concurrencies: Sequence[int], duration: float, warmup: float) -> list[dict[str, Any]]:
    endpoints = rawload.Endpoints(url.rstrip("/"), "/", "/", "/", None)
    results = []
    for concurrency in concurrencies:
        clients = [rawload.RawVirtualClient(endpoints) for _ in range(concurrency)]
        results.append(await rawload.measure(clients, "null", duration=duration, warmup=warmup))
        for client in clients:
            await client.close()
        print(f"bench: generator ceiling x{concurrency:<3} {results[-1]['units_per_s']:9.0f} requests/s", flush=True)
    return results


def machine() -> dict[str, Any]:
    versions = {}
    for name in ("uvicorn", "httptools", "uvloop", "starlette", "orjson"):
        with contextlib.suppress(Exception):
            versions[name] = importlib.metadata.version(name)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "platform": platform.platform(),
        "packages": versions,
    }


def run(
    out: Path,
    *,
    duration: float,
    warmup: float,
    concurrencies: Sequence[int],
    workloads: Sequence[str],
    keys: Sequence[str],
    pin: bool,
    reference_path: Path | None = None,
    rounds: int = 1,
) -> dict[str, Any]:
    began = time.monotonic()
    pin = pin and len(os.sched_getaffinity(0)) >= 2
    server_cpu = SERVER_CPU if pin else None
    if pin:
        os.sched_setaffinity(0, {GENERATOR_CPU})
    document: dict[str, Any] = {
        "schema_version": 1,
        "tool": "reference.bench.servedbench",
        "machine": machine(),
        "layout": {"generator_cpu": GENERATOR_CPU, "server_cpu": SERVER_CPU} if pin else "unpinned",
        "duration_s": duration,
        "warmup_s": warmup,
        "rounds": rounds,
        "reference_path": str(reference_path) if reference_path else None,
    }
    from reference.bench.load import null_server

    with contextlib.ExitStack() as stack:
        with proctree.pinned(server_cpu):
            null_url = stack.enter_context(null_server())
        document["generator_ceiling"] = rawload.run_fast(_ceiling(null_url, concurrencies, duration, warmup))
    with tempfile.TemporaryDirectory(prefix="oauth-servedbench-") as tmp, contextlib.ExitStack() as stack:
        servers = _start_servers(stack, keys, Path(tmp), server_cpu, reference_path)
        document["servers"] = {s.key: {"label": s.label, "url": s.url, "processes": s.processes} for s in servers}
        document["rows"] = rawload.run_fast(_run_rows(servers, concurrencies, workloads, duration, warmup, rounds))
        document["peak_rss_mib"] = {
            s.key: {k: proctree.peak_rss_mib(p) for k, p in s.processes.items()} for s in servers
        }
    document["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    times = ROOT / "reports" / "targets" / "times.json"
    if times.exists():
        document["harness_wall_times"] = json.loads(times.read_text())
    document["elapsed_s"] = round(time.monotonic() - began, 1)
    document["targets"] = benchreport.verdicts(document)
    out.mkdir(parents=True, exist_ok=True)
    (out / "served.json").write_text(json.dumps(document, indent=2) + "\n")
    (out / "served.svg").write_text(benchchart.svg_chart(document))
    (out / "served.md").write_text(benchreport.markdown(document))
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference.bench.servedbench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    parser.add_argument("--duration", type=float, default=5.0, help="timed seconds per measurement (at most 60)")
    parser.add_argument("--warmup", type=float, default=1.5, help="untimed seconds before each (at most 10)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="turns per row (at most 9); each server's median round is reported"
    )
    parser.add_argument("--concurrency", type=int, action="append", help="virtual clients (repeat; 1, 16, 64)")
    parser.add_argument("--workload", action="append", choices=WORKLOADS, help="only these (repeat)")
    parser.add_argument("--server", action="append", choices=benchreport.SERVERS, help="only these (repeat)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the generator and servers to cores")
    parser.add_argument("--reference-path", type=Path, help="serve the reference from this source folder instead")
    args = parser.parse_args(argv)
    concurrencies = tuple(args.concurrency or (1, 16, 64))
    if not 0 < args.duration <= 60 or not 0 <= args.warmup <= 10 or not all(1 <= c <= 256 for c in concurrencies):
        parser.error("duration must be in (0, 60], warm-up in [0, 10], concurrency in [1, 256]")
    if not 1 <= args.rounds <= 9:
        parser.error("rounds must be in [1, 9]")
    document = run(
        args.out,
        duration=args.duration,
        warmup=args.warmup,
        concurrencies=concurrencies,
        workloads=tuple(args.workload or WORKLOADS),
        keys=tuple(args.server or benchreport.SERVERS),
        pin=not args.no_pin,
        reference_path=args.reference_path.resolve() if args.reference_path else None,
        rounds=args.rounds,
    )
    met = document["targets"]
    print(f"bench: wrote {args.out / 'served.md'} in {document['elapsed_s']:.0f} s; targets: {met['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
