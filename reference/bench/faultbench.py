"""``nox -s fault``: the store fails in the middle of load; the provider answers 503 and recovers.

Four experiments, each bounded in time, all on loopback:

1. Redis under load: two reference processes on one Redis (append-only file, fsync always) run
   the mixed load; Redis is frozen (SIGSTOP) for a few seconds, later killed (SIGKILL) and
   restarted. Every answer during the outage must be a 503 JSON ``temporarily_unavailable`` (no
   500, no request hanging past the bound), the provider must recover by itself, and the audit
   must find nothing lost, nothing extra, nothing half-written.
2. Redis crashes under big atomic commits: a writer commits batches of 2,000 keys (each commit
   also deletes an older batch by prefix) while Redis is killed and restarted; every batch is
   then all there or all gone, and no acknowledged batch is lost.
3. SQLite under load: two reference processes on one file; each is killed (SIGKILL) mid-load and
   restarted. ``PRAGMA integrity_check`` and the audit follow.
4. SQLite writer killed: the batch writer is killed with SIGKILL at random moments, mostly in
   the middle of a commit; the file stays consistent and every batch is all-or-nothing.

    python -m reference.bench.faultbench [--out reports/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage.opener import open_store
from oauth_reference.machinery.storage.redis import RedisStorage
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from reference.bench import audit
from reference.bench import redis_server
from reference.bench.deploy import deployed
from reference.bench.deploy import machine
from reference.bench.deploy import start_load
from reference.bench.deploy import write_json

BATCH = 2000
WRITER_NAMESPACE = "writer:"  # the batch writer's keys stay out of the provider's namespace
CONCURRENCY = 16
REQUEST_TIMEOUT = 10.0  # the load generator gives up on a request after this long: a hang


# --- the batch writer (a child process) -------------------------------------------------------


def _writer_store(url: str) -> Storage:
    if url.startswith("redis://"):
        return RedisStorage(url, SystemClock(), namespace=WRITER_NAMESPACE)
    return open_store(url, SystemClock())


def batch_writes(n: int) -> list[Put | DeletePrefix]:
    writes: list[Put | DeletePrefix] = [Put(f"batch:{n:06d}:{i:05d}", b"x" * 64) for i in range(BATCH)]
    writes.append(Put(f"batch:{n:06d}:done", b""))
    if n >= 2:
        writes.append(DeletePrefix(f"batch:{n - 2:06d}:"))
    return writes


def _logged(log: Path, kind: str) -> list[int]:
    """Batch numbers of the ``kind`` lines (``begin`` or ``ack``) of a writer's log."""
    if not log.exists():
        return []
    pairs = (line.split() for line in log.read_text().splitlines())
    return [int(p[1]) for p in pairs if len(p) == 2 and p[0] == kind and p[1].isdigit()]


async def write_batches(url: str, seconds: float, log: Path) -> None:
    """Commit batch after batch; log ``begin n`` before and ``ack n`` after each commit."""
    acked = _logged(log, "ack")
    n = (max(acked) + 1) if acked else 0  # a restarted writer goes on after the last acknowledged
    storage = _writer_store(url)
    deadline = time.monotonic() + seconds
    try:
        with log.open("a") as out:
            while time.monotonic() < deadline:
                out.write(f"begin {n}\n")
                out.flush()
                try:
                    await storage.commit(batch_writes(n))
                except StorageUnavailableError:
                    await asyncio.sleep(0.1)  # the store is down: try the same batch again
                    continue
                out.write(f"ack {n}\n")
                out.flush()
                n += 1
    finally:
        await storage.close()


def start_writer(url: str, seconds: float, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "reference.bench.faultbench", "writer", url, str(seconds), str(log)]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


