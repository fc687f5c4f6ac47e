"""RFC 9207 requirements, in our words. Sections and levels checked against the RFC text.

A server "supports this specification" when its metadata says so
(authorization_response_iss_parameter_supported: true); the rows about iss then apply. The last
row applies to every server that sends iss, advertised or not.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST = Level.MUST
ISS = Feature.ISS_PARAMETER

REQUIREMENTS = (
    Requirement(
        "RFC9207-2-SUCCESS",
        MUST,
        "A successful authorization response carries exactly one iss parameter.",
        applies_if=ISS,
        quote=(
            "In authorization responses to the client, including error responses, an authorization"
            " server supporting this specification MUST indicate its identity by including the iss"
            " parameter in the response."
        ),
    ),
    Requirement(
        "RFC9207-2-ERROR",
        MUST,
        "Error responses sent to the redirect URI (a denial, an invalid request) carry iss as well.",
        applies_if=ISS,
        quote=(
            "In authorization responses to the client, including error responses, an authorization"
            " server supporting this specification MUST indicate its identity by including the iss"
            " parameter in the response."
        ),
    ),
    Requirement(
        "RFC9207-2-FORM",
        MUST,
        "The iss value is an absolute URL without query or fragment, https where TLS applies.",
        applies_if=ISS,
        quote=('Its value MUST be a URL that uses the "https" scheme without any query or fragment components.'),
    ),
    Requirement(
        "RFC9207-2.3-IDENTICAL",
        MUST,
        "After form-decoding, iss is identical to the issuer in the server's metadata (no added slash, no case"
        " change).",
        applies_if=ISS,
        quote=(
            "The issuer identifier included in the server's metadata value issuer MUST be identical"
            " to the iss parameter's value."
        ),
    ),
    Requirement(
        "RFC9207-2.3-ADVERTISED",
        MUST,
        "A server that sends iss says so: its metadata sets authorization_response_iss_parameter_supported to true.",
        quote=(
            "The server MUST indicate its support for the iss parameter by setting the metadata"
            " parameter authorization_response_iss_parameter_supported, defined in Section 3, to"
            " true."
        ),
    ),
)
