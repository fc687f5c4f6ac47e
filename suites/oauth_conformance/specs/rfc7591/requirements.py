"""RFC 7591 requirements, in our words. Sections and levels checked against the RFC text.

Where the RFC lets the server substitute values (sections 2 and 3.2.1: it MAY reject or replace
requested metadata), the tests accept a substitute the response names; what they refuse is a
value silently dropped, or a response that contradicts what was registered.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
DCR = Feature.REGISTRATION

REQUIREMENTS = (
    Requirement(
        "RFC7591-3-POST-JSON",
        MUST,
        "The registration endpoint takes a POST whose body is a JSON object of client metadata.",
        applies_if=DCR,
        quote=(
            "The client registration endpoint MUST accept HTTP POST messages with request parameters"
            ' encoded in the entity body using the "application/json" format.'
        ),
    ),
    Requirement(
        "RFC7591-3-TLS",
        MUST,
        "The registration endpoint is protected by TLS: its URL is https.",
        applies_if=Feature.TLS,
        quote=(
            "The client registration endpoint MUST be protected by a transport-layer security"
            " mechanism, as described in Section 5."
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-201",
        SHOULD,
        "A successful registration is answered 201 Created with one JSON object (application/json).",
        applies_if=DCR,
        quote=(
            "The successful registration response uses an HTTP 201 Created status code with a body of"
            ' type "application/json" consisting of a single JSON object [RFC7159] with all'
            " parameters as top-level members of the object."
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-CLIENT-ID",
        MUST,
        "The client information response carries the issued client_id as a non-empty string.",
        applies_if=DCR,
        quote="client_id REQUIRED. OAuth 2.0 client identifier string.",
    ),
    Requirement(
        "RFC7591-3.2.1-CLIENT-ID-UNIQUE",
        SHOULD,
        "Each registration gets a client_id no other registered client holds.",
        applies_if=DCR,
        quote=(
            "It SHOULD NOT be currently valid for any other registered client, though an"
            " authorization server MAY issue the same client identifier to multiple instances of a"
            " registered client at its discretion."
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-CONFIDENTIAL",
        SHOULD,
        "A client registered for client_secret_basic or client_secret_post is given a client_secret (unless the"
        " response names a substituted method that needs none).",
        applies_if=DCR,
        quote=(
            "The response contains the client identifier as well as the client secret, if the client"
            " is a confidential client."
        ),
    ),
    Requirement(
        "RFC7591-2-PUBLIC-NO-SECRET",
        SHOULD,
        "A client registered with token_endpoint_auth_method none is a public client and is given no client_secret"
        " (unless the response names a substituted secret-based method).",
        applies_if=DCR,
        quote=(
            '"none": The client is a public client as defined in OAuth 2.0, Section 2.1, and does not'
            " have a client secret."
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-EXPIRES",
        MUST,
        "Whenever a client_secret is issued, client_secret_expires_at comes with it: 0 for never, else a future time.",
        applies_if=DCR,
        quote=(
            'client_secret_expires_at REQUIRED if "client_secret" is issued. Time at which the client'
            " secret will expire or 0 if it will not expire."
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-UNIQUE",
        MUST,
        "Issued client secrets are unique: two registrations never share one.",
        applies_if=DCR,
        quote=(
            'If issued, this MUST be unique for each "client_id" and SHOULD be unique for multiple'
            ' instances of a client using the same "client_id".'
        ),
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-EXPIRY",
        SHOULD,
        "A client secret stops authenticating once the client_secret_expires_at the server stated has passed.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-ECHO",
        MUST,
        "The response returns the registered redirect_uris, token_endpoint_auth_method, grant_types and"
        " response_types, as sent or as substituted; none is silently left out.",
        applies_if=DCR,
        quote=(
            "Additionally, the authorization server MUST return all registered metadata about this"
            " client, including any fields provisioned by the authorization server itself."
        ),
    ),
    Requirement(
        "RFC7591-2-DEFAULTS",
        SHOULD,
        "A registration that omits token_endpoint_auth_method, grant_types and response_types takes their defaults"
        " (client_secret_basic, authorization_code, code) or substitutes the response names; a server that"
        " advertises client_secret_basic does not refuse it for the omission.",
        applies_if=DCR,
        quote=(
            'If unspecified or omitted, the default is "client_secret_basic", denoting the HTTP Basic'
            " authentication scheme as specified in Section 2.3.1 of OAuth 2.0."
        ),
    ),
    Requirement(
        "RFC7591-2-IGNORE-UNKNOWN",
        MUST,
        "Client metadata the server does not understand is ignored, never a reason to refuse the registration.",
        applies_if=DCR,
        quote=(
            "The authorization server MUST ignore any client metadata sent by the client that it does"
            " not understand (for instance, by silently removing unknown metadata from the client's"
            " registration record during processing)."
        ),
    ),
    Requirement(
        "RFC7591-2-JWKS-XOR",
        MUST,
        (
            "jwks and jwks_uri never both appear in a registration response: a request carrying both"
            " is refused, or registered with one of them."
        ),
        applies_if=DCR,
        quote=('The "jwks_uri" and "jwks" parameters MUST NOT both be present in the same request or response.'),
    ),
    Requirement(
        "RFC7591-2-UNSUPPORTED-METHOD",
        SHOULD,
        (
            "A registration asking for an auth method the metadata does not list (none, when public"
            " clients are not advertised) is refused with invalid_client_metadata or registered with"
            " a substitute the response names; a server that registers it as asked serves a method"
            " its metadata leaves out (RFC 7591 lets a server reject or replace requested values, and"
            " sets no duty here)."
        ),
        applies_if=DCR,
        quote=(
            "token_endpoint_auth_methods_supported OPTIONAL. JSON array containing a list of client"
            " authentication methods supported by this token endpoint."
        ),
        quote_section="2",
        quote_spec="RFC8414",
    ),
    Requirement(
        "RFC7591-2.1-CONSISTENT",
        SHOULD,
        "A client cannot register inconsistent grant_types and response_types (code without authorization_code):"
        " it is refused with invalid_client_metadata or the response shows consistent values.",
        applies_if=DCR,
        quote=(
            "As such, a server supporting these fields SHOULD take steps to ensure that a client"
            " cannot register itself into an inconsistent state, for example, by returning an"
            ' "invalid_client_metadata" error response to an inconsistent registration request.'
        ),
    ),
    Requirement(
        "RFC7591-2-SOFTWARE-STATEMENT",
        MUST,
        "Values in a trusted software statement take precedence over the plain JSON values.",
        applies_if=DCR,
        untestable="needs a software statement signed by an authority the target trusts, which a profile"
        " cannot name (RFC 7591 leaves how statements are trusted to the deployment); the other side,"
        " an untrusted statement never taking precedence, is RFC7591-2.3-UNTRUSTED-STATEMENT, and"
        " returning a used statement unmodified is RFC7591-3.2.1-STATEMENT-RETURNED",
        quote=(
            "If the same client metadata name is present in both locations and the software statement"
            " is trusted by the authorization server, the value of a claim in the software statement"
            " MUST take precedence."
        ),
    ),
    Requirement(
        "RFC7591-2.3-UNTRUSTED-STATEMENT",
        SHOULD,
        "A software statement signed by no authority the server trusts never takes precedence: the"
        " registration is refused (unapproved_software_statement, invalid_software_statement) or the"
        " statement is ignored, and the plain JSON values stand.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-STATEMENT-RETURNED",
        MUST,
        "A software statement the server used is returned unmodified in the registration response.",
        applies_if=DCR,
        quote=(
            "If a software statement was used as part of the registration, its value MUST be returned"
            ' unmodified in the response along with other metadata using the "software_statement" member'
            " name."
        ),
    ),
    Requirement(
        "RFC7591-3.2.2-ERROR",
        MUST,
        "A registration error is answered 400 with an application/json object whose error member is a string.",
        applies_if=DCR,
        quote=(
            "When a registration error condition occurs, the authorization server returns an HTTP 400"
            ' status code (unless otherwise specified) with content type "application/json"'
            " consisting of a JSON object [RFC7159] describing the error in the response body. Two"
            " members are defined for inclusion in the JSON object: error REQUIRED. Single ASCII"
            " error code string."
        ),
    ),
    Requirement(
        "RFC7591-5-REDIRECT-REQUIRED",
        MUST,
        "A client of a redirect-based grant must register redirect URIs: authorization_code without"
        " redirect_uris is refused (invalid_redirect_uri or invalid_client_metadata).",
        applies_if=DCR,
        quote=(
            'For clients that use redirect-based grant types such as "authorization_code" and'
            ' "implicit", authorization servers MUST require clients to register their redirection'
            " URI values."
        ),
    ),
    Requirement(
        "RFC7591-5-REDIRECT-CLASS",
        MUST,
        "Only https, loopback http and private-use scheme redirect URIs are registered: remote http, javascript:"
        " and data: are refused (invalid_redirect_uri or invalid_client_metadata).",
        applies_if=DCR,
        quote=(
            "registered redirection URI values MUST be one of: o A remote web site protected by TLS"
            " (e.g., https://client.example.com/oauth_redirect) o A web site hosted on the local"
            " machine using an HTTP URI (e.g., http://localhost:8080/oauth_redirect) o A non-HTTP"
            " application-specific URL that is available only to the client application (e.g.,"
            " exampleapp://oauth_redirect)"
        ),
    ),
    Requirement(
        "RFC7591-5-IMPERSONATION",
        MUST,
        "The server looks at the whole registration to mitigate clients posing as others (names, logos).",
        applies_if=DCR,
        untestable="the mitigation is a policy judgement with no prescribed observable outcome",
        quote=(
            "To counteract this, an authorization server MUST take appropriate steps to mitigate this"
            " risk by looking at the entire registration request and client configuration."
        ),
    ),
    Requirement(
        "RFC7591-5-URI-HOSTS",
        SHOULD,
        "The server checks that logo_uri, tos_uri, client_uri and policy_uri share host and scheme with the"
        " redirect URIs.",
        applies_if=DCR,
        untestable="what the server does with the result (warn the user, refuse) is not prescribed",
        quote=(
            'The authorization server SHOULD check to see if the "logo_uri", "tos_uri", "client_uri",'
            ' and "policy_uri" have the same host and scheme as the those defined in the array of'
            ' "redirect_uris" and that all of these URIs resolve to valid web pages.'
        ),
    ),
)
