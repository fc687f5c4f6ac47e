"""RFC 9126 (PAR) requirements of an authorization server, in our words.

Sections and levels checked against the RFC text. Section 4's "authorization server will refuse"
a request without a request_uri when its policy makes PAR the only way, and the metadata and
client metadata of sections 5 and 6 that announce that policy, carry no BCP 14 keyword: those rows
are SHOULDs. request_uri values being unguessable is a MUST no black-box test can verify.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
PAR = Feature.PAR

REQUIREMENTS = (
    Requirement(
        "RFC9126-2-HTTPS",
        MUST,
        "The pushed authorization request endpoint is an https URL.",
        applies_if=Feature.TLS,
        quote='The PAR endpoint URL MUST use the "https" scheme.',
    ),
    Requirement(
        "RFC9126-2.1-CLIENT-AUTH",
        MUST,
        (
            "A confidential client is authenticated at the PAR endpoint as at the token endpoint: a wrong"
            " secret, or none, gets invalid_client and no request_uri."
        ),
        applies_if=PAR,
        quote=(
            "The authorization server MUST process the request as follows: 1. Authenticate the client in the"
            " same way as at the token endpoint (Section 2.3 of [RFC6749])."
        ),
    ),
    Requirement(
        "RFC9126-2-AUDIENCE",
        MUST,
        (
            "A private_key_jwt client at the PAR endpoint is authenticated with an assertion whose aud is the"
            " issuer, the token endpoint URL or the PAR endpoint URL, each of the three."
        ),
        applies_if=PAR,
        quote=(
            "In order to facilitate interoperability, the authorization server MUST accept its issuer"
            " identifier, token endpoint URL, or pushed authorization request endpoint URL as values that"
            " identify it as an intended audience."
        ),
    ),
    Requirement(
        "RFC9126-2.1-NO-REQUEST-URI",
        MUST,
        "A pushed request that itself carries request_uri is refused (400, no request_uri issued).",
        applies_if=PAR,
        quote=(
            "The authorization server MUST process the request as follows: [...] 2. Reject the request if the"
            " request_uri authorization request parameter is provided."
        ),
    ),
    Requirement(
        "RFC9126-2.1-VALIDATE",
        MUST,
        (
            "A pushed request the authorization endpoint would refuse (an unregistered redirect_uri, a public"
            " client without code_challenge) is refused when pushed, or at the latest when its request_uri is"
            " used: it never yields a code."
        ),
        applies_if=PAR,
        quote=(
            "3. Validate the pushed request as it would an authorization request sent to the authorization"
            " endpoint. [...] The authorization server MAY omit validation steps that it is unable to perform"
            " when processing the pushed request; however, such checks MUST then be performed when processing"
            " the authorization request at the authorization endpoint."
        ),
    ),
    Requirement(
        "RFC9126-2.2-CREATED",
        MUST,
        "A valid pushed request gets 201 with a JSON object holding a request_uri string and expires_in, a number.",
        applies_if=PAR,
        quote=(
            "If the verification is successful, the server MUST generate a request URI and provide it in the"
            " response with a 201 HTTP status code."
        ),
    ),
    Requirement(
        "RFC9126-2.2-FLOW",
        MUST,
        "The request_uri, sent with client_id to the authorization endpoint, starts the pushed request: a code.",
        applies_if=PAR,
        quote=(
            "If the verification is successful, the server MUST generate a request URI and provide it in the"
            " response with a 201 HTTP status code."
        ),
    ),
    Requirement(
        "RFC9126-2.2-UNGUESSABLE",
        MUST,
        "request_uri values contain a part no one can guess.",
        applies_if=PAR,
        untestable="unguessability is a property of how the values are made; no sample of them proves it",
        quote=(
            "The format of the request_uri value is at the discretion of the authorization server, but it MUST"
            " contain some part generated using a cryptographically strong pseudorandom algorithm such that it"
            " is computationally infeasible to predict or guess a valid value (see Section 10.10 of [RFC6749]"
            " for specifics)."
        ),
    ),
    Requirement(
        "RFC9126-2.2-CLIENT-BOUND",
        MUST,
        (
            "A request_uri pushed by one client, sent to the authorization endpoint with another client's id,"
            " yields no code."
        ),
        applies_if=PAR,
        quote="The request_uri value MUST be bound to the client that posted the authorization request.",
    ),
    Requirement(
        "RFC9126-2.3-ERROR",
        SHOULD,
        (
            "A refused pushed request gets a 400 (401 for client authentication) JSON error response, as at"
            " the token endpoint."
        ),
        applies_if=PAR,
        quote=(
            "The authorization server returns an error response with the same format as is specified for error"
            " responses from the token endpoint in Section 5.2 of [RFC6749] using the appropriate error code"
            " from therein or from Section 4.1.2.1 of [RFC6749]."
        ),
    ),
    Requirement(
        "RFC9126-4-EXPIRED",
        MUST,
        "A request_uri used after its expires_in has passed yields no code.",
        applies_if=PAR,
        quote="An expired request_uri MUST be rejected as invalid.",
    ),
    Requirement(
        "RFC9126-4-ONE-TIME",
        SHOULD,
        "A request_uri starts one authorization: used a second time it yields no second code.",
        applies_if=PAR,
        quote=(
            "Authorization servers SHOULD treat request_uri values as one-time use but MAY allow for duplicate"
            " requests due to a user reloading/refreshing their user agent."
        ),
    ),
    Requirement(
        "RFC9126-4-REQUIRED",
        SHOULD,
        (
            "A server whose metadata says require_pushed_authorization_requests true refuses an authorization"
            " request that does not come through PAR (invalid_request, no code)."
        ),
        applies_if=PAR,
        quote=(
            "In this case, the authorization server will refuse, using the invalid_request error code, to"
            " process any request to the authorization endpoint that does not have a request_uri parameter with"
            " a value obtained from the PAR endpoint."
        ),
    ),
    Requirement(
        "RFC9126-6-CLIENT-REQUIRED",
        SHOULD,
        (
            "A client registered with require_pushed_authorization_requests true gets no code from a request"
            " that does not come through PAR (applies where registration keeps the member)."
        ),
        applies_if=PAR,
        quote=(
            "require_pushed_authorization_requests Boolean parameter indicating whether the only means of"
            " initiating an authorization request the client is allowed to use is PAR."
        ),
        quote_section="6",
    ),
)
