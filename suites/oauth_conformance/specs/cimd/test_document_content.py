"""CIMD sections 4.1 and 4.5: what a document must say (its own URL, as a JSON object, no shared
secret) and which redirect URIs it allows. Each test first shows that a valid document works."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from oauth_conformance import requirement
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.support.metadata_documents import assert_not_proceeded
from oauth_conformance.support.metadata_documents import assert_stopped
from oauth_conformance.verdicts import PrerequisiteFailed

Note = Callable[[str], None]


MISMATCHES = {
    "other-path": ["/cimd/", "/cimd/oauth-conformance/"],
    "trailing-slash": [".json", ".json/"],
    "upper-case-scheme": ["https://", "HTTPS://"],
    "added-query": [".json", ".json?oauth-conformance=1"],
}


@requirement("CIMD-4.1-CLIENT-ID-MATCH")
@pytest.mark.parametrize("variant", list(MISMATCHES))
def test_a_document_whose_client_id_differs_from_its_url_is_refused(
    proven_documents: Documents, variant: str, note: Note
) -> None:
    url = proven_documents.url(client_id_replace=MISMATCHES[variant])
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert_not_proceeded(attempt, f"a document whose client_id differs from its URL ({variant})", note)


BROKEN_BODIES: dict[str, dict[str, Any]] = {
    "not-json": {"raw": "this is not JSON"},
    "json-array": {"raw": "[]"},
    "no-client-id": {"omit": ["client_id"]},
}


@requirement("CIMD-4.1-JSON")
@pytest.mark.parametrize("variant", list(BROKEN_BODIES))
def test_a_document_that_is_not_a_json_object_with_client_id_is_refused(
    proven_documents: Documents, variant: str, note: Note
) -> None:
    url = proven_documents.url(**BROKEN_BODIES[variant])
    attempt = proven_documents.attempt(proven_documents.client(url))
    assert_not_proceeded(attempt, f"a broken document ({variant})", note)


SECRETS: dict[str, tuple[dict[str, Any], str]] = {
    "client_secret_basic": ({"token_endpoint_auth_method": "client_secret_basic"}, "client_secret_basic"),
    "client_secret_post": ({"token_endpoint_auth_method": "client_secret_post"}, "client_secret_post"),
    "client_secret_jwt": ({"token_endpoint_auth_method": "client_secret_jwt"}, "client_secret_post"),
    "client_secret": ({"client_secret": "oauth-conformance-shared-secret"}, "client_secret_post"),
    "client_secret_expires_at": (
        {"client_secret": "oauth-conformance-shared-secret", "client_secret_expires_at": 0},
        "client_secret_post",
    ),
}


@requirement("CIMD-4.1-NO-SYMMETRIC")
@pytest.mark.parametrize("variant", list(SECRETS))
def test_a_document_cannot_make_a_shared_secret_client(proven_documents: Documents, variant: str) -> None:
    # A server may refuse such a document, or treat its client as public and ignore the secret: a
    # token for the document's own secret proves neither. What it must not do is let the secret
    # decide, so the test also presents a wrong one: a server that checks it holds a shared secret.
    members, method = SECRETS[variant]
    url = proven_documents.url(doc=members)
    secret = str(members.get("client_secret", "oauth-conformance-shared-secret"))
    client = dataclasses.replace(proven_documents.client(url, auth_method=method), client_secret=secret)
    attempt = proven_documents.attempt(client)
    if attempt.code is None:
        return  # refused at the authorization endpoint
    if proven_documents.redeem(attempt).status_code != 200:
        return  # the document's secret gets no token either: no shared-secret client was made
    wrong = dataclasses.replace(client, client_secret=f"oauth-conformance-wrong-{secrets.token_hex(8)}")
    attempt = proven_documents.attempt(wrong)
    if attempt.code is None:
        raise PrerequisiteFailed(f"the second authorization for the same document got no code: {attempt.describe()}")
    response = proven_documents.redeem(attempt)
    assert response.status_code == 200, (
        f"the target made a shared-secret client ({method}) of a document: its secret gets a token, a wrong"
        f" one is refused (HTTP {response.status_code})"
    )


@requirement("CIMD-4.5-REDIRECT-EXACT")
def test_a_redirect_uri_the_document_does_not_list_is_refused(proven_documents: Documents) -> None:
    unlisted = proven_documents.redirect_uri.rstrip("/") + "/oauth-conformance-unlisted"
    client = proven_documents.client(proven_documents.url(), redirect_uri=unlisted)
    attempt = proven_documents.attempt(client, redirect_uri=unlisted)
    assert_stopped(attempt, "a redirect_uri the document does not list")


@requirement("CIMD-4.5-REDIRECT-EXACT")
def test_a_document_without_redirect_uris_gets_no_redirect(proven_documents: Documents) -> None:
    attempt = proven_documents.attempt(proven_documents.client(proven_documents.url(omit=["redirect_uris"])))
    assert_stopped(attempt, "a document that lists no redirect URIs")
