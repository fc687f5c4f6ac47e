"""The served benchmark's chart: grouped bars per row on a log scale, as a standalone SVG.

Written by our own code (no plotting library), from the document :mod:`.servedbench` writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from reference.bench.served_report import CLOUDFLARE
from reference.bench.served_report import COLOURS
from reference.bench.served_report import GOAL_CLOUDFLARE
from reference.bench.served_report import OIDC
from reference.bench.served_report import REFERENCE
from reference.bench.served_report import SERVERS


def _si(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def svg_chart(document: Mapping[str, Any], *, width: int = 980, height: int = 470) -> str:
    """Grouped bars per row (units/s on a log scale), one colour per server, the generator's
    ceiling as a dashed line over each group, and the reference's ratios under it."""
    rows = document.get("rows", [])
    servers = [k for k in SERVERS if any(k in r["results"] for r in rows)]
    labels = {k: v["label"] for k, v in document.get("servers", {}).items()}
    ceilings = {c["concurrency"]: c["units_per_s"] for c in document.get("generator_ceiling", [])}
    values = [r["results"][k]["units_per_s"] for r in rows for k in servers if k in r["results"]]
    values += [ceilings[r["concurrency"]] for r in rows if r["concurrency"] in ceilings]
    positive = [v for v in values if v > 0] or [1.0]
    low = 10 ** math.floor(math.log10(min(positive)))
    high = 10 ** math.ceil(math.log10(max(positive)))
    left, right, top, bottom = 64, 16, 70, 112
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(value: float) -> float:
        value = max(value, low)
        return top + plot_h * (1 - (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low)))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">Served throughput per second '
        "(log scale): flows, refreshes, API checks, metadata GETs</text>",
    ]
    decade = low
    while decade <= high:
        gy = y(decade)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#dddddd"/>')
        out.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">{_si(decade)}</text>')
        decade *= 10
    legend_x = float(left)
    for key in [*servers, "ceiling"]:
        name = labels.get(key, key) if key != "ceiling" else "generator ceiling (null server)"
        if key == "ceiling":
            out.append(
                f'<line x1="{legend_x:.0f}" x2="{legend_x + 14:.0f}" y1="40" y2="40" '
                'stroke="#000" stroke-dasharray="4 3"/>'
            )
        else:
            out.append(f'<rect x="{legend_x:.0f}" y="34" width="14" height="12" fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{legend_x + 18:.0f}" y="44">{escape(name)}</text>')
        legend_x += 26 + 6.2 * len(name)
    group_w = plot_w / max(len(rows), 1)
    bar_w = group_w * 0.8 / max(len(servers), 1)
    for index, row in enumerate(rows):
        x0 = left + index * group_w + group_w * 0.1
        for position, key in enumerate(servers):
            result = row["results"].get(key)
            if result is None:
                continue
            value = result["units_per_s"]
            bar_x, bar_y = x0 + position * bar_w, y(value)
            out.append(
                f'<rect x="{bar_x:.1f}" y="{bar_y:.1f}" width="{bar_w - 1:.1f}" height="{top + plot_h - bar_y:.1f}" '
                f'fill="{COLOURS[key]}"><title>{escape(labels.get(key, key))}: {value:,.0f}/s</title></rect>'
            )
        if row["concurrency"] in ceilings:
            cy = y(ceilings[row["concurrency"]])
            out.append(
                f'<line x1="{x0:.1f}" x2="{x0 + group_w * 0.8:.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                'stroke="#000" stroke-dasharray="4 3"/>'
            )
        centre = x0 + group_w * 0.4
        base = top + plot_h
        out.append(f'<text x="{centre:.1f}" y="{base + 15}" text-anchor="middle">{escape(row["workload"])}</text>')
        out.append(f'<text x="{centre:.1f}" y="{base + 28}" text-anchor="middle">x{row["concurrency"]}</text>')
        for line, (theirs, short) in enumerate(((CLOUDFLARE, "cf"), (OIDC, "oidc"))):
            value = row["ratios"].get(f"{REFERENCE}/{theirs}")
            if value is not None:
                colour = "#000" if value >= (GOAL_CLOUDFLARE if theirs == CLOUDFLARE else 1.0) else "#c00000"
                out.append(
                    f'<text x="{centre:.1f}" y="{base + 44 + 13 * line}" text-anchor="middle" fill="{colour}">'
                    f"{value:g}x {short}</text>"
                )
        if index and row["workload"] != rows[index - 1]["workload"]:
            sx = left + index * group_w
            out.append(f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{top}" y2="{base + 70}" stroke="#999999"/>')
    out.append(
        f'<text x="{left}" y="{height - 10}" fill="#555555">Under each group: the reference (memory) over '
        "cloudflare and over oidc-provider, measured in the same row (red: goal missed).</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
