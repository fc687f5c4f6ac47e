"""RFC 8707 requirements, in our words. Sections and levels checked against the RFC text.

RFC 8707 puts no MUST on the authorization server: audience restriction is a SHOULD, and the
invalid_target answer to a resource it cannot parse or will not serve a lowercase "should"
(section 2.1), shown here as SHOULD. Which resources a token request may name is the server's
policy (section 2.2). That a server offering resource indicators accepts its own resource on
every request is the MCP row MCP-RES-PARAM. Section 2.2 recalls, in lowercase, that a server that
downscopes a token for its resource must say so in the scope response parameter; the MUST is RFC
6749 section 3.3's, which RFC8707-2.2-SCOPE-ECHO quotes.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
RI = Feature.RESOURCE_INDICATORS

REQUIREMENTS = (
    Requirement(
        "RFC8707-2-AUDIENCE",
        SHOULD,
        "Access tokens are audience-restricted to the requested resource (JWT aud, or the aud of introspection).",
        applies_if=RI,
        quote=(
            "The authorization server SHOULD audience-restrict issued access tokens to the"
            " resource(s) indicated by the resource parameter."
        ),
    ),
    Requirement(
        "RFC8707-2.1-INVALID-TARGET",
        SHOULD,
        "An authorization request naming a resource the server will not serve gets an invalid_target error"
        " response, not a code.",
        applies_if=RI,
        quote=(
            "If the authorization server fails to parse the provided value(s) or does not consider"
            " the resource(s) acceptable, it should reject the request with an error response using"
            " the error code invalid_target as the value of the error parameter"
        ),
    ),
    Requirement(
        "RFC8707-2.1-SYNTAX",
        SHOULD,
        "A resource the server cannot accept as an absolute URI without fragment (a relative reference, a"
        " fragment) gets invalid_target.",
        applies_if=RI,
        quote=(
            "If the authorization server fails to parse the provided value(s) or does not consider"
            " the resource(s) acceptable, it should reject the request with an error response using"
            " the error code invalid_target as the value of the error parameter"
        ),
    ),
    Requirement(
        "RFC8707-2.2-INVALID-TARGET",
        SHOULD,
        "A token request naming a resource that was not granted (nor served) is refused with invalid_target.",
        applies_if=RI,
        quote=(
            "The following error code is provided for an authorization server to indicate problems"
            " with the requested resource(s) in response to an authorization request or access token"
            " request. [...] invalid_target The requested resource is invalid, missing, unknown, or"
            " malformed."
        ),
        quote_section="2",
    ),
    Requirement(
        "RFC8707-2.2-SCOPE-ECHO",
        MUST,
        (
            "A token issued for a resource with a scope other than the one requested (downscoped to what the"
            " resource understands) names its scope in the token response; seen through introspection or a"
            " JWT access token's scope."
        ),
        applies_if=RI,
        quote=(
            "If the issued access token scope is different from the one requested by the client, the"
            ' authorization server MUST include the "scope" response parameter to inform the client of the'
            " actual scope granted."
        ),
        quote_section="3.3",
        quote_spec="RFC6749",
    ),
)
