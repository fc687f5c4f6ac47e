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
        quote="Resource servers MUST support this method.",
    ),
    Requirement(
        "RFC6750-2.1-SCHEME-CASE",
        MUST,
        'The scheme name is matched without regard to case (the section\'s ABNF literal "Bearer" is'
        " case-insensitive): bearer and BEARER work as Bearer does.",
        applies_if=RS,
        quote=(
            "Resource servers MUST support this method. As described in Section 11.1 of [RFC9110],"
            " the string bearer is case-insensitive."
        ),
        quote_section="5.1.1",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC6750-3-CHALLENGE",
        MUST,
        "A request without a token, or with one that grants no access, gets a WWW-Authenticate header with"
        " a Bearer challenge carrying at least one auth-param.",
        applies_if=RS,
        quote=(
            "If the protected resource request does not include authentication credentials or does"
            " not contain an access token that enables access to the protected resource, the resource"
            ' server MUST include the HTTP "WWW-Authenticate" response header field; it MAY include'
            " it in response to other conditions as well. [...] All challenges defined by this"
            ' specification MUST use the auth-scheme value "Bearer". This scheme MUST be followed by'
            " one or more auth-param values."
        ),
    ),
    Requirement(
        "RFC6750-3-ATTRIBUTES-ONCE",
        MUST,
        "In a Bearer challenge, realm, scope, error, error_description and error_uri each appear at most once.",
        applies_if=RS,
        quote=(
            'The "realm" attribute MUST NOT appear more than once. [...] The "scope" attribute MUST'
            ' NOT appear more than once. [...] The "error", "error_description", and "error_uri"'
            " attributes MUST NOT appear more than once."
        ),
    ),
    Requirement(
        "RFC6750-3-ATTRIBUTE-CHARS",
        MUST,
        "Challenge values stay within the characters the section allows: scope %x21/%x23-5B/%x5D-7E and"
        " spaces, error and error_description %x20-21/%x23-5B/%x5D-7E, error_uri without spaces.",
        applies_if=RS,
        quote=(
            'Values for the "scope" attribute (specified in Appendix A.4 of [RFC6749]) MUST NOT'
            " include characters outside the set %x21 / %x23-5B / %x5D-7E for representing scope"
            ' values and %x20 for delimiters between scope values. Values for the "error" and'
            ' "error_description" attributes (specified in Appendixes A.7 and A.8 of [RFC6749]) MUST'
            " NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E. Values for the"
            ' "error_uri" attribute (specified in Appendix A.9 of [RFC6749]) MUST conform to the'
            " URI-reference syntax and thus MUST NOT include characters outside the set %x21 /"
            " %x23-5B / %x5D-7E."
        ),
    ),
    Requirement(
        "RFC6750-3.1-NO-ERROR-ANON",
        SHOULD,
        "A request that carries no credentials at all gets a challenge without error information.",
        applies_if=RS,
        quote=(
            "If the request lacks any authentication information (e.g., the client was unaware that"
            " authentication is necessary or attempted using an unsupported authentication method),"
            " the resource server SHOULD NOT include an error code or other error information."
        ),
    ),
    Requirement(
        "RFC6750-3.1-INVALID-TOKEN",
        SHOULD,
        'An unknown, expired or revoked access token is answered 401 with error="invalid_token" in the challenge.',
        applies_if=RS,
        quote=(
            "invalid_token The access token provided is expired, revoked, malformed, or invalid for"
            " other reasons. The resource SHOULD respond with the HTTP 401 (Unauthorized) status"
            " code."
        ),
    ),
    Requirement(
        "RFC6750-5.2-LIFETIME",
        MUST,
        "Access tokens have a limited lifetime: once the expires_in the token response stated has passed, the"
        " resource refuses the token.",
        applies_if=RS,
        quote=(
            "First, the lifetime of the token MUST be limited; one means of achieving this is by"
            " putting a validity time field inside the protected part of the token."
        ),
    ),
    Requirement(
        "RFC6750-5.2-TLS",
        MUST,
        "The protected resource is reached over TLS (its URL is https), so bearer tokens are never sent in clear.",
        applies_if=Feature.TLS,
        quote=(
            "To protect against token disclosure, confidentiality protection MUST be applied using"
            " TLS [RFC5246] with a ciphersuite that provides confidentiality and integrity"
            " protection."
        ),
    ),
    Requirement(
        "RFC6750-5.3-SHORT-LIVED",
        SHOULD,
        "The authorization server issues short-lived bearer tokens: expires_in is one hour or less.",
        quote=(
            "Token servers SHOULD issue short-lived (one hour or less) bearer tokens, particularly"
            " when issuing tokens to clients that run within a web browser or other environments"
            " where information leakage may occur."
        ),
    ),
    Requirement(
        "RFC6750-5.3-AUDIENCE",
        SHOULD,
        "Issued bearer tokens carry an audience restriction (a JWT aud claim, or the aud member of introspection).",
        quote=(
            "Token servers SHOULD issue bearer tokens that contain an audience restriction, scoping"
            " their use to the intended relying party or set of relying parties."
        ),
    ),
    Requirement(
        "RFC6750-3.1-INSUFFICIENT-SCOPE",
        SHOULD,
        (
            "A valid token without the scope a resource needs gets 403 with a Bearer challenge naming"
            ' error="insufficient_scope" (and, when present, the scope needed).'
        ),
        applies_if=RS,
        quote=(
            "insufficient_scope The request requires higher privileges than provided by the access token. The"
            ' resource server SHOULD respond with the HTTP 403 (Forbidden) status code and MAY include the "scope"'
            " attribute with the scope necessary to access the protected resource."
        ),
    ),
    Requirement(
        "RFC6750-3.1-ONE-METHOD",
        SHOULD,
        (
            "A request carrying its token twice (the Authorization header and an access_token form parameter) is"
            " refused with 400 invalid_request, never served (clients MUST NOT use more than one method, section 2)."
        ),
        applies_if=RS,
        quote=(
            "invalid_request The request is missing a required parameter, includes an unsupported parameter or"
            " parameter value, repeats the same parameter, uses more than one method for including an access"
            " token, or is otherwise malformed. The resource server SHOULD respond with the HTTP 400 (Bad"
            " Request) status code."
        ),
    ),
)
