"""The requirement catalogue: every requirement the suites can verify, as data.

A requirement id is ``<SPEC>-<section>-<SLUG>`` (contract C5), the spec token being the same
string as the suite package (``specs/rfc8414``) and the reference module (``specs/rfc8414.py``).
Each spec package holds its requirements in ``requirements.py``; :func:`registry` joins them.

A rule belongs to the versions of its text (:mod:`oauth_conformance.texts`) from ``since`` (the
oldest known, by default) to ``until`` (the newest, by default). Its id carries the section of the
version it was defined in and never changes; where a later version moved or reworded it,
:class:`Reading` records how that version states it. A run tests one version of each text
(:mod:`oauth_conformance.versions`), and sees each row as that version states it
(:meth:`Requirement.at`).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from oauth_conformance.features import Feature
from oauth_conformance.texts import QUOTE_SOURCES
from oauth_conformance.texts import SPECS
from oauth_conformance.texts import Spec
from oauth_conformance.texts import Version
from oauth_conformance.texts import document_name

__all__ = ["BINDING_KEYWORDS", "ELISION", "QUOTE_SOURCES", "SPECS", "Level", "Reading", "Requirement", "Spec"]


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


# Words that bind a server, quoted exactly (whitespace normalised) from the pinned text. A quote may
# leave words out of a long sentence with this marker; each part is verbatim.
ELISION = "[...]"
BINDING_KEYWORDS = ("MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT")  # BCP 14 (RFC 2119, RFC 8174)


@dataclass(frozen=True, slots=True)
class Reading:
    """How a later version of the text states a rule, where it differs from the version before.

    A reading holds from its version on, until a later reading replaces it. ``section`` is where
    the rule stands there when it moved (the id keeps the section of the version that defined
    it); ``quote`` and ``quote_section`` are its binding words there, when they changed or moved;
    ``level`` its strength there, when a SHOULD became a MUST (or the other way).
    """

    version: str
    section: str | None = None
    quote: str | None = None
    quote_section: str | None = None
    level: Level | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One normative, black-box observable behaviour, in our words."""

    id: str
    level: Level
    summary: str
    applies_if: Feature | None = None
    untestable: str | None = None  # why no black-box test can verify it, when none can
    anchor: str | None = None  # a link fragment when the section is not numbered (MCP)
    # The pinned text's own words that make the behaviour binding on the server (verbatim, white
    # space normalised), and where they sit when that is not the id's section or document.
    quote: str | None = None
    quote_section: str | None = None  # a section number, or a heading anchor for MCP pages
    quote_spec: str | None = None  # a QUOTE_SOURCES token: RFC6749 for a ROBUST row, for instance
    quote_version: str | None = None  # the version of that other document (None: its oldest)
    since: str | None = None  # the version that brought the rule (None: the oldest the catalogue knows)
    until: str | None = None  # the last version with the rule (None: it is in the newest)
    readings: tuple[Reading, ...] = ()  # later versions that moved or reworded it
    version: str | None = None  # set by at(): the version this row is read in
    moved_to: str | None = None  # set by at(): the rule's section in that version, when it moved

    def __post_init__(self) -> None:
        spec, _, rest = self.id.partition("-")
        section, _, slug = rest.partition("-")
        if spec not in SPECS or not section or not slug or slug != slug.upper():
            raise ValueError(f"malformed requirement id {self.id!r}: want <SPEC>-<section>-<SLUG>")
        if self.quote_spec is not None and self.quote_spec not in QUOTE_SOURCES:
            raise ValueError(f"{self.id}: unknown quote_spec {self.quote_spec!r}")
        if (self.quote_section or self.quote_spec) and not self.quote:
            raise ValueError(f"{self.id}: quote_section or quote_spec without a quote")
        if self.quote_version is not None:
            if self.quote_spec is None or self.quote_spec == spec:
                raise ValueError(f"{self.id}: quote_version is for quotes from another document")
            QUOTE_SOURCES[self.quote_spec].edition(self.quote_version)
        known = SPECS[spec]
        for name in (self.since, self.until, self.version, *(r.version for r in self.readings)):
            if name is not None:
                known.edition(name)  # UnknownVersion (a ValueError) for a version the spec lacks
        order = [known.index(r.version) for r in self.readings]
        if order != sorted(set(order)) or (order and order[0] <= known.index(self.defined_in)):
            raise ValueError(f"{self.id}: readings must follow the defining version, oldest first, once each")

    # -------------------------------------------------------------------------------- versions
    @property
    def spec(self) -> str:
        return self.id.partition("-")[0]

    @property
    def defined_in(self) -> str:
        """The version the row was written against (its id's section is that version's)."""
        return self.since or SPECS[self.spec].versions[0].name

    def exists_in(self, version: str) -> bool:
        spec = SPECS[self.spec]
        at = spec.index(version)
        return spec.index(self.defined_in) <= at and (self.until is None or at <= spec.index(self.until))

    def at(self, version: str) -> Requirement | None:
        """The row as ``version`` states it (None: that version has no such rule)."""
        spec = SPECS[self.spec]
        name = spec.edition(version).name
        if not self.exists_in(name):
            return None
        quote, quote_section, moved, level = self.quote, self.quote_section, None, self.level
        for reading in self.readings:
            if spec.index(reading.version) > spec.index(name):
                break
            moved = reading.section or moved
            level = reading.level or level
            if reading.quote is not None:
                quote = reading.quote
                quote_section = reading.quote_section
            elif reading.quote_section is not None:
                quote_section = reading.quote_section
        return dataclasses.replace(
            self, level=level, quote=quote, quote_section=quote_section, version=name, moved_to=moved
        )

    @property
    def edition(self) -> Version:
        """The version of the text this row is read in."""
        return SPECS[self.spec].edition(self.version or self.defined_in)

    # -------------------------------------------------------------------------------- sections
    @property
    def section(self) -> str:
        """The section in the id: where the rule stood in the version that defined it."""
        return self.id.split("-", 2)[1]

    @property
    def where(self) -> str:
        """The rule's section in the version this row is read in."""
        return self.moved_to or self.section

    @property
    def link(self) -> str:
        spec = SPECS[self.spec]
        if self.anchor:
            return f"{self.edition.link_base}#{self.anchor}"
        return spec.link(self.where, self.edition)

    # ---------------------------------------------------------------------------------- quotes
    @property
    def quote_document(self) -> Spec:
        return QUOTE_SOURCES[self.quote_spec or self.spec]

    @property
    def quote_edition(self) -> Version:
        """The version of the quoted document: the row's own, or the one named of another document."""
        if self.quote_spec is None or self.quote_spec == self.spec:
            return self.edition
        other = self.quote_document
        return other.edition(self.quote_version) if self.quote_version else other.versions[0]

    @property
    def quote_where(self) -> str:
        """The quote's section (a number or an MCP heading anchor), "" when it has none."""
        if self.quote_section:
            return self.quote_section
        if self.quote_spec and self.quote_spec != self.spec:
            return ""
        return self.anchor or self.where

    @property
    def quote_source(self) -> str | None:
        """Where the quote comes from, for people: "draft-ietf-oauth-v2-1-13, section 4.1.2.1"."""
        if not self.quote:
            return None
        name = document_name(self.quote_document, self.quote_edition)
        where = self.quote_where
        if not where:
            return name
        return f"{name}, section {where}" if where[:1].isdigit() or "." in where else f"{name}, #{where}"

    @property
    def quote_link(self) -> str | None:
        if not self.quote:
            return None
        document, edition, where = self.quote_document, self.quote_edition, self.quote_where
        if where and not where[:1].isdigit() and "." not in where and not where.isupper():
            return f"{edition.link_base}#{where}"  # an MCP heading anchor
        return document.link(where, edition) if where else edition.link_base


