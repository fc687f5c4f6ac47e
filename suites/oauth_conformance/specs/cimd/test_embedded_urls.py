"""CIMD section 6.5: URLs inside a metadata document that resolve to special-use addresses are not
fetched.

0.0.0.0 is a special-use address (RFC 6890: "this host on this network"), yet connecting to it
reaches the machine the connection starts on. With the target running next to the fixture host,
a document whose jwks_uri and logo_uri name 0.0.0.0 and the fixture host's port is a canary: a
target that fetches them reaches the fixture host, which counts the hit (its certificate names
0.0.0.0, so the fetch would complete). The client authenticates with private_key_jwt, so a target
that trusts the document must fetch the jwks_uri to check the assertion.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson

from oauth_conformance import requirement
from oauth_conformance.features import Feature
from oauth_conformance.support import probes
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.jwt_bearer import KeyClient
from oauth_conformance.support.jwt_bearer import document_key_client
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.verdicts import not_applicable
from oauth_conformance.verdicts import not_tested

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def on_unspecified(url: str) -> str:
    """The same URL with its host replaced by 0.0.0.0 (port and path kept)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://0.0.0.0:{parts.port or (443 if parts.scheme == 'https' else 80)}{parts.path}"


@requirement("CIMD-6.5-SSRF-EMBEDDED")
def test_urls_in_a_document_on_a_special_use_address_are_not_fetched(
    proven_documents: Documents, oauth: OAuth, target: Target
) -> None:
    if target.profile.fixture_host.proxied:
        not_tested(
            "the target's outbound fetches are routed to the fixture host whatever the address ([fixture_host] proxied)"
        )
    if not target.in_process and urlsplit(target.url).hostname not in LOOPBACK:
        not_tested("the target does not run on the fixture host's machine: a fetch of 0.0.0.0 would not reach it")
    probes.private_key_jwt(target, lambda: document_key_client(proven_documents, oauth, target))
    if not target.supports(Feature.PRIVATE_KEY_JWT):
        not_applicable("private_key_jwt is not offered, so no document key would be fetched")
    keys_url = proven_documents.host.cimd_url(raw=orjson.dumps(testkeys.jwks(testkeys.CLIENT_RS256)).decode())
    logo_url = proven_documents.host.cimd_url(raw="oauth-conformance canary")
    grants = ["authorization_code", *(["refresh_token"] if target.supports(Feature.REFRESH) else [])]
    members = {
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": on_unspecified(str(keys_url)),
        "logo_uri": on_unspecified(str(logo_url)),
        "grant_types": grants,
    }
    url = proven_documents.url(doc=members)
    key_client = KeyClient(proven_documents.client(url, auth_method="private_key_jwt"), oauth, target)
    attempt = proven_documents.attempt(key_client.client)
    if attempt.code is not None:  # the document was accepted: the assertion makes the target want the keys
        proven_documents.redeem(attempt, **key_client.credentials(key_client.assertion()))
    fetched = [u for u in (keys_url, logo_url) if proven_documents.hits(str(u))]
    assert not fetched, f"the target fetched {', '.join(on_unspecified(str(u)) for u in fetched)} (0.0.0.0)"
