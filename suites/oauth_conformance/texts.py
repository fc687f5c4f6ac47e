"""The documents the catalogue quotes, and the versions of each it knows.

A spec token names a document (RFC 6749, the OAuth 2.1 draft, the MCP authorization page); a
draft comes in versions. :class:`Spec` lists them oldest first; the newest is what a run tests
unless it is pinned to another (``--spec-version OAUTH21=13``, or ``[versions]`` in a profile).
An RFC has one version, ``RFC``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


class UnknownVersion(ValueError):
    """A version the catalogue does not know for a spec (a usage error)."""


@dataclass(frozen=True, slots=True)
class Version:
    name: str  # what --spec-version takes: "13", "RFC", "2025-11-25"
    document: str  # "draft-ietf-oauth-v2-1-13"; "RFC" for an RFC
    link_base: str  # ends where "#section-X" or an anchor may be appended
    published: str = ""  # YYYY-MM-DD
    note: str = ""  # for people: who cites it


@dataclass(frozen=True, slots=True)
class Spec:
    token: str  # RFC8414
    title: str
    versions: tuple[Version, ...]  # oldest first; the newest is the default
    section_anchors: bool = True  # False: the page has no "#section-X" anchors (a GitHub file)

    @property
    def newest(self) -> Version:
        return self.versions[-1]

    @property
    def version(self) -> str:
        """The newest version's document name ("RFC", "draft-ietf-oauth-v2-1-16")."""
        return self.newest.document

    @property
    def link_base(self) -> str:
        return self.newest.link_base

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.versions]

    def edition(self, name: str) -> Version:
        """The version called ``name``: its short name ("13"), with a dash ("-13"), or its document name."""
        wanted = name.strip()
        for version in self.versions:
            if wanted in (version.name, f"-{version.name}", version.document):
                return version
        near = difflib.get_close_matches(wanted, self.names, n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise UnknownVersion(f"{self.token} has no version {name!r} (known: {', '.join(self.names)}){hint}")

    def index(self, name: str) -> int:
        return self.names.index(self.edition(name).name)

    def link(self, section: str, version: Version | None = None) -> str:
        base = (version or self.newest).link_base
        if not self.section_anchors:
            return base
        if base.endswith("#"):
            return f"{base}{section}"
        if section[:1].isalpha() and "." in section:
            return f"{base}#appendix-{section}"
        if not section[:1].isdigit():
            return base
        return f"{base}#section-{section}"


def _rfc(token: str, number: int, title: str) -> Spec:
    return Spec(token, title, (Version("RFC", "RFC", f"https://www.rfc-editor.org/rfc/rfc{number}"),))


def _draft(name: str, number: str, published: str, note: str = "") -> Version:
    document = f"{name}-{number}"
    return Version(number, document, f"https://datatracker.ietf.org/doc/html/{document}", published, note)


_OAUTH21 = "draft-ietf-oauth-v2-1"
_IDJAG = "draft-ietf-oauth-identity-assertion-authz-grant"
_CIMD = "draft-ietf-oauth-client-id-metadata-document"

SPECS: dict[str, Spec] = {
    spec.token: spec
    for spec in (
        _rfc("RFC8414", 8414, "OAuth 2.0 Authorization Server Metadata"),
        Spec(
            "OAUTH21",
            "The OAuth 2.1 Authorization Framework",
            (
                _draft(_OAUTH21, "13", "2025-05-28", "cited by MCP 2025-11-25"),
                _draft(_OAUTH21, "15", "2026-03-02"),
                _draft(_OAUTH21, "16", "2026-09-03"),
            ),
        ),
        _rfc("RFC6749", 6749, "The OAuth 2.0 Authorization Framework"),
        _rfc("RFC7636", 7636, "Proof Key for Code Exchange (PKCE)"),
        _rfc("RFC7591", 7591, "OAuth 2.0 Dynamic Client Registration Protocol"),
        _rfc("RFC7592", 7592, "OAuth 2.0 Dynamic Client Registration Management Protocol"),
        _rfc("RFC6750", 6750, "OAuth 2.0 Bearer Token Usage"),
        _rfc("RFC7009", 7009, "OAuth 2.0 Token Revocation"),
        _rfc("RFC7662", 7662, "OAuth 2.0 Token Introspection"),
        _rfc("RFC9728", 9728, "OAuth 2.0 Protected Resource Metadata"),
        _rfc("RFC8707", 8707, "Resource Indicators for OAuth 2.0"),
        _rfc("RFC9207", 9207, "OAuth 2.0 Authorization Server Issuer Identification"),
        _rfc("RFC9126", 9126, "OAuth 2.0 Pushed Authorization Requests"),
        _rfc("RFC9449", 9449, "OAuth 2.0 Demonstrating Proof of Possession (DPoP)"),
        _rfc("RFC8693", 8693, "OAuth 2.0 Token Exchange"),
        _rfc("RFC7523", 7523, "JWT Profile for OAuth 2.0 Client Authentication and Authorization Grants"),
        # -05 (parecki numbering aside) and -06 (30 October 2026) exist, but no full text of them
        # was at hand to check quotes against; -04 is the newest pinned.
        Spec(
            "IDJAG",
            "Identity Assertion JWT Authorization Grant",
            (_draft(_IDJAG, "03", "2026-04-22", "cited by MCP-EMA"), _draft(_IDJAG, "04", "2026-05-21")),
        ),
        # -03 (2 November 2026) exists, but no full text of it was at hand; -02 is the newest pinned.
        Spec(
            "CIMD",
            "OAuth Client ID Metadata Document",
            (_draft(_CIMD, "01", "2026-03-02"), _draft(_CIMD, "02", "2026-07-06")),
        ),
        Spec(
            "MCP",
            "Model Context Protocol: Authorization",
            (
                Version(
                    "2025-11-25",
                    "2025-11-25",
                    "https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization",
                    "2025-11-25",
                ),
            ),
        ),
        Spec(
            "ROBUST",
            "Robustness under wrong, random and hostile input (oauth-conformance)",
            (Version("oauth-conformance", "oauth-conformance", "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"),),
        ),
    )
}

# Documents a quote may come from besides the spec tokens: the RFCs our own ROBUST rows rest on, and
# the MCP authorization extension the MCP-EMA rows test (MCP 2025-11-25 lists it, it is not part of it).
QUOTE_SOURCES: dict[str, Spec] = SPECS | {
    spec.token: spec
    for spec in (
        _rfc("RFC3986", 3986, "Uniform Resource Identifier (URI): Generic Syntax"),
        _rfc("RFC7521", 7521, "Assertion Framework for OAuth 2.0 Client Authentication and Authorization Grants"),
        _rfc("RFC9110", 9110, "HTTP Semantics"),
        Spec(
            "MCP-EMA",
            "MCP Enterprise-Managed Authorization (authorization extension)",
            (
                Version(
                    "ext-auth-draft-2025-10-24",
                    "ext-auth-draft-2025-10-24",
                    "https://github.com/modelcontextprotocol/ext-auth/blob/32375543bcedef7018c86de4fab9d1e7226cb25f"
                    "/specification/draft/enterprise-managed-authorization.mdx",
                ),
            ),
            section_anchors=False,
        ),
    )
}


def document_name(spec: Spec, version: Version) -> str:
    """How people cite a version: "RFC 6749", "draft-ietf-oauth-v2-1-13", "MCP 2025-11-25"."""
    if version.document == "RFC":
        return f"RFC {spec.token[3:]}"
    if version.document.startswith("draft-"):
        return version.document
    return f"{spec.token} {version.document}"
