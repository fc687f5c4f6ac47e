"""CIMD sections 6.2 and 6.4: document clients that authenticate with private_key_jwt, and what the
user is shown about a document client."""

from __future__ import annotations

from urllib.parse import urlsplit

from oauth_conformance import requirement
from oauth_conformance.evidence import Recorder
from oauth_conformance.features import Feature
from oauth_conformance.support import probes
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.support.jwt_bearer import describe
from oauth_conformance.support.jwt_bearer import document_key_client
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested


def key_document(documents: Documents, oauth: OAuth, target: Target) -> KeyClient:
    """A document declaring private_key_jwt with the harness's TEST-ONLY client key, when the
    target offers the method (advertised, or seen by the probe)."""
    probes.private_key_jwt(target, lambda: document_key_client(documents, oauth, target))
    if not target.supports(Feature.PRIVATE_KEY_JWT):
        not_applicable(f"the target does not offer {Feature.PRIVATE_KEY_JWT.description}")
    return document_key_client(documents, oauth, target)


def proven_key_document(documents: Documents, oauth: OAuth, target: Target) -> KeyClient:
    key_client = key_document(documents, oauth, target)
    response = key_client.redeem(key_client.assertion())
    if response.status_code != 200:
        raise PrerequisiteFailed(
            f"a private_key_jwt document client's valid assertion was refused ({describe(response)})"
        )
    return key_client


@requirement("CIMD-6.2-PKJWT")
def test_a_private_key_jwt_document_client_redeems_a_code_with_its_assertion(
    proven_documents: Documents, oauth: OAuth, target: Target
) -> None:
    key_client = key_document(proven_documents, oauth, target)
    response = key_client.redeem(key_client.assertion())
    assert response.status_code == 200, f"a valid client assertion for a document client got {describe(response)}"


@requirement("CIMD-6.2-PKJWT")
def test_a_private_key_jwt_document_client_cannot_redeem_a_code_without_its_assertion(
    proven_documents: Documents, oauth: OAuth, target: Target
) -> None:
    key_client = proven_key_document(proven_documents, oauth, target)
    authorization = oauth.code(key_client.client)
    response = oauth.exchange(authorization)
    assert_oauth_error(response, "invalid_client", status=(400, 401))


@requirement("CIMD-6.2-PKJWT")
def test_a_private_key_jwt_document_client_cannot_refresh_without_its_assertion(
    proven_documents: Documents, oauth: OAuth, target: Target
) -> None:
    key_client = proven_key_document(proven_documents, oauth, target)
    response = key_client.redeem(key_client.assertion())
    refresh_token = response.json().get("refresh_token") if response.status_code == 200 else None
    if not isinstance(refresh_token, str):
        not_tested("the document client got no refresh token")
    refreshed = oauth.refresh(key_client.client, refresh_token)
    assert_oauth_error(refreshed, "invalid_client", status=(400, 401))


@requirement("CIMD-6.4-HOST-DISPLAY")
def test_the_authorization_page_shows_the_client_id_host(proven_documents: Documents, recorder: Recorder) -> None:
    url = proven_documents.url()
    attempt = proven_documents.attempt(proven_documents.client(url))
    if attempt.code is None:
        raise PrerequisiteFailed(f"with a valid metadata document, {attempt.describe()}")
    pages = [e.response_body for e in recorder.exchanges if "html" in e.response_headers.get("content-type", "")]
    if not pages:
        not_tested("the consent step showed no HTML page the harness could read", unlock="consent.driver")
    host = urlsplit(url).netloc
    assert any(host in page for page in pages), f"no page of the authorization step shows the client's host {host}"


# ------------------------------------------------------------- section 4.1 (draft -02): public keys only
@requirement("CIMD-4.1-NO-PRIVATE-KEYS")
def test_a_document_publishing_its_private_key_makes_no_client(
    proven_documents: Documents, oauth: OAuth, target: Target
) -> None:
    proven_key_document(proven_documents, oauth, target)  # the control: the same document with the public key works
    private = dict(testkeys.private_key(testkeys.CLIENT_RS256).as_dict(private=True))
    private.pop("WARNING", None)
    grants = ["authorization_code", *(["refresh_token"] if target.supports(Feature.REFRESH) else [])]
    members = {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}, "grant_types": grants}
    key_client = KeyClient(
        proven_documents.client(proven_documents.url(doc=members), auth_method="private_key_jwt"), oauth, target
    )
    attempt = proven_documents.attempt(key_client.client)
    if attempt.code is None:
        return  # refused at the authorization endpoint
    response = proven_documents.redeem(attempt, **key_client.credentials(key_client.assertion()))
    assert response.status_code != 200, (
        "a document whose jwks publishes the private key (d, p, q) made a client: its assertion got a token"
    )
