"""RFC 8693 requirements, in our words. Sections checked against the RFC text (sections 2.1,
2.2.1, 2.2.2, 4.1 and 5)."""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
TE = Feature.TOKEN_EXCHANGE

REQUIREMENTS = (
    Requirement(
        "RFC8693-2.1-GRANT",
        SHOULD,
        "An advertised token-exchange grant works: a client exchanging one of the server's own access tokens"
        " gets a new, usable token.",
        applies_if=TE,
        quote=(
            "If the request is valid and meets all policy and other criteria of the authorization"
            " server, a successful token response is constructed by adding the following parameters"
            ' to the entity-body of the HTTP response using the "application/json" media type, as'
            " specified by [RFC8259], and an HTTP 200 status code."
        ),
        quote_section="2.2.1",
    ),
    Requirement(
        "RFC8693-2.2.1-RESPONSE",
        MUST,
        "A successful exchange answers with a JSON object carrying access_token, issued_token_type (a token"
        " type URI) and token_type.",
        applies_if=TE,
        quote=(
            "access_token REQUIRED. The security token issued by the authorization server in response"
            " to the token exchange request. [...] issued_token_type REQUIRED. An identifier, as"
            " described in Section 3, for the representation of the issued security token. token_type"
            " REQUIRED."
        ),
    ),
    Requirement(
        "RFC8693-2.2.1-SCOPE",
        MUST,
        "When the issued token's scope differs from the scope the client asked for, the response says which"
        " scope was issued.",
        applies_if=TE,
        quote=(
            "scope OPTIONAL if the scope of the issued security token is identical to the scope"
            " requested by the client; otherwise, it is REQUIRED."
        ),
    ),
    Requirement(
        "RFC8693-2.1-SUBJECT-REQUIRED",
        MUST,
        "subject_token and subject_token_type are both required; a request missing either is invalid_request.",
        applies_if=TE,
        quote=(
            "subject_token REQUIRED. A security token that represents the identity of the party on"
            " behalf of whom the request is being made. [...] subject_token_type REQUIRED."
        ),
    ),
    Requirement(
        "RFC8693-2.1-ACTOR-TYPE",
        MUST,
        "actor_token_type comes with actor_token and never without it; a request that breaks the pairing is"
        " refused with invalid_request.",
        applies_if=TE,
        quote=(
            "actor_token_type An identifier, as described in Section 3, that indicates the type of"
            " the security token in the actor_token parameter. This is REQUIRED when the actor_token"
            " parameter is present in the request but MUST NOT be included otherwise."
        ),
    ),
    Requirement(
        "RFC8693-2.1-VALIDATE",
        MUST,
        "The subject token is validated as the type it is declared to be: unknown, altered, revoked or expired"
        " tokens are refused.",
        applies_if=TE,
        quote=(
            "In processing the request, the authorization server MUST perform the appropriate"
            " validation procedures for the indicated token type and, if the actor token is present,"
            " also perform the appropriate validation procedures for its indicated token type."
        ),
    ),
    Requirement(
        "RFC8693-2.1-TYPE-MISMATCH",
        MUST,
        "A token declared as a type it is not (a refresh token sent as an access token, an access token sent"
        " as an ID token) is refused.",
        applies_if=TE,
        quote=(
            "In processing the request, the authorization server MUST perform the appropriate"
            " validation procedures for the indicated token type"
        ),
    ),
    Requirement(
        "RFC8693-2.2.2-ERROR",
        MUST,
        "An invalid or unacceptable subject token is answered with an RFC 6749 error response whose error is"
        " invalid_request (invalid_grant, which the ID-JAG profile uses, is accepted and reported).",
        applies_if=TE,
        quote=(
            "If the request itself is not valid or if either the subject_token or actor_token are"
            " invalid for any reason, or are unacceptable based on policy, the authorization server"
            " MUST construct an error response, as specified in Section 5.2 of [RFC6749]. The value"
            " of the error parameter MUST be the invalid_request error code."
        ),
    ),
    Requirement(
        "RFC8693-2.1-RESOURCE-URI",
        MUST,
        "A resource parameter that is not an absolute URI, or that has a fragment, makes the request invalid:"
        " it is refused (invalid_request or invalid_target).",
        applies_if=TE,
        quote=(
            "The value of the resource parameter MUST be an absolute URI, as specified by Section 4.3"
            " of [RFC3986], that MAY include a query component and MUST NOT include a fragment"
            " component."
        ),
    ),
    Requirement(
        "RFC8693-2.2.2-INVALID-TARGET",
        SHOULD,
        "A target (audience or resource) the server will not issue a token for is refused with invalid_target.",
        applies_if=TE,
        quote=(
            "If the authorization server is unwilling or unable to issue a token for any target"
            " service indicated by the resource or audience parameters, the invalid_target error code"
            " SHOULD be used in the error response."
        ),
    ),
    Requirement(
        "RFC8693-2.1-CLIENT-AUTH",
        SHOULD,
        "Token exchange by a confidential client requires its client authentication (without it anyone holding"
        " a leaked token could turn it into new tokens).",
        applies_if=TE,
        quote=(
            "The supported methods of client authentication and whether or not to allow"
            " unauthenticated or unidentified clients are deployment decisions that are at the"
            " discretion of the authorization server. Note that omitting client authentication allows"
            " for a compromised token to be leveraged via an STS into other tokens by anyone"
            " possessing the compromised token."
        ),
    ),
    Requirement(
        "RFC8693-5-NO-ESCALATION",
        SHOULD,
        "An exchanged token is never wider than the subject token: no scope it lacked, no longer lifetime.",
        applies_if=TE,
    ),
    Requirement(
        "RFC8693-4.1-ACT",
        SHOULD,
        "A delegation result names the actor in an act claim (nested for chains): seen in the issued token"
        " when the server accepts an actor token and issues a JWT (an opaque token is not_tested).",
        applies_if=TE,
        quote=(
            "The act (actor) claim provides a means within a JWT to express that delegation has"
            " occurred and identify the acting party to whom authority has been delegated."
        ),
    ),
)
