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
    ),
    Requirement(
        "RFC7592-2.1-READ",
        MUST,
        "GET on the client configuration endpoint with the registration access token returns 200 with the"
        " client's information as a JSON object, client_id unchanged.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2-BEARER",
        MUST,
        "The client configuration endpoint is an OAuth-protected resource: a missing or invalid registration"
        " access token is answered with an RFC 6750 error (401 with a Bearer challenge).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.1-GONE-401",
        MUST,
        "A request about a client that no longer exists is answered 401.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.2-UPDATE",
        MUST,
        "PUT with the client's full metadata returns 200 with a JSON object showing the new values.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.2-REPLACE",
        MUST,
        "Values in an update replace the registered ones, they do not add to them (new redirect_uris replace the"
        " old list).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.2-CLIENT-ID",
        MUST,
        "An update cannot change the client_id: a request naming another one is refused or the id stays.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.2-SECRET-NOT-CHOSEN",
        MUST,
        "A client cannot set its own client_secret through an update: the value it sends never authenticates.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.3-DELETE-204",
        MUST,
        "DELETE with the registration access token is answered 204 No Content (405 when deletion is not offered).",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.3-DELETE-INVALIDATES",
        MUST,
        "After a successful delete the client_id and client_secret no longer authenticate at the token endpoint.",
        applies_if=DCR,
    ),
    Requirement(
        "RFC7592-2.3-DELETE-GRANTS",
        SHOULD,
        "Deleting a client also ends its grants and tokens: its refresh token is refused afterwards.",
        applies_if=DCR,
    ),
)