async def check_batches(url: str, log: Path) -> dict[str, Any]:
    """Every batch is complete or absent; the newest acknowledged batch is there."""
    storage = _writer_store(url)
    try:
        counts: Counter[int] = Counter()
        cursor: str | None = None
        while True:
            page = await storage.list("batch:", limit=1000, cursor=cursor)
            for key in page.keys:
                counts[int(key.name.split(":")[1])] += 1
            if page.cursor is None:
                break
            cursor = page.cursor
    finally:
        await storage.close()
    acked, begun = _logged(log, "ack"), _logged(log, "begin")
    partial = {n: c for n, c in counts.items() if c != BATCH + 1}
    last = max(acked) if acked else None
    lost = last is not None and counts.get(last) != BATCH + 1
    return {
        "batches_acknowledged": len(acked),
        "commits_begun": len(begun),
        "batches_present": sorted(counts),
        "partial_batches": partial,
        "newest_acknowledged": last,
        "newest_acknowledged_lost": lost,
        "ok": not partial and not lost,
    }


# --- load with faults -------------------------------------------------------------------------


def _statuses(result: dict[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in result["statuses"].items()}


def _seconds(result: dict[str, Any], events: list[tuple[float, str]]) -> list[dict[str, Any]]:
    """The per-second timeline with the events that happened in each second."""
    rows = []
    marks: dict[int, list[str]] = {}
    for at, what in events:
        marks.setdefault(int(at), []).append(what)
    for row in result["timeline"]:
        statuses: dict[str, int] = row["statuses"]
        ok = sum(v for k, v in statuses.items() if k.startswith(("2", "3")))
        rows.append(
            {
                "second": row["second"],
                "ok": ok,
                "503": statuses.get("503", 0),
                "other": sum(statuses.values()) - ok - statuses.get("503", 0),
                "slowest_ms": row["slowest_ms"],
                "events": ", ".join(marks.get(row["second"], [])),
            }
        )
    return rows


def _verdicts(result: dict[str, Any], *, expect_503: bool) -> dict[str, Any]:
    statuses = _statuses(result)
    unavailable = {k: v for k, v in result["error_counts"].items() if "status 503" in k}
    not_json = {k: v for k, v in unavailable.items() if not k.endswith("temporarily_unavailable")}
    server_errors = {k: v for k, v in statuses.items() if k.startswith("5") and k != "503"}
    slowest = max((row["slowest_ms"] for row in result["timeline"]), default=0.0)
    return {
        "answers_503": statuses.get("503", 0),
        "all_503_are_json_temporarily_unavailable": not not_json,
        "other_5xx": server_errors,
        "timeouts": statuses.get("timeout", 0),
        "transport_errors": statuses.get("transport", 0),
        "slowest_request_ms": slowest,
        "ok": not server_errors
        and not not_json
        and statuses.get("timeout", 0) == 0
        and (statuses.get("503", 0) > 0 or not expect_503),
    }


def _recovery(rows: list[dict[str, Any]], after: float) -> dict[str, Any]:
    """Within how many seconds after ``after`` requests succeed again, and a whole second is clean.

    Seconds are the generator's whole seconds, so each figure is an upper bound.
    """
    later = [r for r in rows if r["second"] + 1 > after]
    first_ok = next((r["second"] for r in later if r["ok"]), None)
    clean = next(
        (r["second"] for r in later if r["second"] >= after and r["ok"] and not r["503"] and not r["other"]), None
    )
    return {
        "first_success_s_after": None if first_ok is None else round(max(0.0, first_ok + 1 - after), 1),
        "first_clean_second_s_after": None if clean is None else round(clean + 1 - after, 1),
    }


async def _audit(url: str, ledger: dict[str, Any]) -> dict[str, Any]:
    storage = open_store(url, SystemClock())
    try:
        report = await audit.audit_store(storage, ledger)
        document = report.as_json()
        document["markdown"] = audit.markdown(report)
        if isinstance(storage, SQLiteStorage):
            document["integrity_check"] = storage.integrity_check()
        return document
    finally:
        await storage.close()


def _run_with_faults(
    directory: Path, target: str, via: list[str], duration: float, plan: Sequence[tuple[float, str, Callable[[], None]]]
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[float, str]]]:
    """Run the mixed load for ``duration`` and carry out ``plan`` (second, label, action)."""
    load = start_load(
        directory, target, via, "mixed", concurrency=CONCURRENCY, duration=duration, timeout=REQUEST_TIMEOUT
    )
    events: list[tuple[float, str]] = []
    try:
        started = load.wait_started()
        for at, label, action in plan:
            delay = started + at - time.time()
            if delay > 0:
                time.sleep(delay)
            action()
            events.append((round(time.time() - started, 2), label))
        result, ledger = load.wait()
    finally:
        load.stop()
    # Align the events with the generator's own clock (its timing started a moment earlier).
    shift = started - result["started_at"]
    return result, ledger, [(round(at + shift, 2), label) for at, label in events]


