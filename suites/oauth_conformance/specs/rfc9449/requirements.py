"""RFC 9449 (DPoP) requirements of an authorization server and its protected resource, in our words.

Sections and levels checked against the RFC text. Section 4.3 lists what "the receiving server
MUST ensure" of a proof; each check a server can be seen to skip is a row of its own, at the
token endpoint (section 5) and, where a protected resource is known, at the resource (section 7).
Section 11.1 makes a proof's lifetime a MUST but remembering jti values only something servers
"can" do: the replay row is a SHOULD. The answer to an invalid proof (invalid_dpop_proof) and to a
missing nonce (400 use_dpop_nonce with a DPoP-Nonce header) are stated in the indicative: SHOULD
rows. Nonce rows apply to servers seen to supply nonces.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
DPOP = Feature.DPOP
CHECKS = "To validate a DPoP proof, the receiving server MUST ensure the following: [...] "


def check(number: str, text: str) -> str:
    return CHECKS + f"{number}. {text}"


REQUIREMENTS = (
    Requirement(
        "RFC9449-4.3-SINGLE-HEADER",
        MUST,
        "A token request carrying two DPoP headers is refused.",
        applies_if=DPOP,
        quote=check("1", "There is not more than one DPoP HTTP request header field."),
    ),
    Requirement(
        "RFC9449-4.3-WELL-FORMED",
        MUST,
        "A DPoP header that is not a single well-formed JWT is refused.",
        applies_if=DPOP,
        quote=check("2", "The DPoP HTTP request header field value is a single and well-formed JWT."),
    ),
    Requirement(
        "RFC9449-4.3-CLAIMS",
        MUST,
        "A proof missing jti, htm, htu or iat is refused.",
        applies_if=DPOP,
        quote=check("3", "All required claims per Section 4.2 are contained in the JWT."),
    ),
    Requirement(
        "RFC9449-4.3-TYP",
        MUST,
        "A proof whose typ is not dpop+jwt (a plain JWT) is refused.",
        applies_if=DPOP,
        quote=check("4", "The typ JOSE Header Parameter has the value dpop+jwt."),
    ),
    Requirement(
        "RFC9449-4.3-ALG",
        MUST,
        "A proof with alg none, or a MAC (HS256), is refused.",
        applies_if=DPOP,
        quote=check(
            "5",
            "The alg JOSE Header Parameter indicates a registered asymmetric digital signature algorithm"
            " [IANA.JOSE.ALGS], is not none, is supported by the application, and is acceptable per local policy.",
        ),
    ),
    Requirement(
        "RFC9449-4.3-SIGNATURE",
        MUST,
        "A proof whose signature does not verify with the jwk in its header is refused.",
        applies_if=DPOP,
        quote=check("6", "The JWT signature verifies with the public key contained in the jwk JOSE Header Parameter."),
    ),
    Requirement(
        "RFC9449-4.3-NO-PRIVATE-KEY",
        MUST,
        "A proof whose jwk header holds a private key is refused.",
        applies_if=DPOP,
        quote=check("7", "The jwk JOSE Header Parameter does not contain a private key."),
    ),
    Requirement(
        "RFC9449-4.3-HTM",
        MUST,
        "A proof made for another HTTP method (GET) is refused at the token endpoint.",
        applies_if=DPOP,
        quote=check("8", "The htm claim matches the HTTP method of the current request."),
    ),
    Requirement(
        "RFC9449-4.3-HTU",
        MUST,
        "A proof made for another URL is refused (a query or fragment on the right URL is ignored).",
        applies_if=DPOP,
        quote=check(
            "9",
            "The htu claim matches the HTTP URI value for the HTTP request in which the JWT was received,"
            " ignoring any query and fragment parts.",
        ),
    ),
    Requirement(
        "RFC9449-11.1-LIFETIME",
        MUST,
        (
            "A proof created an hour ago (or an hour ahead) is refused: proofs are accepted for a limited time"
            " only. Without a nonce the creation time is the iat; a server that insists on nonces may judge it"
            " by the nonce instead (section 4.3, step 11), and then an old iat proves nothing."
        ),
        applies_if=DPOP,
        quote=(
            "To limit this, servers MUST only accept DPoP proofs for a limited time after their creation"
            " (preferably only for a relatively brief period on the order of seconds or minutes)."
        ),
    ),
    Requirement(
        "RFC9449-11.1-JTI-REPLAY",
        SHOULD,
        "The same proof (same jti) sent twice to the token endpoint is refused the second time.",
        applies_if=DPOP,
        quote=(
            "In the context of the target URI, servers can store the jti value of each DPoP proof for the time"
            " window in which the respective DPoP proof JWT would be accepted to prevent multiple uses of the"
            " same DPoP proof. HTTP requests to the same URI for which the jti value has been seen before"
            " would be declined."
        ),
    ),
    Requirement(
        "RFC9449-5-TOKEN-TYPE",
        MUST,
        (
            "A token request with a valid proof is answered with a token whose token_type says what it is: DPoP"
            " for a token bound to the proof's key (refused as a bearer token), or Bearer for an unbound one."
        ),
        applies_if=DPOP,
        quote=(
            "A token_type of DPoP MUST be included in the access token response to signal to the client that"
            " the access token was bound to its DPoP key and can be used as described in Section 7.1."
        ),
    ),
    Requirement(
        "RFC9449-5-INVALID-DPOP-PROOF",
        SHOULD,
        "An invalid proof at the token endpoint gets a 400 with error invalid_dpop_proof.",
        applies_if=DPOP,
        quote=(
            "If the DPoP proof is invalid, the authorization server issues an error response per Section 5.2 of"
            " [RFC6749] with invalid_dpop_proof as the value of the error parameter."
        ),
    ),
    Requirement(
        "RFC9449-5-RT-BOUND",
        MUST,
        (
            "A refresh token issued to a public client that sent a proof is bound to the proof's key: refreshing"
            " without a proof, or with a proof made with another key, is refused; with the same key it works."
        ),
        applies_if=DPOP,
        quote=(
            "When an authorization server supporting DPoP issues a refresh token to a public client that presents"
            " a valid DPoP proof at the token endpoint, the refresh token MUST be bound to the respective public"
            " key. The binding MUST be validated when the refresh token is later presented to get new access"
            " tokens."
        ),
    ),
    Requirement(
        "RFC9449-5.1-ALGS",
        SHOULD,
        (
            "dpop_signing_alg_values_supported is a JSON array of asymmetric JWS algorithms (never none or a MAC),"
            " and a proof signed with an advertised one is accepted."
        ),
        applies_if=DPOP,
        quote=(
            "dpop_signing_alg_values_supported: A JSON array containing a list of the JWS alg values (from the"
            " [IANA.JOSE.ALGS] registry) supported by the authorization server for DPoP proof JWTs."
        ),
    ),
    Requirement(
        "RFC9449-5.2-BOUND-CLIENT",
        MUST,
        (
            "A client registered with dpop_bound_access_tokens true gets no token without a DPoP header (applies"
            " where registration keeps the member)."
        ),
        applies_if=DPOP,
        quote=(
            "If the value is true, the authorization server MUST reject token requests from the client that do"
            " not contain the DPoP header."
        ),
    ),
    Requirement(
        "RFC9449-6.1-JKT",
        MUST,
        "A DPoP-bound JWT access token's cnf.jkt is the JWK SHA-256 thumbprint of the proof's key.",
        applies_if=DPOP,
        quote=(
            "The value of the jkt member MUST be the base64url encoding (as defined in [RFC7515]) of the JWK"
            " SHA-256 Thumbprint (according to [RFC7638]) of the DPoP public key (in JWK format) to which the"
            " access token is bound."
        ),
    ),
    Requirement(
        "RFC9449-6.2-INTROSPECTION",
        MUST,
        (
            "Introspecting a DPoP-bound access token gives token_type DPoP (when token_type is there at all)"
            " and cnf.jkt, the thumbprint of the proof's key."
        ),
        applies_if=DPOP,
        quote="If the token_type member is included in the introspection response, it MUST contain the value DPoP.",
    ),
    Requirement(
        "RFC9449-10-DPOP-JKT",
        MUST,
        (
            "A code requested with dpop_jkt is exchanged only with a proof made with that key: a proof made with"
            " another key is refused."
        ),
        applies_if=DPOP,
        quote=(
            "When a token request is received, the authorization server computes the JWK Thumbprint of the"
            " proof-of-possession public key in the DPoP proof and verifies that it matches the dpop_jkt"
            " parameter value in the authorization request. If they do not match, it MUST reject the request."
        ),
    ),
    Requirement(
        "RFC9449-10.1-PAR",
        MUST,
        (
            "With PAR, a DPoP header on the pushed request binds the code as dpop_jkt does (a proof made with"
            " another key is refused at the token endpoint), and a dpop_jkt that differs from the pushed"
            " request's own proof key is refused."
        ),
        applies_if=DPOP,
        quote=(
            "Both mechanisms MUST be supported by an authorization server that supports PAR and DPoP. If both"
            " mechanisms are used at the same time, the authorization server MUST reject the request if the"
            " JWK Thumbprint in dpop_jkt does not match the public key in the DPoP header."
        ),
    ),
    Requirement(
        "RFC9449-8-NONCE",
        MUST,
        (
            "A proof whose nonce is not one the server supplied is refused (servers seen to supply nonces; a"
            " proof without any nonce is RFC9449-8-USE-DPOP-NONCE's case)."
        ),
        applies_if=DPOP,
        quote=(
            "If the nonce claim in the DPoP proof does not exactly match a nonce recently supplied by the"
            " authorization server to the client, the authorization server MUST reject the request."
        ),
    ),
    Requirement(
        "RFC9449-8-USE-DPOP-NONCE",
        SHOULD,
        (
            "A proof without the nonce the server wants gets 400 use_dpop_nonce with one DPoP-Nonce header"
            " (servers that supply nonces and refuse proofs without one)."
        ),
        applies_if=DPOP,
        quote=(
            "In this case, the authorization server responds to requests that do not include a nonce with an"
            " HTTP 400 (Bad Request) error response per Section 5.2 of [RFC6749] using use_dpop_nonce as the"
            " error code value. The authorization server includes a DPoP-Nonce HTTP header in the response"
            " supplying a nonce value to be used when sending the subsequent request."
        ),
    ),
    Requirement(
        "RFC9449-8-ONE-NONCE-HEADER",
        MUST,
        "An answer supplying a nonce carries exactly one DPoP-Nonce header.",
        applies_if=DPOP,
        quote=(
            "Other HTTP headers and JSON fields MAY also be included in the error response, but there MUST NOT"
            " be more than one DPoP-Nonce header."
        ),
    ),
    Requirement(
        "RFC9449-8-UNPREDICTABLE",
        MUST,
        "Nonce values are unpredictable.",
        applies_if=DPOP,
        untestable="unpredictability is a property of how nonces are made; two values that differ prove nothing",
        quote="Nonce values MUST be unpredictable.",
    ),
    Requirement(
        "RFC9449-7.1-RESOURCE-CHECKS",
        MUST,
        (
            "The protected resource serves a DPoP-bound token only with a valid proof: no proof, a proof made"
            " with another key, for another URL or method, or without (or with a wrong) ath gets no access."
        ),
        applies_if=DPOP,
        quote=(
            "For such an access token, a resource server MUST check that a DPoP proof was also received in the"
            " DPoP header field of the HTTP request, check the DPoP proof according to the rules in Section"
            " 4.3, and check that the public key of the DPoP proof matches the public key to which the access"
            " token is bound per Section 6. The resource server MUST NOT grant access to the resource unless"
            " all checks are successful."
        ),
    ),
    Requirement(
        "RFC9449-7.2-NO-DOWNGRADE",
        MUST,
        "A DPoP-bound access token presented with the Bearer scheme is refused by the protected resource.",
        applies_if=DPOP,
        quote=(
            "Specifically, such a protected resource MUST reject a DPoP-bound access token received as a bearer"
            " token per [RFC6750]."
        ),
    ),
    Requirement(
        "RFC9449-7.1-CHALLENGE",
        SHOULD,
        "A refused DPoP request gets a 401 with a DPoP challenge naming the error and the accepted algs.",
        applies_if=DPOP,
        quote=(
            "An error parameter ([RFC6750], Section 3) SHOULD be included to indicate the reason why the request"
            " was declined, if the request included an access token but failed authentication. [...] An algs"
            " parameter SHOULD be included to signal to the client the JWS algorithms that are acceptable for"
            " the DPoP proof JWT."
        ),
    ),
)
