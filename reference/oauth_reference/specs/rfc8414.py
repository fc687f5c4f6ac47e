"""RFC 8414: OAuth 2.0 Authorization Server Metadata.

https://www.rfc-editor.org/rfc/rfc8414

Served at ``/.well-known/oauth-authorization-server``. The issuer is the origin the request
arrived at unless fixed by the ``issuer`` option, so it is byte-identical to the URL a client
fetched (RFC8414-3.3-ISSUER-EXACT). Every list says what works, nothing more: a grant type, auth
method or PKCE method is advertised exactly when the provider accepts it.
"""

from __future__ import annotations

from typing import Any

from oauth_reference import client_store as clients
from oauth_reference.core import Core
from oauth_reference.specs import rfc9449

WELL_KNOWN = "/.well-known/oauth-authorization-server"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
SIGNING_ALGS = ("RS256", "ES256", "PS256", "EdDSA")


def metadata(core: Core, issuer: str) -> dict[str, Any]:
    o = core.options
    token_endpoint = core.absolute(o.token_endpoint, issuer)
    # RFC8414-2-REQUIRED, RFC8414-2-URLS-FORM (absolute endpoints)
    doc: dict[str, Any] = {
        "issuer": issuer,  # RFC8414-3.3-ISSUER-EXACT
        "authorization_endpoint": core.absolute(o.authorize_endpoint, issuer),
        "token_endpoint": token_endpoint,
    }
    if o.client_registration_endpoint:  # RFC8414-2-REGISTRATION: advertised only when served
        doc["registration_endpoint"] = core.absolute(o.client_registration_endpoint, issuer)
    if o.scopes_supported:  # RFC8414-3.2-NO-EMPTY
        doc["scopes_supported"] = list(o.scopes_supported)
    # RFC8414-2-RESPTYPES-21, OAUTH21-4.1.1-ADVERTISED-TYPES: exactly what /authorize accepts
    doc["response_types_supported"] = clients.supported_response_types(o)
    doc["response_modes_supported"] = ["query", "fragment"] if o.allow_implicit_flow else ["query"]
    # RFC8414-2-GRANTS-EXPLICIT, RFC8414-2-GRANTS-TRUTHFUL: exactly the token endpoint's grants
    doc["grant_types_supported"] = clients.supported_grant_types(o)
    methods = [*AUTH_METHODS, "private_key_jwt"] if o.client_id_metadata_document_enabled else AUTH_METHODS
    doc["token_endpoint_auth_methods_supported"] = methods  # RFC8414-2-AUTHMETHODS
    if o.client_id_metadata_document_enabled:  # RFC8414-2-SIGNALG: with private_key_jwt, never none
        doc["token_endpoint_auth_signing_alg_values_supported"] = list(SIGNING_ALGS)
    doc["revocation_endpoint"] = token_endpoint
    doc["revocation_endpoint_auth_methods_supported"] = methods
    if o.client_id_metadata_document_enabled:
        doc["revocation_endpoint_auth_signing_alg_values_supported"] = list(SIGNING_ALGS)
    # RFC8414-2-PKCE, RFC8414-2-PKCE-NO-PLAIN, MCP-DISC-PKCE-ADVERT
    doc["code_challenge_methods_supported"] = ["S256", "plain"] if o.allow_plain_pkce else ["S256"]
    if o.introspection_endpoint:  # RFC 7662, advertised as RFC 8414 section 2 describes
        doc["introspection_endpoint"] = core.absolute(o.introspection_endpoint, issuer)
        # a client_id alone does not authorize introspection (RFC7662-2.1-AUTHZ): no none here
        doc["introspection_endpoint_auth_methods_supported"] = [m for m in methods if m != "none"]
        if o.client_id_metadata_document_enabled:  # RFC8414-2-SIGNALG
            doc["introspection_endpoint_auth_signing_alg_values_supported"] = list(SIGNING_ALGS)
    if o.pushed_authorization_request_endpoint:  # RFC 9126 section 5
        doc["pushed_authorization_request_endpoint"] = core.absolute(o.pushed_authorization_request_endpoint, issuer)
        doc["require_pushed_authorization_requests"] = o.require_pushed_authorization_requests
    if o.dpop_enabled:  # RFC9449-5.1-ALGS
        doc["dpop_signing_alg_values_supported"] = list(rfc9449.ALGORITHMS)
    doc["authorization_response_iss_parameter_supported"] = True  # RFC9207-2.3-ADVERTISED
    doc["protected_resources"] = [core.resource(issuer)]
    if o.enterprise_managed_authorization is not None:
        doc["authorization_grant_profiles_supported"] = ["urn:ietf:params:oauth:grant-profile:id-jag"]
    if o.client_id_metadata_document_enabled:
        doc["client_id_metadata_document_supported"] = True  # MCP-CIMD-SUPPORT
    return doc
