"""OAuth 2.1 requirements (draft-ietf-oauth-v2-1-13), in our words.

Every section number was checked against the -13 text. Where -13 states a rule as something the
client MUST NOT send (repeated parameters, credentials in the URI, two authentication methods,
GET at the token endpoint) the row asks what a conforming server does with such a request: refuse
it with the error section 3.2.4 or 4.1.2.1 defines for it, never honour it.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Reading
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD

AUTHORIZATION_ENDPOINT = (
    Requirement(
        "OAUTH21-3.1-GET",
        MUST,
        "The authorization endpoint answers GET requests (POST is optional).",
        quote=(
            "The authorization server MUST support the use of the HTTP GET method Section 9.3.1 of"
            " [RFC9110] for the authorization endpoint and MAY support the POST method (Section 9.3.3"
            " of [RFC9110]) as well."
        ),
    ),
    Requirement(
        "OAUTH21-3.1-IGNORE-UNKNOWN",
        MUST,
        "A parameter the authorization endpoint does not know is ignored: the flow completes as without it.",
        quote=(
            "The authorization server MUST ignore unrecognized request parameters sent to the authorization endpoint."
        ),
    ),
    Requirement(
        "OAUTH21-3.1-NO-DUPLICATES",
        MUST,
        (
            "An authorization request that repeats a parameter is refused with invalid_request, as"
            " section 4.1.2.1 defines that error for it, never served with one of the values."
        ),
        quote=(
            "If the resource owner denies the access request or if the request fails for reasons"
            " other than a missing or invalid redirect URI, the authorization server informs the"
            " client by adding the following parameters to the query component of the redirect URI as"
            ' described by Appendix C.1: "error": REQUIRED. A single ASCII [USASCII] error code from'
            ' the following: "invalid_request": The request is missing a required parameter, includes'
            " an invalid parameter value, includes a parameter more than once, or is otherwise"
            " malformed."
        ),
        quote_section="4.1.2.1",
        readings=(
            Reading(
                "15",
                quote=(
                    "If the resource owner denies the access request or if the request fails for reasons"
                    " other than a missing or invalid redirect URI, the authorization server informs the"
                    " client by redirecting the user agent to the redirect URI and adding the following"
                    " parameters to the query component of the redirect URI as described by Appendix C.1:"
                    ' "error": REQUIRED. A single ASCII [USASCII] error code from the following:'
                    ' "invalid_request": The request is missing a required parameter, includes an invalid'
                    " parameter value, includes a parameter more than once, or is otherwise malformed."
                ),
                quote_section="4.1.2.1",
            ),
            Reading(
                "16",
                quote=(
                    "If the resource owner denies the access request or if the request fails after the"
                    " client identifier and redirect URI have been validated, the authorization server"
                    " informs the client by redirecting the user agent to the redirect URI and adding the"
                    " following parameters to the query component of the redirect URI as described by"
                    ' Appendix C.1: "error": REQUIRED. A single ASCII [USASCII] error code from the'
                    ' following: "invalid_request": The request is missing a required parameter, includes'
                    " an invalid parameter value, includes a parameter more than once, or is otherwise"
                    " malformed."
                ),
                quote_section="4.1.2.1",
            ),
        ),
    ),
    Requirement(
        "OAUTH21-3.1-EMPTY-PARAM",
        MUST,
        "An authorization parameter sent with an empty value counts as absent (an empty redirect_uri for a"
        " client with one registered URI still completes).",
        quote=("Parameters sent without a value MUST be treated as if they were omitted from the request."),
    ),
    Requirement(
        "OAUTH21-3.1-NO-CORS",
        MUST,
        "The authorization endpoint offers no CORS: neither a request with Origin nor a preflight gets"
        " Access-Control-Allow-Origin.",
        quote=(
            "Cross-Origin Resource Sharing [WHATWG.CORS] MUST NOT be supported at the Authorization"
            " Endpoint as the client does not access this endpoint directly, instead the client"
            " redirects the user agent to it."
        ),
    ),
    Requirement(
        "OAUTH21-3.1-AUTHN-FIRST",
        MUST,
        "The resource owner is authenticated before a code is issued: a user agent without a session is"
        " never sent straight back to the client with a code.",
        quote="The authorization server MUST first authenticate the resource owner.",
    ),
    Requirement(
        "OAUTH21-7.12.2-AUTH-BEFORE-ERROR",
        MUST,
        "Even an erroneous request from a valid client is not bounced to its redirect URI before the user"
        " has been authenticated, so attacker-registered clients cannot use the server as a redirector.",
        quote=(
            "The AS MUST always authenticate the user first and, with the exception of the silent"
            " authentication use case, prompt the user for credentials when needed, before"
            " redirecting the user."
        ),
        readings=(
            Reading(
                "15",
                quote=(
                    "The authorization server MUST always authenticate the user first and, with the"
                    " exception of the silent authentication use case, prompt the user for credentials"
                    " when needed, before redirecting the user."
                ),
            ),
            Reading("16", section="7.13.2"),
        ),
    ),
    Requirement(
        "OAUTH21-4.1-CODE-FLOW",
        MUST,
        "The authorization code flow completes: a registered client's request with an S256 challenge,"
        " approved, comes back to its redirect URI with a code, and the code with its verifier yields an"
        " access token. Every test that needs a code or a token first needs this; when the target"
        " answers such a valid request with a 5xx, a hang, an error redirect or an error page, this"
        " requirement fails, wherever it is seen.",
        # Section 4.1 describes the flow without a BCP 14 keyword; the binding words that need it to
        # work are section 4.1.1's (PKCE parameters are only supported where the flow completes).
        quote="Authorization servers MUST support the code_challenge and code_verifier parameters.",
        quote_section="4.1.1",
    ),
    Requirement(
        "OAUTH21-4.1.1-RESPONSE-TYPE",
        MUST,
        "A request without response_type, or with one the server does not understand, gets an error"
        " response at the redirect URI (invalid_request or unsupported_response_type).",
        quote=(
            "If an authorization request is missing the response_type parameter, or if the response"
            " type is not understood, the authorization server MUST return an error response as"
            " described in Section 4.1.2.1."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.1-NO-IMPLICIT",
        MUST,
        "response_type=token (the implicit grant OAuth 2.1 removed) yields an error, and never an access"
        " token in the redirect's query or fragment.",
        quote=(
            "If an authorization request is missing the response_type parameter, or if the response"
            " type is not understood, the authorization server MUST return an error response as"
            " described in Section 4.1.2.1."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.1-ADVERTISED-TYPES",
        SHOULD,
        "Every response type in response_types_supported is accepted by the authorization endpoint"
        " (advertised but refused as unsupported_response_type is broken).",
        quote=(
            "response_types_supported REQUIRED. JSON array containing a list of the OAuth 2.0"
            ' "response_type" values that this authorization server supports.'
        ),
        quote_section="2",
        quote_spec="RFC8414",
    ),
    Requirement(
        "OAUTH21-2.3.1-EXACT-MATCH",
        MUST,
        "A redirect URI is accepted only if it equals a registered one character for character (loopback"
        " ports aside): no prefix, suffix, path, case, encoding, userinfo, query, fragment, port or scheme"
        " variant is ever redirected to.",
        quote=(
            "Authorization servers MUST reject authorization requests that specify a redirect URI"
            " that doesn't exactly match one that was registered, with an exception for loopback"
            " redirects, where an exact match is required except for the port URI component, see"
            " Section 4.1.1 for details."
        ),
    ),
    Requirement(
        "OAUTH21-8.4.2-LOOPBACK-PORT",
        MUST,
        "For a registered loopback IP redirect URI (127.0.0.1, [::1]) any port is accepted at request time.",
        quote=(
            "The authorization server MUST allow any port to be specified at the time of the request"
            " for loopback IP redirect URIs, to accommodate clients that obtain an available"
            " ephemeral port from the operating system at the time of the request."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.1-LOCALHOST-PORT",
        MUST,
        (
            "A registered http://localhost redirect URI is accepted with any port (section 4.1.1: the"
            " one exception to exact matching is native apps using a localhost URI)."
        ),
        quote=(
            "The only exception is native apps using a localhost URI: In this case, the authorization"
            " server MUST allow variable port numbers as described in Section 7.3 of [RFC8252]."
        ),
        readings=(
            Reading(
                "16",
                quote=(
                    "The only exception is native apps using a localhost URI: In this case, the"
                    " authorization server MUST allow variable port numbers as described in Section 8.4.2."
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-2.3-QUERY",
        MUST,
        "The query component of a registered redirect URI is kept when the server adds its response parameters.",
        quote=(
            "The redirect URI MAY include an query string component (Appendix C.1), which MUST be"
            " retained when adding additional query parameters."
        ),
        readings=(
            Reading(
                "16",
                quote=(
                    "The redirect URI MAY include a query string component (Appendix C.1), which MUST be"
                    " retained when adding additional query parameters."
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2.1-NO-REDIRECT",
        MUST,
        "When the client_id is unknown or the redirect URI is missing, unregistered or mismatched, the"
        " server does not redirect the user agent to that URI.",
        quote=(
            "If the request fails due to a missing, invalid, or mismatching redirect URI, or if the"
            " client identifier is missing or invalid, the authorization server SHOULD inform the"
            " resource owner of the error and MUST NOT automatically redirect the user agent to the"
            " invalid redirect URI."
        ),
        readings=(
            Reading(
                "15",
                quote=(
                    "If the request fails due to a missing, invalid, or mismatching redirect URI, or if the"
                    " client identifier is missing or invalid, the authorization server MUST NOT redirect"
                    " the user agent to the invalid redirect URI"
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2-RESPONSE",
        MUST,
        "An approval redirects to the redirect URI with the code in the query component, and no response"
        " parameter (code, state, iss) appears twice.",
        quote=(
            "If the resource owner grants the access request, the authorization server issues an"
            " authorization code and delivers it to the client by adding the following parameters to"
            " the query component of the redirect URI using the query string serialization described"
            ' by Appendix C.1, unless specified otherwise by an extension: "code": REQUIRED.'
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2-STATE",
        MUST,
        "state comes back exactly as sent (after URL decoding), on success and on every error redirect.",
        quote=(
            '"state": REQUIRED if the state parameter was present in the client authorization'
            " request. The exact value received from the client."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2-ISS",
        MUST,
        "Every successful authorization response carries iss, the server's issuer identifier exactly (draft -16"
        " made it required; before, RFC 9207 made it required only of servers that advertise it).",
        since="16",
        quote=(
            '"iss": REQUIRED. The issuer identifier of the authorization server which the client can use to'
            " prevent mix-up attacks, if the client interacts with more than one authorization server."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2.1-ISS",
        MUST,
        "Every error response redirected to the client (an access_denied, an unsupported response type)"
        " carries iss, the server's issuer identifier exactly.",
        since="16",
        quote=(
            '"iss": REQUIRED. The issuer identifier of the authorization server. See Section 4.1.2 above for details.'
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2.1-ERROR",
        MUST,
        "An error redirect carries an error from section 4.1.2.1's list (access_denied when the user"
        " denies) and only the characters that section allows in error, error_description and error_uri.",
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following: [...] Values'
            " for the error parameter MUST NOT include characters outside the set %x20-21 / %x23-5B /"
            ' %x5D-7E. "error_description": OPTIONAL. [...] Values for the error_description'
            " parameter MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2.1-PKCE-PUBLIC",
        MUST,
        "An authorization request from a public client without code_challenge is refused: no code is issued.",
        quote=(
            "An AS MUST reject requests without a code_challenge from public clients, and MUST reject"
            " such requests from other clients unless there is reasonable assurance that the client"
            " mitigates authorization code injection in other ways."
        ),
        readings=(
            Reading(
                "15",
                quote=(
                    "An authorization server MUST reject requests without a code_challenge from public"
                    " clients, and MUST reject such requests from other clients unless there is reasonable"
                    " assurance that the client mitigates authorization code injection in other ways."
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-4.1.2.1-PKCE-CONF",
        MUST,
        "Requests without code_challenge from confidential clients are refused unless the server has"
        " reasonable assurance the client defends against code injection otherwise.",
        untestable="the exception rests on what the server knows about the client (an OpenID Connect nonce"
        " it trusts, a deployment agreement); a refusal or an acceptance is conforming either way from"
        " outside. OAUTH21-7.5.2-PKCE-ALL reports whether PKCE is enforced for confidential clients too.",
        quote=(
            "An AS MUST reject requests without a code_challenge from public clients, and MUST reject"
            " such requests from other clients unless there is reasonable assurance that the client"
            " mitigates authorization code injection in other ways."
        ),
        readings=(
            Reading(
                "15",
                quote=(
                    "An authorization server MUST reject requests without a code_challenge from public"
                    " clients, and MUST reject such requests from other clients unless there is reasonable"
                    " assurance that the client mitigates authorization code injection in other ways."
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-7.5.2-PKCE-ALL",
        SHOULD,
        "PKCE is enforced for confidential clients as well: a confidential client's request without"
        " code_challenge is refused (recommended even where the nonce exception applies).",
        quote="In this case, using and enforcing code_challenge and code_verifier is still RECOMMENDED.",
        readings=(Reading("15", section="7.5.1.1"),),
    ),
    Requirement(
        "OAUTH21-4.1.2-CODE-TTL",
        MUST,
        "A code expires shortly after issue: one presented an hour later (six times the recommended"
        " maximum) is refused with invalid_grant.",
        quote=("The authorization code MUST expire shortly after it is issued to mitigate the risk of leaks."),
    ),
    Requirement(
        "OAUTH21-4.1.2-CODE-TTL-10MIN",
        SHOULD,
        "A code lives at most ten minutes: one presented just after ten minutes is refused with invalid_grant.",
        quote="A maximum authorization code lifetime of 10 minutes is RECOMMENDED.",
    ),
    Requirement(
        "OAUTH21-7.5.4-NO-307",
        MUST,
        "A redirect answering a request that carried the user's credentials (the login or consent POST)"
        " never uses status 307, which would re-post the credentials to the client.",
        quote=(
            "An authorization server which redirects a request that potentially contains user"
            " credentials MUST NOT use the 307 status code (Section 15.4.8 of [RFC9110]) for"
            " redirection."
        ),
        readings=(Reading("15", section="7.5.3"), Reading("16", section="7.5.4")),
    ),
    Requirement(
        "OAUTH21-7.5.4-SEE-OTHER",
        SHOULD,
        "A redirect answering the login or consent POST uses status 303.",
        quote=(
            "If an HTTP redirection (and not, for example, JavaScript) is used for such a request, AS"
            ' SHOULD use the status code 303 ("See Other").'
        ),
        readings=(Reading("15", section="7.5.3"), Reading("16", section="7.5.4")),
    ),
    Requirement(
        "OAUTH21-7.3.1-NO-SILENT-REPEAT",
        SHOULD,
        "A repeated authorization request from a client whose identity is not proven (a public client) is"
        " not approved automatically because the user approved it before: with the user agent's cookies"
        " kept, a second request after an approval shows a page again (a target that never shows one is"
        " not_tested).",
        quote=(
            "This includes the case where the user has previously approved an authorization request"
            " for a given client ID -- unless the identity of the client can be proven, the request"
            " SHOULD be processed as if no previous request had been approved."
        ),
    ),
    Requirement(
        "OAUTH21-7.10-CLICKJACK",
        MUST,
        "The login and consent pages cannot be framed by other origins (X-Frame-Options DENY or SAMEORIGIN,"
        " or a CSP frame-ancestors that is not *).",
        quote="Authorization servers MUST prevent clickjacking attacks.",
        readings=(Reading("16", section="7.11"),),
    ),
    Requirement(
        "OAUTH21-7.10-CSP",
        SHOULD,
        "The login and consent pages restrict framing with a Content-Security-Policy frame-ancestors directive.",
        quote=(
            "In addition to those, authorization servers SHOULD also use Content Security Policy"
            " (CSP) level 2 [CSP-2] or greater."
        ),
        readings=(Reading("16", section="7.11"),),
    ),
)

TOKEN_ENDPOINT = (
    Requirement(
        "OAUTH21-1.5-HTTPS",
        MUST,
        "The authorization and token endpoints use https.",
        applies_if=Feature.TLS,
        quote=(
            "All the OAuth protocol URLs (URLs exposed by the AS, RS and Client) MUST use the https"
            " scheme except for loopback interface redirect URIs, which MAY use the http scheme."
        ),
    ),
    Requirement(
        "OAUTH21-3.2-POST",
        SHOULD,
        "The token endpoint issues tokens only to POST requests: a GET carrying a valid code gets no token.",
        quote="The client MUST use the HTTP POST method when making requests to the token endpoint.",
    ),
    Requirement(
        "OAUTH21-3.2-IGNORE-UNKNOWN",
        MUST,
        "A token request parameter the server does not know is ignored: the exchange succeeds as without it.",
        quote=("The authorization server MUST ignore unrecognized request parameters sent to the token endpoint."),
    ),
    Requirement(
        "OAUTH21-3.2-NO-DUPLICATES",
        MUST,
        (
            "A token request that repeats a parameter is refused with invalid_request (section 3.2.4"
            " defines that error for it), even when both values agree."
        ),
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following:'
            ' "invalid_request": The request is missing a required parameter, includes an unsupported'
            " parameter value (other than grant type), repeats a parameter,"
        ),
        quote_section="3.2.4",
    ),
    Requirement(
        "OAUTH21-3.2-EMPTY-PARAM",
        MUST,
        "A token request parameter sent with an empty value counts as absent (a public client's empty"
        " client_secret is no authentication attempt).",
        quote=("Parameters sent without a value MUST be treated as if they were omitted from the request."),
    ),
    Requirement(
        "OAUTH21-3.2.2-AUTH-METHODS",
        MUST,
        "Every advertised client authentication method (none, client_secret_basic) authenticates a client"
        " that uses it with valid credentials.",
        quote=(
            "The authorization server MUST: * require client authentication for confidential clients"
            " (or clients with other authentication requirements), * authenticate the client if"
            " client authentication is included"
        ),
    ),
    Requirement(
        "OAUTH21-3.2.2-CONF-AUTH",
        MUST,
        "A confidential client must authenticate: its code presented with client_id and verifier but"
        " without its secret is refused with invalid_client.",
        quote=(
            "The authorization server MUST: * require client authentication for confidential clients"
            " (or clients with other authentication requirements),"
        ),
    ),
    Requirement(
        "OAUTH21-3.2.2-AUTHENTICATE",
        MUST,
        "Client authentication that is included is checked: a wrong client secret is refused with invalid_client.",
        quote=("The authorization server MUST: [...] authenticate the client if client authentication is included"),
    ),
    Requirement(
        "OAUTH21-2.4.1-SECRET-POST",
        MUST,
        "A server that issues client secrets accepts them in the request body (client_secret_post).",
        quote=(
            "To support clients in possession of a client secret, the authorization server MUST"
            " support the client including the client credentials in the request body content using"
            " the following parameters:"
        ),
        readings=(
            Reading(
                "15",
                quote=(
                    "To support confidential clients in possession of a client secret, the authorization"
                    " server MUST support the client including the client credentials in the request body"
                    " content using the following parameters:"
                ),
            ),
        ),
    ),
    Requirement(
        "OAUTH21-2.4.1-BASIC-ENCODING",
        SHOULD,
        "With HTTP Basic, client_id and secret are form-urlencoded before Base64: the server decodes them,"
        " so a percent-encoded form of the credentials authenticates.",
        applies_if=Feature.CLIENT_SECRET_BASIC,
        quote=(
            "When using the HTTP Basic authentication scheme as defined in Section 11 of [RFC9110] to"
            " authenticate with the authorization server, the client identifier is encoded using the"
            " application/x-www-form-urlencoded encoding algorithm per Appendix B, and the encoded"
            " value is used as the username; the client secret is encoded using the same algorithm"
            " and used as the password."
        ),
    ),
    Requirement(
        "OAUTH21-2.4-JWT-AUD",
        MUST,
        (
            "A private_key_jwt client assertion whose aud is the server's issuer identifier, as one string (the"
            " audience draft-ietf-oauth-rfc7523bis has clients use), authenticates the client."
        ),
        since="15",
        quote=(
            "When using JWT-based client authentication, clients and authorization servers MUST follow the"
            " updated guidance around aud values in [I-D.ietf-oauth-rfc7523bis]."
        ),
    ),
    Requirement(
        "OAUTH21-8.1-NATIVE-NO-SECRET",
        MUST,
        (
            "A native app client (a loopback redirect URI, no secret) can be registered and completes the code"
            " flow without any client secret: the server does not require a shared secret of it."
        ),
        applies_if=Feature.REGISTRATION,
        since="15",
        quote=(
            "For this reason, authorization servers MUST NOT require client authentication of native app"
            " clients using a shared secret, as this serves no value beyond client identification which is"
            " already provided by the client_id request parameter."
        ),
    ),
    Requirement(
        "OAUTH21-2.4.1-NOT-IN-URI",
        MUST,
        "Client credentials in the token endpoint's query string are not accepted.",
        quote=(
            "The parameters can only be transmitted in the request content and MUST NOT be included in the request URI."
        ),
    ),
    Requirement(
        "OAUTH21-2.4.1-BRUTE-FORCE",
        MUST,
        "Endpoints that check client secrets are protected against brute force.",
        untestable="the protection may be rate limits, delays, lockouts or monitoring that a bounded burst of"
        " wrong secrets cannot reveal, and a long burst would attack the target",
        quote=(
            "Since the client secret authentication method involves a password, the authorization"
            " server MUST protect any endpoint utilizing it against brute force attacks."
        ),
    ),
    Requirement(
        "OAUTH21-2.4-ONE-METHOD",
        MUST,
        (
            "A token request that uses two client authentication methods (Basic and client_secret in"
            " the body) is refused: section 3.2.4 defines invalid_request for it (invalid_client is"
            " accepted too)."
        ),
        applies_if=Feature.CLIENT_SECRET_BASIC,
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following:'
            ' "invalid_request": The request is missing a required parameter, includes an unsupported'
            " parameter value (other than grant type), repeats a parameter, includes multiple"
            " credentials, utilizes more than one mechanism for authenticating the client,"
        ),
        quote_section="3.2.4",
    ),
    Requirement(
        "OAUTH21-3.2.3-RESPONSE",
        MUST,
        "A successful token response is 200 with a JSON object holding access_token and token_type (Bearer,"
        " in any case, when no proof of possession was asked), expires_in as a number when present.",
        quote=(
            "The authorization server issues an access token and optional refresh token by creating"
            " an HTTP response according to Appendix C.3, using the application/json media type as"
            " defined by [RFC8259], with the following parameters and an HTTP 200 (OK) status code:"
            ' "access_token": REQUIRED. The access token issued by the authorization server.'
            ' "token_type": REQUIRED. The type of the access token issued as described in Section'
            " 1.4. Value is case insensitive."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.3-EXPIRES-IN",
        SHOULD,
        "The token response says how long the access token lives (expires_in, a positive number).",
        quote=('"expires_in": RECOMMENDED. A JSON number that represents the lifetime in seconds of the access token.'),
    ),
    Requirement(
        "OAUTH21-3.2.3-NO-STORE",
        MUST,
        "Responses that carry tokens (code exchange and refresh) have Cache-Control: no-store.",
        quote=(
            "The authorization server MUST include the HTTP Cache-Control response header field (see"
            " Section 5.2 of [RFC9111]) with a value of no-store in any response containing tokens,"
            " credentials, or other sensitive information."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.3-SCOPE",
        MUST,
        "When the issued scope differs from the requested one, the token response includes scope.",
        untestable="a response without scope cannot be told apart from one whose scope equals the request;"
        " only the server knows what it granted",
        quote=('"scope": RECOMMENDED, if identical to the scope requested by the client; otherwise, REQUIRED.'),
    ),
    Requirement(
        "OAUTH21-3.2.3-RT-BOUND",
        MUST,
        (
            "A refresh token stays bound to the resource servers the user consented to: a refresh"
            " naming another resource is refused, or answered with a token still bound to the"
            " consented resource (whether the refusal is invalid_target is"
            " RFC8707-2.2-INVALID-TARGET's)."
        ),
        applies_if=Feature.RESOURCE_INDICATORS,
        quote=(
            "If refresh tokens are issued, those refresh tokens MUST be bound to the scope and"
            " resource servers as consented by the resource owner."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.4-ERROR",
        MUST,
        "Token errors are 400 with a JSON object whose error is a registered code, in the characters section"
        " 3.2.4 allows (as are error_description and error_uri).",
        quote=(
            "The authorization server responds with an HTTP 400 (Bad Request) status code (unless"
            ' specified otherwise) and includes the following parameters with the response: "error":'
            " REQUIRED. A single ASCII [USASCII] error code from the following: [...] Values for the"
            " error parameter MUST NOT include characters outside the set %x20-21 / %x23-5B /"
            " %x5D-7E."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.4-401-BASIC",
        MUST,
        "A failed HTTP Basic client authentication is 401 invalid_client with a WWW-Authenticate: Basic challenge.",
        applies_if=Feature.CLIENT_SECRET_BASIC,
        quote=(
            "If the client attempted to authenticate via the Authorization request header field, the"
            " authorization server MUST respond with an HTTP 401 (Unauthorized) status code and"
            " include the WWW-Authenticate response header field matching the authentication scheme"
            " used by the client."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.4-UNSUPPORTED-GRANT",
        MUST,
        "An unknown grant type (a made-up URN, or password, which OAuth 2.1 does not define) gets"
        " unsupported_grant_type and no token.",
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following: [...]'
            ' "unsupported_grant_type": The authorization grant type is not supported by the'
            " authorization server."
        ),
    ),
    Requirement(
        "OAUTH21-3.2.4-UNAUTHORIZED-CLIENT",
        MUST,
        "A client that may not use a grant type it sends gets unauthorized_client: one registered for"
        " authorization_code only, presenting client credentials or a token exchange the server offers.",
        quote=(
            '"error": REQUIRED. A single ASCII [USASCII] error code from the following: [...]'
            ' "unauthorized_client": The authenticated client is not authorized to use this'
            " authorization grant type."
        ),
    ),
    Requirement(
        "OAUTH21-7.7-ENTROPY",
        MUST,
        "Codes, tokens and client secrets cannot carry less than 128 bits: their length and alphabet allow"
        " at least that much (a necessary condition; randomness itself is not observable).",
        quote=(
            "The probability of an attacker guessing generated tokens (and other credentials not"
            " intended for handling by end users) MUST be less than or equal to 2^(-128) and SHOULD"
            " be less than or equal to 2^(-160)."
        ),
    ),
)

GRANTS = (
    Requirement(
        "OAUTH21-4.1.3-CODE-ONCE",
        MUST,
        "A code yields tokens once: a second redemption is refused with invalid_grant, and of simultaneous"
        " redemptions exactly one gets tokens.",
        quote=(
            "The authorization server MUST return an access token only once for a given authorization"
            " code. If a second valid token request is made with the same authorization code as a"
            " previously successful token request, the authorization server MUST deny the request"
        ),
    ),
    Requirement(
        "OAUTH21-4.1.3-REVOKE-ON-REUSE",
        SHOULD,
        "When a used code is presented again, the tokens issued from it are revoked.",
        quote=(
            "the authorization server MUST deny the request and SHOULD revoke (when possible) all"
            " access tokens and refresh tokens previously issued based on that authorization code."
        ),
    ),
    Requirement(
        "OAUTH21-7.5.3-NO-DOS-REVOKE",
        SHOULD,
        "A replayed code with an invalid verifier does not revoke the tokens the legitimate exchange got.",
        quote=(
            "The authorization server SHOULD NOT revoke any issued tokens when receiving a replayed"
            " authorization code that contains invalid parameters."
        ),
        readings=(Reading("15", section="7.5.2"), Reading("16", section="7.5.3")),
    ),
    Requirement(
        "OAUTH21-4.1.3-CLIENT-BIND",
        MUST,
        "A code is redeemable only by the client it was issued to: another client, even with the right"
        " verifier, gets invalid_grant.",
        quote=(
            "In addition to the processing rules in Section 3.2.2, the authorization server MUST: *"
            " ensure that the authorization code was issued to the authenticated confidential client,"
            " or if the client is public, ensure that the code was issued to client_id in the"
            " request,"
        ),
    ),
    Requirement(
        "OAUTH21-4.1.3-PUBLIC-CLIENT-ID",
        MUST,
        "A public client identifies itself with client_id: a code exchange without any client identification"
        " is refused.",
        quote=(
            '"client_id": REQUIRED, if the client is not authenticating with the authorization server'
            " as described in Section 3.2.1."
        ),
    ),
    Requirement(
        "OAUTH21-4.1.3-VERIFIER-REQUIRED",
        MUST,
        "A code issued with a code_challenge is not redeemed without code_verifier (invalid_request or invalid_grant).",
        quote=(
            "the authorization server MUST: [...] verify that the code_verifier parameter is present"
            " if and only if a code_challenge parameter was present in the authorization request,"
        ),
    ),
    Requirement(
        "OAUTH21-4.1.3-PKCE-DOWNGRADE",
        MUST,
        "A code_verifier sent for a code issued without a code_challenge is refused (the PKCE downgrade).",
        quote=(
            "the authorization server MUST: [...] verify that the code_verifier parameter is present"
            " if and only if a code_challenge parameter was present in the authorization request,"
        ),
    ),
    Requirement(
        "OAUTH21-10.2-REDIRECT-URI",
        MUST,
        "A redirect_uri sent to the token endpoint is accepted when it equals the authorization request's,"
        " and refused with invalid_grant when it differs.",
        quote=(
            "For backwards compatibility of an authorization server wishing to support both OAuth 2.0"
            " and OAuth 2.1 clients, the authorization server MUST allow clients to send the"
            " redirect_uri parameter in the token request (Section 4.1.3), and MUST enforce the"
            " parameter as described in [RFC6749]."
        ),
    ),
    Requirement(
        "OAUTH21-4.2-CC-CONFIDENTIAL",
        MUST,
        "The client credentials grant is for confidential clients only: a public client gets no token.",
        applies_if=Feature.CLIENT_CREDENTIALS,
        quote="The client credentials grant type MUST only be used by confidential clients.",
    ),
    Requirement(
        "OAUTH21-4.2.1-CC-AUTH",
        MUST,
        "The client credentials grant always authenticates the client: client_id without its secret gets"
        " invalid_client.",
        applies_if=Feature.CLIENT_CREDENTIALS,
        quote="The authorization server MUST authenticate the client.",
    ),
    Requirement(
        "OAUTH21-4.3.2-REFRESH-VALID",
        MUST,
        "A valid refresh succeeds: the client's current refresh token, with its own client authentication"
        " and nothing else changed, gets HTTP 200 with a new access token. Every test that reads a refused"
        " refresh as the server doing its job first needs this.",
        applies_if=Feature.REFRESH,
        # Section 4.3.2 sends a valid refresh to section 3.2.3 without a BCP 14 keyword of its own;
        # the binding word is the REQUIRED access_token of the response it must send.
        quote=(
            "If the access token request is valid and authorized, the authorization server issues an"
            ' access token and optional refresh token. [...] "access_token": REQUIRED. The access'
            " token issued by the authorization server."
        ),
        quote_section="3.2.3",
    ),
    Requirement(
        "OAUTH21-4.3-RT-CLIENT-BIND",
        MUST,
        "A refresh token works only for the client it was issued to: another client gets invalid_grant.",
        applies_if=Feature.REFRESH,
        quote=(
            "The authorization server MUST maintain the binding between a refresh token and the"
            " client to whom it was issued. The authorization server MUST verify the binding between"
            " the refresh token and client identity whenever the client identity can be"
            " authenticated."
        ),
    ),
    Requirement(
        "OAUTH21-4.3-RT-INTEGRITY",
        MUST,
        "A refresh token cannot be altered into a valid one: a token with one character changed is refused"
        " with invalid_grant.",
        applies_if=Feature.REFRESH,
        quote=(
            "The authorization server MUST ensure that refresh tokens cannot be generated, modified,"
            " or guessed to produce valid refresh tokens by unauthorized parties."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-CONF-AUTH",
        MUST,
        "A confidential client refreshing without its secret is refused with invalid_client.",
        applies_if=Feature.REFRESH,
        quote=(
            "The authorization server MUST: * require client authentication for confidential clients"
            " (or clients with other authentication requirements),"
        ),
        quote_section="3.2.2",
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-SCOPE",
        MUST,
        "A refresh cannot widen the scope: a scope the user never granted is refused (invalid_scope) or left"
        " out of the issued scope.",
        applies_if=Feature.REFRESH,
        quote=(
            "The requested scope MUST NOT include any scope not originally granted by the resource"
            " owner, and if omitted is treated as equal to the scope originally granted by the"
            " resource owner."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-ROTATE",
        MUST,
        "A public client's refresh tokens are rotated (each refresh returns a new refresh token), as the"
        " harness presents no sender-constraining key.",
        applies_if=Feature.REFRESH,
        quote=(
            "Authorization servers MUST utilize one of these methods to detect refresh token replay"
            " by malicious actors for public clients: [...] the authorization server issues a new"
            " refresh token with every access token refresh response."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-SUPERSEDED",
        MUST,
        "A rotated-out refresh token stops working: at once, or (with a grace period the profile declares)"
        " once its successor has been used.",
        applies_if=Feature.REFRESH,
        quote=(
            "Authorization servers MUST utilize one of these methods to detect refresh token replay"
            " by malicious actors for public clients: [...] the authorization server issues a new"
            " refresh token with every access token refresh response. The previous refresh token is"
            " invalidated but information about the relationship is retained by the authorization"
            " server."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-REUSE",
        MUST,
        "Presenting a rotated-out refresh token is treated as theft: the active refresh token of that grant"
        " stops working too.",
        applies_if=Feature.REFRESH,
        quote=(
            "Authorization servers MUST utilize one of these methods to detect refresh token replay"
            " by malicious actors for public clients: [...] The authorization server cannot determine"
            " which party submitted the invalid refresh token, but it will revoke the active refresh"
            " token as well as the access authorization grant associated with it."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.1-GRANT-ACTIVE",
        MUST,
        "A refresh is refused once the grant behind the refresh token is no longer active.",
        untestable="which events end a grant (logout, password change, consent withdrawal) is the server's"
        " policy; the harness ends a grant only through reuse detection, verified by OAUTH21-4.3.1-RT-REUSE",
        quote=(
            "the authorization server MUST: [...] validate that the grant corresponding to this"
            " refresh token is still active"
        ),
    ),
    Requirement(
        "OAUTH21-4.3.3-RT-SAME-SCOPE",
        MUST,
        "A refresh token issued by a narrowed refresh keeps the scope of the token presented: refreshing"
        " with it and no scope gives the full original scope.",
        applies_if=Feature.REFRESH,
        quote=(
            "If a new refresh token is issued, the refresh token scope MUST be identical to that of"
            " the refresh token included by the client in the request."
        ),
    ),
    Requirement(
        "OAUTH21-4.3.3-RT-IDLE-EXPIRY",
        SHOULD,
        "Refresh tokens expire after the client has not used them for some time.",
        untestable="the idle period is at the server's discretion and not published, so no clock advance"
        " can be chosen that a conforming server must honour",
        quote=(
            "Refresh tokens SHOULD expire if the client has been inactive for some time, i.e., the"
            " refresh token has not been used to obtain new access tokens for some time."
        ),
    ),
)

REQUIREMENTS = AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT + GRANTS
