"""Reading the pinned spec texts, when a copy is on this machine, to check the catalogue's quotes.

The project ships no spec text. A developer who has the texts points ``OAUTH_CONFORMANCE_SPEC_TEXTS``
at a folder holding one plain-text file per document, named ``<TOKEN>-<version>.txt`` (or ``.mdx``
for the MCP pages): ``RFC6749-RFC.txt``, ``OAUTH21-draft-ietf-oauth-v2-1-13.txt``,
``MCP-2025-11-25-authorization.mdx``. A document is cut into its sections (numbered headings for
RFCs and drafts, heading slugs for MDX pages) and each section's words are normalised the way a
quote is: page breaks, line-end hyphen breaks and runs of white space removed, Markdown marks
dropped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ENV = "OAUTH_CONFORMANCE_SPEC_TEXTS"
ELISION = " [...] "  # a quote may leave words out of a long sentence; each part is verbatim

_NUMBERED = re.compile(r"^(?:Appendix )?([A-Z]|\d+)((?:\.\d+)*)\.? {1,2}(\S.*)$")
_PAGE_FOOTER = re.compile(r"^\S.*\[Page \d+\]\s*$")
_PAGE_HEADER = re.compile(r"^(RFC \d+|Internet-Draft) {2,}.*\d{4}\s*$")
_MD_HEADING = re.compile(r"^(#{1,6}) +(.*?)\s*$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Document:
    path: Path
    sections: dict[str, str]  # section number or heading slug -> normalised words

    def find(self, quote: str) -> list[str]:
        """The sections whose words contain the quote (its parts in order, when elided)."""
        parts = [normalise(p) for p in quote.split(ELISION.strip())]
        found = []
        for section, words in self.sections.items():
            at = 0
            for part in parts:
                at = words.find(part, at)
                if at < 0:
                    break
                at += len(part)
            else:
                found.append(section)
        return found


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value and Path(value).is_dir() else None


def file_stem(token: str, version: str) -> str:
    return f"{token}-{re.sub(r'[^A-Za-z0-9.-]+', '-', version)}"


@cache
def load(token: str, version: str) -> Document | None:
    """The document pinned as ``token`` at ``version``, or None when no copy is at hand."""
    base = folder()
    if base is None:
        return None
    stem = file_stem(token, version)
    matches = sorted(base.glob(f"{stem}*.txt")) + sorted(base.glob(f"{stem}*.mdx"))
    if not matches:
        return None
    path = matches[0]
    text = path.read_text(encoding="utf-8")
    sections = _markdown_sections(text) if path.suffix == ".mdx" else _text_sections(text)
    return Document(path, {k: normalise(v) for k, v in sections.items()})


def normalise(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\f", "\n")
    text = re.sub(r"(?<=[A-Za-z])-\n[ \t]*(?=[A-Za-z])", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def slug(heading: str) -> str:
    words = re.sub(r"[^a-z0-9 -]", "", _strip_markdown(heading).lower())
    return re.sub(r" +", "-", words.strip())


def _text_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {"": []}
    current = ""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        line = line.replace("\f", "")
        if _PAGE_FOOTER.match(line) or _PAGE_HEADER.match(line):
            continue
        heading = _NUMBERED.match(line)
        before = lines[i - 1].strip() if i else ""
        after = lines[i + 1] if i + 1 < len(lines) else ""
        wrapped = after.startswith(" ") and not (lines[i + 2].strip() if i + 2 < len(lines) else "")
        ends = not after.strip() or wrapped
        if heading and not before and ends and not line.rstrip().endswith((",", ";")):
            current = heading.group(1) + heading.group(2)
            sections.setdefault(current, [])
            continue
        sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def _markdown_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.split("\n"):
        heading = _MD_HEADING.match(line)
        if heading:
            title = heading.group(2)
            numbered = re.match(r"^(\d+(?:\.\d+)*)\.? ", title)
            current = numbered.group(1) if numbered else slug(title)
            sections.setdefault(current, [])
            continue
        sections[current].append(_strip_markdown(line))
    return {k: "\n".join(v) for k, v in sections.items()}


def _strip_markdown(line: str) -> str:
    line = _MD_LINK.sub(r"\1", line)
    line = re.sub(r"<[^>]+>", " ", line)
    return line.replace("**", "").replace("`", "").replace("|", " ")
