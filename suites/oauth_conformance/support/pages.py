"""What an HTML page shows its user: the text a browser renders, not the markup around it.

A check that a page *shows* something (the redirect URI's host, MCP-CIMD-REDIRECT-HOST) reads the
whole page, unredacted, and looks only at rendered text: text outside ``head``, ``script``,
``style``, ``template`` and ``noscript``, outside elements marked ``hidden`` or styled
``display:none`` / ``visibility:hidden``, plus the values of visible inputs (a read-only field
showing a URL). A hidden input, an attribute or a comment shows the user nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never rendered as text.
UNRENDERED = frozenset({"head", "script", "style", "template", "noscript", "title"})
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_HIDDEN_STYLE = re.compile(r"(?i)(display\s*:\s*none|visibility\s*:\s*hidden)")


def _hides(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in UNRENDERED or "hidden" in attrs:
        return True
    return bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden) of each open element
        self.text: list[str] = []

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        hidden = self.hidden or _hides(tag, named)
        if tag in VOID:
            kind = (named.get("type") or "text").lower()
            if tag == "input" and not hidden and kind != "hidden" and named.get("value"):
                self.text.append(str(named["value"]))
            return
        self.stack.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.text.append(data)


def visible_text(page: str) -> str:
    """The text ``page`` renders, whitespace collapsed."""
    parser = _Visible()
    parser.feed(page)
    parser.close()
    return " ".join(" ".join(parser.text).split())


def shows(page: str, text: str) -> bool:
    """Whether ``page`` renders ``text`` (case-insensitively) where a user can read it."""
    return text.lower() in visible_text(page).lower()
