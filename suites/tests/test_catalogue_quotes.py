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
from oauth_conformance.catalogue import SPECS
from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Reading
from oauth_conformance.catalogue import Requirement
from oauth_conformance.catalogue import registry

from . import spec_texts

BINDING = re.compile(r"\b(?:" + "|".join(sorted(BINDING_KEYWORDS, key=len, reverse=True)) + r")\b")
QUOTED = [r for r in registry().values() if r.quote]
# Every row as every version of its text that has it states it: the words are checked in each.
READINGS = [
    read
    for r in registry().values()
    for version in SPECS[r.spec].names
    if (read := r.at(version)) is not None and read.quote
]


def unquoted_musts(rows: list[Requirement]) -> list[str]:
    return [r.id for r in rows if r.level is Level.MUST and not r.quote]


def musts_without_binding_words(rows: list[Requirement]) -> list[str]:
    return [r.id for r in rows if r.level is Level.MUST and r.quote and not BINDING.search(r.quote)]


def test_every_must_has_a_quote() -> None:
    missing = unquoted_musts(list(registry().values()))
    assert not missing, f"MUST rows without the words that make them binding: {missing}"


def test_every_must_quote_carries_a_binding_keyword() -> None:
    weak = musts_without_binding_words(READINGS)
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


def reading_id(r: Requirement) -> str:
    return f"{r.id}@{r.version}"


@pytest.mark.parametrize("requirement", READINGS, ids=reading_id)
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


def test_a_row_reads_as_each_version_states_it() -> None:
    row = Requirement(
        "OAUTH21-7.12.2-X",
        Level.MUST,
        "x",
        quote="The AS MUST do x.",
        readings=(Reading("15", quote="The authorization server MUST do x."), Reading("16", section="7.13.2")),
    )
    old, middle, new = row.at("13"), row.at("15"), row.at("16")
    assert old is not None and middle is not None and new is not None
    assert (old.where, old.quote) == ("7.12.2", "The AS MUST do x.")
    assert (middle.where, middle.quote) == ("7.12.2", "The authorization server MUST do x.")
    assert (new.where, new.quote, new.id) == ("7.13.2", "The authorization server MUST do x.", row.id)
    assert new.quote_source == "draft-ietf-oauth-v2-1-16, section 7.13.2"
    late = Requirement("OAUTH21-4.1.2-Y", Level.MUST, "y", quote="y MUST z", since="16")
    assert late.at("13") is None and late.at("15") is None and late.at("16") is not None
    gone = Requirement("OAUTH21-4.1.1-Z", Level.MUST, "z", quote="z MUST y", until="15")
    assert gone.at("15") is not None and gone.at("16") is None
    with pytest.raises(ValueError, match="readings must follow"):
        Requirement("OAUTH21-1-W", Level.MAY, "w", readings=(Reading("16"), Reading("15")))
    with pytest.raises(ValueError, match="no version"):
        Requirement("OAUTH21-1-W", Level.MAY, "w", since="12")


@pytest.mark.skipif(spec_texts.folder() is None, reason=f"no spec texts: set {spec_texts.ENV}")
@pytest.mark.parametrize("requirement", READINGS if spec_texts.folder() else READINGS[:1], ids=reading_id)
def test_quote_is_verbatim_in_its_section(requirement: Requirement) -> None:
    document, edition = requirement.quote_document, requirement.quote_edition
    text = spec_texts.load(document.token, edition.document)
    if text is None:
        pytest.skip(f"no copy of {document.token} {edition.document} in {spec_texts.folder()}")
    found = text.find(requirement.quote or "")
    assert found, f"not in {text.path.name}: {requirement.quote!r}"
    where = requirement.quote_where
    if where:
        assert where in found, f"found in section(s) {found} of {text.path.name}, not {where}"
