"""Features a target may offer; requirements about a feature apply only where it is offered.

A feature is offered when the metadata (or the profile) says so, or when the target is seen to
offer it (``support/probes.py``: a refresh token in a token response, a grant the token endpoint
accepts); its requirements apply either way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from dataclasses import field


class Feature(enum.StrEnum):
    REGISTRATION = "registration"  # registration_endpoint (RFC 7591)
    REGISTRATION_MANAGEMENT = "registration_management"  # RFC 7592
    REFRESH = "refresh"  # grant_types_supported lists refresh_token
    REVOCATION = "revocation"  # revocation_endpoint (RFC 7009)
    PROTECTED_RESOURCE = "protected_resource"  # a protected URL to call with tokens
    RESOURCE_METADATA = "resource_metadata"  # RFC 9728 metadata for that resource
    RESOURCE_INDICATORS = "resource_indicators"  # RFC 8707
    ISS_PARAMETER = "iss_parameter"  # authorization_response_iss_parameter_supported (RFC 9207)
    PLAIN_PKCE = "plain_pkce"  # code_challenge_methods_supported lists plain
    TOKEN_EXCHANGE = "token_exchange"  # RFC 8693 grant advertised
    CLIENT_CREDENTIALS = "client_credentials"  # OAuth 2.1 section 4.2 grant advertised
    JWT_BEARER = "jwt_bearer"  # RFC 7523 grant advertised
    IDJAG = "idjag"  # authorization_grant_profiles_supported lists the ID-JAG profile
    CIMD = "cimd"  # client_id_metadata_document_supported
    SIGNED_METADATA = "signed_metadata"  # RFC 8414 section 2.1
    JWKS = "jwks"  # jwks_uri
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    PUBLIC_CLIENTS = "public_clients"  # token_endpoint_auth_methods_supported lists none
    PRIVATE_KEY_JWT = "private_key_jwt"  # listed there, or a document client seen to use it (support/probes.py)
    TLS = "tls"  # the target is served over https (TLS rules apply)
    INTROSPECTION = "introspection"  # introspection_endpoint (RFC 7662)
    DPOP = "dpop"  # dpop_signing_alg_values_supported, or seen to judge DPoP proofs (RFC 9449; support/probes.py)
    PAR = "par"  # pushed_authorization_request_endpoint (RFC 9126)

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Feature.REGISTRATION: "dynamic client registration (no registration_endpoint in the metadata)",
    Feature.REGISTRATION_MANAGEMENT: "client registration management (no registration_client_uri issued)",
    Feature.REFRESH: "refresh tokens (grant_types_supported does not list refresh_token, and no token response"
    " was seen to carry one)",
    Feature.REVOCATION: "token revocation (no revocation_endpoint in the metadata)",
    Feature.PROTECTED_RESOURCE: "a protected resource (none is known: set [resource] url in the profile)",
    Feature.RESOURCE_METADATA: "protected resource metadata (RFC 9728): none was found; an MCP server must serve"
    " it (set [resource] metadata = true to hold the target to it)",
    Feature.RESOURCE_INDICATORS: "resource indicators (RFC 8707)",
    Feature.ISS_PARAMETER: "the iss authorization response parameter (not advertised)",
    Feature.PLAIN_PKCE: "the plain PKCE method (not advertised)",
    Feature.TOKEN_EXCHANGE: "token exchange (the RFC 8693 grant is neither advertised nor accepted)",
    Feature.CLIENT_CREDENTIALS: "the client credentials grant (neither advertised nor accepted)",
    Feature.JWT_BEARER: "the JWT bearer grant (neither advertised nor accepted)",
    Feature.IDJAG: "ID-JAG (the id-jag grant profile is not advertised)",
    Feature.CIMD: "client ID metadata documents (client_id_metadata_document_supported is not true)",
    Feature.SIGNED_METADATA: "signed metadata (no signed_metadata member)",
    Feature.JWKS: "a JWK Set (no jwks_uri)",
    Feature.CLIENT_SECRET_BASIC: "client_secret_basic (not advertised)",
    Feature.CLIENT_SECRET_POST: "client_secret_post (not advertised)",
    Feature.PUBLIC_CLIENTS: "public clients (none is not an advertised auth method)",
    Feature.PRIVATE_KEY_JWT: "private_key_jwt client authentication (not advertised, and no metadata document"
    " client's assertion was seen to work)",
    Feature.TLS: "TLS (the target is an http:// loopback URL the profile allows)",
    Feature.INTROSPECTION: "token introspection (no introspection_endpoint in the metadata)",
    Feature.DPOP: "DPoP (no dpop_signing_alg_values_supported, and no DPoP proof judged at the token endpoint)",
    Feature.PAR: "pushed authorization requests (no pushed_authorization_request_endpoint)",
}


@dataclass
class Probed:
    """What the target was seen to offer beyond its metadata, in this process (filled by
    ``support/probes.py``: once before the first test, and the on-demand probes before the first
    test that needs their feature): feature -> what showed it."""

    ran: bool = False
    asked: set[Feature] = field(default_factory=set)  # on-demand probes already run
    seen: dict[Feature, str] = field(default_factory=dict)
