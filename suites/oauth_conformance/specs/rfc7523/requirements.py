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
        MUST,
        "An advertised JWT bearer grant works: a valid JWT from an issuer the server trusts, sent as assertion,"
        " gets an access token.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-2.1-ASSERTION",
        MUST,
        "The assertion parameter carries exactly one JWT: a request without it, or with it twice, is refused.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3-ISS",
        MUST,
        "iss names the issuer and is compared by exact string: an untrusted issuer, or the trusted one with a"
        " trailing slash, is refused.",
        applies_if=JB,
    ),
    Requirement("RFC7523-3-SUB", MUST, "A JWT without a sub claim is refused.", applies_if=JB),
    Requirement(
        "RFC7523-3-AUD",
        MUST,
        "A JWT whose aud does not name this authorization server (another server, a longer URL, no aud) is refused.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3-EXP",
        MUST,
        "A JWT without exp, or whose exp has passed (beyond clock skew), is refused.",
        applies_if=JB,
    ),
    Requirement("RFC7523-3-NBF", MUST, "A JWT is not accepted before its nbf time.", applies_if=JB),
    Requirement(
        "RFC7523-3-SIG",
        MUST,
        "The signature is verified: an unsigned JWT (alg none), one signed with an untrusted key, or one whose"
        " claims were altered after signing is refused.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3-VALID-JWT",
        MUST,
        "A JWT that is invalid in any other way (undecodable parts, claims that are not a JSON object, a critical"
        " header extension the server does not understand) is refused.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3-REPLAY",
        MAY,
        "The server may refuse a JWT whose jti it has already seen (replay protection).",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3.1-CLIENT-CREDS",
        MUST,
        "Client credentials sent with a JWT grant are validated: a valid JWT with a wrong client secret is"
        " refused with invalid_client.",
        applies_if=JB,
    ),
    Requirement(
        "RFC7523-3.1-INVALID-GRANT",
        MUST,
        "An invalid JWT grant is answered 400 with error invalid_grant.",
        applies_if=JB,
    ),
    # ------------------------------------------------------ JWTs for client authentication
    Requirement(
        "RFC7523-2.2-CLIENT-AUTH",
        MUST,
        "A client registered for private_key_jwt authenticates with a client assertion signed by its key.",
    ),
    Requirement(
        "RFC7523-3-CLIENT-SUB",
        MUST,
        "A client assertion whose sub is not the client's client_id is refused.",
    ),
    Requirement(
        "RFC7523-3-CLIENT-AUD",
        MUST,
        "A client assertion whose aud does not name this authorization server is refused.",
    ),
    Requirement("RFC7523-3-CLIENT-EXP", MUST, "An expired client assertion is refused."),
    Requirement(
        "RFC7523-3-CLIENT-SIG",
        MUST,
        "A client assertion signed with a key that is not the client's is refused.",
    ),
    Requirement(
        "RFC7523-3.2-INVALID-CLIENT",
        MUST,
        "An invalid client assertion is answered with error invalid_client.",
    ),
)
