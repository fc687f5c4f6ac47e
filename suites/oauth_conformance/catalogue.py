"""The requirement catalogue: every requirement the suites can verify, as data.

A requirement id is ``<SPEC>-<section>-<SLUG>`` (contract C5), the spec token being the same
string as the suite package (``specs/rfc8414``) and the reference module (``specs/rfc8414.py``).
Each spec package holds its requirements in ``requirements.py``; :data:`REGISTRY` joins them.
"""

from __future__ import annotations

import difflib
import enum
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from oauth_conformance.features import Feature


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True, slots=True)
class Spec:
    token: str  # RFC8414
    title: str
    version: str  # "RFC" or the pinned draft
    link_base: str  # ends where "#section-X" or an anchor may be appended
    section_anchors: bool = True  # False: the page has no "#section-X" anchors (a GitHub file)

    def link(self, section: str) -> str:
        if not self.section_anchors:
            return self.link_base
        if self.link_base.endswith("#"):
            return f"{self.link_base}{section}"
        if section[:1].isalpha() and "." in section:
            return f"{self.link_base}#appendix-{section}"
        if not section[:1].isdigit():
            return self.link_base
        return f"{self.link_base}#section-{section}"


def _rfc(number: int, title: str) -> tuple[str, str, str]:
    return title, "RFC", f"https://www.rfc-editor.org/rfc/rfc{number}"


# Words that bind a server, quoted exactly (whitespace normalised) from the pinned text. A quote may
# leave words out of a long sentence with this marker; each part is verbatim.
ELISION = "[...]"
BINDING_KEYWORDS = ("MUST", "MUST NOT", "REQUIRED", "SHALL", "SHALL NOT")  # BCP 14 (RFC 2119, RFC 8174)


SPECS: dict[str, Spec] = {
    token: Spec(token, *data)
    for token, data in {
        "RFC8414": _rfc(8414, "OAuth 2.0 Authorization Server Metadata"),
        "OAUTH21": (
            "The OAuth 2.1 Authorization Framework",
            "draft-ietf-oauth-v2-1-13",
            "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13",
        ),
        "RFC6749": _rfc(6749, "The OAuth 2.0 Authorization Framework"),
        "RFC7636": _rfc(7636, "Proof Key for Code Exchange (PKCE)"),
        "RFC7591": _rfc(7591, "OAuth 2.0 Dynamic Client Registration Protocol"),
        "RFC7592": _rfc(7592, "OAuth 2.0 Dynamic Client Registration Management Protocol"),
        "RFC6750": _rfc(6750, "OAuth 2.0 Bearer Token Usage"),
        "RFC7009": _rfc(7009, "OAuth 2.0 Token Revocation"),
        "RFC9728": _rfc(9728, "OAuth 2.0 Protected Resource Metadata"),
        "RFC8707": _rfc(8707, "Resource Indicators for OAuth 2.0"),
        "RFC9207": _rfc(9207, "OAuth 2.0 Authorization Server Issuer Identification"),
        "RFC8693": _rfc(8693, "OAuth 2.0 Token Exchange"),
        "RFC7523": _rfc(7523, "JWT Profile for OAuth 2.0 Client Authentication and Authorization Grants"),
        # Pinned to -03: the -04 text is not in the oauth-wg repository snapshot (its tags end at
        # -03), so section numbers are those of -03, checked against that tag's text.
        "IDJAG": (
            "Identity Assertion JWT Authorization Grant",
            "draft-ietf-oauth-identity-assertion-authz-grant-03",
            "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-identity-assertion-authz-grant-03",
        ),
        "CIMD": (
            "OAuth Client ID Metadata Document",
            "draft-ietf-oauth-client-id-metadata-document-01",
            "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-01",
        ),
        "MCP": (
            "Model Context Protocol: Authorization",
            "2025-11-25",
            "https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization",
        ),
        "ROBUST": (
            "Robustness under wrong, random and hostile input (oauth-conformance)",
            "oauth-conformance",
            "https://www.rfc-editor.org/rfc/rfc6749#section-5.2",
        ),
    }.items()
}