def server_errors(log: Path) -> dict[str, Any]:
    """What the reference processes logged besides the expected 503 warnings."""
    text = log.read_text(errors="replace") if log.exists() else ""
    unexpected = text.count("unexpected error") + text.count("Exception in ASGI application")
    first = min((i for i in (text.find("unexpected error"), text.find("Traceback")) if i >= 0), default=-1)
    return {
        "store_unavailable_warnings": text.count("store unavailable"),
        "unexpected_errors": unexpected,
        "first_traceback": text[first : first + 3000] if first >= 0 else "",
    }


def redis_under_load(tmp: Path, duration: float) -> dict[str, Any]:
    log = tmp / "redis-servers.log"
    with redis_server.running(appendonly=True) as redis, deployed(redis.url, 2, log=log) as deployment:
        stall, crash = duration * 0.2, duration * 0.5
        plan = [
            (stall, "Redis frozen (SIGSTOP)", redis.pause),
            (stall + 4, "Redis resumed (SIGCONT)", redis.resume),
            (crash, "Redis killed (SIGKILL)", lambda: redis.kill(signal.SIGKILL)),
            (crash + 4, "Redis restarted from its append-only file", redis.launch),
        ]
        result, ledger, events = _run_with_faults(tmp / "redis", deployment.target, deployment.via, duration, plan)
        rows = _seconds(result, events)
        audit_report = asyncio.run(_audit(redis.url, ledger))
    return {
        "result": result,
        "events": events,
        "seconds": rows,
        "verdicts": _verdicts(result, expect_503=True),
        "recovery_after_stall": _recovery(rows, events[1][0]),
        "recovery_after_restart": _recovery(rows, events[3][0]),
        "audit": audit_report,
        "server_log": server_errors(log),
    }


def sqlite_under_load(tmp: Path, duration: float) -> dict[str, Any]:
    url = f"sqlite:{tmp / 'load.sqlite3'}"
    log = tmp / "sqlite-servers.log"
    with deployed(url, 2, log=log) as deployment:
        plan = [
            (duration * 0.2, "process 1 killed (SIGKILL)", lambda: deployment.kill(0)),
            (duration * 0.2 + 2, "process 1 restarted", lambda: deployment.restart(0)),
            (duration * 0.5, "process 2 killed (SIGKILL)", lambda: deployment.kill(1)),
            (duration * 0.5 + 2, "process 2 restarted", lambda: deployment.restart(1)),
        ]
        result, ledger, events = _run_with_faults(tmp / "sqlite", deployment.target, deployment.via, duration, plan)
    audit_report = asyncio.run(_audit(url, ledger))
    return {
        "result": result,
        "events": events,
        "seconds": _seconds(result, events),
        "verdicts": _verdicts(result, expect_503=False),
        "audit": audit_report,
        "server_log": server_errors(log),
    }


def redis_crash_under_commits(tmp: Path, seconds: float, crashes: int) -> dict[str, Any]:
    log = tmp / "redis-writer.log"
    with redis_server.running(appendonly=True) as redis:
        writer = start_writer(redis.url, seconds, log)
        try:
            rng = random.Random(7)
            for _ in range(crashes):
                time.sleep(rng.uniform(0.8, seconds / (crashes + 1)))
                redis.kill(signal.SIGKILL)
                time.sleep(0.3)
                redis.launch()
            writer.wait(seconds + 60)
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait(10)
        outcome = asyncio.run(check_batches(redis.url, log))
    outcome["redis_crashes"] = crashes
    return outcome


