"""Login and consent pages as the form driver sees them: forms, their fields, buttons and links.

A control is something a user presses: a submit button of a form, or a link. The profile names
one with a :class:`~oauth_conformance.profile.ButtonSpec` (name and value, visible text, or a CSS
selector); without one, the driver goes by the words on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Literal

from bs4 import BeautifulSoup
from bs4 import Tag
from soupsieve import SelectorSyntaxError

from oauth_conformance.profile import ButtonSpec

APPROVE_WORDS: tuple[str, ...] = (
    *("approve", "allow", "accept", "authorize", "authorise", "consent", "continue", "confirm"),
    *("yes", "grant", "agree", "ok"),
)
DENY_WORDS: tuple[str, ...] = (
    *("deny", "decline", "reject", "cancel", "no", "disallow", "refuse", "abort"),
    *("do not allow", "don t allow"),
)
LOGIN_WORDS: tuple[str, ...] = ("sign in", "signin", "log in", "login", "logon", "submit", "continue", "next")
_TEXT_INPUTS = ("text", "email", "tel", "number", "search", "url", "password", "")


def normalize(text: str) -> str:
    """Lower case, punctuation as spaces, runs of space as one: "[ Sign-in ]" -> "sign in"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def has_phrase(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (after :func:`normalize` of both)."""
    return f" {normalize(phrase)} " in f" {normalize(text)} "


@dataclass(eq=False)
class Control:
    """A submit button of a form, or a link."""

    kind: Literal["button", "link"]
    element: Tag
    name: str | None = None
    value: str = ""
    text: str = ""
    form: Form | None = None
    href: str | None = None

    def describe(self) -> str:
        parts: list[str] = [self.kind]
        if self.name:
            parts.append(f"name={self.name!r} value={self.value!r}")
        parts.append(repr(self.text) if self.text else "(no text)")
        return " ".join(parts)


@dataclass(eq=False)
class Form:
    """A form: where it goes, its fields as a browser would send them, its submit buttons."""

    element: Tag
    action: str
    method: str
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, type)
    buttons: list[Control] = field(default_factory=list)
    required: set[str] = field(default_factory=set)  # names of fields marked required

    def asks_for(self, fields: set[str]) -> bool:
        """A login form: it has a password box, or a visible box the profile fills in."""
        return any(kind == "password" or (name in fields and kind in _TEXT_INPUTS) for name, _, kind in self.inputs)


@dataclass(eq=False)
class ParsedPage:
    soup: BeautifulSoup
    forms: list[Form]
    links: list[Control]

    def controls(self) -> list[Control]:
        return [b for f in self.forms for b in f.buttons] + self.links

    def inventory(self) -> str:
        """What a user could press here, for error messages."""
        shown = [c.describe() for c in self.controls()][:8]
        return "; ".join(shown) if shown else "nothing"


def parse_page(html: str) -> ParsedPage:
    soup = BeautifulSoup(html, "html.parser")
    forms: dict[int, Form] = {}
    for element in soup.find_all("form"):
        forms[id(element)] = Form(
            element,
            str(element.get("action") or ""),
            str(element.get("method") or "get").upper(),
        )
    for element in soup.find_all(["input", "button", "select", "textarea"]):
        form = _owner(soup, element, forms)
        if form is None:
            continue
        _add_field(form, element)
    links = [
        Control("link", a, text=a.get_text(" ", strip=True), href=str(a.get("href")))
        for a in soup.find_all("a", href=True)
        if not str(a.get("href")).startswith(("#", "javascript:", "mailto:"))
    ]
    return ParsedPage(soup, list(forms.values()), links)


def _owner(soup: BeautifulSoup, element: Tag, forms: dict[int, Form]) -> Form | None:
    # HTML: a control belongs to the form named by its form attribute, else its nearest form.
    named = element.get("form")
    if named:
        target = soup.find("form", id=str(named))
        return forms.get(id(target)) if target is not None else None
    parent = element.find_parent("form")
    return forms.get(id(parent)) if parent is not None else None


def _add_field(form: Form, element: Tag) -> None:
    raw_name = element.get("name")
    name = str(raw_name) if raw_name else None
    value = str(element.get("value") or "")
    kind = str(element.get("type") or ("submit" if element.name == "button" else "text")).lower()
    if element.name == "button" or kind in ("submit", "image"):
        if kind in ("submit", "image"):  # type=button and type=reset submit nothing
            text = element.get_text(" ", strip=True) if element.name == "button" else value
            form.buttons.append(Control("button", element, name, value, text or value, form))
        return
    if name is None or element.has_attr("disabled"):
        return  # HTML: a field without a name, or disabled, is not sent
    if element.has_attr("required"):
        form.required.add(name)
    if element.name == "select":
        options = element.find_all("option")
        chosen = next((o for o in options if o.has_attr("selected")), options[0] if options else None)
        if chosen is not None:
            form.inputs.append((name, str(chosen.get("value", chosen.get_text(strip=True))), "select"))
    elif element.name == "textarea":
        form.inputs.append((name, element.get_text(), "textarea"))
    elif kind in ("checkbox", "radio"):
        if element.has_attr("checked"):
            form.inputs.append((name, value or "on", kind))
    elif kind not in ("button", "reset", "file"):
        form.inputs.append((name, value, kind))


class BadSelector(ValueError):
    """A CSS selector in the profile that does not parse."""


def matches(control: Control, spec: ButtonSpec, page: ParsedPage) -> bool:
    """Whether ``control`` is the one ``spec`` describes (everything the spec gives must match)."""
    if spec.name is not None and (control.name or "") != spec.name:
        return False
    if spec.value is not None and control.value != spec.value:
        return False
    if spec.text is not None and not has_phrase(control.text, spec.text):
        return False
    if spec.selector is not None:
        try:
            selected = page.soup.select(spec.selector)
        except SelectorSyntaxError as exc:
            raise BadSelector(f"selector {spec.selector!r} does not parse: {exc}") from None
        # A selector may point at the control or at something inside it (a <span> in a <button>).
        if not any(el is control.element or any(p is control.element for p in el.parents) for el in selected):
            return False
    return True


def says(control: Control, words: tuple[str, ...]) -> bool:
    """Whether the control's text (or its name and value) carries one of ``words``."""
    label = f"{control.text} {control.name or ''} {control.value}"
    return any(has_phrase(label, w) for w in words)
