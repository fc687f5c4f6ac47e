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
FIXTURE_MARK = "†"  # the verdict comes from the target's fixture (its profile's [[notes]])


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


def fingerprints(requirement: dict[str, Any]) -> frozenset[str]:
    """The fingerprints of a report.json requirement's findings (none in reports older than findings)."""
    return frozenset(f["fingerprint"] for f in requirement.get("findings", []) if isinstance(f, dict))


def has_findings(report: dict[str, Any]) -> bool:
    """Was the report written by a harness that records findings (every failure has one)?"""
    return "notes" in report


def tested_versions(report: dict[str, Any]) -> dict[str, str]:
    """Spec token -> the version of its text a report tested ("draft-ietf-oauth-v2-1-13", "RFC")."""
    specs = report.get("harness", {}).get("specs", {})
    return {token: str(info.get("version", "")) for token, info in specs.items() if isinstance(info, dict)}


@dataclass
class Matrix:
    targets: list[str]
    rows: list[tuple[dict[str, Any], list[str | None]]]  # requirement info, verdict per target
    # requirement id -> fingerprint -> the targets (indexes) whose run shows it
    findings: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    cells: dict[str, list[str | None]] = field(default_factory=dict)  # requirement id -> verdict per target
    # requirement id -> target index -> its profile's note (provided_by, why): the verdict is the fixture's
    notes: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)
    versions: list[dict[str, str]] = field(default_factory=list)  # per target: token -> version tested
    sections: dict[str, list[str | None]] = field(default_factory=dict)  # id -> its section in each report

    def note(self, requirement_id: str, target: int) -> dict[str, str] | None:
        return self.notes.get(requirement_id, {}).get(target)

    @property
    def differing(self) -> list[tuple[dict[str, Any], list[str | None]]]:
        return [row for row in self.rows if len(set(row[1])) > 1 or self.findings_differ(row[0]["id"])]

    def findings_differ(self, requirement_id: str) -> bool:
        """Do the targets that fail this requirement fail it with different findings?"""
        shown = self.findings.get(requirement_id, {})
        return any(len(where) != len(self._failing(requirement_id)) for where in shown.values())

    def _failing(self, requirement_id: str) -> list[int]:
        row = self.cells.get(requirement_id) or next(c for info, c in self.rows if info["id"] == requirement_id)
        return [i for i, c in enumerate(row) if c in BAD]

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
    findings: dict[str, dict[str, list[int]]] = {}
    notes: dict[str, dict[int, dict[str, str]]] = {}
    for i, (_, report) in enumerate(reports):
        for rid, note in report.get("target", {}).get("requirement_notes", {}).items():
            notes.setdefault(rid, {})[i] = note
        for r in report["requirements"]:
            if r["id"] not in info:
                info[r["id"]] = r
                order.append(r["id"])
            verdicts.setdefault(r["id"], {})[i] = r["verdict"]
            for fp in sorted(fingerprints(r)):
                findings.setdefault(r["id"], {}).setdefault(fp, []).append(i)
    rows = [(info[rid], [verdicts[rid].get(i) for i in range(len(reports))]) for rid in order]
    sections: dict[str, list[str | None]] = {rid: [None] * len(reports) for rid in order}
    for i, (_, report) in enumerate(reports):
        for r in report["requirements"]:
            sections[r["id"]][i] = r.get("section")
    by_id = {row_info["id"]: row_cells for row_info, row_cells in rows}
    versions = [tested_versions(report) for _, report in reports]
    made = Matrix(names, rows, findings, by_id, notes, versions, sections)

    def key(row: tuple[dict[str, Any], list[str | None]]) -> tuple[int, int, int]:
        cells = [c for c in row[1] if c is not None]
        differs = 0 if len(set(row[1])) > 1 or made.findings_differ(row[0]["id"]) else 1
        worst = min((RANK[c] for c in cells), default=9)
        return differs, worst, order.index(row[0]["id"])

    rows.sort(key=key)
    return made


