"""CIMD section 4.4: caching documents by their HTTP headers, and never caching failures. Each test
first shows that a valid document works."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.time_travel import TargetClock
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

Note = Callable[[str], None]


@requirement("CIMD-4.4-NO-ERROR-CACHE")
@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"client_id_replace": [".json", ".json/"]}],
    ids=["server-error", "invalid-document"],
)
def test_a_failed_fetch_is_not_cached(proven_documents: Documents, failure: dict[str, object]) -> None:
    url = proven_documents.url(first=failure)
    client = proven_documents.client(url)
    failed = proven_documents.attempt(client)
    if failed.code is not None:
        raise PrerequisiteFailed("the first attempt succeeded although the first fetch failed")
    again = proven_documents.attempt(client)
    assert again.code is not None, (
        f"once the document is good, {again.describe()}: the failure was remembered"
        f" ({proven_documents.hits(url)} fetches)"
    )


@requirement("CIMD-4.4-HTTP-CACHE")
def test_a_no_store_document_is_fetched_again(proven_documents: Documents) -> None:
    url = proven_documents.url(headers={"Cache-Control": "no-store"})
    client = proven_documents.client(url)
    proven_documents.attempt(client)
    first = proven_documents.hits(url)
    proven_documents.attempt(client)
    assert proven_documents.hits(url) > first, "a document served with Cache-Control: no-store was reused from a cache"


@requirement("CIMD-4.4-HTTP-CACHE")
def test_a_cached_document_is_fetched_again_after_its_max_age(
    proven_documents: Documents, clock: TargetClock, note: Note
) -> None:
    url = proven_documents.url(headers={"Cache-Control": "max-age=300"})
    client = proven_documents.client(url)
    proven_documents.attempt(client)
    first = proven_documents.hits(url)
    proven_documents.attempt(client)
    second = proven_documents.hits(url)
    if second > first:
        not_applicable("the target does not cache documents (it may: CIMD section 4.4)")
    note("the target caches documents served with max-age")
    clock.advance(400)
    proven_documents.attempt(client)
    assert proven_documents.hits(url) > second, "a document was still served from the cache after its max-age"
