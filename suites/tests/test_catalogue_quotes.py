"""The catalogue quotes the pinned texts: every MUST carries the words that bind the server.

The words are checked against the texts themselves when a copy is at hand (see ``spec_texts``);
without one, only what the catalogue alone shows is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oauth_conformance.catalogue import BINDING_KEYWORDS
from oauth_conformance.catalogue import ELISION
from oauth_conformance.catalogue import QUOTE_SOURCES
from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry

from . import spec_texts

BINDING = re.compile(r"\b(?:" + "|".join(sorted(BINDING_KEYWORDS, key=len, reverse=True)) + r")\b")
QUOTED = [r for r in registry().values() if r.quote]


def unquoted_musts(rows: list[Requirement]) -> list[str]:
    return [r.id for r in rows if r.level is Level.MUST and not r.quote]


def musts_without_binding_words(rows: list[Requirement]) -> list[str]:
    return [r.id for r in rows if r.level is Level.MUST and r.quote and not BINDING.search(r.quote)]


def test_every_must_has_a_quote() -> None:
    missing = unquoted_musts(list(registry().values()))
    assert not missing, f"MUST rows without the words that make them binding: {missing}"


def test_every_must_quote_carries_a_binding_keyword() -> None:
    weak = musts_without_binding_words(list(registry().values()))
    assert not weak, f"MUST rows whose quote has no MUST, MUST NOT, REQUIRED, SHALL or SHALL NOT: {weak}"


def test_the_checks_catch_a_bare_must_and_a_weak_quote() -> None:
    bare = Requirement("RFC7636-4.6-BARE", Level.MUST, "x")
    weak = Requirement("RFC7636-4.6-WEAK", Level.MUST, "x", quote="The server SHOULD compare them.")
    lowercase = Requirement("RFC7636-4.6-LOWER", Level.MUST, "x", quote="the server must compare them.")
    fine = Requirement("RFC7636-4.6-FINE", Level.MUST, "x", quote="The server MUST NOT skip it.")
    should = Requirement("RFC7636-4.6-SOFT", Level.SHOULD, "x")
    rows = [bare, weak, lowercase, fine, should]
    assert unquoted_musts(rows) == [bare.id]
    assert musts_without_binding_words(rows) == [weak.id, lowercase.id]


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


def test_spec_texts_find_words_only_where_they_stand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "1.  Intro\n\n   Nothing here.\n\n2.  Rules\n\n   The server MUST com-\n   pare the values.\n   It MAY log.\n"
    )
    (tmp_path / "RFC0001-RFC.txt").write_text(text, encoding="utf-8")
    monkeypatch.setenv(spec_texts.ENV, str(tmp_path))
    spec_texts.load.cache_clear()
    try:
        document = spec_texts.load("RFC0001", "RFC")
        assert document is not None
        assert document.find("The server MUST com-pare the values.") == ["2"]
        assert document.find("The server MUST [...] It MAY log.") == ["2"]
        assert document.find("It MAY log. [...] The server MUST") == []
        assert document.find("The server MUST compare the values.") == []
    finally:
        spec_texts.load.cache_clear()


@pytest.mark.skipif(spec_texts.folder() is None, reason=f"no spec texts: set {spec_texts.ENV}")
@pytest.mark.parametrize("requirement", QUOTED if spec_texts.folder() else QUOTED[:1], ids=lambda r: r.id)
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