def write_matrix(m: Matrix, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# OAuth conformance comparison",
        "",
        f"{len(m.rows)} requirements × {len(m.targets)} targets;"
        f" {len(m.differing)} requirements where the targets differ (listed first).",
        "",
        "Legend: "
        + ", ".join(f"{icon} {verdict}" for verdict, icon in ICON.items())
        + f"; {FIXTURE_MARK} provided by the target's fixture, not the implementation (listed below)",
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
        shown = " | ".join(
            (f"{ICON[c]} {c}" + (f" {FIXTURE_MARK}" if m.note(info["id"], i) else "")) if c else "·"
            for i, c in enumerate(cells)
        )
        lines.append(f"| [`{info['id']}`]({info.get('link', '')}) | {info.get('level', '')} | {shown} |")
    if m.notes:
        lines += [
            "",
            f"## Verdicts that come from a target's fixture ({FIXTURE_MARK})",
            "",
            "The target's profile says this behaviour is provided by the code its fixture adds around the"
            " implementation (fixtures/targets/), so the pass or fail is not the implementation's own.",
            "",
        ]
        for rid, by_target in sorted(m.notes.items()):
            for i, note in sorted(by_target.items()):
                lines.append(f"- `{rid}` on {m.targets[i]}: provided by the {note['provided_by']}: {note['why']}")
    findings_differing = [(rid, shown) for rid, shown in m.findings.items() if m.findings_differ(rid)]
    if findings_differing:
        lines += [
            "",
            "## Findings that not every failing target shows",
            "",
            "A requirement failed by several targets can fail in different ways: each finding"
            " (a fingerprint: the test and the variant that failed) with the targets that show it.",
        ]
        for rid, by_print in findings_differing:
            lines += ["", f"- `{rid}`"]
            lines += [f"  - `{fp}`: {', '.join(m.targets[i] for i in where)}" for fp, where in by_print.items()]
    (out / "compare.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "compare.json").write_bytes(
        orjson.dumps(
            {
                "targets": m.targets,
                "versions": dict(zip(m.targets, m.versions, strict=True)),
                "version_differences": m.version_differences,
                "rows": [
                    {
                        "id": i["id"],
                        "level": i.get("level"),
                        "verdicts": c,
                        "sections": m.sections.get(i["id"]),
                        "findings": {
                            fp: [m.targets[t] for t in where] for fp, where in m.findings.get(i["id"], {}).items()
                        },
                        "provided_by": {m.targets[t]: n["provided_by"] for t, n in m.notes.get(i["id"], {}).items()},
                    }
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
            f'<td><span class="pill" style="background:{COLORS[c]}">{e(LABELS[c])}</span>'
            f"{_fixture_tag(m, info, t)}</td>"
            if c
            else "<td>·</td>"
            for t, c in enumerate(cells)
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
        f"</table>{_findings_html(m, findings_differing)}</main></body></html>"
    )
    (out / "compare.html").write_text(page, encoding="utf-8")


def _fixture_tag(m: Matrix, info: dict[str, Any], target: int) -> str:
    note = m.note(info["id"], target)
    if note is None:
        return ""
    why = html.escape(f"provided by the {note['provided_by']}: {note['why']}", quote=True)
    return f' <small title="{why}">{FIXTURE_MARK} {html.escape(note["provided_by"])}</small>'


def _findings_html(m: Matrix, differing: list[tuple[str, dict[str, list[int]]]]) -> str:
    if not differing:
        return ""
    e = html.escape
    items = "".join(
        f"<li><code>{e(rid)}</code><ul>"
        + "".join(
            f"<li><code>{e(fp)}</code>: {e(', '.join(m.targets[i] for i in where))}</li>" for fp, where in shown.items()
        )
        + "</ul></li>"
        for rid, shown in differing
    )
    return f"<h2>Findings that not every failing target shows</h2><ul>{items}</ul>"


@dataclass
class Diff:
    regressions: list[tuple[str, str | None, str]]
    fixes: list[tuple[str, str, str]]
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[tuple[str, str, str]]
    # (requirement id, fingerprint, description): findings only the new run shows, or only the old
    appeared: list[tuple[str, str, str]] = field(default_factory=list)
    went_away: list[tuple[str, str, str]] = field(default_factory=list)
    findings_compared: bool = True  # False when the old report predates findings

    @property
    def worse(self) -> bool:
        """A regression, or a finding the old run did not show (even under a requirement failing in both)."""
        return bool(self.regressions or self.appeared)


def _findings_by_requirement(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        r["id"]: {f["fingerprint"]: str(f.get("description", "")) for f in r.get("findings", []) if isinstance(f, dict)}
        for r in report["requirements"]
    }


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
    result = Diff(regressions, fixes, added, removed, changed, findings_compared=has_findings(old))
    if result.findings_compared:
        was, now = _findings_by_requirement(old), _findings_by_requirement(new)
        for rid in after:
            if rid not in before:
                continue
            old_f, new_f = was.get(rid, {}), now.get(rid, {})
            result.appeared += [(rid, fp, text) for fp, text in sorted(new_f.items()) if fp not in old_f]
            result.went_away += [(rid, fp, text) for fp, text in sorted(old_f.items()) if fp not in new_f]
    return result


def format_diff(d: Diff) -> str:
    lines = []
    for title, rows in (
        ("Regressions", [f"{r} {a} -> {b}" for r, a, b in d.regressions]),
        ("Fixes", [f"{r} {a} -> {b}" for r, a, b in d.fixes]),
        ("New requirements", [f"{r} ({v})" for r, v in d.added]),
        ("Removed requirements", [f"{r} ({v})" for r, v in d.removed]),
        ("Other changes", [f"{r} {a} -> {b}" for r, a, b in d.changed]),
        ("Findings that appeared", [f"{r}: {fp}: {text[:120]}" for r, fp, text in d.appeared]),
        ("Findings that went away", [f"{r}: {fp}" for r, fp, _ in d.went_away]),
    ):
        lines.append(f"{title}: {len(rows)}")
        lines += [f"  {row}" for row in rows]
    if not d.findings_compared:
        lines.append("(findings not compared: the old report predates them)")
    return "\n".join(lines)
