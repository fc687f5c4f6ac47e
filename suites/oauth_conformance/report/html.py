"""The self-contained HTML report: one file, no external assets.

At the top, the verdict and a chart of verdicts per spec; then filters by verdict and level;
then every requirement grouped by spec, each failure with the requests and responses that
proved it (already redacted).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson

from oauth_conformance.catalogue import SPECS
from oauth_conformance.report.model import VERDICT_ORDER
from oauth_conformance.report.model import Report
from oauth_conformance.report.model import RequirementResult
from oauth_conformance.verdicts import Verdict

COLORS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "warn": "#ef6c00",
    "error": "#6a1b9a",
    "not_applicable": "#9e9e9e",
    "not_tested": "#1565c0",
}
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "warn": "warn",
    "error": "error",
    "not_applicable": "not applicable",
    "not_tested": "not tested",
}

CSS = """
:root{--fg:#1b1f24;--muted:#5f6b76;--line:#e3e7eb;--bg:#f7f8fa}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:24px 32px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px}
.meta{color:var(--muted);font-size:13px}.meta code{font-size:12px}
main{padding:0 32px 48px;max-width:1280px}
.verdict{display:inline-block;font-weight:700;padding:4px 12px;border-radius:999px;color:#fff;margin-right:12px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:20px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:24px}.card span{color:var(--muted);font-size:13px}
.chart{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:13px;color:var(--muted);margin-top:8px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
.filters{position:sticky;top:0;background:var(--bg);padding:12px 0;border-bottom:1px solid var(--line);z-index:2;display:flex;gap:14px;flex-wrap:wrap;align-items:center}
.filters label{font-size:13px;cursor:pointer;user-select:none}
.filters input[type=search]{padding:6px 10px;border:1px solid var(--line);border-radius:6px;min-width:240px}
table{width:100%;table-layout:fixed;border-collapse:collapse;background:#fff;border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:8px 12px;border-top:1px solid var(--line);vertical-align:top;font-size:14px}
th{background:#fafbfc;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-top:0}
td.id{overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.lvl{font-size:12px;font-weight:600;color:var(--muted)}
.reason{color:#333}.summary{color:var(--muted);font-size:13px}
blockquote.quote{margin:6px 0;padding:2px 10px;border-left:3px solid var(--line);color:#333;font-size:13px;font-style:italic}
blockquote.quote cite{display:block;font-style:normal;color:var(--muted);font-size:12px}
details{margin-top:6px}summary{cursor:pointer;color:#1565c0;font-size:13px}
pre{background:#0f1720;color:#e6edf3;padding:10px 12px;border-radius:8px;overflow:auto;font-size:12px;max-height:360px;white-space:pre-wrap;word-break:break-all}
.ex{margin:8px 0}.ex .req{color:#7ee787}.ex .res{color:#79c0ff}
.findings{font-size:13px;margin-top:6px}.findings ul{margin:2px 0;padding-left:18px}.findings .new{color:#c62828}
.hidden{display:none}
footer{color:var(--muted);font-size:12px;padding:24px 32px}
"""

JS = """
const boxes=[...document.querySelectorAll('.filters input[type=checkbox]')];
const search=document.getElementById('q');
function apply(){
  const on=new Set(boxes.filter(b=>b.checked).map(b=>b.value));
  const q=(search.value||'').toLowerCase();
  document.querySelectorAll('tr.row').forEach(tr=>{
    const ok=on.has(tr.dataset.verdict)&&on.has('lvl-'+tr.dataset.level)&&(!q||tr.textContent.toLowerCase().includes(q));
    tr.classList.toggle('hidden',!ok);
  });
  document.querySelectorAll('section.spec').forEach(s=>{
    s.classList.toggle('hidden',!s.querySelector('tr.row:not(.hidden)'));
  });
}
boxes.forEach(b=>b.addEventListener('change',apply));search.addEventListener('input',apply);apply();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pill(verdict: str, partial: bool = False) -> str:
    label = LABELS[verdict] + (" (partial)" if partial else "")
    return f'<span class="pill" style="background:{COLORS[verdict]}">{_e(label)}</span>'


def _chart(report: Report) -> str:
    rows = report.by_spec()
    width, bar_h, gap, label_w = 760, 22, 10, 90
    height = len(rows) * (bar_h + gap) + 10
    parts = [
        f'<svg viewBox="0 0 {width + label_w + 60} {height}" width="100%" role="img" aria-label="Verdicts per spec">'
    ]
    most = max((sum(r.values()) for r in rows.values()), default=1) or 1
    for i, (spec, row) in enumerate(rows.items()):
        y = i * (bar_h + gap) + 5
        parts.append(f'<text x="0" y="{y + 16}" font-size="13" fill="#1b1f24">{_e(spec)}</text>')
        x = float(label_w)
        total = sum(row.values())
        for verdict in VERDICT_ORDER:
            n = row.get(verdict, 0)
            if not n:
                continue
            w = width * n / most
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS[verdict]}">'
                f"<title>{_e(spec)}: {n} {LABELS[verdict]}</title></rect>"
            )
            if w > 18:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="11" fill="#fff" text-anchor="middle">{n}</text>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12" fill="#5f6b76">{total}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{COLORS[v]}"></i>{LABELS[v]}</span>' for v in VERDICT_ORDER)
    return f'<div class="chart">{"".join(parts)}<div class="legend">{legend}</div></div>'


def _evidence(items: list[dict[str, Any]]) -> str:
    if not items:
        return ""
    blocks = []
    for ex in items:
        req, res = ex["request"], ex["response"]
        head = "\n".join(f"{k}: {v}" for k, v in req["headers"].items())
        rhead = "\n".join(f"{k}: {v}" for k, v in res["headers"].items())
        note = f"# {ex['note']}\n" if ex.get("note") else ""
        text = (
            f"{note}<span class=req>{_e(req['method'])} {_e(req['url'])}\n{_e(head)}"
            + (f"\n\n{_e(req['body'])}" if req["body"] else "")
            + f"</span>\n\n<span class=res>HTTP {_e(res['status'])}\n{_e(rhead)}"
            + (f"\n\n{_e(res['body'])}" if res["body"] else "")
            + "</span>"
        )
        blocks.append(f'<pre class="ex">{text}</pre>')
    return f"<details><summary>evidence: {len(items)} exchange(s)</summary>{''.join(blocks)}</details>"


def _findings(r: RequirementResult, new: set[str] | frozenset[str]) -> str:
    """A failing row's findings: fingerprint and line (marked when the baseline does not know it)."""
    items: dict[str, str] = {}
    for _, f in r.findings:
        tag = ' <b class="new">new: not in the baseline</b>' if f.fingerprint in new else ""
        items.setdefault(f.fingerprint, f"<li><code>{_e(f.fingerprint)}</code>{tag}: {_e(f.description)}</li>")
    if not items:
        return ""
    return f'<div class="findings">findings ({len(items)}):<ul>{"".join(items.values())}</ul></div>'


def _row(r: RequirementResult, new: set[str] | frozenset[str] = frozenset(), note: dict[str, str] | None = None) -> str:
    ev = [e for t in r.tests if t.verdict in (Verdict.FAIL, Verdict.ERROR) for e in t.evidence]
    tests = "".join(f"<li><code>{_e(t.name)}</code>: {_e(t.verdict.value)}</li>" for t in r.tests)
    tests_html = f"<details><summary>{len(r.tests)} test(s)</summary><ul>{tests}</ul></details>" if r.tests else ""
    expected = f'<div class="summary">expected failure (baseline): {_e(r.expected)}</div>' if r.expected else ""
    if note:
        expected += f'<div class="summary">provided by the {_e(note["provided_by"])}: {_e(note["why"])}</div>'
    words = _quote(r) + _findings(r, new)
    return (
        f'<tr class="row" data-verdict="{r.verdict.value}" data-level="{r.requirement.level.value}">'
        f'<td class="id"><a href="{_e(r.requirement.link)}">{_e(r.id)}</a></td>'
        f'<td class="lvl">{_e(r.requirement.level.value)}</td><td>{_pill(r.verdict.value, r.partial)}</td>'
        f'<td><div class="summary">{_e(r.requirement.summary)}</div><div class="reason">{_e(r.reason)}</div>'
        f"{expected}{words}{_evidence(ev[:6])}{tests_html}</td></tr>"
    )


def _quote(r: RequirementResult) -> str:
    """The pinned text's binding words: shown under a failure or warning, folded away elsewhere."""
    q = r.requirement
    if not q.quote:
        return ""
    block = (
        f'<blockquote class="quote">{_e(q.quote)}'
        f'<cite><a href="{_e(q.quote_link or "")}">{_e(q.quote_source or "")}</a></cite></blockquote>'
    )
    if r.verdict in (Verdict.FAIL, Verdict.WARN, Verdict.ERROR):
        return block
    return f"<details><summary>the binding words</summary>{block}</details>"


def _coverage_note(report: Report) -> str:
    c = report.coverage
    if not c:
        return ""
    text = (
        f"{c['verified_musts']} of {c['testable_musts']} testable MUSTs verified ({c['percent']}%);"
        f" {c['not_applicable_musts']} not applicable, {c['untestable_musts']} untestable"
    )
    if c.get("tls_unexercised_musts"):
        text += f"; {len(c['tls_unexercised_musts'])} TLS MUSTs need an https target (not counted)"
    missing = "".join(
        f"<br>not exercised: <code>{_e(rid)}</code>: {_e(why)}" for rid, why in c["core_unexercised"].items()
    )
    return f'<div class="meta">{_e(text)}{missing}</div>'


def render(report: Report) -> str:
    t = report.target
    clock_note = f" · clock <code>{_e(t['clock'])}</code>" if t.get("clock") else ""
    summary = report.summary()
    word = report.verdict_word
    status = (
        word,
        COLORS["pass"] if word == "PASSED" else COLORS["fail"] if word == "FAILED" else COLORS["not_tested"],
    )
    cards = "".join(
        f'<div class="card"><b style="color:{COLORS[v]}">{summary[v]}</b><span>{LABELS[v]}</span></div>'
        for v in VERDICT_ORDER
    )
    checks = "".join(
        f'<label><input type="checkbox" value="{v}" checked> {LABELS[v]} ({summary[v]})</label>' for v in VERDICT_ORDER
    ) + "".join(
        f'<label><input type="checkbox" value="lvl-{lv}" checked> {lv}</label>' for lv in ("MUST", "SHOULD", "MAY")
    )
    sections = []
    new_findings: dict[str, list[str]] = report.gate.get("new_findings", {})
    notes: dict[str, dict[str, str]] = t.get("requirement_notes", {})
    for spec in report.specs:
        rows = [r for r in report.requirements if r.requirement.spec == spec]
        if not rows:
            continue
        rows.sort(key=lambda r: VERDICT_ORDER.index(r.verdict.value))
        info = SPECS[spec]
        tested = report.spec_info[spec]
        shown = str(tested["document"]) + (f" (the newest is {tested['newest']})" if tested["pinned"] else "")
        sections.append(
            f'<section class="spec"><h2>{_e(spec)}: {_e(info.title)} <span class="meta">{_e(shown)}</span></h2>'
            '<table><colgroup><col style="width:270px"><col style="width:80px"><col style="width:130px"><col></colgroup>'
            "<thead><tr><th>Requirement</th><th>Level</th><th>Verdict</th><th>What and why</th></tr></thead>"
            f"<tbody>{''.join(_row(r, set(new_findings.get(r.id, [])), notes.get(r.id)) for r in rows)}</tbody>"
            "</table></section>"
        )
    unexpected = report.gate.get("unexpected_failures", [])
    stale = report.gate.get("stale_baseline_entries", [])
    gate_note = (
        f"{len(unexpected)} unexpected MUST failure(s)" + (f", {len(stale)} stale baseline entr(ies)" if stale else "")
        if report.gate.get("status", 0)
        else "no unexpected MUST failure"
    )
    notes_html = (
        "<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in report.notes) + "</ul>" if report.notes else ""
    )
    raw = orjson.dumps({"summary": summary, "gate": report.gate}).decode()
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>OAuth conformance: {_e(t.get('name') or t.get('issuer') or t.get('url'))}</title><style>{CSS}</style></head><body>"
        f'<header><h1><span class="verdict" style="background:{status[1]}">{status[0]}</span>'
        f"{_e(t.get('name') or t.get('issuer') or t.get('url'))}</h1>"
        f'<div class="meta">target <code>{_e(t.get("url"))}</code> · metadata <code>{_e(t.get("metadata_url", ""))}</code>'
        f"{clock_note} · {_e(report.started)} · {report.duration:.1f} s · {_e(gate_note)}</div>"
        f'{_coverage_note(report)}<div class="meta">texts: {_e(report.texts_line())}</div></header><main>'
        f'<div class="cards">{cards}</div>{_chart(report)}'
        f'<div class="filters">{checks}<input id="q" type="search" placeholder="filter by id or text"></div>'
        f"{notes_html}{''.join(sections)}</main>"
        f'<footer>oauth-conformance · schema {_e(1)}</footer><script type="application/json" id="data">{_e(raw)}</script>'
        f"<script>{JS}</script></body></html>"
    )


def write_html(report: Report, path: Path) -> None:
    path.write_text(render(report), encoding="utf-8")
