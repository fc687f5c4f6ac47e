"""OAuth 2.1 requirements (draft-ietf-oauth-v2-1-13), in our words.

Every section number was checked against the -13 text. Where -13 states a rule as something the
client MUST NOT send (repeated parameters, credentials in the URI, two authentication methods,
GET at the token endpoint) the row asks what a conforming server does with such a request: refuse
it with the error section 3.2.4 or 4.1.2.1 defines for it, never honour it.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD

AUTHORIZATION_ENDPOINT = (
    Requirement("OAUTH21-3.1-GET", MUST, "The authorization endpoint answers GET requests (POST is optional)."),
    Requirement(
        "OAUTH21-3.1-IGNORE-UNKNOWN",
        MUST,
        "A parameter the authorization endpoint does not know is ignored: the flow completes as without it.",
    ),
    Requirement(
        "OAUTH21-3.1-NO-DUPLICATES",
        MUST,
        "An authorization request that repeats a parameter is refused (invalid_request), never served with"
        " one of the values.",
    ),
    Requirement(
        "OAUTH21-3.1-EMPTY-PARAM",
        MUST,
        "An authorization parameter sent with an empty value counts as absent (an empty redirect_uri for a"
        " client with one registered URI still completes).",
    ),
    Requirement(
        "OAUTH21-3.1-NO-CORS",
        MUST,
        "The authorization endpoint offers no CORS: neither a request with Origin nor a preflight gets"
        " Access-Control-Allow-Origin.",
    ),
    Requirement(
        "OAUTH21-3.1-AUTHN-FIRST",
        MUST,
        "The resource owner is authenticated before a code is issued: a user agent without a session is"
        " never sent straight back to the client with a code.",
    ),
    Requirement(
        "OAUTH21-7.12.2-AUTH-BEFORE-ERROR",
        MUST,
        "Even an erroneous request from a valid client is not bounced to its redirect URI before the user"
        " has been authenticated, so attacker-registered clients cannot use the server as a redirector.",
    ),
    Requirement(
        "OAUTH21-4.1.1-RESPONSE-TYPE",
        MUST,
        "A request without response_type, or with one the server does not understand, gets an error"
        " response at the redirect URI (invalid_request or unsupported_response_type).",
    ),
    Requirement(
        "OAUTH21-4.1.1-NO-IMPLICIT",
        MUST,
        "response_type=token (the implicit grant OAuth 2.1 removed) yields an error, and never an access"
        " token in the redirect's query or fragment.",
    ),
    Requirement(
        "OAUTH21-4.1.1-ADVERTISED-TYPES",
        MUST,
        "Every response type in response_types_supported is accepted by the authorization endpoint"
        " (advertised but refused as unsupported_response_type is broken).",
    ),
    Requirement(
        "OAUTH21-2.3.1-EXACT-MATCH",
        MUST,
        "A redirect URI is accepted only if it equals a registered one character for character (loopback"
        " ports aside): no prefix, suffix, path, case, encoding, userinfo, query, fragment, port or scheme"
        " variant is ever redirected to.",
    ),
    Requirement(
        "OAUTH21-8.4.2-LOOPBACK-PORT",
        MUST,
        "For a registered loopback IP redirect URI (127.0.0.1, [::1]) any port is accepted at request time.",
    ),
    Requirement(
        "OAUTH21-4.1.1-LOCALHOST-PORT",
        SHOULD,
        "A registered http://localhost redirect URI is accepted with any port (section 4.1.1 names localhost"
        " URIs; section 8.4.2 only loopback IP literals, so a refusal is a warning).",
    ),
    Requirement(
        "OAUTH21-2.3-QUERY",
        MUST,
        "The query component of a registered redirect URI is kept when the server adds its response parameters.",
    ),
    Requirement(
        "OAUTH21-4.1.2.1-NO-REDIRECT",
        MUST,
        "When the client_id is unknown or the redirect URI is missing, unregistered or mismatched, the"
        " server does not redirect the user agent to that URI.",
    ),
    Requirement(
        "OAUTH21-4.1.2-RESPONSE",
        MUST,
        "An approval redirects to the redirect URI with the code in the query component, and no response"
        " parameter (code, state, iss) appears twice.",
    ),
    Requirement(
        "OAUTH21-4.1.2-STATE",
        MUST,
        "state comes back exactly as sent (after URL decoding), on success and on every error redirect.",
    ),
    Requirement(
        "OAUTH21-4.1.2.1-ERROR",
        MUST,
        "An error redirect carries an error from section 4.1.2.1's list (access_denied when the user"
        " denies) and only the characters that section allows in error, error_description and error_uri.",
    ),
    Requirement(
        "OAUTH21-4.1.2.1-PKCE-PUBLIC",
        MUST,
        "An authorization request from a public client without code_challenge is refused: no code is issued.",
    ),
    Requirement(
        "OAUTH21-4.1.2.1-PKCE-CONF",
        MUST,
        "Requests without code_challenge from confidential clients are refused unless the server has"
        " reasonable assurance the client defends against code injection otherwise.",
        untestable="the exception rests on what the server knows about the client (an OpenID Connect nonce"
        " it trusts, a deployment agreement); a refusal or an acceptance is conforming either way from"
        " outside. OAUTH21-7.5.2-PKCE-ALL reports whether PKCE is enforced for confidential clients too.",
    ),
    Requirement(
        "OAUTH21-7.5.2-PKCE-ALL",
        SHOULD,
        "PKCE is enforced for confidential clients as well: a confidential client's request without"
        " code_challenge is refused (recommended even where the nonce exception applies).",
    ),
    Requirement(
        "OAUTH21-4.1.2-CODE-TTL",
        MUST,
        "A code expires shortly after issue: one presented an hour later (six times the recommended"
        " maximum) is refused with invalid_grant.",
    ),
    Requirement(
        "OAUTH21-4.1.2-CODE-TTL-10MIN",
        SHOULD,
        "A code lives at most ten minutes: one presented just after ten minutes is refused with invalid_grant.",
    ),
    Requirement(
        "OAUTH21-7.5.4-NO-307",
        MUST,
        "A redirect answering a request that carried the user's credentials (the login or consent POST)"
        " never uses status 307, which would re-post the credentials to the client.",
    ),
    Requirement(
        "OAUTH21-7.5.4-SEE-OTHER",
        SHOULD,
        "A redirect answering the login or consent POST uses status 303.",
    ),
    Requirement(
        "OAUTH21-7.3.1-NO-SILENT-REPEAT",
        SHOULD,
        "A repeated authorization request from a client whose identity is not proven (a public client) is"
        " not approved automatically because the user approved it before.",
        untestable="the consent drivers start every authorization without a session, so a server that"
        " remembers approvals in its session is never seen repeating one; a driver keeping the user agent's"
        " cookies across authorizations would make it testable",
    ),
    Requirement(
        "OAUTH21-7.10-CLICKJACK",
        MUST,
        "The login and consent pages cannot be framed by other origins (X-Frame-Options DENY or SAMEORIGIN,"
        " or a CSP frame-ancestors that is not *).",
    ),
    Requirement(
        "OAUTH21-7.10-CSP",
        SHOULD,
        "The login and consent pages restrict framing with a Content-Security-Policy frame-ancestors directive.",
    ),
)

TOKEN_ENDPOINT = (
    Requirement(
        "OAUTH21-1.5-HTTPS",
        MUST,
        "The authorization and token endpoints use https.",
        applies_if=Feature.TLS,
    ),
    Requirement(
        "OAUTH21-3.2-POST",
        MUST,
        "The token endpoint issues tokens only to POST requests: a GET carrying a valid code gets no token.",
    ),
    Requirement(
        "OAUTH21-3.2-IGNORE-UNKNOWN",
        MUST,
        "A token request parameter the server does not know is ignored: the exchange succeeds as without it.",
    ),
    Requirement(
        "OAUTH21-3.2-NO-DUPLICATES",
        MUST,
        "A token request that repeats a parameter is refused with invalid_request, even when both values agree.",
    ),
    Requirement(
        "OAUTH21-3.2-EMPTY-PARAM",
        MUST,
        "A token request parameter sent with an empty value counts as absent (a public client's empty"
        " client_secret is no authentication attempt).",
    ),
    Requirement(
        "OAUTH21-3.2.2-AUTH-METHODS",
        MUST,
        "Every advertised client authentication method (none, client_secret_basic) authenticates a client"
        " that uses it with valid credentials.",
    ),
    Requirement(
        "OAUTH21-3.2.2-CONF-AUTH",
        MUST,
        "A confidential client must authenticate: its code presented with client_id and verifier but"
        " without its secret is refused with invalid_client.",
    ),
    Requirement(
        "OAUTH21-3.2.2-AUTHENTICATE",
        MUST,
        "Client authentication that is included is checked: a wrong client secret is refused with invalid_client.",
    ),
    Requirement(
        "OAUTH21-2.4.1-SECRET-POST",
        MUST,
        "A server that issues client secrets accepts them in the request body (client_secret_post).",
    ),
    Requirement(
        "OAUTH21-2.4.1-BASIC-ENCODING",
        MUST,
        "With HTTP Basic, client_id and secret are form-urlencoded before Base64: the server decodes them,"
        " so a percent-encoded form of the credentials authenticates.",
        applies_if=Feature.CLIENT_SECRET_BASIC,
    ),
    Requirement(
        "OAUTH21-2.4.1-NOT-IN-URI",
        MUST,
        "Client credentials in the token endpoint's query string are not accepted.",
    ),
    Requirement(
        "OAUTH21-2.4.1-BRUTE-FORCE",
        MUST,
        "Endpoints that check client secrets are protected against brute force.",
        untestable="the protection may be rate limits, delays, lockouts or monitoring that a bounded burst of"
        " wrong secrets cannot reveal, and a long burst would attack the target",
    ),
    Requirement(
        "OAUTH21-2.4-ONE-METHOD",
        MUST,
        "A token request that uses two client authentication methods (Basic and client_secret in the body)"
        " is refused (invalid_request or invalid_client).",
        applies_if=Feature.CLIENT_SECRET_BASIC,
    ),
    Requirement(
        "OAUTH21-3.2.3-RESPONSE",
        MUST,
        "A successful token response is 200 with a JSON object holding access_token and token_type (Bearer,"
        " in any case, when no proof of possession was asked), expires_in as a number when present.",
    ),
    Requirement(
        "OAUTH21-3.2.3-EXPIRES-IN",
        SHOULD,
        "The token response says how long the access token lives (expires_in, a positive number).",
    ),
    Requirement(
        "OAUTH21-3.2.3-NO-STORE",
        MUST,
        "Responses that carry tokens (code exchange and refresh) have Cache-Control: no-store.",
    ),
    Requirement(
        "OAUTH21-3.2.3-SCOPE",
        MUST,
        "When the issued scope differs from the requested one, the token response includes scope.",
        untestable="a response without scope cannot be told apart from one whose scope equals the request;"
        " only the server knows what it granted",
    ),
    Requirement(
        "OAUTH21-3.2.3-RT-BOUND",
        MUST,
        "A refresh token stays bound to the resource servers the user consented to: a refresh asking for"
        " another resource is refused.",
        applies_if=Feature.RESOURCE_INDICATORS,
    ),
    Requirement(
        "OAUTH21-3.2.4-ERROR",
        MUST,
        "Token errors are 400 with a JSON object whose error is a registered code, in the characters section"
        " 3.2.4 allows (as are error_description and error_uri).",
    ),
    Requirement(
        "OAUTH21-3.2.4-401-BASIC",
        MUST,
        "A failed HTTP Basic client authentication is 401 invalid_client with a WWW-Authenticate: Basic challenge.",
        applies_if=Feature.CLIENT_SECRET_BASIC,
    ),
    Requirement(
        "OAUTH21-3.2.4-UNSUPPORTED-GRANT",
        MUST,
        "An unknown grant type (a made-up URN, or password, which OAuth 2.1 does not define) gets"
        " unsupported_grant_type and no token.",
    ),
    Requirement(
        "OAUTH21-3.2.4-UNAUTHORIZED-CLIENT",
        MUST,
        "A client that may not use a grant type it sends gets unauthorized_client.",
        untestable="which client may use which grant is the server's policy, invisible from outside; the one"
        " case the draft fixes (public clients and client_credentials) is OAUTH21-4.2-CC-CONFIDENTIAL",
    ),
    Requirement(
        "OAUTH21-7.7-ENTROPY",
        MUST,
        "Codes, tokens and client secrets cannot carry less than 128 bits: their length and alphabet allow"
        " at least that much (a necessary condition; randomness itself is not observable).",
    ),
)

GRANTS = (
    Requirement(
        "OAUTH21-4.1.3-CODE-ONCE",
        MUST,
        "A code yields tokens once: a second redemption is refused with invalid_grant, and of simultaneous"
        " redemptions exactly one gets tokens.",
    ),
    Requirement(
        "OAUTH21-4.1.3-REVOKE-ON-REUSE",
        SHOULD,
        "When a used code is presented again, the tokens issued from it are revoked.",
    ),
    Requirement(
        "OAUTH21-7.5.3-NO-DOS-REVOKE",
        SHOULD,
        "A replayed code with an invalid verifier does not revoke the tokens the legitimate exchange got.",
    ),
    Requirement(
        "OAUTH21-4.1.3-CLIENT-BIND",
        MUST,
        "A code is redeemable only by the client it was issued to: another client, even with the right"
        " verifier, gets invalid_grant.",
    ),
    Requirement(
        "OAUTH21-4.1.3-PUBLIC-CLIENT-ID",
        MUST,
        "A public client identifies itself with client_id: a code exchange without any client identification"
        " is refused.",
    ),
    Requirement(
        "OAUTH21-4.1.3-VERIFIER-REQUIRED",
        MUST,
        "A code issued with a code_challenge is not redeemed without code_verifier (invalid_request or invalid_grant).",
    ),
    Requirement(
        "OAUTH21-4.1.3-PKCE-DOWNGRADE",
        MUST,
        "A code_verifier sent for a code issued without a code_challenge is refused (the PKCE downgrade).",
    ),
    Requirement(
        "OAUTH21-10.2-REDIRECT-URI",
        MUST,
        "A redirect_uri sent to the token endpoint is accepted when it equals the authorization request's,"
        " and refused with invalid_grant when it differs.",
    ),
    Requirement(
        "OAUTH21-4.2-CC-CONFIDENTIAL",
        MUST,
        "The client credentials grant is for confidential clients only: a public client gets no token.",
    ),
    Requirement(
        "OAUTH21-4.2.1-CC-AUTH",
        MUST,
        "The client credentials grant always authenticates the client: client_id without its secret gets"
        " invalid_client.",
    ),
    Requirement(
        "OAUTH21-4.3-RT-CLIENT-BIND",
        MUST,
        "A refresh token works only for the client it was issued to: another client gets invalid_grant.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3-RT-INTEGRITY",
        MUST,
        "A refresh token cannot be altered into a valid one: a token with one character changed is refused"
        " with invalid_grant.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-CONF-AUTH",
        MUST,
        "A confidential client refreshing without its secret is refused with invalid_client.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-SCOPE",
        MUST,
        "A refresh cannot widen the scope: a scope the user never granted is refused (invalid_scope) or left"
        " out of the issued scope.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-ROTATE",
        MUST,
        "A public client's refresh tokens are rotated (each refresh returns a new refresh token), as the"
        " harness presents no sender-constraining key.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-SUPERSEDED",
        MUST,
        "A rotated-out refresh token stops working: at once, or (with a grace period the profile declares)"
        " once its successor has been used.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-RT-REUSE",
        MUST,
        "Presenting a rotated-out refresh token is treated as theft: the active refresh token of that grant"
        " stops working too.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.1-GRANT-ACTIVE",
        MUST,
        "A refresh is refused once the grant behind the refresh token is no longer active.",
        untestable="which events end a grant (logout, password change, consent withdrawal) is the server's"
        " policy; the harness ends a grant only through reuse detection, verified by OAUTH21-4.3.1-RT-REUSE",
    ),
    Requirement(
        "OAUTH21-4.3.3-RT-SAME-SCOPE",
        MUST,
        "A refresh token issued by a narrowed refresh keeps the scope of the token presented: refreshing"
        " with it and no scope gives the full original scope.",
        applies_if=Feature.REFRESH,
    ),
    Requirement(
        "OAUTH21-4.3.3-RT-IDLE-EXPIRY",
        SHOULD,
        "Refresh tokens expire after the client has not used them for some time.",
        untestable="the idle period is at the server's discretion and not published, so no clock advance"
        " can be chosen that a conforming server must honour",
    ),
)

REQUIREMENTS = AUTHORIZATION_ENDPOINT + TOKEN_ENDPOINT + GRANTS
