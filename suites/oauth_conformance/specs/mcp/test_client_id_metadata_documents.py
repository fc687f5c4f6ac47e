"""MCP authorization, Client ID Metadata Documents: what MCP asks of an authorization server that
accepts URL client ids (on top of the CIMD suite). Each negative test first shows that a valid
document works for this target (``proven_documents``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from oauth_conformance import requirement
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.evidence import Recorder
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.support.metadata_documents import assert_not_proceeded
from oauth_conformance.support.metadata_documents import assert_stopped
from oauth_conformance.support.pages import shows
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested

Finding = Callable[[str], None]
REMOTE_REDIRECT = "https://callback.oauth-conformance.test/mcp/callback"


@pytest.fixture
def mcp_documents(fixture_host: Any, oauth: OAuth, driver: ConsentDriver, target: Target) -> Documents:
    """Documents on the fixture host (not_tested when the target cannot reach it)."""
    return Documents(fixture_host, oauth, driver, target, target.profile.request.redirect_uri)


@pytest.fixture
def proven_documents(mcp_documents: Documents) -> Documents:
    """The same, once a valid document worked end to end (else the test is not_tested)."""
    mcp_documents.prove()
    return mcp_documents


@requirement("MCP-CIMD-SUPPORT")
def test_the_authorization_server_supports_client_id_metadata_documents(
    target: Target, request: pytest.FixtureRequest
) -> None:
    flag = target.metadata.get("client_id_metadata_document_supported")
    assert flag is True, f"client_id_metadata_document_supported is {flag!r}"
    works: Documents = request.getfixturevalue("mcp_documents")
    works.prove("MCP-CIMD-SUPPORT")


@requirement("MCP-CIMD-CLIENT-ID")
def test_a_document_whose_client_id_is_not_its_url_is_refused(proven_documents: Documents, finding: Finding) -> None:
    url = proven_documents.url(client_id_replace=["/cimd/", "/cimd/oauth-conformance/"])
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert_not_proceeded(attempt, "a document whose client_id names another URL", finding)


@requirement("MCP-CIMD-REDIRECT-URIS")
def test_a_redirect_uri_missing_from_the_document_is_refused(proven_documents: Documents) -> None:
    unlisted = proven_documents.redirect_uri.rstrip("/") + "/oauth-conformance-unlisted"
    attempt = proven_documents.attempt(
        proven_documents.client(proven_documents.url(), redirect_uri=unlisted), redirect_uri=unlisted
    )
    assert_stopped(attempt, "a redirect_uri the document does not list")


@requirement("MCP-CIMD-DOCUMENT")
@pytest.mark.parametrize(
    "variant",
    [{"raw": "{not json"}, {"omit": ["client_name"]}, {"omit": ["redirect_uris"]}, {"omit": ["client_id"]}],
    ids=["not-json", "no-client-name", "no-redirect-uris", "no-client-id"],
)
def test_a_document_without_the_fields_mcp_requires_is_refused(
    proven_documents: Documents, variant: dict[str, Any], finding: Finding
) -> None:
    attempt = proven_documents.attempt(proven_documents.client(proven_documents.url(**variant)))
    assert_not_proceeded(attempt, f"a document with {variant}", finding)


@requirement("MCP-CIMD-REDIRECT-HOST")
def test_the_authorization_page_shows_the_redirect_uri_host(proven_documents: Documents, recorder: Recorder) -> None:
    url = proven_documents.url(doc={"redirect_uris": [REMOTE_REDIRECT]})
    attempt = proven_documents.attempt(proven_documents.client(url, redirect_uri=REMOTE_REDIRECT))
    if attempt.code is None:
        raise PrerequisiteFailed(f"with an https redirect URI in the document, {attempt.describe()}")
    # The whole pages, as the user sees them: rendered text only (a hidden input shows nothing).
    pages = recorder.pages
    if not pages:
        not_tested("the consent step showed no HTML page the harness could read", unlock="consent.driver")
    host = urlsplit(REMOTE_REDIRECT).hostname or ""
    assert any(shows(page, host) for page in pages), (
        f"no page of the authorization step shows the redirect host {host} in its visible text"
    )
