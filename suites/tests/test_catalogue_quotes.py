"""The catalogue quotes the pinned texts: every MUST carries the words that bind the server.

The words are checked against the texts themselves when a copy is at hand (see ``spec_texts``);
without one, only what the catalogue alone shows is checked.
"""

from __future__ import annotations

import re

import pytest

from oauth_conformance.catalogue import BINDING_KEYWORDS
from oauth_conformance.catalogue import ELISION
from oauth_conformance.catalogue import QUOTE_SOURCES
from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry

from . import spec_texts

BINDING = re.compile(r"\b(?:" + "|".join(sorted(BINDING_KEYWORDS, key=len, reverse=True)) + r")\b")
ANY_KEYWORD = re.compile(r"\b(?:MUST|SHALL|REQUIRED|SHOULD|RECOMMENDED|MAY|OPTIONAL)\b")
QUOTED = [r for r in registry().values() if r.quote]


def test_every_must_has_a_quote() -> None:
    missing = [r.id for r in registry().values() if r.level is Level.MUST and not r.quote]
    assert not missing, f"MUST rows without the words that make them binding: {missing}"


def test_every_must_quote_carries_a_binding_keyword() -> None:
    weak = [r.id for r in registry().values() if r.level is Level.MUST and r.quote and not BINDING.search(r.quote)]
    assert not weak, f"MUST rows whose quote has no MUST, MUST NOT, REQUIRED, SHALL or SHALL NOT: {weak}"


def test_should_quotes_do_not_overstate_the_level() -> None:
    # A SHOULD row that quotes a plain MUST of its own section would be a MUST row in disguise;
    # the ones that do quote MUST words say why the MUST does not reach the tested behaviour.
    for r in registry().values():
        if r.level is not Level.MUST and r.quote:
            assert ANY_KEYWORD.search(r.quote) or r.quote_section or r.quote_spec or r.level is Level.SHOULD, r.id


@pytest.mark.parametrize("requirement", QUOTED, ids=lambda r: r.id)
def test_quote_is_normalised_and_placed(requirement: Requirement) -> None:
    quote = requirement.quote or ""
    assert quote == quote.strip() and "  " not in quote and "\n" not in quote, "quotes are single-spaced"
    assert not quote.startswith(ELISION) and not quote.endswith(ELISION), "an elision stands between words"
    assert (requirement.quote_spec or requirement.spec) in QUOTE_SOURCES
    if requirement.spec == "ROBUST":
        assert requirement.quote_spec, "a ROBUST row quotes the document it rests on"
    assert requirement.quote_source and requirement.quote_link


def test_catalogue_rejects_a_quote_source_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unknown quote_spec"):
        Requirement("RFC7636-4.6-X", Level.MUST, "x", quote="x MUST y", quote_spec="RFC0000")
    with pytest.raises(ValueError, match="without a quote"):
        Requirement("RFC7636-4.6-X", Level.MUST, "x", quote_section="4.6")


@pytest.mark.skipif(spec_texts.folder() is None, reason=f"no spec texts: set {spec_texts.ENV}")
@pytest.mark.parametrize("requirement", QUOTED, ids=lambda r: r.id)
def test_quote_is_verbatim_in_its_section(requirement: Requirement) -> None:
    document = requirement.quote_document
    text = spec_texts.load(document.token, document.version)
    if text is None:
        pytest.skip(f"no copy of {document.token} {document.version} in {spec_texts.folder()}")
    found = text.find(requirement.quote or "")
    assert found, f"not in {text.path.name}: {requirement.quote!r}"
    where = requirement.quote_where
    if where:
        assert where in found, f"found in section(s) {found} of {text.path.name}, not {where}"