# The spec packages whose requirements.py make up the catalogue, in report order.
SPEC_PACKAGES = (
    "rfc8414",
    "oauth21",
    "rfc7636",
    "rfc7591",
    "rfc7592",
    "rfc6750",
    "rfc7009",
    "rfc7662",
    "rfc9728",
    "rfc8707",
    "rfc9207",
    "rfc9126",
    "rfc9449",
    "rfc8693",
    "rfc7523",
    "idjag",
    "cimd",
    "mcp",
    "robust",
)


@cache
def registry() -> dict[str, Requirement]:
    """Every requirement of every version, by id, as the version that defined it states it."""
    found: dict[str, Requirement] = {}
    for package in SPEC_PACKAGES:
        try:
            module = importlib.import_module(f"oauth_conformance.specs.{package}.requirements")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"oauth_conformance.specs.{package}"):
                continue
            raise
        for requirement in module.REQUIREMENTS:
            if requirement.id in found:
                raise ValueError(f"requirement {requirement.id} is defined twice")
            found[requirement.id] = requirement
    return found


def lookup(requirement_id: str) -> Requirement:
    try:
        return registry()[requirement_id]
    except KeyError:
        raise KeyError(unknown_id_message(requirement_id)) from None


def unknown_id_message(requirement_id: str) -> str:
    near = difflib.get_close_matches(requirement_id, list(registry()), n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]}?" if near else ""
    return f"unknown requirement id {requirement_id!r}{hint}"


def select(
    specs: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    versions: dict[str, str] | None = None,
) -> list[Requirement]:
    """The rows of these specs and levels, each as ``versions`` (token -> version) states it.

    A spec missing from ``versions`` is read in its newest version; rows that version lacks are left out.
    """
    wanted_specs = {s.upper() for s in specs} if specs else None
    wanted_levels = {lv.upper() for lv in levels} if levels else None
    chosen = versions or {}
    rows = []
    for r in registry().values():
        if wanted_specs is not None and r.spec not in wanted_specs:
            continue
        if wanted_levels is not None and r.level not in wanted_levels:
            continue
        read = r.at(chosen.get(r.spec) or SPECS[r.spec].newest.name)
        if read is not None:
            rows.append(read)
    return rows
