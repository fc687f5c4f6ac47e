"""Comparing reports: a matrix of requirements by targets (C4), and a diff of two runs."""

from __future__ import annotations

import html
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import orjson

from oauth_conformance.report.html import COLORS
from oauth_conformance.report.html import CSS
from oauth_conformance.report.html import LABELS
from oauth_conformance.report.writers import ICON

RANK = {"fail": 0, "error": 1, "warn": 2, "not_tested": 3, "not_applicable": 4, "pass": 5}
BAD = {"fail", "error", "warn"}


class ReportFileError(ValueError):
    pass


def load_report(path: str | Path) -> dict[str, Any]:
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ReportFileError(f"{path}: not a readable report.json ({exc})") from None
    if not isinstance(data, dict) or data.get("schema_version") != 1 or "requirements" not in data:
        raise ReportFileError(f"{path}: not an oauth-conformance report (schema_version 1)")
    return data


def target_name(report: dict[str, Any], path: str | Path) -> str:
    target = report.get("target", {})
    if not target.get("name") and target.get("embedded"):
        return "oauth-reference (embedded)"
    return str(target.get("name") or target.get("issuer") or target.get("url") or Path(path).parent.name)


def tested_versions(report: dict[str, Any]) -> dict[str, str]:
    """Spec token -> the version of its text a report tested ("draft-ietf-oauth-v2-1-13", "RFC")."""
    specs = report.get("harness", {}).get("specs", {})
    return {token: str(info.get("version", "")) for token, info in specs.items() if isinstance(info, dict)}


@dataclass
class Matrix:
    targets: list[str]
    rows: list[tuple[dict[str, Any], list[str | None]]]  # requirement info, verdict per target
    versions: list[dict[str, str]] = field(default_factory=list)  # per target: token -> version tested
    sections: dict[str, list[str | None]] = field(default_factory=dict)  # id -> its section in each report

    @property
    def differing(self) -> list[tuple[dict[str, Any], list[str | None]]]:
        return [row for row in self.rows if len(set(row[1])) > 1]

    @property
    def version_differences(self) -> dict[str, list[str]]:
        """Texts the reports tested in different versions: token -> the version in each report."""
        tokens = sorted({t for v in self.versions for t in v})
        out = {}
        for token in tokens:
            seen = [v.get(token, "") for v in self.versions]
            if len({s for s in seen if s}) > 1:
                out[token] = seen
        return out

    def text_changes(self) -> list[str]:
        """Rows that a version difference explains: in some reports only, or in other sections."""
        lines = []
        differing = self.version_differences
        for info, cells in self.rows:
            if info.get("spec") not in differing:
                continue
            where = self.sections.get(info["id"], [])
            absent = [self.targets[i] for i, c in enumerate(cells) if c is None]
            if absent:
                lines.append(f"{info['id']}: not in the version {', '.join(absent)} tested")
            elif len({s for s in where if s}) > 1:
                lines.append(f"{info['id']}: section " + " / ".join(str(s) for s in where))
        return lines


def matrix(reports: list[tuple[str, dict[str, Any]]]) -> Matrix:
    names = []
    for path, report in reports:
        name = target_name(report, path)
        pinned = [
            f"{token} {info.get('version_name')}"
            for token, info in report.get("harness", {}).get("specs", {}).items()
            if isinstance(info, dict) and info.get("pinned")
        ]
        if pinned:  # the same target tested against older texts is another column
            name += f" ({', '.join(pinned)})"
        while name in names:
            name += "'"
        names.append(name)
    info: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    verdicts: dict[str, dict[int, str]] = {}
    for i, (_, report) in enumerate(reports):
        for r in report["requirements"]:
            if r["id"] not in info:
                info[r["id"]] = r
                order.append(r["id"])
            verdicts.setdefault(r["id"], {})[i] = r["verdict"]
    rows = [(info[rid], [verdicts[rid].get(i) for i in range(len(reports))]) for rid in order]
    sections: dict[str, list[str | None]] = {rid: [None] * len(reports) for rid in order}
    for i, (_, report) in enumerate(reports):
        for r in report["requirements"]:
            sections[r["id"]][i] = r.get("section")

    def key(row: tuple[dict[str, Any], list[str | None]]) -> tuple[int, int, int]:
        cells = [c for c in row[1] if c is not None]
        differs = 0 if len(set(row[1])) > 1 else 1
        worst = min((RANK[c] for c in cells), default=9)
        return differs, worst, order.index(row[0]["id"])

    rows.sort(key=key)
    return Matrix(names, rows, [tested_versions(report) for _, report in reports], sections)


