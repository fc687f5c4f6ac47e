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

    def link(self, section: str) -> str:
        if self.link_base.endswith("#"):
            return f"{self.link_base}{section}"
        if section[:1].isalpha() and "." in section:
            return f"{self.link_base}#appendix-{section}"
        if not section[:1].isdigit():
            return self.link_base
        return f"{self.link_base}#section-{section}"


def _rfc(number: int, title: str) -> tuple[str, str, str]:
    return title, "RFC", f"https://www.rfc-editor.org/rfc/rfc{number}"


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


@dataclass(frozen=True, slots=True)
class Requirement:
    """One normative, black-box observable behaviour, in our words."""

    id: str
    level: Level
    summary: str
    applies_if: Feature | None = None
    untestable: str | None = None  # why no black-box test can verify it, when none can
    anchor: str | None = None  # a link fragment when the section is not numbered (MCP)

    def __post_init__(self) -> None:
        spec, _, rest = self.id.partition("-")
        section, _, slug = rest.partition("-")
        if spec not in SPECS or not section or not slug or slug != slug.upper():
            raise ValueError(f"malformed requirement id {self.id!r}: want <SPEC>-<section>-<SLUG>")

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
