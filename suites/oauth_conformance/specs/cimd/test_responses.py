"""CIMD sections 4, 4.3 and 6.6: how the document URL answers (status, redirects, a trickle, a flood)
and what the server does with it. Each test first shows that a valid document works."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.support.metadata_documents import assert_not_proceeded

Note = Callable[[str], None]
PROMPT = 15.0  # seconds: longer than any sensible fetch timeout, shorter than the harness's own
FETCH_SLACK = 5.0  # seconds past a declared fetch timeout: the authorization request's own round trips


@requirement("CIMD-4-ONLY-200")
@pytest.mark.parametrize("status", [201, 203, 404, 500])
def test_a_document_served_with_another_status_is_refused(proven_documents: Documents, status: int, note: Note) -> None:
    attempt = proven_documents.attempt(proven_documents.client(proven_documents.url(status=status)))
    assert_not_proceeded(attempt, f"a valid document served with HTTP {status}", note)


@requirement("CIMD-4-NO-REDIRECTS")
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_a_document_is_not_followed(proven_documents: Documents, status: int, note: Note) -> None:
    target_url = proven_documents.url()
    redirect = proven_documents.path(target_url)
    url = proven_documents.url(status=status, redirect=redirect)
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert proven_documents.hits(target_url) == 0, f"the target followed an HTTP {status} redirect to {redirect}"
    assert_not_proceeded(attempt, f"a document URL answering HTTP {status}", note)


@requirement("CIMD-4.3-FETCH-FAIL")
def test_a_document_that_trickles_in_aborts_the_request_promptly(proven_documents: Documents, note: Note) -> None:
    # About 150 bytes at one every half second: over a minute for the whole document.
    url = proven_documents.url(drip=0.5)
    # The spec names no deadline; a target that declares its own ([policy] fetch_timeout) is held
    # to it, never to more than PROMPT.
    declared = proven_documents.target.profile.policy.fetch_timeout
    prompt = PROMPT if declared is None else min(PROMPT, declared + FETCH_SLACK)
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert attempt.seconds < prompt, f"the target waited {attempt.seconds:.0f}s for a document that trickled in"
    assert_not_proceeded(attempt, "a document that trickles in byte by byte", note)


@requirement("CIMD-6.6-MAX-SIZE")
def test_an_oversized_document_is_refused_promptly(proven_documents: Documents, note: Note) -> None:
    url = proven_documents.url(pad=1_000_000)
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert attempt.seconds < PROMPT, f"the target spent {attempt.seconds:.0f}s on a 1 MB document"
    assert_not_proceeded(attempt, "a 1 MB document", note)
