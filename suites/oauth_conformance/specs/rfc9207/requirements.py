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
    ),
    Requirement(
        "RFC9207-2-ERROR",
        MUST,
        "Error responses sent to the redirect URI (a denial, an invalid request) carry iss as well.",
        applies_if=ISS,
    ),
    Requirement(
        "RFC9207-2-FORM",
        MUST,
        "The iss value is an absolute URL without query or fragment, https where TLS applies.",
        applies_if=ISS,
    ),
    Requirement(
        "RFC9207-2.3-IDENTICAL",
        MUST,
        "After form-decoding, iss is identical to the issuer in the server's metadata (no added slash, no case"
        " change).",
        applies_if=ISS,
    ),
    Requirement(
        "RFC9207-2.3-ADVERTISED",
        MUST,
        "A server that sends iss says so: its metadata sets authorization_response_iss_parameter_supported to true.",
    ),
)
