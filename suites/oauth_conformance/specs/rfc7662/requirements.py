"""RFC 7662 requirements of an authorization server's introspection endpoint, in our words.

Sections and levels checked against the RFC text. Section 2.3 says in the indicative that bad
client credentials get a 401; that row is a SHOULD. Section 4 restates section 2.1's duty to
require authentication (one row, RFC7662-2.1-AUTHZ) and lists the checks behind "active": the
expiry and revocation checks are rows of their own.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
INTROSPECTION = Feature.INTROSPECTION

REQUIREMENTS = (
    Requirement(
        "RFC7662-2-TLS",
        MUST,
        "The introspection endpoint is an https URL.",
        applies_if=Feature.TLS,
        quote=(
            "The introspection endpoint MUST be protected by a transport-layer security mechanism as"
            " described in Section 4."
        ),
    ),
    Requirement(
        "RFC7662-2.1-AUTHZ",
        MUST,
        (
            "The endpoint requires authorization: a request without client credentials, or with a wrong"
            " secret, learns nothing about the token (no 200 with active true)."
        ),
        applies_if=INTROSPECTION,
        quote=(
            "To prevent token scanning attacks, the endpoint MUST also require some form of authorization to"
            " access this endpoint, such as client authentication as described in OAuth 2.0 [RFC6749] or a"
            " separate OAuth 2.0 access token such as the bearer token described in OAuth 2.0 Bearer Token"
            " Usage [RFC6750]."
        ),
    ),
    Requirement(
        "RFC7662-2.1-HINT-FALLBACK",
        MUST,
        "A token sent with the wrong token_type_hint (an access token hinted as a refresh token) is still found.",
        applies_if=INTROSPECTION,
        quote=(
            "If the server is unable to locate the token using the given hint, it MUST extend its search"
            " across all of its supported token types."
        ),
    ),
    Requirement(
        "RFC7662-2.2-ACTIVE",
        MUST,
        "A live access token introspected by its client gets 200, a JSON object whose active member is true.",
        applies_if=INTROSPECTION,
        quote=("active REQUIRED. Boolean indicator of whether or not the presented token is currently active."),
    ),
    Requirement(
        "RFC7662-2.2-INACTIVE",
        MUST,
        "A token this server never issued gets 200 with active false.",
        applies_if=INTROSPECTION,
        quote=(
            "If the introspection call is properly authorized but the token is not active, does not exist on"
            " this server, or the protected resource is not allowed to introspect this particular token,"
            ' then the authorization server MUST return an introspection response with the "active" field'
            ' set to "false".'
        ),
    ),
    Requirement(
        "RFC7662-2.2-INACTIVE-NO-INFO",
        SHOULD,
        "The answer for an inactive token holds active false and nothing else (no scope, client, expiry).",
        applies_if=INTROSPECTION,
        quote=(
            "Note that to avoid disclosing too much of the authorization server's state to a third party, the"
            " authorization server SHOULD NOT include any additional information about an inactive token,"
            " including why the token is inactive."
        ),
    ),
    Requirement(
        "RFC7662-2.3-NOT-AN-ERROR",
        MUST,
        "A malformed or foreign token in a properly authorized request is not an error: 200 with active false.",
        applies_if=INTROSPECTION,
        quote=(
            "Note that a properly formed and authorized query for an inactive or otherwise invalid token (or a"
            " token the protected resource is not allowed to know about) is not considered an error response"
            " by this specification. In these cases, the authorization server MUST instead respond with an"
            ' introspection response with the "active" field set to "false" as described in Section 2.2.'
        ),
    ),
    Requirement(
        "RFC7662-2.3-401",
        SHOULD,
        "Invalid client credentials at the introspection endpoint get HTTP 401 (RFC 6749 section 5.2's answer).",
        applies_if=INTROSPECTION,
        quote=(
            "If the protected resource uses OAuth 2.0 client credentials to authenticate to the introspection"
            " endpoint and its credentials are invalid, the authorization server responds with an HTTP 401"
            " (Unauthorized) as described in Section 5.2 of OAuth 2.0 [RFC6749]."
        ),
    ),
    Requirement(
        "RFC7662-4-EXPIRED",
        MUST,
        "An access token past its expiry is reported inactive.",
        applies_if=INTROSPECTION,
        quote="If the token can expire, the authorization server MUST determine whether or not the token has expired.",
    ),
    Requirement(
        "RFC7662-4-REVOKED",
        MUST,
        "A token revoked (RFC 7009) is reported inactive at once.",
        applies_if=INTROSPECTION,
        quote=(
            "If the token can be revoked after it was issued, the authorization server MUST determine whether"
            " or not such a revocation has taken place."
        ),
    ),
)
