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
    ),
    Requirement("RFC8414-3.2-200-JSON", MUST, "A metadata response is 200 OK with an application/json JSON object."),
    Requirement(
        "RFC8414-3.2-NO-EMPTY",
        MUST,
        "Multi-valued members are JSON arrays, and members with zero elements are omitted.",
    ),
    Requirement(
        "RFC8414-3.3-ISSUER-EXACT",
        MUST,
        "The issuer is identical to the issuer the metadata URL was built from (no added or dropped slash or path).",
    ),
    Requirement("RFC8414-2-ISSUER-FORM", MUST, "The issuer is an absolute URL with no query and no fragment."),
    Requirement("RFC8414-2-ISSUER-HTTPS", MUST, "The issuer uses the https scheme.", applies_if=Feature.TLS),
    Requirement(
        "RFC8414-2-REQUIRED",
        MUST,
        "authorization_endpoint, token_endpoint and response_types_supported are present as the grants require.",
    ),
    Requirement(
        "RFC8414-2-RESPTYPES-21",
        MUST,
        "For OAuth 2.1, response_types_supported includes code and no type that returns tokens from the front channel.",
    ),
    Requirement("RFC8414-2-PKCE", MUST, "code_challenge_methods_supported is present and lists S256."),
    Requirement(
        "RFC8414-2-PKCE-NO-PLAIN",
        SHOULD,
        "code_challenge_methods_supported does not offer plain (OAuth 2.1 and MCP clients use S256 only).",
    ),
    Requirement(
        "RFC8414-2-GRANTS-EXPLICIT",
        SHOULD,
        "grant_types_supported is listed explicitly (its default includes implicit) and names neither"
        " implicit nor password.",
    ),
    Requirement(
        "RFC8414-2-GRANTS-TRUTHFUL",
        MUST,
        "Every grant type in grant_types_supported is accepted by the token endpoint (never unsupported_grant_type).",
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
    ),
    Requirement(
        "RFC8414-2-JWKS",
        MUST,
        "jwks_uri serves a JWK Set; when it holds signing and encryption keys, every key has use.",
        applies_if=Feature.JWKS,
    ),
    Requirement(
        "RFC8414-2-URLS-FORM", MUST, "Every advertised endpoint and URI is an absolute URL without a fragment."
    ),
    Requirement("RFC8414-2-URLS-HTTPS", MUST, "Every advertised endpoint uses https.", applies_if=Feature.TLS),
    Requirement(
        "RFC8414-2-REGISTRATION",
        MUST,
        "An advertised registration_endpoint is a working RFC 7591 registration endpoint.",
        applies_if=Feature.REGISTRATION,
    ),
    Requirement(
        "RFC8414-2.1-SIGNED",
        MUST,
        "signed_metadata is a signed JWT with an iss claim whose values agree with the plain members.",
        applies_if=Feature.SIGNED_METADATA,
    ),
    Requirement(
        "RFC8414-5-OIDC-CONSISTENT",
        MUST,
        "Every discovery document the server serves (OAuth and OpenID locations) names the same issuer.",
    ),
    Requirement(
        "RFC8414-6.1-TLS",
        MUST,
        "Metadata is served only over TLS: the http:// form of the URL yields no metadata.",
        applies_if=Feature.TLS,
    ),
    Requirement(
        "RFC8414-3-CORS",
        SHOULD,
        "The metadata can be read by browser-based clients (CORS): a request with Origin gets"
        " Access-Control-Allow-Origin.",
    ),
)
