"""CIMD sections 4 and 5, and 6.9: URL client ids through the code flow, and the metadata flag that
announces them. Every negative test first shows that a valid document works for this target."""

from __future__ import annotations

from collections.abc import Callable

from oauth_conformance import requirement
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable


def driver_works(oauth: OAuth, clients: Clients) -> None:
    """The control: the consent driver completes a flow for an ordinary client, so a failure with a
    document client is the target's, not the harness's (skipped when no ordinary client exists)."""
    try:
        client = clients.public()
    except NotTested:
        return
    oauth.code(client)


def documents_work(documents: Documents, note: Callable[[str], None]) -> tuple[bool, str]:
    """Whether a fresh valid document client gets a code and tokens, tried twice before "no": one
    failed fetch or flow must not turn a server that hides working documents into not_applicable
    (nor one that advertises them into a failure). A first failure is noted."""
    why, first = asked_twice(lambda: _refused(documents), lambda reason: reason is not None)
    if first is not None and why is None:
        note(f"a first valid metadata document client did not work, a second did ({first})")
    return why is None, why or ""


def _refused(documents: Documents) -> str | None:
    """Why a fresh valid document client got no code and tokens, or None when it did."""
    try:
        documents.prove()
    except PrerequisiteFailed as exc:
        return exc.reason
    return None


@requirement("CIMD-5-METADATA")
def test_the_metadata_flag_says_whether_document_clients_work(
    documents: Documents, oauth: OAuth, clients: Clients, target: Target, note: Callable[[str], None]
) -> None:
    driver_works(oauth, clients)
    works, why = documents_work(documents, note)
    flag = target.metadata.get("client_id_metadata_document_supported")
    if flag is True:
        assert works, f"client_id_metadata_document_supported is true, but {why}"
    elif works:
        raise AssertionError(f"URL client ids work, but client_id_metadata_document_supported is {flag!r}")
    else:
        not_applicable(f"the target neither advertises nor accepts client ID metadata documents ({why})")


@requirement("CIMD-4-CODE-FLOW")
def test_a_document_client_gets_a_code_and_redeems_it_with_pkce(
    documents: Documents, oauth: OAuth, clients: Clients
) -> None:
    driver_works(oauth, clients)
    attempt = documents.attempt(documents.client(documents.url()))
    assert attempt.code is not None, f"with a valid metadata document, {attempt.describe()}"
    response = documents.redeem(attempt)
    assert response.status_code == 200, f"redeeming the document client's code answered HTTP {response.status_code}"
    assert isinstance(json_body(response).get("access_token"), str), "the token response has no access_token"


@requirement("CIMD-4-CODE-BINDING")
def test_a_code_cannot_be_redeemed_by_another_document_client(proven_documents: Documents) -> None:
    attempt = proven_documents.attempt(proven_documents.client(proven_documents.url()))
    if attempt.code is None:
        raise PrerequisiteFailed(f"with a valid metadata document, {attempt.describe()}")
    other = proven_documents.url()
    response = proven_documents.redeem(attempt, client_id=other)
    assert response.status_code != 200, "a code issued to one document client was redeemed by another"
    assert_oauth_error(response, "invalid_grant", "invalid_client", status=(400, 401))


@requirement("CIMD-4-FETCH")
def test_the_document_is_fetched_for_an_authorization_request(proven_documents: Documents) -> None:
    url = proven_documents.url()
    proven_documents.attempt(proven_documents.client(url))
    assert proven_documents.hits(url) > 0, "the target never fetched the document of the client it authorized"


@requirement("CIMD-6.9-NO-HTTPS-IDS")
def test_registered_client_ids_do_not_look_like_document_urls(clients: Clients) -> None:
    client = clients.public()
    assert not client.client_id.lower().startswith("https://"), (
        f"the server generated client_id {client.client_id!r}, which looks like a metadata document URL"
    )
