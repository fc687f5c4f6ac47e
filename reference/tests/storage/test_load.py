"""The load generator against a served reference, and the audit of what it leaves behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from oauth_reference.machinery import records
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import served
from reference.bench import load
from reference.bench.audit import audit_store

pytestmark = pytest.mark.slow


def test_a_mixed_run_is_measured_and_its_ledger_matches_the_store(tmp_path: Path) -> None:
    store_path = tmp_path / "store.sqlite3"
    with served(["--store", f"sqlite:{store_path}", "--auto-approve", "--no-access-log"]) as server:
        argv = [server.url, "--scenario", "mixed", "--concurrency", "4", "--duration", "1.5", "--seed", "3"]
        argv += ["--json", str(tmp_path / "out.json"), "--ledger", str(tmp_path / "ledger.json")]
        assert load.main(argv) == 0
    result = json.loads((tmp_path / "out.json").read_text())
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert result["scenario"] == "mixed"
    assert result["requests"] > 20
    assert result["errors"] == 0, result["error_counts"]
    assert {"authorize", "token", "api"} <= set(result["operations"])
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    assert "access_token" not in json.dumps(ledger)  # hashes only, never a token
    assert all(len(h) == 64 for g in ledger["grants"].values() for h in g["access"])

    async def check() -> None:
        storage = SQLiteStorage(str(store_path), SystemClock())
        try:
            report = await audit_store(storage, ledger)
            assert report.ok, report.problems
            assert report.counts["live_grants_verified"] >= 1
            # A grant that vanishes behind the clients' backs is reported lost.
            live = next(gid for gid, g in ledger["grants"].items() if g["live"] and not g["uncertain"])
            await storage.commit([Delete(records.grant_key(ledger["grants"][live]["user_id"], live))])
            report = await audit_store(storage, ledger)
            assert any(f"grant {live} is lost" in problem for problem in report.problems)
        finally:
            await storage.close()

    asyncio.run(check())


@pytest.fixture(scope="module")
def memory_server() -> Iterator[Served]:
    with served(["--store", "memory", "--auto-approve", "--no-access-log"]) as server:
        yield server


@pytest.mark.parametrize("scenario", ["metadata", "flow", "refresh", "api", "revoke"])
def test_every_scenario_runs_without_errors(tmp_path: Path, memory_server: Served, scenario: str) -> None:
    argv = [memory_server.url, "--scenario", scenario, "--concurrency", "2", "--duration", "0.5"]
    argv += ["--revoke-pool", "3", "--json", str(tmp_path / "out.json")]
    assert load.main(argv) == 0
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["requests"] > 0
    assert result["errors"] == 0, result["error_counts"]


def test_max_requests_bounds_the_run(tmp_path: Path, memory_server: Served) -> None:
    argv = [memory_server.url, "--scenario", "metadata", "--max-requests", "25", "--json", str(tmp_path / "o.json")]
    assert load.main(argv) == 0
    assert json.loads((tmp_path / "o.json").read_text())["requests"] == 25


def test_the_null_server_gives_the_generators_ceiling(tmp_path: Path) -> None:
    assert (
        load.main(["--null-server", "--concurrency", "2", "--duration", "0.5", "--json", str(tmp_path / "n.json")]) == 0
    )
    result = json.loads((tmp_path / "n.json").read_text())
    assert result["scenario"] == "null"
    assert result["requests"] > 0
    assert result["errors"] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["http://127.0.0.1:9", "--duration", "601"],
        ["http://127.0.0.1:9", "--concurrency", "0"],
        ["ftp://127.0.0.1:9"],
        [],
    ],
)
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert load.main(argv) == 2
    assert capsys.readouterr().err.startswith("load: ")


def test_an_unreachable_target_exits_3_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert load.main(["http://127.0.0.1:9", "--duration", "1"]) == 3
    assert "nothing answers at http://127.0.0.1:9/" in capsys.readouterr().err
