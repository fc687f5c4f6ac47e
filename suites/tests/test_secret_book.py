"""SecretBook's scan reads only the runs of characters a secret can begin with; it must find and
mask exactly what a look at every position of the text finds (the plain scan, kept here as the oracle)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from oauth_conformance.redaction import MIN_SECRET
from oauth_conformance.redaction import SecretBook
from oauth_conformance.redaction import mask


def every_position(book: SecretBook, text: str) -> tuple[list[tuple[str, int]], str]:
    """The plain scan: at each position, the longest form of a value that starts there."""
    forms = book._forms
    ordered = sorted(forms, key=len, reverse=True)
    found = []
    for i in range(len(text) - MIN_SECRET + 1):
        form = next((f for f in ordered if text.startswith(f, i)), None)
        if form is not None:
            found.append((forms[form], i))
    out, i, done = [], 0, 0
    while i < len(text) - MIN_SECRET + 1:
        form = next((f for f in ordered if text.startswith(f, i)), None)
        if form is None:
            i += 1
            continue
        out += [text[done:i], mask(forms[form])]
        i = done = i + len(form)
    return found, "".join(out) + text[done:] if out else text


ALPHABET = 'ab/ %+é"-_~.'  # characters inside and outside the values, some percent-encoded
secrets = st.lists(st.text(ALPHABET, min_size=MIN_SECRET, max_size=14), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(secrets, st.lists(st.one_of(st.text(ALPHABET + "xyz:<>", max_size=12), st.integers(0, 4)), max_size=12))
def test_the_run_scan_finds_and_masks_what_a_scan_of_every_position_does(
    values: list[str], pieces: list[str | int]
) -> None:
    book = SecretBook()
    book.update(values)
    forms = sorted(book._forms)
    text = "".join(p if isinstance(p, str) else forms[p % len(forms)] for p in pieces)
    found, scrubbed = every_position(book, text)
    assert book.occurrences(text) == found
    assert book.scrub(text) == scrubbed


def test_a_value_is_found_inside_prose_and_masked_where_it_ends_past_its_run() -> None:
    book = SecretBook()
    book.add("abcdefgh:tail")  # ':' is not a prefix character: the value ends past the run
    text = 'the token "abcdefgh:tail" and again abcdefgh:tail.'
    assert [i for _, i in book.occurrences(text)] == [11, 36]
    assert "abcdefgh" not in book.scrub(text)
