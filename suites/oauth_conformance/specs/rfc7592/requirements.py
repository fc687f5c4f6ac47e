"""RFC 7592 requirements, in our words. Sections and levels checked against the RFC text.

Management is offered when a registration response carries registration_client_uri and
registration_access_token; the metadata cannot say so, so each test registers a client and is
not_applicable when the response has neither.
"""

from oauth_conformance.catalogue import Level
from oauth_conformance.catalogue import Requirement
from oauth_conformance.features import Feature

MUST, SHOULD = Level.MUST, Level.SHOULD
DCR = Feature.REGISTRATION

REQUIREMENTS = (
    Requirement(
        "RFC7592-3-BOTH-OR-NEITHER",
        MUST,
        "A registration response carries both registration_client_uri and registration_access_token, or neither.",
        applies_if=DCR,
        quote=(
            "registration_client_uri REQUIRED. String containing the fully qualified URL of the"
            " client configuration endpoint for this client. registration_access_token REQUIRED."
        ),
    ),
    Requirement(
        "RFC7592-2.1-READ",
        MUST,
        "GET on the client configuration endpoint with the registration access token returns 200 with the"
        " client's information as a JSON object, client_id unchanged.",
        applies_if=DCR,
        quote=(
            "Upon successful read of the information for a currently active client, the authorization"
            ' server responds with an HTTP 200 OK with content type of "application/json" and a'
            ' payload as described in Section 3. [...] The value of the "client_id" MUST NOT change'
            " from the initial registration response."
        ),
    ),
    Requirement(
        "RFC7592-2-BEARER",
        MUST,
        "The client configuration endpoint is an OAuth-protected resource: a missing or invalid registration"
        " access token is answered with an RFC 6750 error (401 with a Bearer challenge).",
        applies_if=DCR,
        quote=(
            "If the registration access token used to make this request is not valid, the server MUST"
            " respond with an error as described in the OAuth Bearer Token Usage specification"
            " [RFC6750]."
        ),
        quote_section="2.1",
    ),
    Requirement(
        "RFC7592-2.1-GONE-401",
        MUST,
        "A request about a client that no longer exists is answered 401.",
        applies_if=DCR,
        quote=(
            "If the client does not exist on this server, the server MUST respond with HTTP 401"
            " Unauthorized and the registration access token used to make this request SHOULD be"
            " immediately revoked."
        ),
    ),
    Requirement(
        "RFC7592-2.2-UPDATE",
        MUST,
        "PUT with the client's full metadata returns 200 with a JSON object showing the new values.",
        applies_if=DCR,
        quote=(
            "Valid values of client metadata fields in this request MUST replace, not augment, the"
            " values previously associated with this client. [...] Upon successful update, the"
            " authorization server responds with an HTTP 200 OK message with content type"
            ' "application/json" and a payload as described in Section 3.'
        ),
    ),
    Requirement(
        "RFC7592-2.2-REPLACE",
        MUST,
        "Values in an update replace the registered ones, they do not add to them (new redirect_uris replace the"
        " old list).",
        applies_if=DCR,
        quote=(
            "Valid values of client metadata fields in this request MUST replace, not augment, the"
            " values previously associated with this client."
        ),
    ),
    Requirement(
        "RFC7592-2.2-CLIENT-ID",
        MUST,
        "An update cannot change the client_id: a request naming another one is refused or the id stays.",
        applies_if=DCR,
        quote='The value of the "client_id" MUST NOT change from the initial registration response.',
    ),
    Requirement(
        "RFC7592-2.2-SECRET-NOT-CHOSEN",
        MUST,
        "A client cannot set its own client_secret through an update: the value it sends never authenticates.",
        applies_if=DCR,
        quote=("The client MUST NOT be allowed to overwrite its existing client secret with its own chosen value."),
    ),
    Requirement(
        "RFC7592-2.3-DELETE-204",
        MUST,
        "DELETE with the registration access token is answered 204 No Content (405 when deletion is not offered).",
        applies_if=DCR,
        quote=(
            "If a client has been successfully deprovisioned, the authorization server MUST respond"
            " with an HTTP 204 No Content message. If the server does not support the delete method,"
            " the server MUST respond with HTTP 405 Not Supported."
        ),
    ),
    Requirement(
        "RFC7592-2.3-DELETE-INVALIDATES",
        SHOULD,
        "After a successful delete the client_id and client_secret no longer authenticate at the token endpoint.",
        applies_if=DCR,
        quote=(
            'A successful delete action will invalidate the "client_id", "client_secret", and'
            ' "registration_access_token" for this client, thereby preventing the "client_id" from'
            " being used at either the authorization endpoint or token endpoint of the authorization"
            " server."
        ),
    ),
    Requirement(
        "RFC7592-2.3-DELETE-GRANTS",
        SHOULD,
        "Deleting a client also ends its grants and tokens: its refresh token is refused afterwards.",
        applies_if=DCR,
        quote=(
            "If possible, the authorization server SHOULD immediately invalidate all existing"
            " authorization grants and currently active access tokens, all refresh tokens, and all"
            " other tokens associated with this client."
        ),
    ),
)
