"""RFC 7591 sections 2.3 and 3.2.1: software statements the server has no reason to trust.

The harness signs a statement with a TEST-ONLY key no target trusts, naming the client otherwise
than the plain JSON of the same request does. A server may refuse the statement or ignore it
(section 3.1.1: it may not support statements at all); what it may not do is let the untrusted
statement's values win. When it uses a statement, the response returns it unmodified.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oauth_conformance import requirement
from oauth_conformance.support import jwts
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.checks import json_body
from oauth_conformance.support.clients import Clients
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_applicable

JSON_NAME = "oauth-conformance plain JSON name"
STATEMENT_NAME = "oauth-conformance untrusted statement name"
STATEMENT_URI = "https://statement.oauth-conformance.invalid/"
REFUSALS = ("unapproved_software_statement", "invalid_software_statement", "invalid_client_metadata")


def untrusted_statement() -> str:
    """A software statement signed with the harness's untrusted TEST-ONLY key."""
    claims = {
        "iss": "https://untrusted.oauth-conformance.test",
        "software_id": "oauth-conformance-untrusted-software",
        "client_name": STATEMENT_NAME,
        "client_uri": STATEMENT_URI,
    }
    return jwts.sign(claims, key=testkeys.UNTRUSTED_RS256, typ=None)


@pytest.fixture
def statement_registration(clients: Clients) -> tuple[str, httpx.Response]:
    """The statement and the answer to a registration carrying it (and a different plain JSON name)."""
    statement = untrusted_statement()
    metadata = clients.metadata("none", client_name=JSON_NAME, software_statement=statement)
    return statement, clients.register(metadata)


def used(body: dict[str, Any]) -> bool:
    """Did the registration take the statement's values?"""
    return body.get("client_name") == STATEMENT_NAME or body.get("client_uri") == STATEMENT_URI


@requirement("RFC7591-2.3-UNTRUSTED-STATEMENT")
def test_an_untrusted_software_statement_never_takes_precedence(
    statement_registration: tuple[str, httpx.Response],
) -> None:
    _, response = statement_registration
    if response.status_code not in (200, 201):
        code = error_code(response)
        assert code in REFUSALS, f"the registration was refused with HTTP {response.status_code} {code!r}"
        return  # refused: section 3.2.2's unapproved_software_statement, or a metadata refusal
    body = json_body(response)
    assert not used(body), (
        f"a statement signed by an untrusted key took precedence: client_name {body.get('client_name')!r},"
        f" client_uri {body.get('client_uri')!r} (the plain JSON said {JSON_NAME!r})"
    )


@requirement("RFC7591-3.2.1-STATEMENT-RETURNED")
def test_a_software_statement_the_server_used_is_returned_unmodified(
    statement_registration: tuple[str, httpx.Response],
) -> None:
    statement, response = statement_registration
    if response.status_code not in (200, 201):
        raise PrerequisiteFailed(f"the registration with a statement was refused (HTTP {response.status_code})")
    body = json_body(response)
    if "software_statement" not in body and not used(body):
        not_applicable("the server did not use the software statement (it may ignore statements, section 3.1.1)")
    returned = body.get("software_statement")
    assert returned is not None, "the statement's values were used, but the response does not return the statement"
    assert returned == statement, "the software_statement returned differs from the one sent"
