"""RFC 6750 requirements, in our words. Sections and levels checked against the RFC text.

Rows about the protected resource apply only when the profile names one ([resource] url). OAuth
2.1 section 5 restates most of them; the MCP rows (specs/mcp) add that MCP servers must answer
401 and ignore tokens in the query string.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
RS = Feature.PROTECTED_RESOURCE

REQUIREMENTS = (
    Requirement(
        "RFC6750-2.1-HEADER",
        MUST,
        "The protected resource accepts an access token sent in the Authorization header with the Bearer scheme.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-2.1-SCHEME-CASE",
        MUST,
        'The scheme name is matched without regard to case (the section\'s ABNF literal "Bearer" is'
        " case-insensitive): bearer and BEARER work as Bearer does.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-3-CHALLENGE",
        MUST,
        "A request without a token, or with one that grants no access, gets a WWW-Authenticate header with"
        " a Bearer challenge carrying at least one auth-param.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-3-ATTRIBUTES-ONCE",
        MUST,
        "In a Bearer challenge, realm, scope, error, error_description and error_uri each appear at most once.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-3-ATTRIBUTE-CHARS",
        MUST,
        "Challenge values stay within the characters the section allows: scope %x21/%x23-5B/%x5D-7E and"
        " spaces, error and error_description %x20-21/%x23-5B/%x5D-7E, error_uri without spaces.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-3.1-NO-ERROR-ANON",
        SHOULD,
        "A request that carries no credentials at all gets a challenge without error information.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-3.1-INVALID-TOKEN",
        SHOULD,
        'An unknown, expired or revoked access token is answered 401 with error="invalid_token" in the challenge.',
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-5.2-LIFETIME",
        MUST,
        "Access tokens have a limited lifetime: once the expires_in the token response stated has passed, the"
        " resource refuses the token.",
        applies_if=RS,
    ),
    Requirement(
        "RFC6750-5.2-TLS",
        MUST,
        "The protected resource is reached over TLS (its URL is https), so bearer tokens are never sent in clear.",
        applies_if=Feature.TLS,
    ),
    Requirement(
        "RFC6750-5.3-SHORT-LIVED",
        SHOULD,
        "The authorization server issues short-lived bearer tokens: expires_in is one hour or less.",
    ),
    Requirement(
        "RFC6750-5.3-AUDIENCE",
        SHOULD,
        "Issued bearer tokens carry an audience restriction (a JWT aud claim, or the aud member of introspection).",
    ),
)
