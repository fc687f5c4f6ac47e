"""Which version of each text a run tests, and what changed between two versions.

A run tests the newest version of every text unless it is pinned: ``--spec-version OAUTH21=13``
on the command line (repeatable), or a profile's ``[versions]`` table (``OAUTH21 = "13"``); the
command line wins. MCP deployments pin what the MCP revision they follow cites.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass

from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry
from oauth_conformance.texts import SPECS
from oauth_conformance.texts import UnknownVersion
from oauth_conformance.texts import document_name

__all__ = ["Change", "UnknownVersion", "changes", "chosen", "describe", "parse_pins"]


def parse_pins(items: Iterable[str]) -> dict[str, str]:
    """``["OAUTH21=13", "cimd=-01"]`` -> ``{"OAUTH21": "13", "CIMD": "01"}``; UnknownVersion on a mistake."""
    pins: dict[str, str] = {}
    for item in items:
        token, sep, name = item.partition("=")
        token = token.strip().upper()
        if not sep or not name.strip():
            raise UnknownVersion(f"--spec-version {item!r}: want TOKEN=VERSION, e.g. OAUTH21=13")
        pins[token] = _known(token, name)
    return pins


def _known(token: str, name: str) -> str:
    if token not in SPECS:
        raise UnknownVersion(f"unknown spec token {token!r} in a version pin")
    return SPECS[token].edition(name).name


def chosen(*layers: Mapping[str, str]) -> dict[str, str]:
    """Every spec's version: the newest, overridden by each layer in turn (profile, then command line)."""
    out = {token: spec.newest.name for token, spec in SPECS.items()}
    for layer in layers:
        for token, name in layer.items():
            out[token.upper()] = _known(token.upper(), name)
    return out


def describe(versions: Mapping[str, str], tokens: Iterable[str]) -> dict[str, dict[str, object]]:
    """What a report says of the texts it tested: title, version, and whether a newer one exists."""
    out: dict[str, dict[str, object]] = {}
    for token in tokens:
        spec = SPECS[token]
        edition = spec.edition(versions.get(token) or spec.newest.name)
        out[token] = {
            "title": spec.title,
            "version": edition.document,
            "version_name": edition.name,
            "document": document_name(spec, edition),
            "link": edition.link_base,
            "newest": spec.newest.document,
            "pinned": edition != spec.newest,
        }
        if edition.note:
            out[token]["note"] = edition.note
    return out


@dataclass(frozen=True)
class Change:
    """How one row differs between two versions of its text."""

    id: str
    kinds: tuple[str, ...]  # added | removed, or any of moved, relevelled, reworded
    before: Requirement | None
    after: Requirement | None

    def describe(self) -> str:
        if "added" in self.kinds:
            assert self.after is not None
            since = SPECS[self.after.spec].edition(self.after.defined_in).document
            return f"{self.id}: new in {since} (section {self.after.where}, {self.after.level})"
        if "removed" in self.kinds:
            assert self.before is not None
            return f"{self.id}: gone (it was in section {self.before.where})"
        assert self.before is not None and self.after is not None
        parts = []
        if "moved" in self.kinds:
            parts.append(f"moved from section {self.before.where} to {self.after.where}")
        if "relevelled" in self.kinds:
            parts.append(f"{self.before.level} became {self.after.level}")
        if "reworded" in self.kinds:
            parts.append("reworded")
        return f"{self.id}: " + ", ".join(parts)


def changes(token: str, old: str, new: str) -> list[Change]:
    """Rows of ``token`` added, removed, moved, re-levelled or reworded between versions ``old`` and ``new``."""
    spec = SPECS[token.upper()]
    old, new = spec.edition(old).name, spec.edition(new).name
    found: list[Change] = []
    for r in registry().values():
        if r.spec != spec.token:
            continue
        before, after = r.at(old), r.at(new)
        if before is None and after is None:
            continue
        if before is None or after is None:
            found.append(Change(r.id, ("added",) if before is None else ("removed",), before, after))
            continue
        kinds = []
        if before.where != after.where:
            kinds.append("moved")
        if before.level != after.level:
            kinds.append("relevelled")
        if (before.quote, before.quote_where) != (after.quote, after.quote_where) and before.quote != after.quote:
            kinds.append("reworded")
        if kinds:
            found.append(Change(r.id, tuple(kinds), before, after))
    return found
