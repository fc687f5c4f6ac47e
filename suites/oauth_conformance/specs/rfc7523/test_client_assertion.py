"""RFC 7523 sections 2.2, 3 and 3.2: JWTs for client authentication (``private_key_jwt``).

The client is registered with the harness's TEST-ONLY client key: as a client ID metadata
document on the fixture host when the target supports them, else by dynamic registration with
``jwks``. Each negative test starts from a client whose valid assertion redeems a code (the
``key_client`` fixture) and redeems a fresh code with one thing changed about the assertion.
"""

from __future__ import annotations

import time

from oauth_conformance import requirement
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.support.jwt_bearer import assert_client_refused
from oauth_conformance.support.jwt_bearer import describe
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import not_tested


@requirement("RFC7523-2.2-CLIENT-AUTH")
def test_a_valid_client_assertion_authenticates_the_client(fresh_key_client: KeyClient) -> None:
    response = fresh_key_client.redeem(fresh_key_client.assertion())
    assert response.status_code == 200, f"a code redeemed with a valid client assertion answered {describe(response)}"


@requirement("RFC7523-3-CLIENT-SUB")
def test_a_client_assertion_about_another_subject_is_refused(key_client: KeyClient) -> None:
    response = key_client.redeem(key_client.assertion(sub="oauth-conformance-someone-else"))
    assert_client_refused(response, "a client assertion whose sub is not the client_id")


@requirement("RFC7523-3-CLIENT-AUD")
def test_a_client_assertion_for_another_server_is_refused(key_client: KeyClient) -> None:
    response = key_client.redeem(key_client.assertion(aud="https://other-as.oauth-conformance.test"))
    assert_client_refused(response, "a client assertion for another authorization server")


@requirement("RFC7523-3-CLIENT-EXP")
def test_an_expired_client_assertion_is_refused(key_client: KeyClient) -> None:
    now = int(time.time())
    response = key_client.redeem(key_client.assertion(iat=now - 900, exp=now - 600))
    assert_client_refused(response, "a client assertion that expired ten minutes ago")


@requirement("RFC7523-3-CLIENT-SIG")
def test_a_client_assertion_signed_by_another_key_is_refused(key_client: KeyClient) -> None:
    response = key_client.redeem(key_client.assertion(key=testkeys.UNTRUSTED_RS256))
    assert_client_refused(response, "a client assertion signed with a key the client did not register")


@requirement("RFC7523-3.2-INVALID-CLIENT")
def test_invalid_client_assertions_get_invalid_client(key_client: KeyClient) -> None:
    # Only the refusals are judged here: accepting one of these fails its own requirement.
    now = int(time.time())
    refused = 0
    for what, assertion in (
        ("a client assertion signed with another key", key_client.assertion(key=testkeys.UNTRUSTED_RS256)),
        ("an expired client assertion", key_client.assertion(iat=now - 900, exp=now - 600)),
    ):
        response = key_client.redeem(assertion)
        if response.status_code != 200:
            refused += 1
            assert_client_refused(response, what)
            assert_oauth_error(response, "invalid_client", status=(400, 401))
    if not refused:
        not_tested("the target refused none of the invalid assertions (see RFC7523-3-CLIENT-SIG and -EXP)")
