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
    ),
    Requirement(
        "RFC7591-3-TLS",
        MUST,
        "The registration endpoint is protected by TLS: its URL is https.",
        applies_if=Feature.TLS,
    ),
    Requirement(
        "RFC7591-3.2.1-201",
        MUST,
        "A successful registration is answered 201 Created with one JSON object (application/json).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-CLIENT-ID",
        MUST,
        "The client information response carries the issued client_id as a non-empty string.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-CLIENT-ID-UNIQUE",
        SHOULD,
        "Each registration gets a client_id no other registered client holds.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-CONFIDENTIAL",
        MUST,
        "A client registered for client_secret_basic or client_secret_post is given a client_secret (unless the"
        " response names a substituted method that needs none).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2-PUBLIC-NO-SECRET",
        MUST,
        "A client registered with token_endpoint_auth_method none is a public client and is given no client_secret"
        " (unless the response names a substituted secret-based method).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-EXPIRES",
        MUST,
        "Whenever a client_secret is issued, client_secret_expires_at comes with it: 0 for never, else a future time.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-3.2.1-SECRET-UNIQUE",
        MUST,
        "Issued client secrets are unique: two registrations never share one.",
        applies_if=DCR,
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
    ),
    Requirement(
        "RFC7591-2-DEFAULTS",
        MUST,
        "A registration that omits token_endpoint_auth_method, grant_types and response_types takes their defaults"
        " (client_secret_basic, authorization_code, code) or substitutes the response names; a server that"
        " advertises client_secret_basic does not refuse it for the omission.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2-IGNORE-UNKNOWN",
        MUST,
        "Client metadata the server does not understand is ignored, never a reason to refuse the registration.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2-JWKS-XOR",
        MUST,
        "jwks and jwks_uri never both appear: a request carrying both is refused, and no response carries both.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2-UNSUPPORTED-METHOD",
        MUST,
        "A registration asking for an auth method the metadata does not advertise (none, when public clients are"
        " not offered) is refused with invalid_client_metadata or registered with a substitute the response names.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2.1-CONSISTENT",
        SHOULD,
        "A client cannot register inconsistent grant_types and response_types (code without authorization_code):"
        " it is refused with invalid_client_metadata or the response shows consistent values.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-2-SOFTWARE-STATEMENT",
        MUST,
        "Values in a trusted software statement take precedence, and the statement is returned unmodified.",
        applies_if=DCR,
        untestable="needs a software statement signed by an authority the target trusts",
    ),
    Requirement(
        "RFC7591-3.2.2-ERROR",
        MUST,
        "A registration error is answered 400 with an application/json object whose error member is a string.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-5-REDIRECT-REQUIRED",
        MUST,
        "A client of a redirect-based grant must register redirect URIs: authorization_code without"
        " redirect_uris is refused (invalid_redirect_uri or invalid_client_metadata).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-5-REDIRECT-CLASS",
        MUST,
        "Only https, loopback http and private-use scheme redirect URIs are registered: remote http, javascript:"
        " and data: are refused (invalid_redirect_uri or invalid_client_metadata).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7591-5-IMPERSONATION",
        MUST,
        "The server looks at the whole registration to mitigate clients posing as others (names, logos).",
        applies_if=DCR,
        untestable="the mitigation is a policy judgement with no prescribed observable outcome",
    ),
    Requirement(
        "RFC7591-5-URI-HOSTS",
        SHOULD,
        "The server checks that logo_uri, tos_uri, client_uri and policy_uri share host and scheme with the"
        " redirect URIs.",
        applies_if=DCR,
        untestable="what the server does with the result (warn the user, refuse) is not prescribed",
    ),
)
