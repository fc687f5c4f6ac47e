"""The pages a test's user agent was shown, and what a person would read on them.

Checks about what an authorization page *displays* (MCP: the redirect URI's host name) read the
page's visible text: the text of the body outside scripts, styles, templates and elements hidden by
``hidden``, ``type=hidden`` or an inline ``display: none`` / ``visibility: hidden``, plus the labels
of buttons and the values of visible text fields (a read-only field showing a URL). A hidden input,
an attribute, a comment or a script that holds the host shows nothing to the user. The pages are
kept whole and unredacted in memory for the test's own checks (:class:`PageLog`); the report's
evidence stays redacted and cut (``evidence.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

import httpx

# Elements whose content is never rendered as text.
_INVISIBLE = frozenset({"script", "style", "template", "head", "title", "noscript", "iframe", "object", "svg"})
# Elements without an end tag: they never hold text, and must not count as open containers.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_HIDDEN_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important)?\s*(?:;|$)", re.I
)
# Inputs whose value a user reads: a button's label, or the text of a visible (often read-only) field.
_SHOWN_INPUTS = frozenset({"submit", "button", "reset", "text", "url", "search", "email"})


@dataclass(frozen=True, slots=True)
class SeenPage:
    url: str
    status: int
    text: str  # the whole body, as received


@dataclass
class PageLog:
    """HTML pages a test's clients received, whole and unredacted (memory only, never reported)."""

    pages: list[SeenPage] = field(default_factory=list)

    def add(self, response: httpx.Response) -> None:
        if "html" in response.headers.get("content-type", ""):
            self.pages.append(SeenPage(str(response.url), response.status_code, response.text))


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # open elements: tag, and is it (or an ancestor) hidden?

    @property
    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        hidden = (
            self._hidden
            or tag in _INVISIBLE
            or "hidden" in a
            or bool(_HIDDEN_STYLE.search(a.get("style", "")))
            or (tag == "input" and a.get("type", "text").lower() == "hidden")
        )
        if tag == "input" and not hidden and a.get("type", "text").lower() in _SHOWN_INPUTS:
            self.parts.append(a.get("value", ""))
        if tag not in _VOID:
            self._stack.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        # Close up to the innermost open element of this name (unclosed <p>, <li> are common).
        for depth in range(len(self._stack) - 1, -1, -1):
            if self._stack[depth][0] == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a person sees on ``html``, white space collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def shows_host(text: str, host: str) -> bool:
    """Does ``text`` name ``host`` as a whole host name (not inside a longer one)?"""
    pattern = rf"(?<![A-Za-z0-9.-]){re.escape(host)}(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
    return re.search(pattern, text, re.IGNORECASE) is not None
