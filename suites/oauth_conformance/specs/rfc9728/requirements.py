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
    ),
    Requirement(
        "RFC9728-3.2-200-JSON",
        MUST,
        "A metadata response is 200 OK with an application/json JSON object.",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-3.2-NO-EMPTY",
        MUST,
        "Multi-valued parameters are JSON arrays, and parameters with no values are left out (bearer_methods_supported"
        " may be [] to say that no method is supported).",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-2-RESOURCE",
        MUST,
        "The resource parameter is present: an absolute URL without a fragment (https where TLS applies).",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-1.2-NO-QUERY",
        SHOULD,
        "The resource identifier has no query component.",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-3.3-RESOURCE-MATCH",
        MUST,
        "The resource value is identical to the identifier the well-known URL was built from.",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-3.3-CHALLENGE-MATCH",
        MUST,
        "Metadata found through a 401 challenge's resource_metadata names as resource exactly the URL the client"
        " requested.",
        applies_if=Feature.PROTECTED_RESOURCE,
    ),
    Requirement(
        "RFC9728-5.1-METADATA-URL",
        MUST,
        "A resource_metadata parameter in a challenge is the URL of the resource's metadata: it serves the"
        " metadata document.",
        applies_if=Feature.PROTECTED_RESOURCE,
    ),
    Requirement(
        "RFC9728-2-AS-ISSUERS",
        MUST,
        "Each authorization_servers entry is an issuer identifier: the authorization server metadata found from it"
        " names an identical issuer.",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-2-JWKS-URI",
        MUST,
        "A jwks_uri, when present, uses the https scheme.",
        applies_if=Feature.TLS,
    ),
    Requirement(
        "RFC9728-2-SIGNING-ALGS",
        MUST,
        "resource_signing_alg_values_supported, when present, never lists none.",
        applies_if=PRM,
    ),
    Requirement(
        "RFC9728-2.2-SIGNED",
        MUST,
        "signed_metadata, when present, is a signed JWT carrying an iss claim.",
        applies_if=PRM,
    ),
)
