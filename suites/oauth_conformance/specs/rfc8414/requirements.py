"""RFC 8414 requirements, in our words. Sections checked against the RFC text."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD

REQUIREMENTS = (
    Requirement(
        "RFC8414-3-WELLKNOWN",
        MUST,
        "Metadata is served at the issuer with /.well-known/oauth-authorization-server inserted between host and path.",
        quote=(
            "Authorization servers supporting metadata MUST make a JSON document containing metadata"
            " as specified in Section 2 available at a path formed by inserting a well-known URI"
            " string into the authorization server's issuer identifier between the host component and"
            " the path component, if any."
        ),
    ),
    Requirement(
        "RFC8414-3.2-200-JSON",
        MUST,
        "A metadata response is 200 OK with an application/json JSON object.",
        quote=(
            "A successful response MUST use the 200 OK HTTP status code and return a JSON object"
            ' using the "application/json" content type that contains a set of claims as its members'
            " that are a subset of the metadata values defined in Section 2."
        ),
    ),
    Requirement(
        "RFC8414-3.2-NO-EMPTY",
        MUST,
        "Multi-valued members are JSON arrays, and members with zero elements are omitted.",
        quote=(
            "Claims that return multiple values are represented as JSON arrays. Claims with zero"
            " elements MUST be omitted from the response."
        ),
    ),
    Requirement(
        "RFC8414-3.3-ISSUER-EXACT",
        MUST,
        "The issuer is identical to the issuer the metadata URL was built from (no added or dropped slash or path).",
        quote=(
            'The "issuer" value returned MUST be identical to the authorization server\'s issuer'
            " identifier value into which the well-known URI string was inserted to create the URL"
            " used to retrieve the metadata."
        ),
    ),
    Requirement(
        "RFC8414-2-ISSUER-FORM",
        MUST,
        "The issuer is an absolute URL with no query and no fragment.",
        quote=(
            "issuer REQUIRED. The authorization server's issuer identifier, which is a URL that uses"
            ' the "https" scheme and has no query or fragment components.'
        ),
    ),
    Requirement(
        "RFC8414-2-ISSUER-HTTPS",
        MUST,
        "The issuer uses the https scheme.",
        applies_if=Feature.TLS,
        quote=(
            "issuer REQUIRED. The authorization server's issuer identifier, which is a URL that uses"
            ' the "https" scheme and has no query or fragment components.'
        ),
    ),
    Requirement(
        "RFC8414-2-REQUIRED",
        MUST,
        "authorization_endpoint, token_endpoint and response_types_supported are present as the grants require.",
        quote=(
            "This is REQUIRED unless no grant types are supported that use the authorization"
            " endpoint. token_endpoint URL of the authorization server's token endpoint [RFC6749]."
            " This is REQUIRED unless only the implicit grant type is supported. [...]"
            " response_types_supported REQUIRED."
        ),
    ),
    Requirement(
        "RFC8414-2-RESPTYPES-21",
        SHOULD,
        "For OAuth 2.1, response_types_supported includes code and no type that returns tokens from the front channel.",
        quote="This value for the response_type parameter is no longer defined in OAuth 2.1.",
        quote_section="10.1",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC8414-2-PKCE",
        MUST,
        "code_challenge_methods_supported is present and lists S256.",
        quote=(
            "AS therefore MUST provide a way to detect their supported code challenge methods either"
            " via AS metadata according to [RFC8414] or provide a deployment-specific way to ensure"
            " or determine support."
        ),
        quote_section="7.10",
        quote_spec="OAUTH21",
        quote_version="16",
    ),
    Requirement(
        "RFC8414-2-PKCE-NO-PLAIN",
        SHOULD,
        "code_challenge_methods_supported does not offer plain (OAuth 2.1 and MCP clients use S256 only).",
        quote=(
            'The "plain" method SHOULD NOT be used in new implementations, unless they cannot support'
            ' "S256" for some technical reason.'
        ),
        quote_section="7.2",
        quote_spec="RFC7636",
    ),
    Requirement(
        "RFC8414-2-GRANTS-EXPLICIT",
        SHOULD,
        "grant_types_supported is listed explicitly (its default includes implicit) and names neither"
        " implicit nor password.",
    ),
    Requirement(
        "RFC8414-2-GRANTS-TRUTHFUL",
        SHOULD,
        "grant_types_supported is truthful both ways: every grant type it lists is accepted by the token"
        " endpoint (never unsupported_grant_type), and every grant the target is seen to offer (refresh tokens"
        " in its token responses, a grant type its token endpoint knows) is listed.",
        quote=(
            "grant_types_supported OPTIONAL. JSON array containing a list of the OAuth 2.0 grant type"
            " values that this authorization server supports."
        ),
    ),
    Requirement(
        "RFC8414-2-AUTHMETHODS",
        SHOULD,
        "token_endpoint_auth_methods_supported is listed explicitly rather than left to its"
        " client_secret_basic default.",
    ),
    Requirement(
        "RFC8414-2-SIGNALG",
        MUST,
        "A *_signing_alg_values_supported member is present when a JWT auth method is listed, and never lists none.",
        quote=(
            "This metadata entry MUST be present if either of these authentication methods are"
            ' specified in the "token_endpoint_auth_methods_supported" entry. [...] The value "none"'
            " MUST NOT be used."
        ),
    ),
    Requirement(
        "RFC8414-2-JWKS",
        MUST,
        "jwks_uri serves a JWK Set; when it holds signing and encryption keys, every key has use.",
        applies_if=Feature.JWKS,
        quote=(
            "URL of the authorization server's JWK Set [JWK] document. [...] When both signing and"
            ' encryption keys are made available, a "use" (public key use) parameter value is'
            " REQUIRED for all keys in the referenced JWK Set to indicate each key's intended usage."
        ),
    ),
    Requirement(
        "RFC8414-2-URLS-FORM",
        MUST,
        "Every advertised endpoint and URI is an absolute URL without a fragment.",
        quote="The authorization endpoint URL MUST NOT include a fragment component",
        quote_section="3.1",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC8414-2-URLS-HTTPS",
        MUST,
        "Every advertised endpoint uses https.",
        applies_if=Feature.TLS,
        quote=(
            "All the OAuth protocol URLs (URLs exposed by the AS, RS and Client) MUST use the https"
            " scheme except for loopback interface redirect URIs, which MAY use the http scheme."
        ),
        quote_section="1.5",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC8414-2-REGISTRATION",
        MUST,
        "An advertised registration_endpoint is a working RFC 7591 registration endpoint.",
        applies_if=Feature.REGISTRATION,
        quote=(
            "The client registration endpoint MUST accept HTTP POST messages with request parameters"
            ' encoded in the entity body using the "application/json" format.'
        ),
        quote_section="3",
        quote_spec="RFC7591",
    ),
    Requirement(
        "RFC8414-2.1-SIGNED",
        MUST,
        "signed_metadata is a signed JWT with an iss claim whose values agree with the plain members.",
        applies_if=Feature.SIGNED_METADATA,
        quote=(
            "The signed metadata MUST be digitally signed or MACed using JSON Web Signature (JWS)"
            ' [JWS] and MUST contain an "iss" (issuer) claim denoting the party attesting to the'
            " claims in the signed metadata."
        ),
    ),
    Requirement(
        "RFC8414-5-OIDC-CONSISTENT",
        MUST,
        "Every discovery document the server serves (OAuth and OpenID locations) names the same issuer.",
        quote=(
            'The "issuer" value returned MUST be identical to the authorization server\'s issuer'
            " identifier value into which the well-known URI string was inserted to create the URL"
            " used to retrieve the metadata."
        ),
        quote_section="3.3",
    ),
    Requirement(
        "RFC8414-6.1-TLS",
        MUST,
        "Metadata is served only over TLS: the http:// form of the URL yields no metadata.",
        applies_if=Feature.TLS,
        quote='This path MUST use the "https" scheme.',
        quote_section="3",
    ),
    Requirement(
        "RFC8414-3-CORS",
        SHOULD,
        "The metadata can be read by browser-based clients (CORS): a request with Origin gets"
        " Access-Control-Allow-Origin.",
        quote=(
            "If the authorization server provides additional endpoints to the application, such as"
            " metadata URLs, dynamic client registration, revocation, introspection, discovery or"
            " user info endpoints, these endpoints may also be accessed by the browser-based"
            " application, and will also need to have the CORS headers defined to allow access."
        ),
        quote_section="3.2",
        quote_spec="OAUTH21",
    ),
)
