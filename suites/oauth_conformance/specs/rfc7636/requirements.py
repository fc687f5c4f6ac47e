"""RFC 7636 (PKCE) requirements on the authorization server, in our words.

Sections checked against the RFC: 4.1 verifier syntax, 4.2 transformations (S256 mandatory to
implement on the server), 4.3 the method defaults to plain, 4.4 the challenge is associated with the
code and never exposed, 4.4.1 errors at the authorization endpoint, 4.5 the method bound at
authorization is the one used at the token endpoint, 4.6 verification. The PKCE downgrade (a
verifier for a code issued without a challenge) is OAuth 2.1's rule: OAUTH21-4.1.3-PKCE-DOWNGRADE.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD

REQUIREMENTS = (
    Requirement(
        "RFC7636-4.2-S256-MTI",
        MUST,
        "The server implements S256: an authorization with an S256 challenge, redeemed with its verifier,"
        " yields tokens.",
        quote=(
            'If the client is capable of using "S256", it MUST use "S256", as "S256" is Mandatory To'
            " Implement (MTI) on the server."
        ),
    ),
    Requirement(
        "RFC7636-4.3-DEFAULT-PLAIN",
        MUST,
        "A challenge sent without code_challenge_method is a plain challenge: the server refuses it (no"
        " plain support) or checks the verifier against it as plain, never as S256: the identical verifier"
        " redeems the code, any other (its S256 pre-image included) is refused with invalid_grant.",
        quote=(
            'The "code_challenge_method" is bound to the Authorization Code when the Authorization'
            " Code is issued. That is the method that the token endpoint MUST use to verify the"
            ' "code_verifier".'
        ),
        quote_section="4.5",
    ),
    Requirement(
        "RFC7636-4.4-BIND",
        MUST,
        "The challenge is tied to the code it was sent with: a verifier belonging to another authorization"
        " does not redeem the code.",
        quote=(
            "When the server issues the authorization code in the authorization response, it MUST"
            ' associate the "code_challenge" and "code_challenge_method" values with the'
            " authorization code so it can be verified later."
        ),
    ),
    Requirement(
        "RFC7636-4.4-NO-LEAK",
        MUST,
        "The challenge is never exposed in the authorization response in a form others can read (in clear"
        " or base64url-encoded in the code or another parameter).",
        quote=(
            'The server MUST NOT include the "code_challenge" value in client requests in a form that'
            " other entities can extract."
        ),
    ),
    Requirement(
        "RFC7636-4.4.1-MISSING",
        MUST,
        "When PKCE is required and code_challenge is missing, the authorization error is invalid_request.",
        quote=(
            "If the server requires Proof Key for Code Exchange (PKCE) by OAuth public clients and"
            ' the client does not send the "code_challenge" in the request, the authorization'
            ' endpoint MUST return the authorization error response with the "error" value set to'
            ' "invalid_request".'
        ),
    ),
    Requirement(
        "RFC7636-4.4.1-METHOD",
        MUST,
        "A code_challenge_method the server does not support (a made-up one, or plain when the metadata"
        " does not list it) gets the authorization error invalid_request.",
        quote=(
            "If the server supporting PKCE does not support the requested transformation, the"
            ' authorization endpoint MUST return the authorization error response with "error" value'
            ' set to "invalid_request".'
        ),
    ),
    Requirement(
        "RFC7636-4.5-METHOD-BOUND",
        MUST,
        "The token endpoint verifies with the method bound at authorization: for an S256 code, the challenge"
        " itself sent as verifier (a switch to plain) is refused with invalid_grant.",
        quote=(
            'The "code_challenge_method" is bound to the Authorization Code when the Authorization'
            " Code is issued. That is the method that the token endpoint MUST use to verify the"
            ' "code_verifier".'
        ),
    ),
    Requirement(
        "RFC7636-4.6-S256-VERIFY",
        MUST,
        "The token endpoint checks BASE64URL(SHA256(verifier)) against the S256 challenge: a wrong verifier"
        " gets invalid_grant.",
        quote=(
            'If the values are not equal, an error response indicating "invalid_grant" as described'
            " in Section 5.2 of [RFC6749] MUST be returned."
        ),
    ),
    Requirement(
        "RFC7636-4.6-PLAIN-VERIFY",
        MUST,
        "For a plain challenge the verifier must equal it exactly: a different verifier gets invalid_grant.",
        applies_if=Feature.PLAIN_PKCE,
        quote=(
            'If the values are not equal, an error response indicating "invalid_grant" as described'
            " in Section 5.2 of [RFC6749] MUST be returned."
        ),
    ),
    Requirement(
        "RFC7636-4.1-VERIFIER-SYNTAX",
        SHOULD,
        "A verifier outside 43 to 128 characters of [A-Za-z0-9-._~] is refused, even when its S256 hash"
        " matches the challenge.",
        quote=(
            "code_verifier = high-entropy cryptographic random STRING using the unreserved characters"
            ' [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~" from Section 2.3 of [RFC3986], with a'
            " minimum length of 43 characters and a maximum length of 128 characters."
        ),
    ),
    Requirement(
        "RFC7636-4.2-CHALLENGE-SYNTAX",
        SHOULD,
        "A malformed code_challenge (too short for any verifier) gets the authorization error invalid_request.",
    ),
)
