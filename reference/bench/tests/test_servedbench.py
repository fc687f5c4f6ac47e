"""The served benchmark's pure parts: ratios, verdicts, the chart and the report; ``/proc`` helpers;
and the batched transport the server writes responses through. No server is started here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from oauth_reference.serving.server import BatchedWrites
from reference.bench import chart as benchchart
from reference.bench import proctree
from reference.bench import served_report as benchreport
from reference.bench import servedbench


def result(units: float, *, requests: float | None = None, rss: dict[str, float] | None = None) -> dict[str, Any]:
    return {
        "units_per_s": units,
        "requests_per_s": requests if requests is not None else units,
        "requests_per_unit": 1.0,
        "errors": 0,
        "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "mean": 1.2, "max": 4.0},
        "generator_cpu_cores": 0.3,
        "server_cpu_cores": 0.9,
        "peak_rss_mib": rss or {"server": 50.0},
    }


def document(ref_api: float = 4000.0) -> dict[str, Any]:
    rows = []
    for workload, figures in {
        "metadata": {"reference-memory": 9000.0, "cloudflare": 1800.0, "oidc-provider": 4500.0},
        "api": {"reference-memory": ref_api, "cloudflare": 1000.0, "oidc-provider": 5000.0},
    }.items():
        results = {key: result(value) for key, value in figures.items()}
        results["cloudflare"]["peak_rss_mib"] = {"workerd": 180.0, "node (miniflare)": 190.0}
        rows.append(
            {
                "workload": workload,
                "concurrency": 16,
                "results": results,
                "ratios": benchreport.ratios(results),
            }
        )
    doc: dict[str, Any] = {
        "machine": {"cpus": 2, "load_average_at_start": [0.5], "python": "3.11", "node": "v20", "packages": {}},
        "layout": {"generator_cpu": 0, "server_cpu": 1},
        "duration_s": 5.0,
        "warmup_s": 1.5,
        "load_average_at_end": [0.7],
        "servers": {
            "reference-memory": {"label": "reference (memory)", "processes": {"server": 1}},
            "cloudflare": {"label": "cloudflare 1.2.3 (workerd)", "processes": {"workerd": 3, "node (miniflare)": 2}},
            "oidc-provider": {"label": "oidc-provider 9", "processes": {"server": 4}},
        },
        "rows": rows,
        "peak_rss_mib": {
            "reference-memory": {"server": 60.0},
            "cloudflare": {"workerd": 180.0, "node (miniflare)": 190.0},
            "oidc-provider": {"server": 120.0},
        },
        "generator_ceiling": [
            {
                "concurrency": 16,
                "units_per_s": 40000.0,
                "requests_per_s": 40000.0,
                "latency_ms": {"p50": 0.3, "p99": 1.0},
                "generator_cpu_cores": 0.8,
            }
        ],
        "harness_wall_times": {"cloudflare-1.2.3": {"exit": 1, "wall_seconds": 80.0}},
        "elapsed_s": 400.0,
    }
    doc["targets"] = benchreport.verdicts(doc)
    return doc


def test_ratios_are_taken_within_the_row_and_missing_servers_are_left_out() -> None:
    figures = benchreport.ratios({"reference-memory": result(900.0), "cloudflare": result(300.0)})
    assert figures == {"reference-memory/cloudflare": 3.0}
    assert benchreport.ratio(1.0, 0.0) is None
    assert benchreport.ratio(None, 2.0) is None


def test_verdicts_name_the_rows_that_miss_each_goal() -> None:
    goals = benchreport.verdicts(document(ref_api=2500.0))
    assert goals["3x_cloudflare_every_row"] == {"met": False, "rows_missed": ["api x16"]}
    assert goals["ahead_of_oidc_provider_every_row"] == {"met": False, "rows_missed": ["api x16"]}
    assert goals["peak_rss_below_workerd"]["met"] is True
    assert goals["generator_headroom"]["ratio"] == pytest.approx(40000 / 9000, abs=0.01)
    assert "missed 3x_cloudflare_every_row" in goals["summary"]


def test_the_api_goal_asks_1_3x_oidc_provider_with_many_clients() -> None:
    short = benchreport.verdicts(document(ref_api=6000.0))  # 1.2x oidc-provider's 5,000/s
    assert short["ahead_of_oidc_provider_every_row"]["met"]
    assert short["1.3x_oidc_provider_api_many_clients"] == {"met": False, "rows_missed": ["api x16"]}
    assert "**missed** (rows below: api x16)" in benchreport.markdown(document(ref_api=6000.0))
    assert benchreport.verdicts(document(ref_api=6500.0))["1.3x_oidc_provider_api_many_clients"]["met"]


def test_a_row_of_several_rounds_reports_each_servers_median_round() -> None:
    rounds = [result(300.0), result(100.0), result(200.0)]
    chosen = servedbench._median_result(rounds)
    assert chosen["units_per_s"] == 200.0 and chosen["rounds_units_per_s"] == [300.0, 100.0, 200.0]
    assert servedbench._median_result(rounds[:2])["units_per_s"] == 100.0  # the lower middle of an even count


def test_verdicts_when_every_goal_is_met() -> None:
    goals = benchreport.verdicts(document(ref_api=6500.0))
    assert goals["3x_cloudflare_every_row"]["met"] and goals["ahead_of_oidc_provider_every_row"]["met"]
    assert "missed" not in goals["summary"]


def test_the_chart_is_an_svg_with_one_bar_per_server_and_row() -> None:
    svg = benchchart.svg_chart(document())
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag.endswith("svg")
    title = "{http://www.w3.org/2000/svg}title"
    bars = [e for e in root.iter() if e.tag.endswith("rect") and e.find(title) is not None]
    assert len(bars) == 6  # 2 rows x 3 servers
    assert "reference (memory): 9,000/s" in svg
    assert "5x cf" in svg  # the ratio under the metadata group


def test_the_chart_marks_a_missed_goal_in_red() -> None:
    svg = benchchart.svg_chart(document(ref_api=2500.0))
    assert '#c00000">2.5x cf' in svg
    assert '#c00000">0.5x oidc' in svg


def test_the_report_has_the_goals_the_table_and_the_extras() -> None:
    text = benchreport.markdown(document(ref_api=2500.0))
    assert "![units per second per row, log scale](served.svg)" in text
    assert "| api | 16 | 2,500/s" in text
    assert "**2.50x**" in text  # below the 3x goal, in bold
    assert "rows below: api x16" in text
    assert "| cloudflare-1.2.3 | 80.0 | 1 |" in text
    assert "| 16 | 40,000 |" in text


def test_proc_helpers_read_this_process_and_its_children() -> None:
    assert (proctree.peak_rss_mib(os.getpid()) or 0) > 0
    assert proctree.cpu_seconds(os.getpid()) > 0
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in proctree.descendants(os.getpid())
        assert proctree.parent_of(child.pid) == os.getpid()
        assert proctree.command_name(child.pid).startswith("python")
    finally:
        child.kill()
        child.wait(5)
    assert proctree.peak_rss_mib(2**22 + 12345) is None  # no such process


def test_pinning_is_restored_after_the_block() -> None:
    before = os.sched_getaffinity(0)
    cpu = min(before)
    with proctree.pinned(cpu):
        assert os.sched_getaffinity(0) == {cpu}
    assert os.sched_getaffinity(0) == before
    with proctree.pinned(None):
        assert os.sched_getaffinity(0) == before


def test_cpu_meter_needs_both_marks() -> None:
    meter = proctree.CpuMeter([os.getpid()])
    assert meter.cores() is None
    meter.mark("begin")
    sum(range(200_000))
    meter.mark("end")
    assert (meter.cores() or 0.0) >= 0.0


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_turn_leave_together() -> None:
    async def go() -> FakeTransport:
        fake = FakeTransport()
        # FakeTransport stands in for asyncio's Transport (the ignore), with the methods BatchedWrites calls.
        batched = BatchedWrites(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
        batched.write(b"HTTP/1.1 200 OK\r\n\r\n")
        batched.write(b"body")
        assert fake.sent == []
        assert batched.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        assert batched.get_extra_info("peername") == "info:peername"  # the rest is the transport's
        return fake

    assert asyncio.run(go()).sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_close_sends_what_is_pending_and_large_writes_go_at_once() -> None:
    async def go() -> FakeTransport:
        fake = FakeTransport()
        batched = BatchedWrites(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
        batched.write(b"x" * BatchedWrites.LIMIT)
        assert len(fake.sent) == 1
        batched.write(b"last")
        batched.close()
        await asyncio.sleep(0)
        return fake

    fake = asyncio.run(go())
    assert fake.sent[-1] == b"last" and fake.closed


def test_the_redis_column_has_its_ratios_and_its_store_process() -> None:
    doc = document()
    for row in doc["rows"]:
        row["results"]["reference-redis"] = result(row["results"]["reference-memory"]["units_per_s"] / 2)
        row["results"]["reference-redis"]["peak_rss_mib"] = {"server": 62.0, "redis-server": 12.0}
        row["ratios"] = benchreport.ratios(row["results"])
    doc["servers"]["reference-redis"] = {
        "label": "reference (Redis)",
        "processes": {"server": 5, "redis-server": 6},
    }
    assert doc["rows"][0]["ratios"]["reference-redis/oidc-provider"] == 1.0  # 4,500 over 4,500
    text = benchreport.markdown(doc)
    assert "| Redis / cloudflare | Redis / oidc-provider |" in text
    assert "reference (Redis): redis-server" in text
    assert "0.30 / 0.9 (100 µs)" in text  # 0.9 server cores over 9,000 units per second
