"""RFC 7523 requirements (with RFC 7521, which it profiles), in our words. Sections checked
against the RFC text: 2.1 and 2.2 (the parameters), 3 (the JWT rules, items 1 to 10), 3.1 and
3.2 (processing and error codes)."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, MAY = Level.MUST, Level.MAY
JB = Feature.JWT_BEARER

REQUIREMENTS = (
    # ------------------------------------------------------------ JWTs as authorization grants
    Requirement(
        "RFC7523-2.1-GRANT",
        Level.SHOULD,
        "An advertised JWT bearer grant works: a valid JWT from an issuer the server trusts, sent as assertion,"
        " gets an access token.",
        applies_if=JB,
        quote=(
            "To use a Bearer JWT as an authorization grant, the client uses an access token request"
            " as defined in Section 4 of the OAuth Assertion Framework [RFC7521] with the following"
            ' specific parameter values and encodings. The value of the "grant_type" is'
            ' "urn:ietf:params:oauth:grant-type:jwt-bearer".'
        ),
    ),
    Requirement(
        "RFC7523-2.1-ASSERTION",
        MUST,
        (
            "The assertion parameter carries a JWT: a request without it is refused (a repeated parameter"
            " is OAUTH21-3.2-NO-DUPLICATES)."
        ),
        applies_if=JB,
        quote='The value of the "assertion" parameter MUST contain a single JWT.',
    ),
    Requirement(
        "RFC7523-3-ISS",
        MUST,
        "iss names the issuer and is compared by exact string: an untrusted issuer, or the trusted one with a"
        " trailing slash, is refused.",
        applies_if=JB,
        quote=(
            "the authorization server MUST validate the JWT according to the criteria below. [...]"
            ' The JWT MUST contain an "iss" (issuer) claim that contains a unique identifier for the'
            " entity that issued the JWT. In the absence of an application profile specifying"
            " otherwise, compliant applications MUST compare issuer values using the Simple String"
            " Comparison method defined in Section 6.2.1 of RFC 3986 [RFC3986]."
        ),
    ),
    Requirement(
        "RFC7523-3-SUB",
        MUST,
        "A JWT without a sub claim is refused.",
        applies_if=JB,
        quote=(
            "the authorization server MUST validate the JWT according to the criteria below. [...]"
            ' The JWT MUST contain a "sub" (subject) claim identifying the principal that is the subject of the JWT.'
        ),
    ),
    Requirement(
        "RFC7523-3-AUD",
        MUST,
        "A JWT whose aud does not name this authorization server (another server, a longer URL, no aud) is refused.",
        applies_if=JB,
        quote=(
            "The authorization server MUST reject any JWT that does not contain its own identity as"
            " the intended audience."
        ),
    ),
    Requirement(
        "RFC7523-3-EXP",
        MUST,
        "A JWT without exp, or whose exp has passed (beyond clock skew), is refused.",
        applies_if=JB,
        quote=(
            'The JWT MUST contain an "exp" (expiration time) claim that limits the time window during'
            " which the JWT can be used. The authorization server MUST reject any JWT with an"
            " expiration time that has passed, subject to allowable clock skew between systems."
        ),
    ),
    Requirement(
        "RFC7523-3-NBF",
        MUST,
        "A JWT is not accepted before its nbf time.",
        applies_if=JB,
        quote=(
            'The JWT MAY contain an "nbf" (not before) claim that identifies the time before which'
            " the token MUST NOT be accepted for processing."
        ),
    ),
    Requirement(
        "RFC7523-3-SIG",
        MUST,
        "The signature is verified: an unsigned JWT (alg none), one signed with an untrusted key, or one whose"
        " claims were altered after signing is refused.",
        applies_if=JB,
        quote=(
            "The JWT MUST be digitally signed or have a Message Authentication Code (MAC) applied by"
            " the issuer. The authorization server MUST reject JWTs with an invalid signature or MAC."
        ),
    ),
    Requirement(
        "RFC7523-3-VALID-JWT",
        MUST,
        "A JWT that is invalid in any other way (undecodable parts, claims that are not a JSON object, a critical"
        " header extension the server does not understand) is refused.",
        applies_if=JB,
        quote=(
            "The authorization server MUST reject a JWT that is not valid in all other respects per"
            ' "JSON Web Token (JWT)" [JWT].'
        ),
    ),
    Requirement(
        "RFC7523-3-REPLAY",
        MAY,
        "The server may refuse a JWT whose jti it has already seen (replay protection).",
        applies_if=JB,
        quote=(
            "The authorization server MAY ensure that JWTs are not replayed by maintaining the set of"
            ' used "jti" values for the length of time for which the JWT would be considered valid'
            ' based on the applicable "exp" instant.'
        ),
    ),
    Requirement(
        "RFC7523-3.1-CLIENT-CREDS",
        MUST,
        "Client credentials sent with a JWT grant are validated: a valid JWT with a wrong client secret is"
        " refused with invalid_client.",
        applies_if=JB,
        quote=(
            "However, if client credentials are present in the request, the authorization server MUST validate them."
        ),
    ),
    Requirement(
        "RFC7523-3.1-INVALID-GRANT",
        MUST,
        "An invalid JWT grant is answered 400 with error invalid_grant.",
        applies_if=JB,
        quote=(
            "If the JWT is not valid, or the current time is not within the token's valid time window"
            " for use, the authorization server constructs an error response as defined in OAuth 2.0"
            ' [RFC6749]. The value of the "error" parameter MUST be the "invalid_grant" error code.'
        ),
    ),
    # ------------------------------------------------------ JWTs for client authentication
    Requirement(
        "RFC7523-2.2-CLIENT-AUTH",
        MUST,
        "A client registered for private_key_jwt authenticates with a client assertion signed by its key.",
        quote=("The authorization server MUST: [...] authenticate the client if client authentication is included"),
        quote_section="3.2.2",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "RFC7523-3-CLIENT-SUB",
        MUST,
        "A client assertion whose sub is not the client's client_id is refused.",
        quote=(
            "the authorization server MUST validate the JWT according to the criteria below. [...]"
            ' For client authentication, the subject MUST be the "client_id" of the OAuth client.'
        ),
    ),
    Requirement(
        "RFC7523-3-CLIENT-AUD",
        MUST,
        "A client assertion whose aud does not name this authorization server is refused.",
        quote=(
            "The authorization server MUST reject any JWT that does not contain its own identity as"
            " the intended audience."
        ),
    ),
    Requirement(
        "RFC7523-3-CLIENT-EXP",
        MUST,
        "An expired client assertion is refused.",
        quote=(
            'The JWT MUST contain an "exp" (expiration time) claim that limits the time window during'
            " which the JWT can be used. The authorization server MUST reject any JWT with an"
            " expiration time that has passed, subject to allowable clock skew between systems."
        ),
    ),
    Requirement(
        "RFC7523-3-CLIENT-SIG",
        MUST,
        "A client assertion signed with a key that is not the client's is refused.",
        quote=(
            "The JWT MUST be digitally signed or have a Message Authentication Code (MAC) applied by"
            " the issuer. The authorization server MUST reject JWTs with an invalid signature or MAC."
        ),
    ),
    Requirement(
        "RFC7523-3.2-INVALID-CLIENT",
        MUST,
        "An invalid client assertion is answered with error invalid_client.",
        quote=(
            "If the client JWT is not valid, the authorization server constructs an error response as"
            ' defined in OAuth 2.0 [RFC6749]. The value of the "error" parameter MUST be the'
            ' "invalid_client" error code.'
        ),
    ),
)