def sqlite_writer_killed(tmp: Path, kills: int) -> dict[str, Any]:
    log = tmp / "sqlite-writer.log"
    url = f"sqlite:{tmp / 'writer.sqlite3'}"
    rng = random.Random(11)
    mid_commit = 0
    for _ in range(kills):
        writer = start_writer(url, 30, log)
        try:
            time.sleep(rng.uniform(0.6, 1.6))
            writer.send_signal(signal.SIGKILL)
            writer.wait(10)
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait(10)
        words = log.read_text().split() if log.exists() else []
        if len(words) >= 2 and words[-2] == "begin":
            mid_commit += 1  # killed after "begin n" and before "ack n": inside the commit
    outcome = asyncio.run(check_batches(url, log))
    storage = SQLiteStorage(str(tmp / "writer.sqlite3"), SystemClock())
    try:
        outcome["integrity_check"] = storage.integrity_check()
    finally:
        asyncio.run(storage.close())
    outcome["kills"] = kills
    outcome["killed_inside_a_commit"] = mid_commit
    outcome["ok"] = outcome["ok"] and outcome["integrity_check"] == "ok"
    return outcome


def run(out: Path, *, duration: float) -> dict[str, Any]:
    started = time.time()
    document: dict[str, Any] = {"machine": machine(), "concurrency": CONCURRENCY, "request_timeout_s": REQUEST_TIMEOUT}
    with tempfile.TemporaryDirectory(prefix="oauth-fault-") as name:
        tmp = Path(name)
        print("fault: Redis frozen and killed under load", flush=True)
        document["redis_under_load"] = redis_under_load(tmp, duration)
        print("fault: Redis killed under big atomic commits", flush=True)
        document["redis_crash_under_commits"] = redis_crash_under_commits(tmp, 8.0, 3)
        print("fault: SQLite processes killed under load", flush=True)
        document["sqlite_under_load"] = sqlite_under_load(tmp, duration * 0.7)
        print("fault: SQLite writer killed mid-commit", flush=True)
        document["sqlite_writer_killed"] = sqlite_writer_killed(tmp, 6)
    document["elapsed_s"] = round(time.time() - started, 1)
    document["ok"] = all(
        [
            document["redis_under_load"]["verdicts"]["ok"],
            document["redis_under_load"]["audit"]["ok"],
            document["redis_crash_under_commits"]["ok"],
            document["sqlite_under_load"]["verdicts"]["ok"],
            document["sqlite_under_load"]["audit"]["ok"],
            document["sqlite_under_load"]["audit"].get("integrity_check") == "ok",
            document["sqlite_writer_killed"]["ok"],
        ]
    )
    write_json(out / "fault.json", document)
    (out / "fault.md").write_text(markdown(document))
    return document


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| second | answered | 503 | other errors | slowest (ms) | event |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['second']} | {r['ok']} | {r['503']} | {r['other']} | {r['slowest_ms']:.0f} | {r['events']} |"
        for r in rows
    ]
    return lines


def _traceback(log: dict[str, Any]) -> list[str]:
    if not log["first_traceback"]:
        return []
    return ["The first unexpected error the processes logged:", "", "```", log["first_traceback"].strip(), "```", ""]