# Documents a quote may come from besides the spec tokens: the RFCs our own ROBUST rows rest on, and
# the MCP authorization extension the MCP-EMA rows test (MCP 2025-11-25 lists it, it is not part of it).
QUOTE_SOURCES: dict[str, Spec] = SPECS | {
    token: Spec(token, *data)  # type: ignore[arg-type]
    for token, data in {
        "RFC3986": _rfc(3986, "Uniform Resource Identifier (URI): Generic Syntax"),
        "RFC7521": _rfc(7521, "Assertion Framework for OAuth 2.0 Client Authentication and Authorization Grants"),
        "RFC9110": _rfc(9110, "HTTP Semantics"),
        "MCP-EMA": (
            "MCP Enterprise-Managed Authorization (authorization extension)",
            "ext-auth-draft-2025-10-24",
            "https://github.com/modelcontextprotocol/ext-auth/blob/32375543bcedef7018c86de4fab9d1e7226cb25f"
            "/specification/draft/enterprise-managed-authorization.mdx",
            False,
        ),
    }.items()
}


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

    def __post_init__(self) -> None:
        spec, _, rest = self.id.partition("-")
        section, _, slug = rest.partition("-")
        if spec not in SPECS or not section or not slug or slug != slug.upper():
            raise ValueError(f"malformed requirement id {self.id!r}: want <SPEC>-<section>-<SLUG>")
        if self.quote_spec is not None and self.quote_spec not in QUOTE_SOURCES:
            raise ValueError(f"{self.id}: unknown quote_spec {self.quote_spec!r}")
        if (self.quote_section or self.quote_spec) and not self.quote:
            raise ValueError(f"{self.id}: quote_section or quote_spec without a quote")

    @property
    def spec(self) -> str:
        return self.id.partition("-")[0]

    @property
    def section(self) -> str:
        return self.id.split("-", 2)[1]

    @property
    def link(self) -> str:
        spec = SPECS[self.spec]
        if self.anchor:
            return f"{spec.link_base}#{self.anchor}"
        return spec.link(self.section)

    @property
    def quote_document(self) -> Spec:
        return QUOTE_SOURCES[self.quote_spec or self.spec]

    @property
    def quote_where(self) -> str:
        """The quote's section (a number or an MCP heading anchor), "" when it has none."""
        if self.quote_section:
            return self.quote_section
        if self.quote_spec and self.quote_spec != self.spec:
            return ""
        return self.anchor or self.section

    @property
    def quote_source(self) -> str | None:
        """Where the quote comes from, for people: "draft-ietf-oauth-v2-1-13, section 4.1.2.1"."""
        if not self.quote:
            return None
        document = self.quote_document
        if document.version == "RFC":
            name = f"RFC {document.token[3:]}"
        elif document.version.startswith("draft-"):
            name = document.version
        else:
            name = f"{document.token} {document.version}"
        where = self.quote_where
        if not where:
            return name
        return f"{name}, section {where}" if where[:1].isdigit() or "." in where else f"{name}, #{where}"

    @property
    def quote_link(self) -> str | None:
        if not self.quote:
            return None
        document, where = self.quote_document, self.quote_where
        if where and not where[:1].isdigit() and "." not in where and not where.isupper():
            return f"{document.link_base}#{where}"  # an MCP heading anchor
        return document.link(where) if where else document.link_base


# The spec packages whose requirements.py make up the catalogue, in report order.
SPEC_PACKAGES = (
    "rfc8414",
    "oauth21",
    "rfc7636",
    "rfc7591",
    "rfc7592",
    "rfc6750",
    "rfc7009",
    "rfc9728",
    "rfc8707",
    "rfc9207",
    "rfc8693",
    "rfc7523",
    "idjag",
    "cimd",
    "mcp",
    "robust",
)


@cache
def registry() -> dict[str, Requirement]:
    """Every requirement, by id, from the spec packages that exist."""
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


def select(specs: Iterable[str] | None = None, levels: Iterable[str] | None = None) -> list[Requirement]:
    wanted_specs = {s.upper() for s in specs} if specs else None
    wanted_levels = {lv.upper() for lv in levels} if levels else None
    return [
        r
        for r in registry().values()
        if (wanted_specs is None or r.spec in wanted_specs) and (wanted_levels is None or r.level in wanted_levels)
    ]