def write_matrix(m: Matrix, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# OAuth conformance comparison",
        "",
        f"{len(m.rows)} requirements × {len(m.targets)} targets;"
        f" {len(m.differing)} requirements where the targets differ (listed first).",
        "",
        "Legend: " + ", ".join(f"{icon} {verdict}" for verdict, icon in ICON.items()),
        "",
        "| Target | " + " | ".join(f"{ICON[v]}" for v in ICON) + " |",
        "|---|" + "---:|" * len(ICON),
    ]
    for i, name in enumerate(m.targets):
        counts = {v: sum(1 for _, cells in m.rows if cells[i] == v) for v in ICON}
        lines.append(f"| {name} | " + " | ".join(str(counts[v]) for v in ICON) + " |")
    differing = m.version_differences
    if differing:
        lines += ["", "## Texts tested in different versions", "", "| Spec | " + " | ".join(m.targets) + " |"]
        lines.append("|---|" + "---|" * len(m.targets))
        lines += [f"| {token} | " + " | ".join(seen) + " |" for token, seen in differing.items()]
        changed = m.text_changes()
        if changed:
            lines += ["", "What the versions change in the rows compared:", ""] + [f"- {c}" for c in changed]
    lines += ["", "| Requirement | Level | " + " | ".join(m.targets) + " |", "|---|---|" + "---|" * len(m.targets)]
    for info, cells in m.rows:
        shown = " | ".join(f"{ICON[c]} {c}" if c else "·" for c in cells)
        lines.append(f"| [`{info['id']}`]({info.get('link', '')}) | {info.get('level', '')} | {shown} |")
    (out / "compare.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "compare.json").write_bytes(
        orjson.dumps(
            {
                "targets": m.targets,
                "versions": dict(zip(m.targets, m.versions, strict=True)),
                "version_differences": m.version_differences,
                "rows": [
                    {"id": i["id"], "level": i.get("level"), "verdicts": c, "sections": m.sections.get(i["id"])}
                    for i, c in m.rows
                ],
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    e = html.escape
    head = "".join(f"<th>{e(t)}</th>" for t in m.targets)
    body = []
    for info, cells in m.rows:
        tds = "".join(
            f'<td><span class="pill" style="background:{COLORS[c]}">{e(LABELS[c])}</span></td>' if c else "<td>·</td>"
            for c in cells
        )
        differs = ' style="background:#fff8e1"' if len(set(cells)) > 1 else ""
        body.append(
            f'<tr{differs}><td class="id"><a href="{e(info.get("link", ""))}">{e(info["id"])}</a></td>'
            f'<td class="lvl">{e(info.get("level", ""))}</td>{tds}</tr>'
        )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>OAuth conformance comparison</title>"
        f"<style>{CSS}</style></head><body><header><h1>OAuth conformance comparison</h1>"
        f'<div class="meta">{len(m.rows)} requirements × {len(m.targets)} targets · '
        f"{len(m.differing)} rows differ (highlighted, listed first)</div></header><main>"
        f"<table><thead><tr><th>Requirement</th><th>Level</th>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></main></body></html>"
    )
    (out / "compare.html").write_text(page, encoding="utf-8")


@dataclass
class Diff:
    regressions: list[tuple[str, str | None, str]]
    fixes: list[tuple[str, str, str]]
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[tuple[str, str, str]]


def diff(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    before = {r["id"]: r["verdict"] for r in old["requirements"]}
    after = {r["id"]: r["verdict"] for r in new["requirements"]}
    regressions, fixes, changed = [], [], []
    for rid, verdict in after.items():
        if rid not in before or before[rid] == verdict:
            continue
        was = before[rid]
        if verdict in BAD and was not in BAD:
            regressions.append((rid, was, verdict))
        elif was in BAD and verdict == "pass":
            fixes.append((rid, was, verdict))
        else:
            changed.append((rid, was, verdict))
    added = [(rid, v) for rid, v in after.items() if rid not in before]
    removed = [(rid, v) for rid, v in before.items() if rid not in after]
    return Diff(regressions, fixes, added, removed, changed)


def format_diff(d: Diff) -> str:
    lines = []
    for title, rows in (
        ("Regressions", [f"{r} {a} -> {b}" for r, a, b in d.regressions]),
        ("Fixes", [f"{r} {a} -> {b}" for r, a, b in d.fixes]),
        ("New requirements", [f"{r} ({v})" for r, v in d.added]),
        ("Removed requirements", [f"{r} ({v})" for r, v in d.removed]),
        ("Other changes", [f"{r} {a} -> {b}" for r, a, b in d.changed]),
    ):
        lines.append(f"{title}: {len(rows)}")
        lines += [f"  {row}" for row in rows]
    return "\n".join(lines)
