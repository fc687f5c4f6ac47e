"""OAuth 2.1 section 3.2.4: a client sending a grant type it is not allowed gets unauthorized_client.

Which client may use which grant is the server's policy, but one policy can be seen from outside:
a client registered (RFC 7591 section 2) with ``grant_types`` of ``authorization_code`` only, and
told so in the registration response, has not been allowed the other grants the server offers.
The test presents one of those (client credentials, or a token exchange of the client's own
access token), whose request is otherwise valid.
"""

from __future__ import annotations

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support.attempts import body_of
from oauth_conformance.support.checks import assert_oauth_error
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

CLIENT_CREDENTIALS = "client_credentials"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
REGISTERED = ["authorization_code"]


@requirement("OAUTH21-3.2.4-UNAUTHORIZED-CLIENT")
def test_a_grant_the_client_was_not_registered_for_gets_unauthorized_client(
    oauth: OAuth, clients: Clients, target: Target
) -> None:
    # Offered: advertised, or seen accepted by the probes before the first test (support/probes.py).
    grants = ((CLIENT_CREDENTIALS, Feature.CLIENT_CREDENTIALS), (TOKEN_EXCHANGE, Feature.TOKEN_EXCHANGE))
    other = next((grant for grant, feature in grants if target.supports(feature)), None)
    if other is None:
        not_applicable("the target offers neither client_credentials nor token exchange to keep a client from")
    client = clients.confidential_only_for(REGISTERED, not_for=other)
    told = client.registration.get("grant_types", REGISTERED) if client.source == "registration" else client.grant_types
    told = list(told) if isinstance(told, (list, tuple)) else told
    if not isinstance(told, list) or other in told:
        # RFC 7591 section 2 lets the server register other values; it said it allows this one.
        not_tested(f"the registration response allows the client grant_types {told!r}")
    if other == CLIENT_CREDENTIALS:
        data: dict[str, str | None] = {"grant_type": CLIENT_CREDENTIALS, "scope": target.profile.request.scope}
    else:
        own = oauth.tokens(client)
        data = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": own.access_token,
            "subject_token_type": ACCESS_TOKEN_TYPE,
        }
    response = oauth.token_request(client, data)
    assert "access_token" not in body_of(response), (
        f"a client registered for {' '.join(REGISTERED)} only got a token with grant_type {other}"
    )
    assert_oauth_error(response, "unauthorized_client")
