"""ROBUST requirements: oauth-conformance's own, in our words, each naming what it protects.

Sections are the surface (FUZZ, STATE, HOSTILE). Where a property is an existing requirement in
another form (a state-machine invariant is OAUTH21-4.1.3-CODE-ONCE explored over random
programs), its test carries both ids, so the existing requirement's verdict includes it.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD

FUZZ = (
    Requirement(
        "ROBUST-FUZZ-NO-5XX",
        MUST,
        "No request generated from the derived OpenAPI description (positive or negative) is answered"
        " with a 5xx or a dropped connection: malformed input is the client's error (RFC 6749 section 5.2).",
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            " specified otherwise) and includes the following parameters with the response: error"
            " REQUIRED."
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-FUZZ-NO-HANG",
        SHOULD,
        "Every fuzzed request is answered within [robust] request_timeout.",
        quote=(
            "The 5xx (Server Error) class of status code indicates that the server is aware that it"
            " has erred or is incapable of performing the requested method."
        ),
        quote_section="15.6",
        quote_spec="RFC9110",
    ),
    Requirement(
        "ROBUST-FUZZ-ERROR-SHAPE",
        MUST,
        "Every fuzzed request the token, revocation or registration endpoint refuses gets an RFC 6749"
        " section 5.2 error object with a registered code (the fuzzed form of OAUTH21-3.2.4-ERROR,"
        " RFC7009-2.2.1-ERROR-FORMAT and RFC7591-3.2.2-ERROR).",
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            " specified otherwise) and includes the following parameters with the response: error"
            " REQUIRED. A single ASCII [USASCII] error code from the following:"
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-FUZZ-ERROR-NO-STORE",
        SHOULD,
        "The token endpoint's error responses carry Cache-Control: no-store, like the token responses they"
        " stand in for (as OAuth 2.1 section 3.2.4 shows them).",
    ),
    Requirement(
        "ROBUST-FUZZ-MISSING-REQUIRED",
        MUST,
        "Nothing succeeds without its required parameters: no 2xx to a token request without grant_type or"
        " a parameter its grant requires, to a revocation without token, or to a registration that is not"
        " a JSON object or lacks redirect_uris for a redirect-based grant.",
        quote=(
            "error REQUIRED. A single ASCII [USASCII] error code from the following: invalid_request"
            " The request is missing a required parameter,"
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-FUZZ-NO-REFLECTION",
        MUST,
        "No HTML (or untyped) response carries markup from a request unescaped, whether sent in that"
        " request or stored by an earlier one (a client_name on a consent page).",
        quote=(
            "The authorization server and client MUST treat parameters received as potentially malicious"
            " external input and apply appropriate protections, in particular, the values of the state and"
            " redirect_uri parameters."
        ),
        quote_section="7.12",
        quote_spec="OAUTH21",
        quote_version="16",
    ),
    Requirement(
        "ROBUST-FUZZ-NO-OPEN-REDIRECT",
        MUST,
        "No response redirects to a URI outside the server's own origins that is not registered for the"
        " request's client (the fuzzed form of OAUTH21-4.1.2.1-NO-REDIRECT).",
        quote=(
            "If the request fails due to a missing, invalid, or mismatching redirect URI, or if the"
            " client identifier is missing or invalid, the authorization server MUST NOT redirect the"
            " user agent to the invalid redirect URI"
        ),
        quote_section="4.1.2.1",
        quote_spec="OAUTH21",
        quote_version="16",
    ),
    Requirement(
        "ROBUST-FUZZ-NO-STACK-TRACE",
        SHOULD,
        "No body shows a stack trace, an exception name or a server file path the request did not carry.",
    ),
    Requirement(
        "ROBUST-FUZZ-NO-SECRET-LEAK",
        MUST,
        "No body (besides the token response that issues them) carries a client secret, code or token"
        " issued in another exchange.",
        quote=(
            "Access tokens (as well as any confidential access token attributes) MUST be kept"
            " confidential in transit and storage, and only shared among the authorization server,"
            " the resource servers the access token is valid for, and the client to which the access"
            " token is issued."
        ),
        quote_section="1.4",
        quote_spec="OAUTH21",
    ),
)

STATE = (
    Requirement(
        "ROBUST-STATE-CODE-ONCE",
        MUST,
        "In random programs of registrations, authorizations, redemptions, refreshes, revocations and"
        " API calls, a redeemed code never yields tokens again (OAUTH21-4.1.3-CODE-ONCE).",
        quote=("The authorization server MUST return an access token only once for a given authorization code."),
        quote_section="4.1.3",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "ROBUST-STATE-REVOKED",
        MUST,
        "In those programs, a refresh token revoked with a 200 never yields tokens again (RFC7009-2.1-IMMEDIATE).",
        applies_if=Feature.REVOCATION,
        quote="Implementations MUST support the revocation of refresh tokens",
        quote_section="2",
        quote_spec="RFC7009",
    ),
    Requirement(
        "ROBUST-STATE-REVOKED-ACCESS",
        SHOULD,
        "In those programs, a revoked access token, and the access tokens of a grant whose live refresh"
        " token was revoked, never reach the resource again (RFC7009-2-ACCESS, RFC7009-2.1-CASCADE).",
        applies_if=Feature.REVOCATION,
        quote=(
            "If the particular token is a refresh token and the authorization server supports the"
            " revocation of access tokens, then the authorization server SHOULD also invalidate all"
            " access tokens based on the same authorization grant (see Implementation Note)."
        ),
        quote_section="2.1",
        quote_spec="RFC7009",
    ),
    Requirement(
        "ROBUST-STATE-RT-SUPERSEDED",
        MUST,
        "In those programs, a rotated-out refresh token never yields tokens again: at once, or once its"
        " successor has been used when [policy] refresh_grace declares a grace period"
        " (OAUTH21-4.3.1-RT-SUPERSEDED).",
        applies_if=Feature.REFRESH,
        quote=(
            "Authorization servers MUST utilize one of these methods to detect refresh token replay"
            " by malicious actors for public clients: [...] the authorization server issues a new"
            " refresh token with every access token refresh response. The previous refresh token is"
            " invalidated but information about the relationship is retained by the authorization"
            " server."
        ),
        quote_section="4.3.1",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "ROBUST-STATE-AUDIENCE",
        SHOULD,
        "In those programs, an access token reaches only the resource it was issued for: another protected"
        " resource ([robust] other_resource, or a second entry of protected_resources) refuses it"
        " (RFC 8707 section 2, RFC 9700 section 2.3).",
        quote=(
            "The authorization server SHOULD audience-restrict issued access tokens to the"
            " resource(s) indicated by the resource parameter."
        ),
        quote_section="2",
        quote_spec="RFC8707",
    ),
    Requirement(
        "ROBUST-STATE-SCOPE",
        MUST,
        "In those programs, no refresh issues a scope beyond the grant's, whatever scope it asks for"
        " (OAUTH21-4.3.1-RT-SCOPE).",
        applies_if=Feature.REFRESH,
        quote=(
            "The requested scope MUST NOT include any scope not originally granted by the resource"
            " owner, and if omitted is treated as equal to the scope originally granted by the"
            " resource owner."
        ),
        quote_section="4.3.1",
        quote_spec="OAUTH21",
    ),
)

HOSTILE = (
    Requirement(
        "ROBUST-HOSTILE-BIG-BODY",
        MUST,
        "An 8 MiB body to the token or revocation endpoint gets a 4xx within the timeout (413 or 400, the"
        " server need not read it all; a revocation may answer 200, RFC 7009 section 2.2), one to the"
        " registration endpoint an answer that is not a 5xx, and the server works afterwards.",
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            " specified otherwise) and includes the following parameters with the response: error"
            " REQUIRED."
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-HOSTILE-BIG-HEADERS",
        SHOULD,
        "A 64 KiB Authorization header, or 400 extra headers, on a token request or a resource request gets"
        " a 4xx within the timeout, and the server works afterwards.",
    ),
    Requirement(
        "ROBUST-HOSTILE-DEEP-JSON",
        MUST,
        "A registration whose JSON nests 100,000 (or 5,000) levels deep gets an answer that is not a 5xx"
        " within the timeout, and the server works afterwards.",
        applies_if=Feature.REGISTRATION,
        quote=(
            "When a registration error condition occurs, the authorization server returns an HTTP 400"
            ' status code (unless otherwise specified) with content type "application/json"'
            " consisting of a JSON object [RFC7159] describing the error in the response body. Two"
            " members are defined for inclusion in the JSON object: error REQUIRED."
        ),
        quote_section="3.2.2",
        quote_spec="RFC7591",
    ),
    Requirement(
        "ROBUST-HOSTILE-HUGE-JSON",
        MUST,
        "A registration of absurd size (50,000 redirect URIs, or 100,000 members) gets an answer that is"
        " not a 5xx within the timeout, and the server works afterwards.",
        applies_if=Feature.REGISTRATION,
        quote=(
            "When a registration error condition occurs, the authorization server returns an HTTP 400"
            ' status code (unless otherwise specified) with content type "application/json"'
            " consisting of a JSON object [RFC7159] describing the error in the response body. Two"
            " members are defined for inclusion in the JSON object: error REQUIRED."
        ),
        quote_section="3.2.2",
        quote_spec="RFC7591",
    ),
    Requirement(
        "ROBUST-HOSTILE-CONTENT-TYPE",
        MUST,
        "A token request that is JSON, text/plain or untyped gets a 4xx (it is never processed as if"
        " well-typed); a revocation sent as text/plain gets a 4xx or the 200 of an invalid token; a"
        " registration that is text/plain, form-encoded or untyped gets an answer that is not a 5xx.",
        quote=(
            "error REQUIRED. A single ASCII [USASCII] error code from the following: invalid_request"
            " The request is missing a required parameter,"
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-HOSTILE-DUPLICATE-PARAMS",
        MUST,
        "A token request repeating grant_type, code or client_id gets a 4xx, a revocation repeating token a"
        " 4xx or the 200 of an invalid token (OAUTH21-3.2-NO-DUPLICATES asks for invalid_request).",
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following:'
            ' "invalid_request": The request is missing a required parameter, includes an unsupported'
            " parameter value (other than grant type), repeats a parameter,"
        ),
        quote_section="3.2.4",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "ROBUST-HOSTILE-ENCODING",
        MUST,
        "Invalid UTF-8 (raw or percent-encoded) and control characters (NUL, CR LF) in token parameters get a"
        " 4xx, in registration metadata an answer that is not a 5xx, and the server works afterwards.",
        quote=(
            "error REQUIRED. A single ASCII [USASCII] error code from the following: invalid_request"
            " The request is missing a required parameter, includes an unsupported parameter value"
            " (other than grant type), repeats a parameter, includes multiple credentials, utilizes"
            " more than one mechanism for authenticating the client, or is otherwise malformed."
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-HOSTILE-LONG-VALUES",
        MUST,
        "A 64 KiB value in any one string parameter of the token or revocation endpoint, or 60 KiB in an"
        " authorization request's client_id, redirect_uri, response_type or resource, gets a 4xx within the"
        " timeout (RFC 7009 lets a revocation answer 200 to an invalid token; an authorization endpoint may"
        " refuse by redirecting with error=); 60 KiB in state, scope or code_challenge (which no spec bounds)"
        " or in one registration member gets an answer that is not a 5xx; and the server works afterwards.",
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            " specified otherwise) and includes the following parameters with the response: error"
            " REQUIRED."
        ),
        quote_section="5.2",
        quote_spec="RFC6749",
    ),
    Requirement(
        "ROBUST-HOSTILE-CONCURRENT-CODE",
        MUST,
        "[policy] concurrency simultaneous redemptions of one code, released together over several rounds"
        " of fresh and warm connections: at most one gets tokens, the others get a 4xx, none a 5xx or no"
        " answer, and the server works afterwards (OAUTH21-4.1.3-CODE-ONCE asks for exactly one).",
        quote=("The authorization server MUST return an access token only once for a given authorization code."),
        quote_section="4.1.3",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "ROBUST-HOSTILE-CONCURRENT-REFRESH",
        MUST,
        "[policy] concurrency simultaneous refreshes with one refresh token, released together over several"
        " rounds of fresh and warm connections: at most one gets tokens (any number with a declared"
        " [policy] refresh_grace), at most one of the refresh tokens they return works afterwards, the"
        " others get a 4xx, none a 5xx or no answer, and the server works afterwards.",
        applies_if=Feature.REFRESH,
        quote=(
            "Authorization servers MUST utilize one of these methods to detect refresh token replay"
            " by malicious actors for public clients: [...] the authorization server issues a new"
            " refresh token with every access token refresh response. The previous refresh token is"
            " invalidated but information about the relationship is retained by the authorization"
            " server."
        ),
        quote_section="4.3.1",
        quote_spec="OAUTH21",
    ),
    Requirement(
        "ROBUST-HOSTILE-REGISTRATION-LIMITS",
        SHOULD,
        "The registration endpoint refuses (400 invalid_client_metadata or invalid_redirect_uri) what no"
        " client needs and no server should store: an 8 MiB body, 64 KiB members, 50,000 redirect URIs or"
        " 100,000 members, JSON nested thousands deep, redirect URIs with NUL or CR LF (not URIs, RFC 3986),"
        " invalid UTF-8, a body not sent as application/json (RFC 7591 section 3.1). RFC 7591 sets no"
        " limits and section 2 lets a server replace or reject values, so this is hardening, not a MUST.",
        applies_if=Feature.REGISTRATION,
        quote=(
            "The authorization server MAY reject or replace any of the client's requested metadata"
            " values submitted during the registration and substitute them with suitable values."
        ),
        quote_section="3.2.1",
        quote_spec="RFC7591",
    ),
)

REQUIREMENTS = (*FUZZ, *STATE, *HOSTILE)
