"""RFC 7009 requirements, in our words. Sections and levels checked against the RFC text.

Section 2.1 states two server duties in the indicative, with no alternative offered: the client
is authenticated and the token's ownership checked before anything is revoked, and "the
invalidation takes place immediately". Section 2.2 does the same for the 200 answer to invalid
tokens and for ignoring an invalid hint. We hold them at MUST: the RFC describes them as the
protocol's behaviour, not as options.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
REVOCATION = Feature.REVOCATION

REQUIREMENTS = (
    Requirement(
        "RFC7009-2-REFRESH",
        MUST,
        (
            "Refresh-token revocation is supported: revoking one of the client's own refresh tokens"
            " is accepted (2xx; an answer other than section 2.2's 200 is a finding)."
        ),
        applies_if=REVOCATION,
        quote=(
            "Implementations MUST support the revocation of refresh tokens and SHOULD support the"
            " revocation of access tokens (see Implementation Note)."
        ),
    ),
    Requirement(
        "RFC7009-2-ACCESS",
        SHOULD,
        "Access-token revocation is supported: a revoked access token is refused by the protected resource.",
        applies_if=REVOCATION,
        quote=(
            "Implementations MUST support the revocation of refresh tokens and SHOULD support the"
            " revocation of access tokens (see Implementation Note)."
        ),
    ),
    Requirement(
        "RFC7009-2-HTTPS",
        MUST,
        "The revocation endpoint is an https URL (an http one must never be published).",
        applies_if=Feature.TLS,
        quote=(
            "Since requests to the token revocation endpoint result in the transmission of plaintext"
            " credentials in the HTTP request, URLs for token revocation endpoints MUST be HTTPS"
            " URLs."
        ),
    ),
    Requirement(
        "RFC7009-2-HTTP-ALSO",
        SHOULD,
        "When the host is also reachable over http, a revocation service answers there too, unpublished: the"
        " http form of an https endpoint on the default port answers a revocation request that carries no"
        " credential (a bogus token, an unknown client_id) with an RFC 7009 answer, not a redirect or a page.",
        applies_if=REVOCATION,
        quote=(
            "If the host of the token revocation endpoint can also be reached over HTTP, then the"
            " server SHOULD also offer a revocation service at the corresponding HTTP URI, but it"
            " MUST NOT publish this URI as a token revocation endpoint."
        ),
    ),
    Requirement(
        "RFC7009-2.1-CLIENT-AUTH",
        MUST,
        (
            "A confidential client is authenticated before anything else: a wrong or missing secret"
            " is refused with invalid_client (RFC 6749 section 5.2: client authentication failed, or"
            " none included), whatever the token."
        ),
        applies_if=REVOCATION,
        quote=(
            "error REQUIRED. A single ASCII [USASCII] error code from the following: [...]"
            " invalid_client Client authentication failed (e.g., unknown client, no client"
            " authentication included, or unsupported authentication method)."
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "RFC7009-2.1-OWNERSHIP",
        MUST,
        "A token issued to another client is not revoked: the owner can still use it afterwards.",
        applies_if=REVOCATION,
        quote=(
            "The authorization server MUST verify the binding between the refresh token and client"
            " identity whenever the client identity can be authenticated."
        ),
        quote_section="4.3",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC7009-2.1-IMMEDIATE",
        MUST,
        "Revocation takes effect at once: the request right after the 200 already finds the token dead.",
        applies_if=REVOCATION,
        quote="Implementations MUST support the revocation of refresh tokens",
        quote_section="2",
    ),
    Requirement(
        "RFC7009-2.1-HINT-FALLBACK",
        MUST,
        (
            "A token_type_hint that does not find the token widens the search to every token type: a"
            " refresh token hinted as access_token is still revoked (an answer other than 200 is a"
            " finding, section 2.2)."
        ),
        applies_if=REVOCATION,
        quote=(
            "If the server is unable to locate the token using the given hint, it MUST extend its"
            " search across all of its supported token types."
        ),
    ),
    Requirement(
        "RFC7009-2.1-CASCADE",
        SHOULD,
        "Revoking a refresh token also ends the access tokens of the same grant.",
        applies_if=REVOCATION,
        quote=(
            "If the particular token is a refresh token and the authorization server supports the"
            " revocation of access tokens, then the authorization server SHOULD also invalidate all"
            " access tokens based on the same authorization grant (see Implementation Note)."
        ),
    ),
    Requirement(
        "RFC7009-2.2-INVALID-200",
        SHOULD,
        "An invalid or unknown token is answered 200, the same as a revoked one (no error, no oracle).",
        applies_if=REVOCATION,
        quote=(
            "The authorization server responds with HTTP status code 200 if the token has been"
            " revoked successfully or if the client submitted an invalid token."
        ),
    ),
    Requirement(
        "RFC7009-2.2-BAD-HINT",
        SHOULD,
        "An unknown token_type_hint value is ignored: the token is revoked and the answer is 200.",
        applies_if=REVOCATION,
        quote=(
            "An invalid token type hint value is ignored by the authorization server and does not"
            " influence the revocation response."
        ),
    ),
    Requirement(
        "RFC7009-2.2.1-ERROR-FORMAT",
        MUST,
        "Revocation errors are RFC 6749 section 5.2 error objects: JSON with a registered error code.",
        applies_if=REVOCATION,
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            " specified otherwise) and includes the following parameters with the response: error"
            " REQUIRED. A single ASCII [USASCII] error code from the following:"
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "RFC7009-5-DOS",
        MUST,
        "The revocation endpoint applies the same denial-of-service countermeasures as the token endpoint.",
        applies_if=REVOCATION,
        untestable="countermeasures can only be observed by attacking the server",
        quote=(
            "Appropriate countermeasures, which should be in place for the token endpoint as well,"
            " MUST be applied to the revocation endpoint (see [RFC6819], Section 4.4.1.11)."
        ),
    ),
)
