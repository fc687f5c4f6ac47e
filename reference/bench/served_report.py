"""The served benchmark's arithmetic and pictures: ratios, verdicts, the SVG chart, the Markdown.

Pure functions of the document :mod:`.servedbench` writes as ``served.json``, so they can be
checked without running any server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SERVERS = ("reference-memory", "reference-sqlite", "reference-redis", "cloudflare", "oidc-provider")
STORES = {"reference-memory": "memory", "reference-sqlite": "SQLite", "reference-redis": "Redis"}
REFERENCE, CLOUDFLARE, OIDC = "reference-memory", "cloudflare", "oidc-provider"
COLOURS = {
    "reference-memory": "#1f5fa8",
    "reference-sqlite": "#7fb2e5",
    "reference-redis": "#b8332e",
    "cloudflare": "#f38020",
    "oidc-provider": "#3a9a4a",
}
GOAL_CLOUDFLARE = 3.0  # the reference (memory) at least 3x the real library on every row
GOAL_OIDC_API = 1.3  # and at least 1.3x oidc-provider on the API rows with many clients (issue 16)
MANY_CLIENTS = 16  # the rows "with many clients": 16 and more


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` rounded to 2 places; None when either is missing or ``b`` is zero."""
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


def ratios(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Units per second of each reference store over each real library, within one row."""
    rate = {key: results[key]["units_per_s"] for key in results}
    return {
        f"{ours}/{theirs}": ratio(rate.get(ours), rate.get(theirs))
        for ours in STORES
        for theirs in (CLOUDFLARE, OIDC)
        if ours in rate and theirs in rate
    }


def _row_name(row: Mapping[str, Any]) -> str:
    return f"{row['workload']} x{row['concurrency']}"


def verdicts(document: Mapping[str, Any]) -> dict[str, Any]:
    """Whether the reference (memory) met each goal, and the rows where it did not."""
    rows = document.get("rows", [])
    slow_cf = [_row_name(r) for r in rows if (r["ratios"].get(f"{REFERENCE}/{CLOUDFLARE}") or 0) < GOAL_CLOUDFLARE]
    behind_oidc = [_row_name(r) for r in rows if (r["ratios"].get(f"{REFERENCE}/{OIDC}") or 0) <= 1.0]
    api_rows = [r for r in rows if r["workload"] == "api" and r["concurrency"] >= MANY_CLIENTS]
    short_api = [_row_name(r) for r in api_rows if (r["ratios"].get(f"{REFERENCE}/{OIDC}") or 0) < GOAL_OIDC_API]
    rss = document.get("peak_rss_mib", {})
    ours = (rss.get(REFERENCE) or {}).get("server")
    workerd = (rss.get(CLOUDFLARE) or {}).get("workerd")
    fastest = max((res["requests_per_s"] for r in rows for res in r["results"].values()), default=0.0)
    ceiling = max((c["requests_per_s"] for c in document.get("generator_ceiling", [])), default=0.0)
    goals: dict[str, Any] = {
        "3x_cloudflare_every_row": {"met": bool(rows) and not slow_cf, "rows_missed": slow_cf},
        "ahead_of_oidc_provider_every_row": {"met": bool(rows) and not behind_oidc, "rows_missed": behind_oidc},
        "1.3x_oidc_provider_api_many_clients": {"met": bool(api_rows) and not short_api, "rows_missed": short_api},
        "peak_rss_below_workerd": {
            "met": ours is not None and workerd is not None and ours < workerd,
            "reference_mib": ours,
            "workerd_mib": workerd,
        },
        "generator_headroom": {
            "ceiling_per_s": ceiling,
            "fastest_row_per_s": fastest,
            "ratio": ratio(ceiling, fastest),
        },
    }
    met = [name for name, goal in goals.items() if goal.get("met")]
    missed = [name for name, goal in goals.items() if goal.get("met") is False]
    goals["summary"] = f"met {', '.join(met) or 'none'}" + (f"; missed {', '.join(missed)}" if missed else "")
    return goals


def _rate(result: Mapping[str, Any] | None) -> str:
    if result is None:
        return "n/a"
    latency = result["latency_ms"]
    errors = f", {result['errors']} errors" if result["errors"] else ""
    return f"{result['units_per_s']:,.0f}/s<br>p50 {latency['p50']:.2f} / p99 {latency['p99']:.2f} ms{errors}"


def _x(value: float | None, goal: float | None = None) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.2f}x"
    return f"**{text}**" if goal is not None and value < goal else text


def _yes(met: bool | None) -> str:
    return "met" if met else "**missed**"


def markdown(document: Mapping[str, Any]) -> str:
    """The report a person reads: goals, the chart, the table of rows, RSS, the ceiling."""
    m = document["machine"]
    goals = document["targets"]
    rows = document.get("rows", [])
    labels = {k: v["label"] for k, v in document.get("servers", {}).items()}
    servers = [k for k in SERVERS if k in labels]
    stores = [k for k in STORES if k in labels]
    layout = document["layout"]
    where = (
        f"the generator on core {layout['generator_cpu']}, every server process and thread on core "
        f"{layout['server_cpu']} (`sched_setaffinity`, as `taskset`)"
        if isinstance(layout, dict)
        else "unpinned (fewer than 2 CPUs)"
    )
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    lines = [
        "# Served benchmark: the reference against the real libraries",
        "",
        "Generated by `nox -s bench` (`python -m reference.bench.servedbench`); the chart is "
        "[served.svg](served.svg), the figures [served.json](served.json). One load generator "
        "(`reference.bench.rawload`: raw HTTP/1.1 keep-alive connections on uvloop) drives the same work "
        f"at every server on the same machine: {m['cpus']} CPUs, {where}. Each measurement is "
        f"{document['warmup_s']:g} s of warm-up then {document['duration_s']:g} s timed; for each row the "
        "servers take turns, the order rotated from row to row, so each ratio compares runs seconds apart"
        + _rounds(document.get("rounds", 1))
        + "; "
        "the servers not being measured are paused (SIGSTOP) meanwhile, so their background work is not "
        "charged to the one measured. "
        f"Load average {m['load_average_at_start'][0]} at the start, {document['load_average_at_end'][0]} at "
        f"the end (the machine is shared). Python {m['python']}, Node {m['node']}; {packages}.",
        "",
        "## Goals (the reference on its in-memory store)",
        "",
        f"- At least {GOAL_CLOUDFLARE:g}x cloudflare on every row: "
        + _yes(goals["3x_cloudflare_every_row"]["met"])
        + _missed(goals["3x_cloudflare_every_row"]["rows_missed"]),
        "- Ahead of oidc-provider on every row: "
        + _yes(goals["ahead_of_oidc_provider_every_row"]["met"])
        + _missed(goals["ahead_of_oidc_provider_every_row"]["rows_missed"]),
        f"- At least {GOAL_OIDC_API:g}x oidc-provider on the API rows with {MANY_CLIENTS} clients or more: "
        + _yes(goals["1.3x_oidc_provider_api_many_clients"]["met"])
        + _missed(goals["1.3x_oidc_provider_api_many_clients"]["rows_missed"]),
        f"- Peak RSS below workerd's: {_yes(goals['peak_rss_below_workerd']['met'])} "
        f"({goals['peak_rss_below_workerd']['reference_mib']} MiB against "
        f"{goals['peak_rss_below_workerd']['workerd_mib']} MiB)",
        f"- Generator headroom: ceiling {goals['generator_headroom']['ceiling_per_s']:,.0f} requests/s against "
        f"{goals['generator_headroom']['fastest_row_per_s']:,.0f} requests/s in the fastest row "
        f"({_x(goals['generator_headroom']['ratio'])})",
        "",
        "![units per second per row, log scale](served.svg)",
        "",
        "## Units per second, latency and ratios",
        "",
        "A unit is one metadata GET, one API check, one refresh, or one whole flow (authorize with its "
        "redirects, then the code exchange). Ratios are the reference's units per second over the other "
        f"server's in the same row; bold: below the goal ({GOAL_CLOUDFLARE:g}x cloudflare, 1x oidc-provider).",
        "",
        "| workload | clients | "
        + " | ".join(labels[k] for k in servers)
        + "".join(f" | {STORES[k]} / cloudflare | {STORES[k]} / oidc-provider" for k in stores)
        + " |",
        "|---|---:|" + "---|" * len(servers) + "---:|---:|" * len(stores),
    ]
    for row in rows:
        r = row["ratios"]
        cells = [_rate(row["results"].get(k)) for k in servers]
        for k in stores:
            goals = (GOAL_CLOUDFLARE, 1.0) if k == REFERENCE else (None, None)
            cells.append(_x(r.get(f"{k}/{CLOUDFLARE}"), goals[0]))
            cells.append(_x(r.get(f"{k}/{OIDC}"), goals[1]))
        lines.append(f"| {row['workload']} | {row['concurrency']} | {' | '.join(cells)} |")
    lines += _flow_note(rows, labels)
    lines += _rss_and_cpu(document, rows, servers, labels)
    lines += _ceiling(document)
    lines += _harness(document)
    lines += ["", f"Session time: {document['elapsed_s']:.0f} s."]
    return "\n".join(lines) + "\n"


def _rounds(rounds: int) -> str:
    if rounds <= 1:
        return ""
    return (
        f" ({rounds} rounds of turns per row, the order rotated again each round; each server's figures are"
        " from its median round)"
    )


def _missed(rows: list[str]) -> str:
    return f" (rows below: {', '.join(rows)})" if rows else ""


def _flow_note(rows: list[Mapping[str, Any]], labels: Mapping[str, str]) -> list[str]:
    hops = {
        labels[k]: res["requests_per_unit"]
        for row in rows
        if row["workload"] == "flow"
        for k, res in row["results"].items()
    }
    if not hops:
        return []
    text = ", ".join(f"{name} {count:g}" for name, count in hops.items())
    return [
        "",
        f"HTTP requests per flow (last flow row): {text}. oidc-provider approves through its own interaction "
        "pages: the first flow of each client follows its redirects with a cookie jar (`/auth` -> "
        "`/interaction/<uid>` -> `/auth/<uid>` -> the redirect URI); later flows of the same client reuse the "
        "session cookie as a browser would, so `/auth` answers with the code at once.",
    ]


def _rss_and_cpu(
    document: Mapping[str, Any], rows: list[Mapping[str, Any]], servers: list[str], labels: Mapping[str, str]
) -> list[str]:
    columns = [(k, proc) for k in servers for proc in document["servers"][k]["processes"]]
    names = [labels[k] if proc == "server" else f"{labels[k]}: {proc}" for k, proc in columns]
    lines = [
        "",
        "## Peak RSS (MiB, VmHWM) after each row, and CPU used in the row (generator / server cores)",
        "",
        "In brackets: the server's CPU time per unit in microseconds (server cores over units per second), "
        "which a busy machine disturbs less than the rates.",
        "",
        "| row | " + " | ".join(names) + " | " + " | ".join(f"cores: {labels[k]}" for k in servers) + " |",
        "|---|" + "---:|" * (len(columns) + len(servers)),
    ]
    for row in rows:
        rss = [str((row["results"].get(k) or {}).get("peak_rss_mib", {}).get(proc, "n/a")) for k, proc in columns]
        cores = []
        for k in servers:
            res = row["results"].get(k)
            cores.append(_cores(res))
        lines.append(f"| {row['workload']} x{row['concurrency']} | {' | '.join(rss)} | {' | '.join(cores)} |")
    final = document.get("peak_rss_mib", {})
    total = [str(final.get(k, {}).get(proc, "n/a")) for k, proc in columns]
    lines.append(f"| **at the end** | {' | '.join(total)} |" + " |" * len(servers))
    return lines


def _cores(result: Mapping[str, Any] | None) -> str:
    """``generator / server cores (server µs per unit)`` of one measurement."""
    if not result:
        return "n/a"
    text = f"{result['generator_cpu_cores']:.2f} / {result['server_cpu_cores']}"
    if result.get("server_cpu_cores") and result.get("units_per_s"):
        text += f" ({result['server_cpu_cores'] / result['units_per_s'] * 1e6:,.0f} µs)"
    return text


def _ceiling(document: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        "## The generator's ceiling",
        "",
        "The same generator against the trivial server of `reference.bench.load` (one fixed answer, "
        "uvloop), on the same core layout. Where the generator's core is not full, the trivial server is what "
        "stops it: the last column extrapolates to a full core.",
        "",
        "| clients | requests/s | p50 ms | p99 ms | generator cores | requests/s per generator core |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for c in document.get("generator_ceiling", []):
        per_core = c["requests_per_s"] / c["generator_cpu_cores"] if c["generator_cpu_cores"] else 0.0
        lines.append(
            f"| {c['concurrency']} | {c['requests_per_s']:,.0f} | {c['latency_ms']['p50']:.2f} | "
            f"{c['latency_ms']['p99']:.2f} | {c['generator_cpu_cores']:.2f} | {per_core:,.0f} |"
        )
    return lines


def _harness(document: Mapping[str, Any]) -> list[str]:
    times = document.get("harness_wall_times")
    if not times:
        return []
    lines = [
        "",
        "## Conformance harness wall time per target",
        "",
        "From `reports/targets/times.json` (the last `nox -s targets`; not re-run here).",
        "",
        "| target | wall time (s) | exit status |",
        "|---|---:|---:|",
    ]
    for name, entry in sorted(times.items()):
        lines.append(f"| {name} | {entry.get('wall_seconds', 'n/a')} | {entry.get('exit', 'n/a')} |")
    return lines
