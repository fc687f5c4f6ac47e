"""RFC 9728 requirements, in our words. Sections and levels checked against the RFC text.

The resource identifier is the profile's [request] resource, else the first entry of the AS
metadata's protected_resources, else the protected resource URL itself (an MCP server's
canonical URI is its URL).
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
PRM = Feature.RESOURCE_METADATA

REQUIREMENTS = (
    Requirement(
        "RFC9728-3-WELLKNOWN",
        MUST,
        "The metadata is served at the resource identifier with /.well-known/oauth-protected-resource inserted"
        " between the host and the path.",
        applies_if=PRM,
        quote=(
            "Protected resources supporting metadata MUST make a JSON document containing metadata as"
            " specified in Section 2 available at a URL formed by inserting a well-known URI string"
            " into the protected resource's resource identifier between the host component and the"
            " path and/or query components, if any."
        ),
    ),
    Requirement(
        "RFC9728-3.2-200-JSON",
        MUST,
        "A metadata response is 200 OK with an application/json JSON object.",
        applies_if=PRM,
        quote=(
            "A successful response MUST use the 200 OK HTTP status code and return a JSON object"
            " using the application/json content type that contains a set of metadata parameters as"
            " its members that are a subset of the metadata parameters defined in Section 2."
        ),
    ),
    Requirement(
        "RFC9728-3.2-NO-EMPTY",
        MUST,
        "Multi-valued parameters are JSON arrays, and parameters with no values are left out (bearer_methods_supported"
        " may be [] to say that no method is supported).",
        applies_if=PRM,
        quote=(
            "Parameters with multiple values are represented as JSON arrays. Parameters with zero"
            " values MUST be omitted from the response."
        ),
    ),
    Requirement(
        "RFC9728-2-RESOURCE",
        MUST,
        "The resource parameter is present: an absolute URL without a fragment (https where TLS applies).",
        applies_if=PRM,
        quote=("resource REQUIRED. The protected resource's resource identifier, as defined in Section 1.2."),
    ),
    Requirement(
        "RFC9728-1.2-NO-QUERY",
        SHOULD,
        "The resource identifier has no query component.",
        applies_if=PRM,
        quote=(
            "As specified in Section 2 of [RFC8707], it also SHOULD NOT include a query component,"
            " but it is recognized that there are cases that make a query component a useful and"
            " necessary part of a resource identifier."
        ),
    ),
    Requirement(
        "RFC9728-3.3-RESOURCE-MATCH",
        MUST,
        "The resource value is identical to the identifier the well-known URL was built from.",
        applies_if=PRM,
        quote=(
            "The resource value returned MUST be identical to the protected resource's resource"
            " identifier value into which the well-known URI path suffix was inserted to create the"
            " URL used to retrieve the metadata."
        ),
    ),
    Requirement(
        "RFC9728-3.3-CHALLENGE-MATCH",
        MUST,
        (
            "Metadata found through a 401 challenge's resource_metadata names as resource the URL"
            " requested; when it names a resource containing that URL (a path prefix), the challenge"
            " to that resource itself must point to metadata naming it."
        ),
        applies_if=Feature.PROTECTED_RESOURCE,
        quote=(
            "If the protected resource metadata was retrieved from a URL returned by the protected"
            " resource via the WWW-Authenticate resource_metadata parameter, then the resource value"
            " returned MUST be identical to the URL that the client used to make the request to the"
            " resource server."
        ),
    ),
    Requirement(
        "RFC9728-5.1-METADATA-URL",
        SHOULD,
        "A resource_metadata parameter in a challenge is the URL of the resource's metadata: it serves the"
        " metadata document.",
        applies_if=Feature.PROTECTED_RESOURCE,
        quote="resource_metadata: The URL of the protected resource metadata.",
    ),
    Requirement(
        "RFC9728-2-AS-ISSUERS",
        MUST,
        "Each authorization_servers entry is an issuer identifier: the authorization server metadata found from it"
        " names an identical issuer.",
        applies_if=PRM,
        quote=(
            'The "issuer" value returned MUST be identical to the authorization server\'s issuer'
            " identifier value into which the well-known URI string was inserted to create the URL"
            " used to retrieve the metadata."
        ),
        quote_section="3.3",
        quote_spec="RFC8414",
    ),
    Requirement(
        "RFC9728-2-JWKS-URI",
        MUST,
        "A jwks_uri, when present, uses the https scheme.",
        applies_if=Feature.TLS,
        quote=(
            "jwks_uri OPTIONAL. URL of the protected resource's JSON Web Key (JWK) Set [JWK]"
            " document. [...] This URL MUST use the https scheme."
        ),
    ),
    Requirement(
        "RFC9728-2-SIGNING-ALGS",
        MUST,
        "resource_signing_alg_values_supported, when present, never lists none.",
        applies_if=PRM,
        quote=("No default algorithms are implied if this entry is omitted. The value none MUST NOT be used."),
    ),
    Requirement(
        "RFC9728-2.2-SIGNED",
        MUST,
        "signed_metadata, when present, is a signed JWT carrying an iss claim.",
        applies_if=PRM,
        quote=(
            "The signed metadata MUST be digitally signed or MACed (protected with a Message"
            " Authentication Code) using a JSON Web Signature (JWS) [JWS] and MUST contain an iss"
            " (issuer) claim denoting the party attesting to the claims in the signed metadata."
        ),
    ),
)