def _yes(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    redis_load, redis_commits = doc["redis_under_load"], doc["redis_crash_under_commits"]
    sqlite_load, sqlite_writer = doc["sqlite_under_load"], doc["sqlite_writer_killed"]
    v = redis_load["verdicts"]
    stall, restart = redis_load["recovery_after_stall"], redis_load["recovery_after_restart"]
    lines = [
        "# Fault tests: the store fails in the middle of load",
        "",
        "Generated by `nox -s fault` (`python -m reference.bench.faultbench`); loopback only; "
        f"{doc['concurrency']} concurrent clients running the mixed scenario (flows, refreshes, API calls, "
        f"revocations); the generator gives up on a request after {doc['request_timeout_s']:.0f} s (a hang). "
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, redis-server {m['redis_server']}.",
        "",
        f"Overall: **{'every check passed' if doc['ok'] else 'SOME CHECKS FAILED'}**.",
        "",
        "## 1. Redis frozen, then killed and restarted, under load (two reference processes)",
        "",
        "Redis keeps an append-only file with `appendfsync always`, so a restart brings back every "
        "acknowledged write. The provider's Redis calls time out after 2 s (socket) and 4 s at most per call.",
        "",
        f"- requests: {redis_load['result']['requests']}, answered as expected: {redis_load['result']['ok']}",
        f"- answers 503 during the outages: {v['answers_503']}; every one JSON `temporarily_unavailable`: "
        f"{_yes(v['all_503_are_json_temporarily_unavailable'])}",
        f"- other 5xx (a 500 would be a traceback): {v['other_5xx'] or 'none'}; unexpected errors in the "
        f"processes' logs: {redis_load['server_log']['unexpected_errors']}",
        f"- requests that hung past {doc['request_timeout_s']:.0f} s: {v['timeouts']}; "
        f"slowest request: {v['slowest_request_ms']:.0f} ms",
        f"- recovery after the freeze: first success within {stall['first_success_s_after']} s of SIGCONT, "
        f"first error-free second within {stall['first_clean_second_s_after']} s",
        f"- recovery after the restart: first success within {restart['first_success_s_after']} s of Redis "
        f"answering PING again, first error-free second within {restart['first_clean_second_s_after']} s "
        "(the reference processes were not restarted)",
        "",
        "Audit of the Redis store afterwards (grants touched by a request that got a 503 or no answer are "
        "`uncertain`: their outcome is unknown to the client, so only their structure is checked):",
        "",
        *redis_load["audit"]["markdown"],
        "",
        *_table(redis_load["seconds"]),
        "",
        *_traceback(redis_load["server_log"]),
        "## 2. Redis killed while committing batches of 2,000 keys",
        "",
        f"Redis was killed (SIGKILL) {redis_commits['redis_crashes']} times and restarted while a writer "
        f"committed {redis_commits['batches_acknowledged']} batches (each one Lua script: 2,001 puts plus the "
        "prefix deletion of the batch before last).",
        "",
        f"- batches present afterwards: {redis_commits['batches_present']}; partial batches: "
        f"{redis_commits['partial_batches'] or 'none'}",
        f"- newest acknowledged batch ({redis_commits['newest_acknowledged']}) present: "
        f"{_yes(not redis_commits['newest_acknowledged_lost'])}",
        "",
        "## 3. SQLite: each of two processes killed (SIGKILL) under load and restarted",
        "",
        f"- requests: {sqlite_load['result']['requests']}; refused or cut off while a process was down: "
        f"{sqlite_load['verdicts']['transport_errors']}; 5xx: {sqlite_load['verdicts']['other_5xx'] or 'none'}; "
        f"hung: {sqlite_load['verdicts']['timeouts']}",
        f"- PRAGMA integrity_check: {sqlite_load['audit'].get('integrity_check')}; unexpected errors in the "
        f"processes' logs: {sqlite_load['server_log']['unexpected_errors']}",
        "",
        *sqlite_load["audit"]["markdown"],
        "",
        *_table(sqlite_load["seconds"]),
        "",
        "## 4. SQLite: the writer killed (SIGKILL) at random moments",
        "",
        f"- kills: {sqlite_writer['kills']}, of which inside a commit (after `begin`, before `ack`): "
        f"{sqlite_writer['killed_inside_a_commit']}",
        f"- PRAGMA integrity_check: {sqlite_writer['integrity_check']}",
        f"- batches present: {sqlite_writer['batches_present']}; partial batches: "
        f"{sqlite_writer['partial_batches'] or 'none'}; newest acknowledged batch "
        f"({sqlite_writer['newest_acknowledged']}) present: {_yes(not sqlite_writer['newest_acknowledged_lost'])}",
        "",
        f"Session time: {doc['elapsed_s']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["writer"]:
        url, seconds, log = args[1], float(args[2]), Path(args[3])
        asyncio.run(write_batches(url, min(seconds, 120.0), log))
        return 0
    parser = argparse.ArgumentParser(prog="python -m reference.bench.faultbench")
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per experiment (10-120)")
    parsed = parser.parse_args(args)
    if not 10 <= parsed.duration <= 120:
        parser.error("duration must be between 10 and 120 seconds")
    document = run(parsed.out, duration=parsed.duration)
    print(f"fault: wrote {parsed.out / 'fault.md'}; {'every check passed' if document['ok'] else 'CHECKS FAILED'}")
    return 0 if document["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
